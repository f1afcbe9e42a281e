// ccci-restore: verify the known-good snapshot, then restore it into the app's volumes, all or
// nothing, and prove the result.
import CCCIArchive
import CCCICore

let command = Command(
    "ccci-restore",
    summary: "verify an app's snapshot, then restore it into its volumes (all or nothing) with a receipt",
    options: [
        StateRoot.option,
        .flag("verify", "only check the snapshot against its manifest, as a restore would; touch nothing (no journal recovery either)"),
        .value("into", "DIR", "a restore drill: restore into DIR/<volume> instead of the live volumes"),
    ] + Lock.options + VolumeSource.options + Progress.options,
    operands: [.required("APP", "the app")],
    exits: [(.ok, "restored (or verified) and every tree equals the manifest"), (.no, "restored, but a tree does not equal the manifest (see the receipt)")],
    notes: """
        65: the snapshot is corrupt, hostile, or not restorable on this filesystem (nothing touched). 66: a volume is missing.
        70: a restore journal that cannot be proven or resolved (kept). 74: a live volume is or holds a mount point (nothing touched).
        75: a volume is in use. See docs/commands/ccci-restore.md.
        """)

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        try Progress.start(run)
        let app = try Name(args.operand("APP")!, kind: "app")
        let state = try StateRoot(args)
        let store = SnapshotStore(state: state, app: app)
        let wait = try Lock.wait(args)
        if args.flag("verify") && args.value("into") != nil { throw Failure.usage("--verify and --into exclude each other") }
        if args.flag("verify") {
            return try state.withAppLock(app, wait: wait) { _ in
                let m = try store.verify()
                return .ok(["app": .string(app.value), "ok": true, "manifest_digest": .string(m.digest.hex), "version": JSON(m.version),
                            "volumes": .array(m.volumes.map { ["name": .string($0.name.value), "sha256": .string($0.sha256.hex), "bytes": JSON($0.bytes), "entries": JSON($0.entries)] })])
            }
        }
        if let dir = args.value("into") {
            guard dir.hasPrefix("/") else { throw Failure.usage("--into needs an absolute directory") }
            let receipt = try state.withAppLock(app, wait: wait) { _ in try store.restoreDrill(into: dir) }
            return Outcome(receipt.ok ? .ok : .no, receipt.json)
        }
        let docker = Docker()
        let targets = try VolumeSource.resolve(args, app: app, docker: docker)
        let receipt = try state.withAppLock(app, wait: wait) { _ in
            try VolumeSource.requireUnused(targets, docker: docker, offline: args.flag("offline"))
            return try store.restore(into: targets)
        }
        return Outcome(receipt.ok ? .ok : .no, receipt.json)
    }
}
