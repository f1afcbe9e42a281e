// The only door to abra and docker. The races the seeds paid for are handled here, once:
//
// - `docker stack rm` (so `abra app undeploy`) returns before tasks, containers and networks are
//   gone (moby #29293). `undeploy` polls until no service, container or network carries the
//   stack label and no container mounts the stack's volumes.
// - abra's converge wait gives up while a container is still in its healthcheck start period,
//   and "N/N replicas" is not convergence either (a rolling update may not have started). After
//   a deploy, `deploy` waits itself: every service N/N running AND its UpdateStatus settled.
//   Once anything reached the swarm, abra's `FATA deploy timed out` or `deploy failed` (which
//   leave the stack deployed) is not the end: our wait decides; if it fails too, the FATA text is
//   in the error, and the end of abra's output in its details (`abra_tail`).
// Both waits report their progress (Progress.swift): the swarm's tasks running of wanted and
// update states, or what of the stack is left.
import Glibc

public struct Platform: Sendable {
    public var abra: Abra
    public var docker: Docker
    public var identity: AppIdentity
    /// Seconds between polls.
    public var pollInterval: Double = 1

    public init(abra: Abra, docker: Docker, identity: AppIdentity) {
        self.abra = abra
        self.docker = docker
        self.identity = identity
    }

    public struct Status: Sendable {
        /// Whether the app exists at all (abra has its env file).
        public var exists: Bool = true
        public var deployed: Bool
        public var envVersion: String?
        public var labelVersion: String?
        public var chaos: Bool
        public var services: [Docker.Service]
        public var converged: Bool { deployed && !services.isEmpty && services.allSatisfy(\.converged) }
        /// The deployed version: the service label when present, else the env file's pin.
        public var version: String? { labelVersion ?? envVersion }
    }

    public func status() throws(Failure) -> Status {
        let env = try abra.envFile(identity.domain)
        let services = try docker.services(stack: identity.stack)
        let labelKey = "coop-cloud.\(identity.stack).version"
        let label = services.lazy.compactMap { $0.labels[labelKey]?.string }.first
        let chaos = services.contains { $0.labels["coop-cloud.\(identity.stack).chaos"]?.string == "true" }
        var s = Status(deployed: !services.isEmpty, envVersion: env?.recipeAndVersion?.version, labelVersion: label, chaos: chaos, services: services)
        s.exists = env != nil
        return s
    }

