// The docker CLI, asked for JSON. Stack objects are always found by the label
// `com.docker.stack.namespace=<stack>`, never by name prefix (one stack's name can prefix
// another's). Mountpoints come from `docker volume inspect`, never built from a path pattern.

public struct Docker: Sendable {
    public var binary: String
    public var timeout: Double = 60

    public init(binary: String? = nil) {
        self.binary = binary ?? Environment.value("CCCI_DOCKER") ?? "docker"
    }

    public static let stackLabel = "com.docker.stack.namespace"

    /// Runs `docker ARGS`; a failure is 69 with docker's own message.
    public func run(_ arguments: [String]) throws(Failure) -> [UInt8] {
        var p = Subprocess([binary] + arguments)
        p.timeout = timeout
        let result: Subprocess.Result
        do { result = try p.run() } catch { throw Failure(.unavailable, "docker-unavailable", "cannot run docker: \(error)") }
        guard result.succeeded else {
            let why = result.timedOut ? "timed out after \(timeout) s" : (result.stderrText.trimmingCharacters().split(separator: "\n").last.map(String.init) ?? result.status.description)
            throw Failure(.unavailable, "docker-failed", "docker \(arguments.prefix(2).joined(separator: " ")): \(why)")
        }
        return result.stdout
    }

    /// `docker ... --format '{{json .}}'` output: one JSON object per line.
    func lines(_ arguments: [String]) throws(Failure) -> [JSON] {
        let out = try run(arguments + ["--format", "{{json .}}"])
        do { return try JSON.parseLines(out) } catch { throw Failure(.unavailable, "docker-output", "unexpected output from docker \(arguments.prefix(2).joined(separator: " ")): \(error)") }
    }

    func inspect(_ kind: String, _ ids: [String]) throws(Failure) -> [JSON] {
        if ids.isEmpty { return [] }
        let out = try run([kind, "inspect"] + ids)
        let parsed: JSON
        do { parsed = try JSON.parse(out) } catch {
            throw Failure(.unavailable, "docker-output", "unexpected output from docker \(kind) inspect: \(error)")
        }
        guard let list = parsed.array else { throw Failure(.unavailable, "docker-output", "docker \(kind) inspect did not print an array") }
        return list
    }

    public struct Volume: Sendable, Equatable {
        public var name: String
        public var mountpoint: String
        public var driver: String
        public var json: JSON { ["name": .string(name), "mountpoint": .string(mountpoint), "driver": .string(driver)] }
    }

    /// The stack's volumes, by label, with their mountpoints, sorted by name.
    public func volumes(stack: String) throws(Failure) -> [Volume] {
        let names = try lines(["volume", "ls", "--filter", "label=\(Docker.stackLabel)=\(stack)"]).compactMap { $0["Name"]?.string }
        return try volumes(named: names)
    }

    public func volumes(named names: [String]) throws(Failure) -> [Volume] {
        try inspect("volume", names).map { v in
            Volume(name: v["Name"]?.string ?? "", mountpoint: v["Mountpoint"]?.string ?? "", driver: v["Driver"]?.string ?? "")
        }.sorted { $0.name < $1.name }
    }

    /// Containers (in any state) that mount `volume`: name, id and state.
    public func containers(using volume: String) throws(Failure) -> [JSON] {
        try lines(["ps", "-a", "--no-trunc", "--filter", "volume=\(volume)"]).map {
            ["id": JSON($0["ID"]?.string), "name": JSON($0["Names"]?.string), "state": JSON($0["State"]?.string)]
        }
    }

    public func containers(stack: String) throws(Failure) -> [JSON] {
        try lines(["ps", "-a", "--no-trunc", "--filter", "label=\(Docker.stackLabel)=\(stack)"]).map {
            ["id": JSON($0["ID"]?.string), "name": JSON($0["Names"]?.string), "state": JSON($0["State"]?.string)]
        }
    }

    public func networks(stack: String) throws(Failure) -> [String] {
        try lines(["network", "ls", "--filter", "label=\(Docker.stackLabel)=\(stack)"]).compactMap { $0["Name"]?.string }
    }

    public struct Service: Sendable {
        public var name: String
        public var desired: Int?
        public var running: Int
        public var updateState: String?
        public var labels: JSONObject
        public var image: String?
        /// The service object's version (`Version.Index`): it moves with every spec change,
        /// including swarm's own rollback.
        public var index: Int64? = nil

        /// N/N running and no update in flight. `paused` counts as settled (it can stick);
        /// a rolled-back update is settled but failed (see `updateFailed`).
        public var converged: Bool {
            let settled = updateState == nil || !["updating", "rollback_started"].contains(updateState!)
            guard let desired else { return settled && running > 0 }
            return settled && running == desired
        }

        public var updateFailed: Bool {
            guard let s = updateState else { return false }
            return ["rollback_completed", "rollback_paused", "paused"].contains(s)
        }

        public var json: JSON {
            ["name": .string(name), "replicas": desired.map { JSON("\(running)/\($0)") } ?? JSON("\(running)/global"),
             "running": JSON(running), "desired": desired.map { JSON($0) } ?? .null,
             "update_state": JSON(updateState), "image": JSON(image), "converged": .bool(converged)]
        }
    }

    /// The stack's services with replica counts and update state.
    public func services(stack: String) throws(Failure) -> [Service] {
        let ids = try lines(["service", "ls", "--filter", "label=\(Docker.stackLabel)=\(stack)"]).compactMap { $0["ID"]?.string }
        var result: [Service] = []
        for s in try inspect("service", ids) {
            let name = s["Spec"]?["Name"]?.string ?? ""
            let desired: Int? = s["Spec"]?["Mode"]?["Replicated"]?["Replicas"]?.int.map { Int($0) }
            let tasks = try lines(["service", "ps", "--filter", "desired-state=running", name])
            let running = tasks.filter { task in (task["CurrentState"]?.string ?? "").hasPrefix("Running") }.count
            result.append(Service(
                name: name, desired: desired, running: running, updateState: s["UpdateStatus"]?["State"]?.string,
                labels: s["Spec"]?["Labels"]?.object ?? JSONObject(),
                image: s["Spec"]?["TaskTemplate"]?["ContainerSpec"]?["Image"]?.string,
                index: s["Version"]?["Index"]?.int))
        }
        return result.sorted { $0.name < $1.name }
    }
}

extension Docker {
    /// Dangling images and dangling build cache only (`docker image prune -f`, `docker builder
    /// prune -f`): never `--all`, never volumes, never containers or networks. Returns docker's
    /// "Total reclaimed space" lines.
    public func pruneDangling() throws(Failure) -> [String] {
        var reclaimed: [String] = []
        for arguments in [["image", "prune", "-f"], ["builder", "prune", "-f"]] {
            let out = String(decoding: try run(arguments), as: UTF8.self)
            reclaimed += out.split(separator: "\n").filter { $0.hasPrefix("Total reclaimed space") }.map { "\(arguments[0]): \($0)" }
        }
        return reclaimed
    }

    /// `docker volume rm NAME...`: named volumes only. There is deliberately no volume prune here.
    public func removeVolumes(_ names: [String]) throws(Failure) {
        if names.isEmpty { return }
        _ = try run(["volume", "rm"] + names)
    }
}
