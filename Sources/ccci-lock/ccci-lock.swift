// ccci-lock: run a command holding an app's lock, or one of N run slots. The command replaces
// this process (exec), so killing it frees the lock at once; the held lock is passed down so
// ci-warm commands it runs recognise it (see Sources/CCCICore/Locks/Lock.swift).
import CCCICore

let command = Command(
    "ccci-lock",
    summary: "run a command holding an app's lock (or one of N run slots)",
    options: [
        .value("wait", "SECONDS", "give up (exit 75) after waiting this long; default: wait as long as it takes"),
        .flag("no-wait", "exit 75 at once when the lock is held"),
        .value("slots", "N", "take one of N run slots of --pool instead of an app lock"),
        .value("pool", "NAME", "the slot pool (with --slots)"),
        .flag("status", "do not run anything: print whether the lock is held (exit 0 either way)"),
        StateRoot.option,
    ],
    operands: [.optional("APP", "the app whose lock to take (not with --slots)")],
    exits: [(.ok, "--status answered; otherwise COMMAND's own exit status")],
    notes: """
        COMMAND runs with CCCI_HELD_LOCKS naming the held lock and, with --slots, CCCI_SLOT set to
        the slot number. Without --status nothing is printed: the output is COMMAND's.
        """,
    acceptsTrailingCommand: true)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let state = try StateRoot(args)
        let wait = try Lock.wait(args, option: "wait")
        let slots = try args.integer("slots", in: 1...1024)
        if !args.flag("status") && args.trailing.isEmpty { throw Failure.usage("missing COMMAND after '--'") }
        if args.flag("status") && (slots != nil || !args.trailing.isEmpty) { throw Failure.usage("--status takes only APP") }
        var extra: [(String, String?)] = []
        let lock: HeldLock
        if let slots {
            guard args.operand("APP") == nil else { throw Failure.usage("give either APP or --slots, not both") }
            guard let pool = args.value("pool") else { throw Failure.usage("--slots needs --pool") }
            let (slot, held) = try Lock.acquireSlot(pool: try Name(pool, kind: "pool"), count: slots, in: state, wait: wait)
            lock = held
            extra.append(("CCCI_SLOT", String(slot)))
        } else {
            guard let app = args.operand("APP") else { throw Failure.usage("missing operand APP (or --slots N --pool NAME)") }
            let name = try Name(app, kind: "app")
            if args.flag("status") {
                // Asking must not create anything: no directory means no lock, so not held.
                let exists: Bool
                do throws(SystemError) { exists = try Path.statusIfExists("\(state.path)/\(app)/lock") != nil } catch { throw Failure(error, doing: "asking the lock of '\(app)'") }
                if !exists { return .ok(["app": .string(app), "held": false]) }
                let dir = try state.app(name, create: false)
                defer { dir.closeQuietly() }
                let held: Bool
                do throws(SystemError) { held = try Lock.isHeld("lock", in: dir) } catch { throw Failure(error, doing: "asking the lock of '\(app)'") }
                return .ok(["app": .string(app), "held": .bool(held)])
            }
            let dir = try state.app(name, create: true)
            lock = try Lock.acquire("lock", in: dir, wait: wait, what: "app '\(app)'")
        }
        do throws(SystemError) {
            extra.append(try lock.passDown())
            try Kernel.exec(args.trailing, environment: Environment.merging(extra))
        } catch {
            throw Failure(error, doing: "running '\(args.trailing[0])'")
        }
    }
}
