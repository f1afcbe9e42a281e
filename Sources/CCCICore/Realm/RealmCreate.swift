// Creating a run realm that works at once, and finishing one that a crashed run left half made.
//
// The traps, from the contract: a realm created without `"enabled": true` is disabled (its token
// endpoint answers 403); since Keycloak 24 a user without email, first and last name, or with a
// required action or a temporary password, cannot log in ("Account is not fully set up"); a
// client needs direct access grants for the password grant. Every step first looks for what is
// already there, so re-running `create` for the same run completes the realm instead of failing;
// a realm that exists for another run (or untagged) is never taken over.
import Glibc

public struct RealmSpec: Sendable {
    public var name: RealmName
    /// The owning run, written to `ccci.run` (default: the name's hex).
    public var run: String
    public var clientID: String
    public var clientSecret: String?
    public var redirectURIs: [String] = []
    public var username: String
    public var password: String?
    public var email: String
    public var firstName: String
    public var lastName: String

    public init(name: RealmName, run: String? = nil, clientID: String? = nil, username: String = "ci") {
        self.name = name
        self.run = run ?? name.hex
        self.clientID = clientID ?? name.parent
        self.username = username
        self.email = "\(username)@\(name.value).example.org"
        self.firstName = "ci-warm"
        self.lastName = name.value
    }

    /// Run ids and client ids: letters, digits, `.`, `_`, `-` (they travel in URLs and JSON).
    public static func isValidIdentifier(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count) && s.utf8.allSatisfy {
            (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
    }

    /// Usernames: Keycloak lowercases them, so only lowercase is accepted (an exact lookup must find it).
    public static func isValidUsername(_ s: String) -> Bool {
        isValidIdentifier(s) && !s.utf8.contains { (0x41...0x5A).contains($0) } && s.utf8.first.map { $0 != 0x2D && $0 != 0x2E } == true
    }

    /// Loosely `local@domain.tld`, printable ASCII without spaces or quotes.
    public static func isValidEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), s.utf8.count <= 254 else { return false }
        return s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C && $0 != 0x3C && $0 != 0x3E }
    }

    /// A fresh secret: 32 random bytes as hex.
    public static func generateSecret() throws(Failure) -> String {
        do { return Hex.encode(try Kernel.randomBytes(32)) } catch { throw Failure(error, doing: "generating a secret") }
    }
}

/// What a working run realm offers its run, and what `create` had to do for it.
public struct RealmCredentials: Sendable {
    public var realm: String
    public var run: String
    public var created: String
    public var issuer: String
    public var tokenEndpoint: String
    public var discoveryURL: String
    public var clientID: String
    public var clientSecret: String
    public var username: String
    public var password: String
    public var email: String
    /// What this invocation made new (false: found and brought up to date).
    public var new: (realm: Bool, client: Bool, user: Bool)

    public func json(withSecrets: Bool) -> JSONObject {
        var o = JSONObject(literal: [
            "realm": .string(realm), "run": .string(run), "created": .string(created),
            "issuer": .string(issuer), "token_endpoint": .string(tokenEndpoint), "discovery_url": .string(discoveryURL),
            "client_id": .string(clientID),
        ])
        if withSecrets { o["client_secret"] = .string(clientSecret) }
        o["username"] = .string(username)
        if withSecrets { o["password"] = .string(password) }
        o["email"] = .string(email)
        o["new"] = ["realm": .bool(new.realm), "client": .bool(new.client), "user": .bool(new.user)]
        return o
    }
}

