// ccci-realm: per-run Keycloak realms on the shared live-warm Keycloak: name one, create it
// (realm, client, user), check that it works, delete it, list them, reap what crashed runs left.
import CCCICore

let server: [Option] = [
    .value("url", "URL", "Keycloak's base URL (may carry a path, e.g. https://sso.example/auth)", environment: "CCCI_KEYCLOAK_URL"),
    .value("request-timeout", "SECONDS", "limit for one request (deletes get at least 120)", default: "30"),
] + HTTPPinning.options
let admin: [Option] = [
    .value("admin-user", "USER", "admin user of the master realm", environment: "CCCI_KEYCLOAK_ADMIN", default: "admin"),
    .value("admin-password-file", "FILE", "read the admin password from FILE", environment: "CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE"),
    .value("admin-password-command", "COMMAND", "read the admin password from what COMMAND (run by /bin/sh) prints", environment: "CCCI_KEYCLOAK_ADMIN_PASSWORD_COMMAND"),
]
let retries: [Option] = [
    .value("retry-for", "SECONDS", "keep retrying a failing delete this long", default: "300"),
    .value("retry-interval", "SECONDS", "first pause between delete tries; doubles up to 30", default: "1"),
]
let realmOperand = Operand.required("REALM", "a run realm name, <parent>-<6 hex>")

let command = Command(
    "ccci-realm",
    summary: "per-run Keycloak realms: name, create (realm, client, user), check, delete, list, reap orphans",
    subcommands: [
        Subcommand("name", summary: "print the realm name <parent>-<hex> of a run",
            operands: [.required("PARENT", "what uses the realm, e.g. the dependent recipe"), .required("HEX", "the run's 6 hex digits, or its cold domain or stack")]),
        Subcommand("create", summary: "create the run's realm, enabled and tagged, with a confidential client and a user that can log in; completes a half-made one",
            options: [
                .value("run", "RUN", "the owning run, tagged as ccci.run (default: the realm's hex)"),
                .value("client-id", "ID", "the client's id (default: the realm's parent)"),
                .value("client-secret-file", "FILE", "the client secret (default: generated)"),
                .repeated("redirect-uri", "URI", "a valid redirect URI (enables the browser flow)"),
                .value("username", "NAME", "the user's name (lowercase)", default: "ci"),
                .value("user-password-file", "FILE", "the user's password (default: generated)"),
                .value("email", "ADDRESS", "the user's email (default: <user>@<realm>.example.org)"),
                .value("first-name", "TEXT", "the user's first name", default: "ci-warm"),
                .value("last-name", "TEXT", "the user's last name (default: the realm name)"),
                .value("out", "FILE", "write the credentials to FILE (mode 0600) and leave the secrets out of stdout"),
            ] + server + admin, operands: [realmOperand]),
        Subcommand("check", summary: "password grant with the realm's client and user; the token's issuer must match discovery's",
            options: [
                .value("credentials", "FILE", "create's output with secrets (default: stdin)"),
                .value("discovery-url", "URL", "base URL the app under test uses for discovery (default: --url)"),
            ] + server, operands: [realmOperand]),
        Subcommand("delete", summary: "delete a run realm (404 is done; 5xx retried and confirmed); never master or foreign realms",
            options: retries + server + admin, operands: [realmOperand]),
        Subcommand("list", summary: "realms with their run tags, as JSON Lines",
            options: [.flag("ours", "only realms of our pattern"), .repeated("parent", "PARENT", "only our realms of this parent")] + server + admin),
        Subcommand("reap", summary: "delete, one at a time, realms of our pattern whose run is not live and that are older than the grace period",
            options: [
                .repeated("live", "HEX", "a live run (hex, cold domain or stack; comma-separated lists allowed; '' for none)"),
                .flag("live-from-docker", "live runs are the cold stacks deployed on the swarm (docker stack ls)"),
                .value("grace", "MINUTES", "spare realms younger than this", default: "60"),
                .flag("dry-run", "only report what would be deleted"),
                .flag("force-untagged", "also delete realms of our pattern that carry no (or a bad) creation tag"),
                .repeated("parent", "PARENT", "only realms of this parent"),
            ] + retries + server + admin),
    ],
    exits: [(.ok, "done (check: the realm works and every claim agrees)"),
            (.no, "check: the grant failed or a claim disagrees; reap: some orphans could not be deleted")],
    notes: "Secrets (admin password, client secret, user password) never travel in argv. See docs/commands/ccci-realm.md.")

func keycloak(_ args: Arguments, url option: String = "url") throws -> KeycloakServer {
    guard let url = args.value(option) else { throw Failure.usage("missing required option '--\(option)' (or CCCI_KEYCLOAK_URL)") }
    var s = try KeycloakServer(base: url)
    s.pinning = try HTTPPinning(args)
    s.timeout = try args.seconds("request-timeout") ?? 30
    return s
}

func session(_ args: Arguments) throws -> KeycloakAdmin {
    let s = try keycloak(args)
    let password: String
    switch (args.value("admin-password-file"), args.value("admin-password-command")) {
    case (let file?, nil): password = try AdminPassword.read(file: file)
    case (nil, let line?): password = try AdminPassword.run(command: line)
    case (nil, nil): throw Failure.usage("missing admin password: give --admin-password-file or --admin-password-command")
    default: throw Failure.usage("give only one of --admin-password-file and --admin-password-command")
    }
    return KeycloakAdmin(server: s, user: try args.require("admin-user"), password: password)
}

