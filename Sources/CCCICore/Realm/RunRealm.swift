// A run realm as Keycloak holds it, with ci-warm's tags. The tags are realm attributes (a string
// map Keycloak keeps with the realm): `ccci.run`, the run that owns the realm (by default its hex),
// and `ccci.created`, when ci-warm created it (RFC 3339, UTC). The reaper needs both: the run to
// know whether its owner is alive, the time to spare a run that has made its realm but not yet
// deployed anything.

public struct RunRealm: Sendable {
    public static let runAttribute = "ccci.run"
    public static let createdAttribute = "ccci.created"

    public var realm: String
    public var enabled: Bool?
    /// Parsed name, when the realm is of our pattern.
    public var name: RealmName?
    public var run: String?
    /// The `ccci.created` tag as written, and parsed.
    public var createdText: String?
    public var created: Timestamp? { createdText.flatMap { Timestamp(rfc3339: $0) } }

    public init(realm: String, enabled: Bool? = nil, run: String? = nil, created: String? = nil) {
        self.realm = realm
        self.enabled = enabled
        self.name = RealmName.parse(realm)
        self.run = run
        self.createdText = created
    }

    /// From a realm representation (`GET /admin/realms/{name}`, or the brief list entries).
    public init?(representation rep: JSON) {
        guard let realm = rep["realm"]?.string else { return nil }
        let attributes = rep["attributes"]?.object
        self.init(realm: realm, enabled: rep["enabled"]?.bool,
            run: attributes?[RunRealm.runAttribute]?.string, created: attributes?[RunRealm.createdAttribute]?.string)
    }

    public var isTagged: Bool { run != nil && createdText != nil }

    /// Seconds since creation, when the tag says.
    public func age(at now: Timestamp) -> Double? {
        guard let created else { return nil }
        return Double(now.seconds - created.seconds) + Double(now.nanoseconds - created.nanoseconds) / 1e9
    }

    public func json(at now: Timestamp) -> JSON {
        var o = JSONObject(literal: ["realm": .string(realm), "enabled": enabled.map { JSON($0) } ?? .null, "ours": .bool(name != nil)])
        if let name {
            o["parent"] = .string(name.parent)
            o["hex"] = .string(name.hex)
            o["run"] = JSON(run)
            o["created"] = JSON(createdText)
            o["age_minutes"] = age(at: now).map { JSON(($0 / 6).rounded() / 10) } ?? .null
        }
        return .object(o)
    }
}

extension KeycloakAdmin {
    static func realmPath(_ realm: String) -> String { "/admin/realms/\(realm)" }

    /// Every realm's name and enabled flag (the brief list: one call, no attributes).
    public func realmNames() throws(Failure) -> [RunRealm] {
        let response = try call("GET", "/admin/realms?briefRepresentation=true")
        guard let list = try expectJSON(response, "listing realms").array else {
            throw Failure(.unavailable, "keycloak-answer", "listing realms: keycloak's answer is not an array")
        }
        return list.compactMap { RunRealm(representation: $0) }.sorted { $0.realm < $1.realm }
    }

    /// One realm's full representation, or nil when it does not exist.
    public func realmRepresentation(_ realm: String) throws(Failure) -> JSON? {
        let response = try call("GET", Self.realmPath(realm))
        if response.status == 404 { return nil }
        return try expectJSON(response, "reading realm '\(realm)'")
    }

    /// One realm with its tags, or nil when it does not exist.
    public func runRealm(_ realm: String) throws(Failure) -> RunRealm? {
        try realmRepresentation(realm).flatMap { RunRealm(representation: $0) }
    }

    /// Realms with their tags: all of them, or only ours (tags are read for ours only: one GET
    /// each, since the brief list carries no attributes).
    public func runRealms(oursOnly: Bool, parents: Set<String> = []) throws(Failure) -> [RunRealm] {
        var out: [RunRealm] = []
        for brief in try realmNames() {
            guard let name = brief.name else {
                if !oursOnly && parents.isEmpty { out.append(brief) }
                continue
            }
            if !parents.isEmpty && !parents.contains(name.parent) { continue }
            guard let full = try runRealm(brief.realm) else { continue }  // deleted meanwhile
            out.append(full)
        }
        return out
    }
}

extension JSONObject {
    /// An object written as a JSON dictionary literal (keys keep their order).
    init(literal: JSON) { self = literal.object ?? JSONObject() }
}
