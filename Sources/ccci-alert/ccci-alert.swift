// ccci-alert: alerts that reach a person: raise (de-duplicated), list, ack, relay.
import CCCICore

let command = Command(
    "ccci-alert",
    summary: "raise, list, acknowledge and relay alerts",
    options: [StateRoot.option],
    subcommands: [
        Subcommand("raise", summary: "raise an alert (JSON details on stdin, optional); an open one of the same app and kind is updated",
            options: [
                .value("app", "APP", "the app the alert is about (required)"),
                .value("kind", "KIND", "rollback, held-major, held-manual-migration, held-policy, held-unparsable, restore-failed, health-failed, sweep-failed, snapshot-failed, advance-failed, not-deployed, porcelain-failed, interrupted, unit-failed, fetch-failed, disk-low (required)"),
                .value("message", "TEXT", "one line for a person (line breaks become spaces)"),
            ]),
        Subcommand("list", summary: "open alerts as JSON Lines, oldest first", options: [.flag("all", "include the archive (relayed and acknowledged)")]),
        Subcommand("ack", summary: "acknowledge an open alert (moves it to the archive)", operands: [.required("ID", "the alert's id")]),
        Subcommand("relay", summary: "run a command once per open alert with the alert JSON on stdin; archive those it accepts",
            options: [
                .value("exec", "COMMAND", "the relay command line, run by /bin/sh (required)", environment: "CCCI_ALERT_RELAY"),
                .value("timeout", "SECONDS", "per alert", default: "60"),
            ]),
    ],
    exits: [(.ok, "done (relay: every open alert relayed)"), (.no, "relay: some alerts could not be relayed (they stay open)")],
    notes: "Layout: <state>/alerts/<id>.json (open), <state>/alerts/archive/<id>.json. See docs/commands/ccci-alert.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let box = AlertBox(try StateRoot(args))
        switch run.subcommand {
        case "raise":
            let app = try Name(try args.require("app"), kind: "app")
            let kind = try args.require("kind")
            guard AlertBox.kinds.contains(kind) else { throw Failure.usage("unknown alert kind '\(kind)' (one of: \(AlertBox.kinds.joined(separator: ", ")))") }
            var details: JSON = .object(JSONObject())
            if !StandardInput.isTerminal {
                let input = try StandardInput.readAll(limit: 1 << 20)
                if input.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
                    do { details = try JSON.parse(input) } catch { throw Failure.badData("invalid JSON details on stdin: \(error)", code: "bad-json") }
                    guard details.object != nil else { throw Failure.badData("alert details must be a JSON object") }
                }
            }
            let message = args.value("message").flatMap(AlertBox.oneLine)
            try box.raise(app: app, kind: kind, message: message, details: details) { (alert, new) throws(SystemError) in
                var out = alert.json
                out["new"] = .bool(new)
                try run.emit(.object(out))
            }
            return .ok(nil)
        case "list":
            for alert in try box.list(archived: args.flag("all")) { try run.emit(.object(alert.json)) }
            return .ok(nil)
        case "ack":
            try box.acknowledge(args.operand("ID")!) { (alert) throws(SystemError) in try run.emit(.object(alert.json)) }
            return .ok(nil)
        default:
            let line = try args.require("exec")
            let timeout = try args.seconds("timeout") ?? 60
            let (_, failed) = try box.relay(command: line, timeout: timeout) { try run.emit($0) }
            return Outcome(failed == 0 ? .ok : .no, nil)
        }
    }
}
