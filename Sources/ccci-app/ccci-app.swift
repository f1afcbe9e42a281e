// ccci-app: the only door to abra and docker. Every mutating subcommand holds the app's lock
// (or the one its caller holds and passed down).
import CCCICore

let identity: [Option] = [
    .value("base-domain", "DOMAIN", "the host's base domain (warm apps are warm-<recipe>.<base>)", environment: "CCCI_BASE_DOMAIN"),
    .value("domain", "DOMAIN", "the app's domain, when it is not warm-<recipe>.<base> (e.g. traefik's)"),
    .value("recipe", "RECIPE", "the recipe, when it is not the app's name"),
]
let locking = Lock.options
let command = Command(
    "ccci-app",
    summary: "ask about and change an app on the platform (abra and docker)",
    options: [StateRoot.option] + Abra.options,
    subcommands: [
        Subcommand("domain", summary: "the app's warm (or cold, with --cold) domain and stack name", options: identity + [.value("cold", "HEX", "the cold per-run domain <recipe[:4]>-<hex>.<base>")], operands: [.required("APP", "app name")]),
        Subcommand("status", summary: "deployed or not, version, services with replicas and update state, converged", options: identity, operands: [.required("APP", "app name")]),
        Subcommand("versions", summary: "the recipe's release versions (annotated tags), sorted by version", options: identity + [.flag("lines", "one version per line instead of JSON (for ccci-gate)")], operands: [.required("APP", "app name")]),
        Subcommand("prune-dangling", summary: "remove dangling images and dangling build cache (never --all, never volumes)", operands: []),
        Subcommand("fetch", summary: "update the recipe clone from its origin (branches and tags, atomically; the work tree untouched)",
            options: identity + [.value("ref", "REF", "also fetch this PR head when the clone lacks it")], operands: [.required("APP", "app name")]),
        Subcommand("ref", summary: "the commit a PR head names in the recipe clone (66 when the clone lacks it: fetch first)",
            options: identity + [.value("ref", "REF", "the branch, tag or commit")], operands: [.required("APP", "app name")]),
        Subcommand("volumes", summary: "the stack's volumes with their mountpoints (input for ccci-snap and ccci-restore)", options: identity, operands: [.required("APP", "app name")]),
        Subcommand("deploy", summary: "deploy VERSION (pinned), or the PR head with --ref, then wait for convergence",
            options: identity + locking + [
                .flag("chaos", "deploy the recipe's working tree (abra -C)"),
                .value("ref", "REF", "check out REF in the recipe clone first (implies --chaos; no VERSION)"),
                .value("timeout", "SECONDS", "convergence limit", default: "300"),
            ] + Progress.options, operands: [.required("APP", "app name"), .optional("VERSION", "the release to deploy")]),
        Subcommand("undeploy", summary: "undeploy (volumes kept) and wait until swarm has really let go",
            options: identity + locking + [.value("timeout", "SECONDS", "limit for the stack to disappear", default: "120")] + Progress.options, operands: [.required("APP", "app name")]),
        Subcommand("new", summary: "create the app's env file (abra app new), optionally with secrets and settings",
            options: identity + locking + [.flag("secrets", "generate the app's secrets (abra -S)"), .repeated("set", "KEY=VALUE", "set a variable in the env file")], operands: [.required("APP", "app name")]),
        Subcommand("remove", summary: "remove the app: secrets, ALL its volumes, its env file (needs --yes; refused while deployed)",
            options: identity + locking + [.flag("yes", "really remove the app's data")], operands: [.required("APP", "app name")]),
    ],
    exits: [(.ok, "done")],
    notes: "deploy takes APP VERSION: `ccci-app deploy keycloak 10.7.9+26.6.2`. See docs/commands/ccci-app.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let sub = run.subcommand!
        if sub == "prune-dangling" {
            return .ok(["pruned": .array(try Docker().pruneDangling().map { .string($0) })])
        }
        let app = try Name(args.operand("APP")!, kind: "app")
        let state = try StateRoot(args)
        let abra = try Abra(args)
        let recipe = try args.value("recipe").map { (r) throws(Failure) in try Name(r, kind: "recipe") }
        if sub == "domain", let hex = args.value("cold") {
            return .ok(try AppIdentity.cold(app: app, recipe: recipe, hex: hex, baseDomain: args.value("base-domain")).json)
        }
        let who = try AppIdentity.warm(app: app, recipe: recipe, baseDomain: args.value("base-domain"), domain: args.value("domain"))
        let platform = Platform(abra: abra, docker: Docker(), identity: who)
        let wait = try Lock.wait(args)
        func locked<T>(_ body: () throws -> T) throws -> T { try state.withAppLock(app, wait: wait) { _ in try body() } }

        switch sub {
        case "domain":
            return .ok(who.json)
        case "status":
            return .ok(platform.statusJSON(try platform.status()))
        case "versions":
            let v = try platform.versions()
            if args.flag("lines") {
                return .lines(v.versions + v.unparsable)
            }
            var o = who.json.object!
            o["versions"] = .array(v.versions.map { .string($0) })
            o["unparsable"] = .array(v.unparsable.map { .string($0) })
            o["lightweight"] = .array(v.lightweight.map { .string($0) })
            return .ok(.object(o))
        case "fetch":
            let counts = try platform.fetch(ref: args.value("ref"))
            var o = who.json.object!
            o["origin"] = .bool(counts.origin)
            o["tags_before"] = JSON(counts.before)
            o["tags_after"] = JSON(counts.after)
            if let ref = args.value("ref") { o["commit"] = .string(try platform.resolve(ref: ref)) }
            return .ok(.object(o))
        case "ref":
            guard let ref = args.value("ref") else { throw Failure.usage("missing --ref REF") }
            var o = who.json.object!
            o["ref"] = .string(ref)
            o["commit"] = .string(try platform.resolve(ref: ref))
            return .ok(.object(o))
        case "volumes":
            var o = who.json.object!
            o["volumes"] = .array(try platform.docker.volumes(stack: who.stack).map(\.json))
            return .ok(.object(o))
        case "deploy":
            let ref = args.value("ref")
            let version = args.operand("VERSION")
            if ref != nil && version != nil { throw Failure.usage("give VERSION or --ref, not both") }
            if ref == nil && version == nil && !args.flag("chaos") { throw Failure.usage("missing operand VERSION (or --chaos, or --ref REF)") }
            let timeout = try args.seconds("timeout") ?? 300
            try Progress.start(run)
            return try locked {
                let deploy = { () throws(Failure) in try platform.deploy(version: version, chaos: args.flag("chaos") || ref != nil, timeout: timeout) }
                let report = try ref.map { r throws(Failure) in try platform.withCheckout(ref: r, deploy) } ?? deploy()
                var o = platform.statusJSON(report.status).object!
                o["requested"] = JSON(version ?? ref.map { "ref:\($0)" } ?? "chaos")
                o["waited"] = JSON((report.waited * 1000).rounded() / 1000)
                o["abra_fatal"] = JSON(report.abraFatal)
                return .ok(.object(o))
            }
        case "undeploy":
            let timeout = try args.seconds("timeout") ?? 120
            try Progress.start(run)
            return try locked {
                let r = try platform.undeploy(timeout: timeout)
                var o = who.json.object!
                o["was_deployed"] = .bool(r.wasDeployed)
                o["waited"] = JSON((r.waited * 1000).rounded() / 1000)
                o["volumes"] = .array(r.volumes.map(\.json))
                return .ok(.object(o))
            }
        case "new":
            var settings: [(String, String)] = []
            for s in args.values("set") {
                guard let eq = s.firstIndex(of: "="), eq != s.startIndex,
                    s[..<eq].allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }),
                    !s.contains("\n")
                else { throw Failure.usage("invalid --set '\(s)': expected KEY=VALUE with an upper-case KEY") }
                settings.append((String(s[..<eq]), String(s[s.index(after: eq)...])))
            }
            return try locked {
                let path = try platform.create(secrets: args.flag("secrets"), settings: settings)
                var o = who.json.object!
                o["env_file"] = .string(path)
                return .ok(.object(o))
            }
        default:  // remove
            guard args.flag("yes") else { throw Failure.usage("remove deletes every volume of '\(who.domain)': add --yes to mean it") }
            return try locked {
                let removed = try platform.remove()
                var o = who.json.object!
                o["removed_volumes"] = .array(removed.map { .string($0) })
                return .ok(.object(o))
            }
        }
    }
}
