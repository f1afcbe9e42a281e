// ccci-trigger: is this comment a request for a CI run, and of which kind?
import CCCICore

let command = Command(
    "ccci-trigger",
    summary: "decide whether a comment (or a comment webhook) asks for a CI run",
    options: [
        .flag("event", "stdin is an issue_comment webhook payload (GitHub, Gitea, Forgejo), not a comment body"),
        .value("ignore-authors", "LOGINS", "comma-separated logins whose comments never trigger (e.g. the CI bot); case is ignored", environment: "CCCI_TRIGGER_IGNORE_AUTHORS"),
        .flag("record", "with --event: remember the comment id under the state directory, so a redelivery is a duplicate"),
        StateRoot.option,
    ],
    exits: [(.ok, "a trigger: run in the mode printed"), (.no, "not a trigger (the reason is printed)")],
    notes: """
        A trigger is exactly `!testme` (mode cold) or `!testme --quick` (mode quick) after trimming
        surrounding whitespace. output: {"trigger","mode","reason",...}; see docs/commands/ccci-trigger.md.
        """)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let input = try StandardInput.readAll(limit: 4 << 20)
        guard args.flag("event") else {
            if args.flag("record") { throw Failure.usage("--record needs --event") }
            let mode = Trigger.mode(of: input)
            let result: JSON = ["trigger": .bool(mode != nil), "mode": JSON(mode?.rawValue), "reason": mode == nil ? "not-a-command" : nil]
            return Outcome(mode == nil ? .no : .ok, result)
        }
        let payload: JSON
        do { payload = try JSON.parse(input) } catch { throw Failure.badData("invalid webhook payload: \(error)", code: "bad-json") }
        guard let event = try Trigger.event(from: payload) else {
            return .no(["trigger": false, "mode": nil, "reason": "not-a-comment-event"])
        }
        let ignoring = Trigger.logins(args.value("ignore-authors") ?? "")
        // Only a trigger touches the state directory: anything else writes nothing, not even triggers/.
        var decision = try Trigger.decide(event, ignoring: ignoring, seen: nil)
        var seen: FileDescriptor? = nil
        defer { seen?.closeQuietly() }
        if decision.mode != nil, args.flag("record") {
            seen = try StateRoot(args).open(["triggers"], create: true)
            decision = try Trigger.decide(event, ignoring: ignoring, seen: seen)
        }
        // The answer is written here, so a failed write can undo the record.
        try decision.deliver(in: seen) { () throws(SystemError) in try run.emit(.object(decision.json)) }
        return Outcome(decision.mode == nil ? .no : .ok, nil)
    }
}