func policy(_ args: Arguments) throws -> RetryPolicy {
    RetryPolicy(attempts: 100, interval: max(0.01, try args.seconds("retry-interval") ?? 1), maxInterval: 30, budget: try args.seconds("retry-for") ?? 300)
}

command.main { run in
    let args = run.arguments
    let note: (String) -> Void = { run.note($0) }
    switch run.subcommand {
    case "name":
        let hexText = args.operand("HEX")!
        guard let hex = RealmName.runHex(from: hexText) else {
            throw Failure(.usage, "invalid-name", "invalid run hex '\(hexText)': expected 6 lowercase hex digits or a cold domain <recipe[:4]>-<hex>.<base>")
        }
        let name = try RealmName(parent: args.operand("PARENT")!, hex: hex)
        return .ok(["realm": .string(name.value), "parent": .string(name.parent), "hex": .string(name.hex)])
    case "create":
        var spec = RealmSpec(name: try RealmName(args.operand("REALM")!), run: args.value("run"), clientID: args.value("client-id"), username: try args.require("username"))
        for (value, valid, what) in [(spec.run, RealmSpec.isValidIdentifier(spec.run), "--run"), (spec.clientID, RealmSpec.isValidIdentifier(spec.clientID), "--client-id"),
                                     (spec.username, RealmSpec.isValidUsername(spec.username), "--username")] where !valid {
            throw Failure.usage("invalid \(what) '\(value)': expected 1-64 of a-z 0-9 . _ - (usernames lowercase)")
        }
        if let email = args.value("email") { spec.email = email }
        guard RealmSpec.isValidEmail(spec.email) else { throw Failure.usage("invalid --email '\(spec.email)'") }
        spec.firstName = try args.require("first-name")
        spec.lastName = args.value("last-name") ?? spec.lastName
        spec.redirectURIs = args.values("redirect-uri")
        for uri in spec.redirectURIs where uri.isEmpty || uri.contains(where: { $0 == " " || $0 == "\n" }) {
            throw Failure.usage("invalid --redirect-uri '\(uri)'")
        }
        if let file = args.value("client-secret-file") { spec.clientSecret = try AdminPassword.readSecret(file: file, what: "client secret") }
        if let file = args.value("user-password-file") { spec.password = try AdminPassword.readSecret(file: file, what: "user password") }
        let credentials = try session(args).ensure(spec, progress: note)
        guard let out = args.value("out") else { return .ok(.object(credentials.json(withSecrets: true))) }
        try credentials.write(to: out)
        var shown = credentials.json(withSecrets: false)
        shown["credentials_file"] = .string(out)
        return .ok(.object(shown))
    case "check":
        let realm = try RealmName(args.operand("REALM")!).value
        let input: [UInt8]
        if let file = args.value("credentials") {
            do throws(SystemError) { input = try AtomicFile.read(file, limit: 1 << 20) } catch { throw Failure(error, doing: "reading credentials") }
        } else {
            input = try StandardInput.readAll(limit: 1 << 20)
        }
        let json: JSON
        do { json = try JSON.parse(input) } catch { throw Failure.badData("credentials are not JSON: \(error)", code: "bad-credentials") }
        let s = try keycloak(args)
        let discovery = args.value("discovery-url") == nil ? s : try keycloak(args, url: "discovery-url")
        let report = try s.check(realm: realm, login: try RealmLogin(json: json, realm: realm), discovery: discovery)
        return Outcome(report.ok ? .ok : .no, report.json)
    case "delete":
        let name = try RealmName(args.operand("REALM")!)
        return .ok(try session(args).delete(name, policy: try policy(args), progress: note).json)
    case "list":
        let realms = try session(args).runRealms(oursOnly: args.flag("ours"), parents: Set(args.values("parent")))
        let now = Timestamp.now()
        for r in realms { try run.emit(r.json(at: now)) }
        return .ok(nil)
    default:
        var live = Set<String>()
        for value in args.values("live") {
            for token in value.split(whereSeparator: { $0 == "," || $0 == " " }) {
                guard let hex = RealmName.runHex(from: String(token)) else { throw Failure.usage("invalid --live '\(token)': expected a run's 6 hex digits, cold domain or stack") }
                live.insert(hex)
            }
        }
        var stacks: [String]? = nil
        if args.flag("live-from-docker") {
            let docker = try LiveRuns.fromDocker()
            live.formUnion(docker.hexes)
            stacks = docker.stacks
        } else if args.values("live").isEmpty {
            throw Failure.usage("reap needs to know which runs are live: give --live HEX... (or --live '' for none) or --live-from-docker")
        }
        for p in args.values("parent") where !RealmName.isValidParent(p) { throw Failure.usage("invalid --parent '\(p)'") }
        let grace = (try args.seconds("grace") ?? 60) * 60
        let rules = ReapRules(live: live, graceSeconds: grace, forceUntagged: args.flag("force-untagged"))
        let dryRun = args.flag("dry-run")
        let outcome = try session(args).reap(rules: rules, parents: Set(args.values("parent")), dryRun: dryRun, policy: try policy(args), progress: note)
        var result = JSONObject([("dry_run", .bool(dryRun)), ("grace_minutes", JSON(grace / 60)), ("live", .array(live.sorted().map { .string($0) }))])
        if let stacks { result["live_stacks"] = .array(stacks.map { .string($0) }) }
        for (k, v) in [("deleted", outcome.deleted), ("kept", outcome.kept), ("would_delete", outcome.wouldDelete), ("failed", outcome.failed)] { result[k] = JSON(v) }
        result["realms"] = .array(outcome.entries)
        return Outcome(outcome.failed == 0 ? .ok : .no, .object(result))
    }
}
