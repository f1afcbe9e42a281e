// Who an app is on the platform: its recipe, its domain, its swarm stack name.
//
//   warm:  warm-<recipe>.<base-domain>        (the data-warm canonical, and live-warm infra)
//   cold:  <recipe[:4]>-<6 hex>.<base-domain>  (one CI run)
//   stack: the domain with every '.' made '_', cut to 45 characters (so swarm secret names,
//          <stack>_<secret>_<version>, fit docker's 64-character limit)

public struct AppIdentity: Sendable, Equatable {
    public static let stackNameLimit = 45

    public let app: Name
    public let recipe: Name
    public let domain: String
    public var stack: String { AppIdentity.stackName(for: domain) }

    public static func stackName(for domain: String) -> String {
        String(domain.map { $0 == "." ? "_" : $0 }.prefix(stackNameLimit))
    }

    /// A domain is lowercase DNS labels: letters, digits and hyphens, dot-separated.
    public static func isValidDomain(_ d: String) -> Bool {
        let labels = d.split(separator: ".", omittingEmptySubsequences: false)
        guard d.utf8.count <= 253, labels.count >= 2 else { return false }
        return labels.allSatisfy { l in
            (1...63).contains(l.utf8.count) && l.first != "-" && l.last != "-"
                && l.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
        }
    }

    public init(app: Name, recipe: Name, domain: String) throws(Failure) {
        guard AppIdentity.isValidDomain(domain) else { throw Failure.usage("invalid domain '\(domain)'") }
        self.app = app
        self.recipe = recipe
        self.domain = domain
    }

    /// The warm identity `warm-<recipe>.<base>`, unless a domain is given explicitly.
    public static func warm(app: Name, recipe: Name? = nil, baseDomain: String?, domain: String? = nil) throws(Failure) -> AppIdentity {
        let recipe = recipe ?? app
        if let domain { return try AppIdentity(app: app, recipe: recipe, domain: domain) }
        guard let base = baseDomain else { throw Failure.usage("no base domain: give --base-domain or set CCCI_BASE_DOMAIN (or --domain)") }
        return try AppIdentity(app: app, recipe: recipe, domain: "warm-\(recipe.value).\(base)")
    }

    /// The cold per-run identity `<recipe[:4]>-<hex>.<base>`.
    public static func cold(app: Name, recipe: Name? = nil, hex: String, baseDomain: String?) throws(Failure) -> AppIdentity {
        guard Hex.isLowercase(hex, count: 6) else { throw Failure.usage("invalid run hex '\(hex)': expected 6 lowercase hex digits") }
        guard let base = baseDomain else { throw Failure.usage("no base domain: give --base-domain or set CCCI_BASE_DOMAIN") }
        let recipe = recipe ?? app
        var prefix = String(recipe.value.prefix(4))
        while prefix.last == "-" || prefix.last == "." || prefix.last == "_" { prefix.removeLast() }
        prefix = String(prefix.map { $0 == "." || $0 == "_" ? "-" : $0 })
        return try AppIdentity(app: app, recipe: recipe, domain: "\(prefix)-\(hex).\(base)")
    }

    public var json: JSON {
        ["app": .string(app.value), "recipe": .string(recipe.value), "domain": .string(domain), "stack": .string(stack)]
    }
}
