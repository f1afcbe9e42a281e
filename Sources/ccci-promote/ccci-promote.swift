// ccci-promote: promote-on-green-cold. Only an enrolled recipe's green, cold run on latest (no PR
// ref) becomes the known-good: a snapshot of its canonical's volumes and a registry record.
import CCCIArchive
import CCCICore

let command = Command(
    "ccci-promote",
    summary: "promote a green cold run's canonical to known-good (run record on stdin)",
    options: [
        StateRoot.option,
        Registry.enrolledOption,
        .flag("check", "evaluate the predicate only; change nothing"),
    ] + Lock.options + VolumeSource.options + Progress.options,
    exits: [(.ok, "promoted (with --check: would promote)"), (.no, "not promoted: the reasons are printed; nothing changed")],
    notes: """
        stdin: {"app","mode":"cold"|"quick","ref":null|"<PR head>","status":"pass"|"fail","version","commit","run"}.
        The predicate: enrolled AND pass AND cold AND no ref. Once promoted, a history line that cannot be
        appended is a warning (history_appended: false, warnings), not a failure. See docs/commands/ccci-promote.md.
        """)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        if args.flag("stdin") { throw Failure.usage("stdin carries the run record: give the volumes with --volume") }
        if StandardInput.isTerminal { throw Failure.usage("no run record: give it as JSON on stdin") }
        let input = try StandardInput.readAll(limit: 1 << 20)
        if input.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) { throw Failure.usage("no run record: stdin is empty") }
        let record = try RunRecord(parsing: input)
        let enrolled = try Registry.enrolled(file: args.value("enrolled")!)
        let reasons = Promotion.reasons(record, enrolled: enrolled)
        if args.flag("check") || !reasons.isEmpty {
            return Outcome(reasons.isEmpty ? .ok : .no, ["app": .string(record.app.value), "promote": .bool(reasons.isEmpty), "reasons": .array(reasons.map { .string($0) })])
        }
        try Progress.start(run)
        let state = try StateRoot(args)
        let docker = Docker()
        let recipe = try args.value("recipe").map { (r) throws(Failure) in try Name(r, kind: "recipe") }
        let who = try AppIdentity.warm(app: record.app, recipe: recipe, baseDomain: args.value("base-domain"), domain: args.value("domain"))
        let wait = try Lock.wait(args)
        let volumes = try VolumeSource.resolve(args, app: record.app, docker: docker)
        let promoted = try state.withAppLock(record.app, wait: wait) { _ in
            try VolumeSource.requireUnused(volumes, docker: docker, offline: args.flag("offline"))
            return try Promotion.promote(record, volumes: volumes, identity: who, state: state)
        }
        var out = promoted.record.json.object!
        out["history_appended"] = .bool(promoted.warnings.isEmpty)
        out["warnings"] = .array(promoted.warnings.map { ["code": .string($0.code), "message": .string($0.message)] })
        for w in promoted.warnings { run.note(w.message) }
        return .ok(.object(out))
    }
}
