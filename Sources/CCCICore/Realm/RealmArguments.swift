// ccci-realm's option tables and what they parse into, kept beside the types they configure (as
// HTTPPinning keeps its own), so the command's main.swift only wires subcommands to the core.

extension KeycloakServer {
    public static let options: [Option] = [
        .value("url", "URL", "Keycloak's base URL (may carry a path, e.g. https://sso.example/auth)", environment: "CCCI_KEYCLOAK_URL"),
        .value("request-timeout", "SECONDS", "limit for one request (deletes get at least 120)", default: "30"),
    ] + HTTPPinning.options

    /// The server named by `--url` (or another URL option), with pinning and timeout.
    public init(_ args: Arguments, urlOption: String = "url") throws(Failure) {
        guard let url = args.value(urlOption) else { throw Failure.usage("missing required option '--\(urlOption)' (or CCCI_KEYCLOAK_URL)") }
        try self.init(base: url)
        pinning = try HTTPPinning(args)
        timeout = try args.seconds("request-timeout") ?? 30
        guard timeout > 0 else { throw Failure.usage("invalid value '0' for '--request-timeout': expected more than 0 seconds") }
    }
}

extension KeycloakAdmin {
    public static let options: [Option] = [
        .value("admin-user", "USER", "admin user of the master realm", environment: "CCCI_KEYCLOAK_ADMIN", default: "admin"),
        .value("admin-password-file", "FILE", "read the admin password from FILE", environment: "CCCI_KEYCLOAK_ADMIN_PASSWORD_FILE"),
        .value("admin-password-command", "COMMAND", "read the admin password from what COMMAND (run by /bin/sh) prints",
            environment: "CCCI_KEYCLOAK_ADMIN_PASSWORD_COMMAND"),
    ]

    /// A session for `--url` as `--admin-user`, with the password from exactly one of its sources.
    public convenience init(_ args: Arguments) throws(Failure) {
        let server = try KeycloakServer(args)
        let password: String
        switch (args.value("admin-password-file"), args.value("admin-password-command")) {
        case (let file?, nil): password = try AdminPassword.read(file: file)
        case (nil, let line?): password = try AdminPassword.run(command: line)
        case (nil, nil): throw Failure.usage("missing admin password: give --admin-password-file or --admin-password-command")
        default: throw Failure.usage("give only one of --admin-password-file and --admin-password-command (the environment counts)")
        }
        self.init(server: server, user: try args.require("admin-user"), password: password)
    }
}

extension RetryPolicy {
    public static let options: [Option] = [
        .value("retry-for", "SECONDS", "keep retrying a failing delete this long", default: "300"),
        .value("retry-interval", "SECONDS", "first pause between delete tries; doubles up to 30", default: "1"),
    ]

    public init(_ args: Arguments) throws(Failure) {
        self.init(attempts: 1000, interval: max(0.01, try args.seconds("retry-interval") ?? 1), maxInterval: 30, budget: try args.seconds("retry-for") ?? 300)
    }
}

extension RealmSpec {
    public static let options: [Option] = [
        .value("run", "RUN", "the owning run, tagged as ccci.run (default: the realm's hex)"),
        .value("client-id", "ID", "the client's id (default: the realm's parent)"),
        .value("client-secret-file", "FILE", "the client secret (default: generated)"),
        .repeated("redirect-uri", "URI", "a valid redirect URI (enables the browser flow)"),
        .value("username", "NAME", "the user's name (lowercase)", default: "ci"),
        .value("user-password-file", "FILE", "the user's password (default: generated)"),
        .value("email", "ADDRESS", "the user's email (default: <user>@<realm>.example.org)"),
        .value("first-name", "TEXT", "the user's first name", default: "ci-warm"),
        .value("last-name", "TEXT", "the user's last name (default: the realm name)"),
    ]

    /// The spec for `name` from the command line; secrets come from their files.
    public init(_ args: Arguments, name: RealmName) throws(Failure) {
        self.init(name: name, run: args.value("run"), clientID: args.value("client-id"), username: try args.require("username"))
        guard RealmSpec.isValidIdentifier(run) else { throw Failure.usage("invalid --run '\(run)': expected 1-64 of A-Z a-z 0-9 . _ -") }
        guard RealmSpec.isValidIdentifier(clientID) else { throw Failure.usage("invalid --client-id '\(clientID)': expected 1-64 of A-Z a-z 0-9 . _ -") }
        guard RealmSpec.isValidUsername(username) else { throw Failure.usage("invalid --username '\(username)': expected 1-64 of a-z 0-9 . _ -") }
        if let email = args.value("email") { self.email = email }
        guard RealmSpec.isValidEmail(email) else { throw Failure.usage("invalid --email '\(email)'") }
        firstName = try args.require("first-name")
        lastName = args.value("last-name") ?? lastName
        for text in [firstName, lastName] where text.isEmpty || text.utf8.contains(where: { $0 < 0x20 }) {
            throw Failure.usage("invalid user name part '\(text)': expected a non-empty line")
        }
        redirectURIs = args.values("redirect-uri")
        for uri in redirectURIs where uri.isEmpty || uri.utf8.contains(where: { $0 <= 0x20 }) {
            throw Failure.usage("invalid --redirect-uri '\(uri)'")
        }
        if let file = args.value("client-secret-file") { clientSecret = try AdminPassword.readSecret(file: file, what: "client secret") }
        if let file = args.value("user-password-file") { password = try AdminPassword.readSecret(file: file, what: "user password") }
    }
}

extension ReapRules {
    public static let options: [Option] = [
        .repeated("live", "HEX", "a live run (hex, cold domain or stack; comma-separated lists allowed; '' for none)"),
        .flag("live-from-docker", "live runs are the cold stacks deployed on the swarm (docker stack ls)"),
        .value("grace", "MINUTES", "spare realms younger than this", default: "60"),
        .flag("force-untagged", "also delete realms of our pattern that carry no (or a bad) creation tag"),
    ]

    /// The rules from `--live`, `--live-from-docker` (asked here), `--grace` and
    /// `--force-untagged`; also the stacks docker reported, when it was asked. Refuses to guess:
    /// without a word on live runs there is no reaping.
    public static func from(_ args: Arguments) throws(Failure) -> (rules: ReapRules, stacks: [String]?) {
        var live = Set<String>()
        for value in args.values("live") {
            for token in value.split(whereSeparator: { $0 == "," || $0 == " " }) {
                guard let hex = RealmName.runHex(from: String(token)) else {
                    throw Failure.usage("invalid --live '\(token)': expected a run's 6 hex digits, cold domain or stack")
                }
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
        let grace = (try args.duration("grace", unit: "minutes", limit: 5_256_000) ?? 60) * 60
        return (ReapRules(live: live, graceSeconds: grace, forceUntagged: args.flag("force-untagged")), stacks)
    }
}

extension RealmName {
    public static let parentOption = Option.repeated("parent", "PARENT", "only our realms of this parent")

    /// The `--parent` values, validated.
    public static func parents(_ args: Arguments) throws(Failure) -> Set<String> {
        for p in args.values("parent") where !isValidParent(p) { throw Failure.usage("invalid --parent '\(p)'") }
        return Set(args.values("parent"))
    }
}
