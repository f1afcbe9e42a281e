// Proving a run realm works the way an app under test will use it: a password grant with the
// realm's client and user, and the token's issuer compared with the issuer the realm's discovery
// document announces (an OIDC client rejects tokens whose `iss` differs). The token's claims are
// decoded, not verified (see JWT.swift).

/// What a run needs to log in: `create`'s output.
public struct RealmLogin: Sendable {
    public var clientID: String
    public var clientSecret: String
    public var username: String
    public var password: String

    /// From `create`'s JSON; its `realm`, when present, must be `realm`.
    public init(json: JSON, realm: String) throws(Failure) {
        func field(_ key: String) throws(Failure) -> String {
            guard let v = json[key]?.string, !v.isEmpty else {
                throw Failure.badData("credentials have no '\(key)' (expected ccci-realm create's output with secrets)", code: "bad-credentials")
            }
            return v
        }
        if let other = json["realm"]?.string, other != realm {
            throw Failure.badData("credentials are for realm '\(other)', not '\(realm)'", code: "bad-credentials")
        }
        clientID = try field("client_id")
        clientSecret = try field("client_secret")
        username = try field("username")
        password = try field("password")
    }
}

public struct RealmCheckReport: Sendable {
    public var realm: String
    public var discoveryURL: String
    public var tokenURL: String
    public var discoveryStatus: Int?
    public var grantStatus: Int?
    public var grantError: String?
    public var issuer: String?
    public var claims = JSONObject()
    public var expected: RealmLogin
    public var problems: [String] = []

    public var ok: Bool { problems.isEmpty }

    public var json: JSON {
        let exp = claims["exp"]?.int.map { Timestamp(seconds: $0).rfc3339 }
        return [
            "realm": .string(realm), "ok": .bool(ok), "problems": .array(problems.map { .string($0) }),
            "signature_checked": false,
            "issuer": JSON(issuer), "token_issuer": JSON(claims["iss"]?.string),
            "client_id": .string(expected.clientID), "azp": JSON(claims["azp"]?.string),
            "username": .string(expected.username), "preferred_username": JSON(claims["preferred_username"]?.string),
            "expires_at": JSON(exp),
            "discovery_url": .string(discoveryURL), "discovery_status": discoveryStatus.map { JSON($0) } ?? .null,
            "token_url": .string(tokenURL), "grant_status": grantStatus.map { JSON($0) } ?? .null, "grant_error": JSON(grantError),
        ]
    }
}

extension KeycloakServer {
    /// Discovery through `discovery` (the base URL the app under test uses), the grant through
    /// this server; every disagreement is a named problem. Unreachable or 5xx: 69. A 200 token
    /// answer that is not a JWT: 65.
    public func check(realm: String, login: RealmLogin, discovery: KeycloakServer) throws(Failure) -> RealmCheckReport {
        let discoveryPath = KeycloakServer.discoveryPath(realm: realm)
        let tokenPath = KeycloakServer.tokenPath(realm: realm)
        var report = RealmCheckReport(realm: realm, discoveryURL: discovery.url(discoveryPath), tokenURL: url(tokenPath), expected: login)

        let doc = try discovery.send("GET", discoveryPath, headers: [("Accept", "application/json")])
        report.discoveryStatus = doc.status
        if doc.status >= 500 { throw KeycloakAdmin.unexpected(doc, "reading realm '\(realm)''s discovery document") }
        if doc.status == 200, let issuer = doc.json?["issuer"]?.string {
            report.issuer = issuer
            if !issuer.hasSuffix("/realms/" + realm) { report.problems.append("issuer-realm") }
        } else {
            report.problems.append("discovery")
        }

        let grant = try postForm(tokenPath, [
            ("grant_type", "password"), ("client_id", login.clientID), ("client_secret", login.clientSecret),
            ("username", login.username), ("password", login.password), ("scope", "openid"),
        ])
        report.grantStatus = grant.status
        if grant.status >= 500 { throw KeycloakAdmin.unexpected(grant, "password grant in realm '\(realm)'") }
        guard grant.status == 200 else {
            report.grantError = KeycloakServer.reason(grant)
            report.problems.append("grant")
            return report
        }
        guard let token = grant.json?["access_token"]?.string else {
            throw Failure.badData("realm '\(realm)': the token answer has no access_token", code: "not-jwt")
        }
        report.claims = try JWT.decode(token).claims
        if report.issuer != nil, report.claims["iss"]?.string != report.issuer { report.problems.append("iss") }
        if report.claims["azp"]?.string != login.clientID { report.problems.append("azp") }
        if report.claims["preferred_username"]?.string != login.username { report.problems.append("preferred_username") }
        if let exp = report.claims["exp"]?.int, exp > Timestamp.now().seconds {} else { report.problems.append("exp") }
        return report
    }
}

extension RealmLogin {
    /// From `--credentials FILE`, else stdin.
    public init(_ args: Arguments, realm: String) throws(Failure) {
        let input: [UInt8]
        if let file = args.value("credentials") {
            do throws(SystemError) { input = try AtomicFile.read(file, limit: 1 << 20) } catch { throw Failure(error, doing: "reading credentials") }
        } else {
            input = try StandardInput.readAll(limit: 1 << 20)
        }
        let json: JSON
        do throws(JSONError) { json = try JSON.parse(input) } catch {
            throw Failure.badData("credentials are not JSON: \(error)", code: "bad-credentials")
        }
        try self.init(json: json, realm: realm)
    }
}
