// Where the volumes of a snapshot or restore come from, and the check that none is in use.
import CCCICore

public enum VolumeSource {
    /// The options ccci-snap and ccci-restore share.
    public static let options: [Option] = [
        .repeated("volume", "NAME=PATH", "a volume and the directory holding its data (instead of asking docker)"),
        .flag("stdin", "read the volumes as JSON on stdin (what `ccci-app volumes` prints)"),
        .flag("offline", "the volumes are plain directories: do not ask docker whether they are in use"),
        .value("base-domain", "DOMAIN", "the host's base domain, to find the stack (warm-<recipe>.<base>)", environment: "CCCI_BASE_DOMAIN"),
        .value("domain", "DOMAIN", "the app's domain, when it is not warm-<recipe>.<base>"),
        .value("recipe", "RECIPE", "the recipe, when it is not the app's name"),
    ]

    /// The volumes named on the command line, on stdin, or found by the stack label.
    public static func resolve(_ args: Arguments, app: Name, docker: Docker) throws(Failure) -> [VolumeTarget] {
        var targets: [VolumeTarget] = []
        for flag in args.values("volume") { targets.append(try VolumeTarget(flag: flag)) }
        if args.flag("stdin") {
            if !targets.isEmpty { throw Failure.usage("give --volume or --stdin, not both") }
            targets = try VolumeTarget.parse(StandardInput.readAll(limit: 1 << 20))
        }
        if targets.isEmpty {
            if args.flag("offline") { throw Failure.usage("--offline needs the volumes given with --volume or --stdin") }
            let recipe = try args.value("recipe").map { (r) throws(Failure) in try Name(r, kind: "recipe") }
            let who = try AppIdentity.warm(app: app, recipe: recipe, baseDomain: args.value("base-domain"), domain: args.value("domain"))
            targets = try docker.volumes(stack: who.stack).map { v throws(Failure) in
                guard v.driver == "local", v.mountpoint.hasPrefix("/") else {
                    throw Failure(.unavailable, "unsupported-volume", "volume '\(v.name)' uses driver '\(v.driver)': only local volumes can be snapshotted")
                }
                return VolumeTarget(name: try Name(v.name, kind: "volume"), path: v.mountpoint)
            }
        }
        return targets
    }

    /// Refuses (75) while any container, in any state, mounts one of the volumes: docker is asked
    /// every time; an undeploy that "finished" is never taken on trust.
    public static func requireUnused(_ targets: [VolumeTarget], docker: Docker, offline: Bool) throws(Failure) {
        if offline { return }
        var users = JSONObject()
        for t in targets {
            let c = try docker.containers(using: t.name.value)
            if !c.isEmpty { users[t.name.value] = .array(c) }
        }
        if users.count > 0 {
            throw Failure(.busy, "volume-in-use", "volumes in use by containers: \(users.keys.joined(separator: ", ")) (undeploy the app and wait)", details: .object(users))
        }
    }
}
