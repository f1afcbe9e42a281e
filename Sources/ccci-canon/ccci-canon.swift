// ccci-canon: the registry of data-warm canonicals (and the infra apps' last-good versions).
import CCCIArchive
import CCCICore

let identity: [Option] = [
    .value("base-domain", "DOMAIN", "the host's base domain", environment: "CCCI_BASE_DOMAIN"),
    .flag("offline", "do not ask docker (has: skip the volume check; prune: remove state only)"),
]
let locking = Lock.options
let app: [Operand] = [.required("APP", "the app")]
let command = Command(
    "ccci-canon",
    summary: "the registry of data-warm canonicals: show, list, has, enrolled, set-status, history, log, last-good, prune",
    options: [StateRoot.option],
    subcommands: [
        Subcommand("show", summary: "the app's canonical record", operands: app),
        Subcommand("list", summary: "every canonical record, as JSON Lines"),
        Subcommand("has", summary: "exit 0 only if the record exists AND its volumes exist AND the snapshot verifies against the manifest it names",
            options: identity + locking + [.flag("full", "re-read every archive even when the verification stamp vouches for the snapshot")] + Progress.options,
            operands: app),
        Subcommand("enrolled", summary: "the enrolment list", options: [Registry.enrolledOption]),
        Subcommand("set-status", summary: "set the record's status: idle, deployed or quick", options: locking,
            operands: [.required("APP", "the app"), .required("STATUS", "idle, deployed or quick")]),
        Subcommand("history", summary: "the app's provenance (history.jsonl), as JSON Lines", operands: app),
        Subcommand("log", summary: "append an event to the app's history",
            options: locking + [.value("event", "EVENT", "promoted, rolled-back, upgraded, held, restore-failed, ... (required)"),
                                .repeated("field", "KEY=VALUE", "a string field of the event (KEY: a-z 0-9 _, a letter first, not at, event or app)"),
                                .flag("stdin", "also read a JSON object of fields on stdin")], operands: app),
        Subcommand("last-good", summary: "the last version of a live-warm app that passed the health gate (exit 1 when none)",
            options: locking + [.value("set", "VERSION", "record VERSION as the last good one")], operands: app),
        Subcommand("prune", summary: "remove the warm data of de-enrolled apps (never infra, never alerts, never docker volume prune)",
            options: identity + Abra.options + [Registry.enrolledOption, .flag("dry-run", "only report what would be removed")]),
    ],
    exits: [(.ok, "done / yes"), (.no, "has: no usable canonical; last-good: none recorded")],
    notes: "See docs/commands/ccci-canon.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let state = try StateRoot(args)
        let registry = Registry(state)
        let wait = try Lock.wait(args)
        let appName = try args.operand("APP").map { (a) throws(Failure) in try Name(a, kind: "app") }

        switch run.subcommand! {
        case "show":
            guard let r = try registry.record(appName!) else { throw Failure(.noInput, "no-record", "app '\(appName!)' has no canonical record") }
            return .ok(r.json)
        case "list":
            for a in try registry.apps() {
                let legacy = try LegacyState.markers(a, state: state)
                if !legacy.isEmpty {
                    try run.emit(["app": .string(a.value), "legacy": true, "code": .string(LegacyState.code), "markers": .array(legacy.map { .string($0) })])
                } else if let r = try registry.record(a) {
                    try run.emit(r.json)
                }
            }
            return .ok(nil)
        case "has":
            try Progress.start(run)
            let verdict = try state.withAppLock(appName!, wait: wait) { _ in
                try Canonical.check(appName!, state: state, docker: args.flag("offline") ? nil : Docker(), full: args.flag("full"))
            }
            return Outcome(verdict["has"]?.bool == true ? .ok : .no, verdict)
        case "enrolled":
            let file = args.value("enrolled")!
            return .ok(["file": .string(file), "enrolled": .array(try Registry.enrolled(file: file).map { .string($0.value) })])
        case "set-status":
            let status = args.operand("STATUS")!
            guard CanonicalRecord.statuses.contains(status) else { throw Failure.usage("invalid status '\(status)': expected idle, deployed or quick") }
            return try state.withAppLock(appName!, wait: wait) { _ in
                guard var r = try registry.record(appName!) else { throw Failure(.noInput, "no-record", "app '\(appName!)' has no canonical record") }
                r.status = status
                r.updatedAt = Timestamp.now().rfc3339
                try registry.write(r)
                return .ok(r.json)
            }
        case "history":
            let events = try registry.history(appName!) { run.note("history of '\(appName!)' line \($0) is torn (an interrupted append): skipped") }
            for line in events { try run.emit(line) }
            return .ok(nil)
        case "log":
            let event = try args.require("event")
            guard Name.isValid(event) else { throw Failure.usage("invalid event '\(event)'") }
            var given: JSONObject? = nil
            if args.flag("stdin") {
                let input = try StandardInput.readAll(limit: 1 << 20)
                guard case .object(let o)? = try? JSON.parse(input) else { throw Failure.badData("--stdin expects a JSON object") }
                given = o
            }
            let fields = try Registry.historyFields(arguments: args.values("field"), stdin: given)
            let answer: JSON = ["app": .string(appName!.value), "event": .string(event)]
            try state.withAppLock(appName!, wait: wait) { _ in
                try registry.appendHistory(appName!, event: event, fields: fields) { () throws(SystemError) in try run.emit(answer) }
            }
            return .ok(nil)
        case "last-good":
            if let v = args.value("set") {
                guard RecipeVersion(v) != nil else { throw Failure.usage("invalid version '\(v)'") }
                try state.withAppLock(appName!, wait: wait) { _ in try registry.setLastGood(appName!, v) }
                return .ok(["app": .string(appName!.value), "last_good": .string(v)])
            }
            let v = try registry.lastGood(appName!)
            return Outcome(v == nil ? .no : .ok, ["app": .string(appName!.value), "last_good": JSON(v)])
        default:  // prune
            let enrolled = try Registry.enrolled(file: args.value("enrolled")!)
            let abra = args.flag("offline") ? nil : try Abra(args)
            try Canonical.prune(state: state, enrolled: enrolled, abra: abra, docker: args.flag("offline") ? nil : Docker(),
                                baseDomain: args.value("base-domain"), dryRun: args.flag("dry-run")) { try run.emit($0) }
            return .ok(nil)
        }
    }
}
