// ccci-migrate: convert the previous system's state (the Python ci-warm's files under the same
// state directory) into ours, in place, never losing its known-good.
import CCCIArchive
import CCCICore

let command = Command(
    "ccci-migrate",
    summary: "migrate the previous system's state in place: old snapshots verified and rewritten as ours, records, alerts",
    options: [
        StateRoot.option,
        .flag("all", "every legacy (or already migrated) app below the state directory, and the alerts"),
        .flag("alerts", "convert the previous system's open alerts"),
        .flag("dry-run", "report what would be done, reading every old archive; write nothing"),
        .flag("check", "only say which apps (and alerts) are still in the old format: exit 1 if any; reads no archive"),
    ] + Lock.options + Progress.options,
    operands: [.variadic("APP", "an app to migrate")],
    exits: [(.ok, "everything asked for is migrated (or already was, or is not legacy)"), (.no, "--check: something is still in the old format")],
    notes: """
        One JSON line per app, and one for the alerts. An app whose old archive is refused keeps
        every old file and is reported (action "refused"); the others go on; the exit is then the
        first refusal's (65: hostile or corrupt). See docs/commands/ccci-migrate.md.
        """)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        try Progress.start(run)
        let state = try StateRoot(args)
        let wait = try Lock.wait(args)
        let dryRun = args.flag("dry-run")
        var apps = try args.operandList("APP").map { (a) throws(Failure) in try Name(a, kind: "app") }
        if args.flag("all") {
            guard apps.isEmpty else { throw Failure.usage("--all and APP exclude each other") }
            apps = try Migration.candidates(state: state)
        } else if apps.isEmpty && !args.flag("alerts") {
            throw Failure.usage("nothing to migrate: name the apps, or give --all or --alerts")
        }
        if args.flag("check") {
            var legacy = false
            for app in apps {
                let markers = try LegacyState.markers(app, state: state)
                legacy = legacy || !markers.isEmpty
                try run.emit(["app": .string(app.value), "legacy": .bool(!markers.isEmpty),
                              "migrated": .bool(markers.isEmpty && LegacyState.isMigrated(app, state: state)), "markers": .array(markers.map { .string($0) })])
            }
            if args.flag("all") || args.flag("alerts") {
                let alerts = try AlertBox(state).convertLegacy(dryRun: true)
                legacy = legacy || alerts["action"]?.string != "nothing"
                try run.emit(alerts)
            }
            return Outcome(legacy ? .no : .ok, nil)
        }
        // One app asked for: its refusal is the command's failure (stdout empty). Several: a stream,
        // one line per app as it finishes (refusals included), then the summary error line.
        let single = apps.count == 1 && !args.flag("all") && !args.flag("alerts")
        var failures: [(String, Failure)] = []
        func refused(_ subject: [(String, JSON)], _ error: any Error) throws {
            let f = Failure.from(error)
            if single { throw f }
            failures.append((subject.first?.1.string ?? "alerts", f))
            try run.emit(.object(JSONObject(subject + [
                ("action", "refused"), ("error", ["code": .string(f.code), "exit": JSON(Int(f.exit.rawValue)), "message": .string(f.message)]),
            ])))
        }
        for app in apps {
            let migration = Migration(state: state, app: app)
            do {
                if dryRun {
                    try run.emit(try migration.plan())
                } else {
                    try migration.requireApp()
                    try run.emit(try state.withAppLock(app, wait: wait) { _ in try migration.run() })
                }
            } catch {
                try refused([("app", .string(app.value))], error)
            }
        }
        if args.flag("all") || args.flag("alerts") {
            do { try run.emit(try AlertBox(state).convertLegacy(dryRun: dryRun)) } catch { try refused([("scope", "alerts")], error) }
        }
        if let first = failures.first {
            throw Failure(first.1.exit, "not-migrated", "not migrated: \(failures.map { "'\($0.0)' (\($0.1.code))" }.joined(separator: ", ")); their old files are untouched",
                          details: .array(failures.map { ["subject": .string($0.0), "code": .string($0.1.code), "exit": JSON(Int($0.1.exit.rawValue))] }))
        }
        return .ok(nil)
    }
}