extension KeycloakAdmin {
    /// Creates the run realm with its client and user, or completes one of the same run.
    public func ensure(_ spec: RealmSpec, progress: (String) -> Void = { _ in }) throws(Failure) -> RealmCredentials {
        let realm = spec.name.value
        let (created, realmIsNew) = try ensureRealm(spec, progress: progress)
        let (secret, clientIsNew) = try ensureClient(spec, progress: progress)
        let (password, userIsNew) = try ensureUser(spec, progress: progress)
        let discoveryPath = KeycloakServer.discoveryPath(realm: realm)
        let discovery = try expectJSON(try server.send("GET", discoveryPath, headers: [("Accept", "application/json")]), "reading realm '\(realm)''s discovery document")
        guard let issuer = discovery["issuer"]?.string, let tokenEndpoint = discovery["token_endpoint"]?.string else {
            throw Failure(.unavailable, "keycloak-answer", "realm '\(realm)''s discovery document has no issuer or token_endpoint")
        }
        return RealmCredentials(
            realm: realm, run: spec.run, created: created, issuer: issuer, tokenEndpoint: tokenEndpoint,
            discoveryURL: server.url(discoveryPath), clientID: spec.clientID, clientSecret: secret,
            username: spec.username, password: password, email: spec.email, new: (realmIsNew, clientIsNew, userIsNew))
    }

    /// The realm, enabled and tagged; its `ccci.created` and whether this call made it.
    func ensureRealm(_ spec: RealmSpec, progress: (String) -> Void) throws(Failure) -> (String, Bool) {
        let realm = spec.name.value
        if try realmRepresentation(realm) == nil {
            let now = Timestamp.now().rfc3339
            let body: JSON = [
                "realm": .string(realm), "enabled": true,
                "attributes": [RunRealm.runAttribute: .string(spec.run), RunRealm.createdAttribute: .string(now)],
            ]
            let response = try call("POST", "/admin/realms", json: body, timeout: max(server.timeout, 120))
            switch response.status {
            case 201, 204:
                progress("created realm '\(realm)'")
                return (now, true)
            case 409: break  // made meanwhile: judge it below like any existing realm
            default: throw Self.unexpected(response, "creating realm '\(realm)'")
            }
        }
        guard let rep = try realmRepresentation(realm), let existing = RunRealm(representation: rep) else {
            throw Failure(.unavailable, "keycloak-answer", "realm '\(realm)' vanished while being created")
        }
        guard let owner = existing.run else {
            throw Failure(.cantCreate, "exists", "realm '\(realm)' exists without a ci-warm run tag: not taking it over")
        }
        guard owner == spec.run else {
            throw Failure(.cantCreate, "exists", "realm '\(realm)' exists and belongs to run '\(owner)', not '\(spec.run)'")
        }
        let created = existing.createdText ?? Timestamp.now().rfc3339
        if existing.enabled != true || existing.createdText == nil {
            var attributes = rep["attributes"]?.object ?? JSONObject()
            attributes[RunRealm.createdAttribute] = .string(created)
            let response = try call("PUT", Self.realmPath(realm), json: ["realm": .string(realm), "enabled": true, "attributes": .object(attributes)])
            guard (200..<300).contains(response.status) else { throw Self.unexpected(response, "enabling realm '\(realm)'") }
            progress("enabled realm '\(realm)'")
        }
        return (created, false)
    }

    /// The confidential client; its secret and whether this call made it.
    func ensureClient(_ spec: RealmSpec, afterConflict: Bool = false, progress: (String) -> Void) throws(Failure) -> (String, Bool) {
        let base = Self.realmPath(spec.name.value) + "/clients"
        var rep = JSONObject(literal: [
            "clientId": .string(spec.clientID), "enabled": true, "protocol": "openid-connect", "publicClient": false,
            "clientAuthenticatorType": "client-secret", "directAccessGrantsEnabled": true,
            "standardFlowEnabled": .bool(!spec.redirectURIs.isEmpty), "serviceAccountsEnabled": false,
            "redirectUris": .array(spec.redirectURIs.map { .string($0) }),
        ])
        if let id = try findID(base + "?clientId=" + spec.clientID, matching: "clientId", spec.clientID, what: "client") {
            if let secret = spec.clientSecret { rep["secret"] = .string(secret) }
            let response = try call("PUT", base + "/" + id, json: .object(rep))
            guard (200..<300).contains(response.status) else { throw Self.unexpected(response, "updating client '\(spec.clientID)'") }
            if let secret = spec.clientSecret { return (secret, false) }
            let answer = try expectJSON(try call("GET", base + "/" + id + "/client-secret"), "reading client '\(spec.clientID)''s secret")
            guard let secret = answer["value"]?.string, !secret.isEmpty else {
                throw Failure(.unavailable, "keycloak-answer", "client '\(spec.clientID)' has no secret")
            }
            return (secret, false)
        }
        let secret: String
        if let given = spec.clientSecret { secret = given } else { secret = try RealmSpec.generateSecret() }
        rep["secret"] = .string(secret)
        let response = try call("POST", base, json: .object(rep))
        switch response.status {
        case 201, 204:
            progress("created client '\(spec.clientID)'")
            return (secret, true)
        case 409 where !afterConflict:  // made meanwhile: bring it to our settings
            var again = spec
            again.clientSecret = secret
            return (try ensureClient(again, afterConflict: true, progress: progress).0, false)
        default: throw Self.unexpected(response, "creating client '\(spec.clientID)'")
        }
    }