    /// Release versions: the recipe clone's annotated tags, sorted by version (unparsable last);
    /// lightweight tags are reported separately (lint R014 refuses to deploy them).
    public func versions() throws(Failure) -> (versions: [String], unparsable: [String], lightweight: [String]) {
        var p = Subprocess(["git", "-C", abra.recipePath(identity.recipe), "for-each-ref", "--format=%(objecttype) %(refname:short)", "refs/tags"])
        p.timeout = 60
        let r: Subprocess.Result
        do { r = try p.run() } catch { throw Failure(.unavailable, "git-unavailable", "cannot run git: \(error)") }
        guard r.succeeded else {
            throw Failure(.noInput, "no-recipe", "cannot read the tags of recipe '\(identity.recipe)' at '\(abra.recipePath(identity.recipe))': \(r.stderrText.trimmingCharacters())")
        }
        var annotated: [String] = []
        var lightweight: [String] = []
        for line in r.stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0] == "tag" { annotated.append(String(parts[1])) } else { lightweight.append(String(parts[1])) }
        }
        let parsed = annotated.compactMap(RecipeVersion.init).sorted { RecipeVersion.compare($0, $1) < 0 }.map(\.text)
        let unparsable = annotated.filter { RecipeVersion($0) == nil }.sorted()
        return (parsed, unparsable, lightweight.sorted())
    }

    public struct DeployReport: Sendable {
        public var abraFatal: String?
        public var waited: Double
        public var status: Status
    }

    /// `abra app deploy DOMAIN [VERSION] -n -o -f [-C]`, then our own convergence wait.
    ///
    /// abra's verdict is final only for what it decides before anything reaches the swarm (lint, a
    /// missing recipe or version): then no service of the stack changed. Once a service was created
    /// or its spec moved, abra's "deploy failed" or "timed out" is only its opinion (real abra says
    /// "deploy failed" for slow starts that converge later): the swarm's state decides. A service
    /// this deploy touched that swarm rolled back (`rollback_completed`, `failure_action:
    /// rollback`) or paused is a failed deploy, even though it runs N/N.
    public func deploy(version: String?, chaos: Bool, timeout: Double) throws(Failure) -> DeployReport {
        var arguments = ["app", "deploy", identity.domain]
        if let version { arguments.append(version) }
        arguments += ["-n", "-o", "-f"]
        if chaos { arguments.append("-C") }
        var before: [String: Int64?] = [:]
        for service in try docker.services(stack: identity.stack) { before[service.name] = service.index }
        func touched(_ service: Docker.Service) -> Bool {
            guard let old = before[service.name] else { return true }
            return old == nil || old != service.index
        }
        Progress.wait("deploying '\(identity.domain)'")
        Progress.state("running abra app deploy")
        let outcome = try abra.run(arguments, timeout: timeout + 60)
        let start = Kernel.monotonicNanoseconds()
        let deadline = start + UInt64(timeout * 1e9)
        var last = try status()
        if !outcome.succeeded && !last.services.contains(where: touched) {
            try abra.require(outcome, "deploying '\(identity.domain)'")
        }
        while true {
            Progress.state(Platform.progress(last.services, stack: identity.stack))
            if let failed = last.services.first(where: { $0.updateFailed && touched($0) }) {
                let abraSaid = outcome.fatal.map { " (abra: \($0))" } ?? ""
                throw Failure(.unavailable, "deploy-failed", "deploying '\(identity.domain)': service '\(failed.name)' update \(failed.updateState ?? "failed")\(abraSaid)",
                              details: Abra.withTail(statusJSON(last), outcome))
            }
            if last.converged { break }
            if Kernel.monotonicNanoseconds() >= deadline {
                let abraSaid = outcome.fatal.map { " (abra: \($0))" } ?? ""
                throw Failure(.unavailable, "deploy-timeout", "deploying '\(identity.domain)': not converged after \(Int(timeout)) s\(abraSaid)",
                              details: Abra.withTail(statusJSON(last), outcome))
            }
            Kernel.sleep(milliseconds: Int(pollInterval * 1000))
            last = try status()
        }
        return DeployReport(abraFatal: outcome.fatal, waited: Double(Kernel.monotonicNanoseconds() - start) / 1e9, status: last)
    }

    public struct Leftovers: Sendable {
        public var services: [String] = []
        public var containers: [JSON] = []
        public var networks: [String] = []
        public var volumeUsers: [String: [JSON]] = [:]
        public var isEmpty: Bool { services.isEmpty && containers.isEmpty && networks.isEmpty && volumeUsers.values.allSatisfy(\.isEmpty) }
        /// For a progress line: `left: 1 service, 2 containers, 1 network`.
        public var progress: String {
            func count(_ n: Int, _ what: String) -> String? { n == 0 ? nil : "\(n) \(what)\(n == 1 ? "" : "s")" }
            let users = volumeUsers.values.reduce(0) { $0 + $1.count }
            let parts = [count(services.count, "service"), count(containers.count, "container"), count(networks.count, "network"),
                         count(users, "volume user")].compactMap { $0 }
            return "left: " + parts.joined(separator: ", ")
        }
        public var json: JSON {
            var users = JSONObject()
            for (v, c) in volumeUsers.sorted(by: { $0.key < $1.key }) where !c.isEmpty { users[v] = .array(c) }
            return ["services": .array(services.map { .string($0) }), "containers": .array(containers),
                    "networks": .array(networks.map { .string($0) }), "volume_users": .object(users)]
        }
    }

    /// What of the stack still exists on the engine.
    public func leftovers(volumes: [String]) throws(Failure) -> Leftovers {
        var l = Leftovers()
        l.services = try docker.services(stack: identity.stack).map(\.name)
        l.containers = try docker.containers(stack: identity.stack)
        l.networks = try docker.networks(stack: identity.stack)
        for v in volumes { l.volumeUsers[v] = try docker.containers(using: v) }
        return l
    }

    /// `abra app undeploy`, then wait until swarm has really let go (bounded).
    public func undeploy(timeout: Double) throws(Failure) -> (wasDeployed: Bool, waited: Double, volumes: [Docker.Volume]) {
        let volumes = try docker.volumes(stack: identity.stack)
        let wasDeployed = !(try docker.services(stack: identity.stack)).isEmpty
        Progress.wait("undeploying '\(identity.domain)'")
        var outcome: Abra.Outcome? = nil
        if wasDeployed {
            Progress.state("running abra app undeploy")
            outcome = try abra.run(["app", "undeploy", identity.domain, "-n"], timeout: 300)
            try abra.require(outcome!, "undeploying '\(identity.domain)'")
        }
        let start = Kernel.monotonicNanoseconds()
        let deadline = start + UInt64(timeout * 1e9)
        while true {
            let left = try leftovers(volumes: volumes.map(\.name))
            if left.isEmpty { break }
            Progress.state(left.progress)
            if Kernel.monotonicNanoseconds() >= deadline {
                throw Failure(.unavailable, "undeploy-timeout", "undeploying '\(identity.domain)': the stack still has objects after \(Int(timeout)) s",
                              details: Abra.withTail(left.json, outcome))
            }
            Kernel.sleep(milliseconds: Int(pollInterval * 1000))
        }
        return (wasDeployed, Double(Kernel.monotonicNanoseconds() - start) / 1e9, volumes)
    }

    /// The swarm's state for a progress line: tasks running of wanted (a global service wants
    /// what runs), then each service not there yet or updating, its name without the stack's:
    /// `1/2 tasks running (db 0/1 updating)`.
    public static func progress(_ services: [Docker.Service], stack: String) -> String {
        if services.isEmpty { return "no service yet" }
        var running = 0
        var wanted = 0
        var notes: [String] = []
        for s in services {
            running += s.running
            wanted += s.desired ?? s.running
            let name = s.name.hasPrefix(stack + "_") ? String(s.name.dropFirst(stack.count + 1)) : s.name
            var parts: [String] = []
            if let d = s.desired, s.running != d { parts.append("\(s.running)/\(d)") }
            if let u = s.updateState, u != "completed" { parts.append(u) }
            if !parts.isEmpty { notes.append(([name] + parts).joined(separator: " ")) }
        }
        return "\(running)/\(wanted) tasks running" + (notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")")
    }

    public func statusJSON(_ s: Status) -> JSON {
        var o = identity.json.object!
        o["exists"] = .bool(s.exists)
        o["deployed"] = .bool(s.deployed)
        o["version"] = JSON(s.version)
        o["env_version"] = JSON(s.envVersion)
        o["label_version"] = JSON(s.labelVersion)
        o["chaos"] = .bool(s.chaos)
        o["converged"] = .bool(s.converged)
        o["services"] = .array(s.services.map(\.json))
        return .object(o)
    }
}

