// ccci-snap: take the one known-good snapshot of an undeployed app's volumes, atomically
// replacing the previous one.
import CCCIArchive
import CCCICore

let command = Command(
    "ccci-snap",
    summary: "snapshot an undeployed app's volumes into <state>/<app>/snapshot, replacing the last one atomically",
    options: [
        StateRoot.option,
        .value("app-version", "VERSION", "the app version the data belongs to (recorded in the manifest as 'version')"),
        .renamed("version", to: "app-version"),
        .value("commit", "COMMIT", "the recipe commit (recorded in the manifest)"),
    ] + Lock.options + VolumeSource.options + Progress.options,
    operands: [.required("APP", "the app")],
    exits: [(.ok, "snapshot taken: the manifest is printed")],
    notes: "75: a container still uses a volume, or the app's lock is held. See docs/commands/ccci-snap.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        try Progress.start(run)
        let app = try Name(args.operand("APP")!, kind: "app")
        let state = try StateRoot(args)
        let docker = Docker()
        let wait = try Lock.wait(args)
        let targets = try VolumeSource.resolve(args, app: app, docker: docker)
        return try state.withAppLock(app, wait: wait) { _ in
            try VolumeSource.requireUnused(targets, docker: docker, offline: args.flag("offline"))
            let manifest = try SnapshotStore(state: state, app: app).take(targets, version: args.value("app-version"), commit: args.value("commit"))
            var out = manifest.json.object!
            out["manifest_digest"] = .string(manifest.digest.hex)
            return .ok(.object(out))
        }
    }
}