    /// The user, able to log in at once; its password and whether this call made it.
    func ensureUser(_ spec: RealmSpec, afterConflict: Bool = false, progress: (String) -> Void) throws(Failure) -> (String, Bool) {
        let base = Self.realmPath(spec.name.value) + "/users"
        let password: String
        if let given = spec.password { password = given } else { password = try RealmSpec.generateSecret() }
        var rep = JSONObject(literal: [
            "username": .string(spec.username), "enabled": true, "email": .string(spec.email), "emailVerified": true,
            "firstName": .string(spec.firstName), "lastName": .string(spec.lastName), "requiredActions": [],
        ])
        let credential: JSON = ["type": "password", "value": .string(password), "temporary": false]
        if let id = try findID(base + "?exact=true&username=" + spec.username, matching: "username", spec.username, what: "user") {
            let update = try call("PUT", base + "/" + id, json: .object(rep))
            guard (200..<300).contains(update.status) else { throw Self.unexpected(update, "updating user '\(spec.username)'") }
            let reset = try call("PUT", base + "/" + id + "/reset-password", json: credential)
            guard (200..<300).contains(reset.status) else { throw Self.unexpected(reset, "setting user '\(spec.username)''s password") }
            return (password, false)
        }
        rep["credentials"] = [credential]
        let response = try call("POST", base, json: .object(rep))
        switch response.status {
        case 201, 204:
            progress("created user '\(spec.username)'")
            return (password, true)
        case 409 where !afterConflict:  // made meanwhile, or another user has the email
            var again = spec
            again.password = password
            return (try ensureUser(again, afterConflict: true, progress: progress).0, false)
        default: throw Self.unexpected(response, "creating user '\(spec.username)'")
        }
    }

    /// The `id` of the one object in a search answer whose `field` is exactly `value`.
    private func findID(_ path: String, matching field: String, _ value: String, what: String) throws(Failure) -> String? {
        guard let list = try expectJSON(try call("GET", path), "looking up \(what) '\(value)'").array else {
            throw Failure(.unavailable, "keycloak-answer", "looking up \(what) '\(value)': keycloak's answer is not an array")
        }
        guard let match = list.first(where: { $0[field]?.string == value }) else { return nil }
        guard let id = match["id"]?.string, RealmSpec.isValidIdentifier(id) else {
            throw Failure(.unavailable, "keycloak-answer", "\(what) '\(value)' has no usable id")
        }
        return id
    }
}

extension RealmCredentials {
    /// Writes the credentials (secrets included) to `path`, mode 0600, atomically.
    public func write(to path: String) throws(Failure) {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { path[..<$0].isEmpty ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !name.isEmpty, name != ".", name != ".." else { throw Failure.usage("invalid --out '\(path)': expected a file name") }
        do throws(SystemError) {
            let fd = try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY)
            defer { fd.closeQuietly() }
            try AtomicFile.write(JSON.object(json(withSecrets: true)).text + "\n", to: name, in: fd, mode: 0o600)
        } catch { throw Failure(error, doing: "writing credentials to '\(path)'") }
    }
}