extension Platform {
    /// Runs git in the recipe clone; a failure is `code` (66 by default) with git's own words.
    func git(_ arguments: [String], failing code: String = "git-failed", exit: ExitCode = .noInput) throws(Failure) -> String {
        var p = Subprocess(["git", "-C", abra.recipePath(identity.recipe)] + arguments)
        p.timeout = 120
        let r: Subprocess.Result
        do { r = try p.run() } catch { throw Failure(.unavailable, "git-unavailable", "cannot run git: \(error)") }
        guard r.succeeded else {
            throw Failure(exit, code, "git \(arguments.first ?? "") in recipe '\(identity.recipe)': \(r.stderrText.trimmingCharacters())")
        }
        return r.stdoutText.trimmingCharacters()
    }

    /// Brings the recipe clone up to date with its origin, never touching the work tree or HEAD:
    /// a missing clone is made by `abra recipe fetch`; an existing one gets every branch (as
    /// `refs/remotes/origin/*`) and tag with one atomic `git fetch` (all refs move, or none: a
    /// half-fetched clone is never judged). With `ref`, a PR head the clone does not have is
    /// fetched too (a commit, or a ref such as `refs/pull/42/head`, kept under the same name).
    /// Failures are 69 `fetch-failed` with git's or abra's words. A clone without an `origin`
    /// remote is a local recipe: nothing to fetch (`origin` false). Returns the clone's tag count
    /// before and after, so callers can tell what arrived.
    public func fetch(ref: String?) throws(Failure) -> (origin: Bool, before: Int, after: Int) {
        if let ref { _ = try validRef(ref) }
        let path = abra.recipePath(identity.recipe)
        let isClone = (try? Path.statusIfExists("\(path)/.git")) != nil
        if !isClone {
            try abra.require(try abra.run(["recipe", "fetch", identity.recipe.value, "-n"], timeout: 600), "fetching recipe '\(identity.recipe)'")
        }
        func tagCount() throws(Failure) -> Int {
            try git(["for-each-ref", "--format=x", "refs/tags"], failing: "fetch-failed", exit: .unavailable).split(separator: "\n").count
        }
        let before = isClone ? try tagCount() : 0
        let remotes = try git(["remote"], failing: "fetch-failed", exit: .unavailable).split(separator: "\n")
        guard remotes.contains("origin") else { return (false, before, before) }
        if isClone {
            _ = try git(["fetch", "--quiet", "--atomic", "--prune", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"],
                        failing: "fetch-failed", exit: .unavailable)
        }
        if let ref, (try? resolve(ref: ref)) == nil {
            let spec = ref.hasPrefix("refs/") ? "+\(ref):\(ref)" : ref
            _ = try git(["fetch", "--quiet", "origin", spec], failing: "fetch-failed", exit: .unavailable)
        }
        return (true, before, try tagCount())
    }

    func validRef(_ ref: String) throws(Failure) -> String {
        guard !ref.isEmpty, !ref.hasPrefix("-"), !ref.contains(where: { $0 == " " || $0 == "\n" || $0 == "\0" || $0 == "\r" || $0 == ":" }) else {
            throw Failure.usage("invalid ref '\(ref)'")
        }
        return ref
    }

    /// The commit REF (a PR head: branch, tag or commit) names in the recipe clone; 66
    /// `no-such-ref` when the clone does not have it (fetch first), 64 for a malformed ref.
    public func resolve(ref: String) throws(Failure) -> String {
        try git(["rev-parse", "--verify", "--quiet", "--end-of-options", "\(try validRef(ref))^{commit}"], failing: "no-such-ref")
    }

    /// Checks out REF (a PR head) in the recipe clone for a chaos deploy of it, runs `body`, and
    /// always puts the clone back where it was (its branch, or its detached commit): the clone is
    /// shared by everything on the host, so later notes lookups and runs never see the PR's tree.
    public func withCheckout<T>(ref: String, _ body: () throws(Failure) -> T) throws(Failure) -> T {
        let commit = try resolve(ref: ref)
        let branch = try? git(["symbolic-ref", "--quiet", "--short", "HEAD"])
        let head = try git(["rev-parse", "--verify", "HEAD"])
        _ = try git(["checkout", "--quiet", "--detach", commit, "--"], failing: "checkout-failed", exit: .unavailable)
        let result: Result<T, Failure>
        do throws(Failure) { result = .success(try body()) } catch { result = .failure(error) }
        let back = branch.map { ["checkout", "--quiet", $0, "--"] } ?? ["checkout", "--quiet", "--detach", head, "--"]
        do throws(Failure) { _ = try git(back, failing: "checkout-failed", exit: .unavailable) } catch {
            throw Failure(.unavailable, "checkout-failed", "putting recipe '\(identity.recipe)' back at '\(branch ?? head)' after deploying '\(ref)': \(error.message)")
        }
        return try result.get()
    }

    /// `abra app new`, then KEY=VALUE settings applied to the env file atomically.
    public func create(secrets: Bool, settings: [(String, String)]) throws(Failure) -> String {
        let path = abra.envFilePath(identity.domain)
        if try abra.envFile(identity.domain) != nil {
            throw Failure(.cantCreate, "exists", "app '\(identity.domain)' already exists ('\(path)')")
        }
        var arguments = ["app", "new", identity.recipe.value, "-s", abra.server, "-D", identity.domain, "-n", "-o"]
        if secrets { arguments.append("-S") }
        try abra.require(try abra.run(arguments, timeout: 300), "creating '\(identity.domain)'")
        if !settings.isEmpty {
            guard var env = try abra.envFile(identity.domain) else {
                throw Failure(.unavailable, "abra-failed", "abra app new did not create '\(path)'")
            }
            for (k, v) in settings { env.set(k, v) }
            do {
                let dir = try FileDescriptor.open("\(abra.directory)/servers/\(abra.server)", O_RDONLY | O_DIRECTORY)
                defer { dir.closeQuietly() }
                let mode = try Path.status("\(identity.domain).env", in: dir).st_mode & 0o7777
                try AtomicFile.write(env.text, to: "\(identity.domain).env", in: dir, mode: mode)
            } catch {
                throw Failure(error, doing: "updating '\(path)'")
            }
        }
        return path
    }

    /// `abra app remove`: secrets, ALL volumes and the env file. Refused while deployed.
    public func remove() throws(Failure) -> [String] {
        if try status().deployed {
            throw Failure(.busy, "deployed", "app '\(identity.domain)' is deployed: undeploy it first")
        }
        let volumes = try docker.volumes(stack: identity.stack).map(\.name)
        try abra.require(try abra.run(["app", "remove", identity.domain, "-f", "-n"], timeout: 300), "removing '\(identity.domain)'")
        return volumes
    }
}
