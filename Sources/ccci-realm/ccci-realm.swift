// ccci-realm: per-run Keycloak realms on the shared live-warm Keycloak: name one, create it
// (realm, client, user), check that it works, delete it, list them, reap what crashed runs left.
import CCCICore

let server = KeycloakServer.options
let admin = KeycloakAdmin.options
let realm = Operand.required("REALM", "a run realm name, <parent>-<6 hex>")

let command = Command(
    "ccci-realm",
    summary: "per-run Keycloak realms: name, create (realm, client, user), check, delete, list, reap orphans",
    subcommands: [
        Subcommand("name", summary: "print the realm name <parent>-<hex> of a run",
            operands: [.required("PARENT", "what uses the realm, e.g. the dependent recipe"), .required("HEX", "the run's 6 hex digits, or its whole cold domain <recipe[:4]>-<hex>.<base> or stack")]),
        Subcommand("create", summary: "create the run's realm, enabled and tagged, with a confidential client and a user that can log in; completes a half-made one",
            options: RealmSpec.options + [.value("out", "FILE", "write the credentials to FILE (mode 0600) and leave the secrets out of stdout")] + server + admin,
            operands: [realm]),
        Subcommand("check", summary: "password grant with the realm's client and user; the token's issuer must match discovery's",
            options: [
                .value("credentials", "FILE", "create's output with secrets (default: stdin)"),
                .value("discovery-url", "URL", "base URL the app under test uses for discovery (default: --url)"),
            ] + server, operands: [realm]),
        Subcommand("delete", summary: "delete a run realm (404 is done; 5xx retried and confirmed); never master or foreign realms",
            options: RetryPolicy.options + server + admin, operands: [realm]),
        Subcommand("list", summary: "realms with their run tags, as JSON Lines",
            options: [.flag("ours", "only realms of our pattern"), RealmName.parentOption] + server + admin),
        Subcommand("reap", summary: "delete, one at a time, realms of our pattern whose run is not live and that are older than the grace period",
            options: ReapRules.options + [.flag("dry-run", "only report what would be deleted"), RealmName.parentOption]
                + RetryPolicy.options + server + admin),
    ],
    exits: [(.ok, "done (check: the realm works and every claim agrees)"),
            (.no, "check: the grant failed or a claim disagrees; reap: some orphans could not be deleted")],
    notes: "Secrets (admin password, client secret, user password) never travel in argv. See docs/commands/ccci-realm.md.")

/// The command, as the multicall executable runs it when called by this name.
public func main() -> Never {
    command.main { run in
        let args = run.arguments
        let note: (String) -> Void = { run.note($0) }
        switch run.subcommand {
        case "name":
            guard let hex = RealmName.runHex(from: args.operand("HEX")!) else {
                throw Failure(.usage, "invalid-name", "invalid run hex '\(args.operand("HEX")!)': expected 6 lowercase hex digits or a cold domain <recipe[:4]>-<hex>.<base>")
            }
            let name = try RealmName(parent: args.operand("PARENT")!, hex: hex)
            return .ok(["realm": .string(name.value), "parent": .string(name.parent), "hex": .string(name.hex)])
        case "create":
            let spec = try RealmSpec(args, name: try RealmName(args.operand("REALM")!))
            let credentials = try KeycloakAdmin(args).ensure(spec, progress: note)
            guard let out = args.value("out") else { return .ok(.object(credentials.json(withSecrets: true))) }
            try credentials.write(to: out)
            var shown = credentials.json(withSecrets: false)
            shown["credentials_file"] = .string(out)
            return .ok(.object(shown))
        case "check":
            let name = try RealmName(args.operand("REALM")!).value
            let login = try RealmLogin(args, realm: name)
            let keycloak = try KeycloakServer(args)
            let discovery = args.value("discovery-url") == nil ? keycloak : try KeycloakServer(args, urlOption: "discovery-url")
            let report = try keycloak.check(realm: name, login: login, discovery: discovery)
            return Outcome(report.ok ? .ok : .no, report.json)
        case "delete":
            let name = try RealmName(args.operand("REALM")!)
            return .ok(try KeycloakAdmin(args).delete(name, policy: try RetryPolicy(args), progress: note).json)
        case "list":
            let realms = try KeycloakAdmin(args).runRealms(oursOnly: args.flag("ours"), parents: try RealmName.parents(args))
            let now = Timestamp.now()
            for r in realms { try run.emit(r.json(at: now)) }
            return .ok(nil)
        default:
            let (rules, stacks) = try ReapRules.from(args)
            let parents = try RealmName.parents(args)
            let dryRun = args.flag("dry-run")
            let outcome = try KeycloakAdmin(args).reap(rules: rules, parents: parents, dryRun: dryRun, policy: try RetryPolicy(args), progress: note)
            return Outcome(outcome.failed == 0 ? .ok : .no, outcome.json(rules: rules, dryRun: dryRun, stacks: stacks))
        }
    }
}
