// A Keycloak server's HTTP API, as ci-warm uses it (shared/contracts/keycloak.md), over curl with
// its configuration on stdin (HTTP.swift): tokens, passwords and client secrets travel in curl's
// config, never in any argv.
//
// Admin token. The master realm's access tokens live 60 s, and a reaper deleting realms one at a
// time for minutes outlives many of them. One session (`KeycloakAdmin`) keeps its token for every
// call of a command and renews it before it runs out: at 90% of `expires_in`, counted from the
// moment the token was *requested* (so a slow token answer only makes us renew early), it uses
// the refresh token; when the refresh answers 400 (expired, not active) it does a fresh password
// grant. An admin call answered 401 anyway (a server restart, a clock jump) renews once and
// retries once. So a command makes one token request per ~54 s of work, not one per call.

public struct KeycloakServer: Sendable {
    /// The public base URL without a trailing '/', e.g. `https://sso.example` or
    /// `https://sso.example/auth` (a base may carry a path).
    public let base: String
    public var pinning = HTTPPinning()
    /// Seconds for one ordinary request.
    public var timeout: Double = 30

    public init(base: String) throws(Failure) {
        var b = base
        while b.hasSuffix("/") { b.removeLast() }
        guard b.hasPrefix("http://") || b.hasPrefix("https://"), b.count > 8,
            !b.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "?" || $0 == "#" })
        else { throw Failure.usage("invalid Keycloak URL '\(base)': expected http:// or https:// and no query") }
        self.base = b
    }

    public func url(_ path: String) -> String { base + path }

    /// The issuer Keycloak announces for a realm reached through this base URL.
    public func realmURL(_ realm: String) -> String { base + "/realms/" + realm }

    /// One request; transport failures become 69 (`keycloak-unreachable`, `keycloak-timeout`).
    public func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, timeout: Double? = nil
    ) throws(Failure) -> HTTPResponse {
        var request = HTTPRequest(url: url(path))
        request.method = method
        request.headers = headers
        request.body = body
        request.pinning = pinning
        request.timeout = timeout ?? self.timeout
        do { return try HTTP.send(request) } catch {
            let code = error.kind == .timeout ? "keycloak-timeout" : "keycloak-unreachable"
            throw Failure(.unavailable, code, "keycloak at '\(base)': \(method) \(path): \(error.kind.rawValue): \(error.message)")
        }
    }

    /// A form POST (token requests).
    public func postForm(_ path: String, _ fields: [(String, String)], timeout: Double? = nil) throws(Failure) -> HTTPResponse {
        try send("POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: HTTP.formEncode(fields), timeout: timeout)
    }

    public static func tokenPath(realm: String) -> String { "/realms/\(realm)/protocol/openid-connect/token" }
    public static func discoveryPath(realm: String) -> String { "/realms/\(realm)/.well-known/openid-configuration" }

    /// Keycloak's own words from an error body (`error_description`, `errorMessage`, `error`), short.
    public static func reason(_ response: HTTPResponse) -> String {
        if let j = response.json {
            for key in ["error_description", "errorMessage", "error"] { if let s = j[key]?.string { return s } }
        }
        let text = response.bodyText.trimmingCharacters()
        return text.isEmpty ? "status \(response.status)" : String(text.prefix(200))
    }
}

/// An access token and when to renew it.
public struct AdminToken: Sendable {
    public var access: String
    public var refresh: String?
    /// Monotonic time (ns) when the token was requested.
    public var requestedAt: UInt64
    /// `expires_in` and `refresh_expires_in`, seconds.
    public var lifetime: Double
    public var refreshLifetime: Double?
    /// Set when the server rejected the token before we expected it to.
    public var rejected = false

    /// Renew at this share of the lifetime (the contract's ~90%).
    public static let renewAt = 0.9

    public init(access: String, refresh: String?, requestedAt: UInt64, lifetime: Double, refreshLifetime: Double?) {
        self.access = access
        self.refresh = refresh
        self.requestedAt = requestedAt
        self.lifetime = lifetime
        self.refreshLifetime = refreshLifetime
    }

    /// A token answer (`access_token`, `expires_in`, `refresh_token`, `refresh_expires_in`).
    public init(answer: JSON, requestedAt: UInt64) throws(Failure) {
        guard let access = answer["access_token"]?.string, !access.isEmpty else {
            throw Failure(.unavailable, "keycloak-answer", "keycloak's token answer has no access_token")
        }
        let lifetime = answer["expires_in"]?.double ?? 60
        let refreshLifetime = answer["refresh_expires_in"]?.double
        self.init(access: access, refresh: answer["refresh_token"]?.string, requestedAt: requestedAt,
            lifetime: max(1, lifetime), refreshLifetime: refreshLifetime.flatMap { $0 > 0 ? $0 : nil })
    }

    func age(_ now: UInt64) -> Double { Double(now &- requestedAt) / 1e9 }

    /// Good to send as it is.
    public func isFresh(at now: UInt64) -> Bool { !rejected && age(now) < lifetime * AdminToken.renewAt }

    /// Worth trying the refresh grant with.
    public func canRefresh(at now: UInt64) -> Bool {
        guard refresh != nil else { return false }
        guard let refreshLifetime else { return true }
        return age(now) < refreshLifetime * AdminToken.renewAt
    }
}

/// An admin session: one user's token, kept and renewed for every call of one command.
public final class KeycloakAdmin {
    public let server: KeycloakServer
    let user: String
    let password: String
    var token: AdminToken?
    /// Token requests made (password and refresh grants), for the report and the tests.
    public private(set) var tokenRequests = 0
    var clock: () -> UInt64 = Kernel.monotonicNanoseconds

    public init(server: KeycloakServer, user: String, password: String) {
        self.server = server
        self.user = user
        self.password = password
    }

    static let tokenPath = KeycloakServer.tokenPath(realm: "master")

    /// A valid access token: the kept one, a refreshed one, or a new one.
    func accessToken() throws(Failure) -> String {
        let now = clock()
        if let token, token.isFresh(at: now) { return token.access }
        if let token, token.canRefresh(at: now), let refresh = token.refresh {
            tokenRequests += 1
            let response = try server.postForm(Self.tokenPath, [("grant_type", "refresh_token"), ("client_id", "admin-cli"), ("refresh_token", refresh)])
            if response.status == 200, let json = response.json {
                let renewed = try AdminToken(answer: json, requestedAt: now)
                self.token = renewed
                return renewed.access
            }
            if response.status >= 500 {
                throw Failure(.unavailable, "keycloak-error", "keycloak at '\(server.base)': refreshing the admin token: \(KeycloakServer.reason(response))")
            }
            // 400 "Token is not active" and friends: log in again.
        }
        tokenRequests += 1
        let response = try server.postForm(Self.tokenPath, [("grant_type", "password"), ("client_id", "admin-cli"), ("username", user), ("password", password)])
        switch response.status {
        case 200:
            guard let json = response.json else { throw Failure(.unavailable, "keycloak-answer", "keycloak's token answer is not JSON") }
            let fresh = try AdminToken(answer: json, requestedAt: now)
            self.token = fresh
            return fresh.access
        case 400, 401, 403:
            throw Failure(.permission, "admin-login", "keycloak at '\(server.base)' refused the admin login of '\(user)': \(KeycloakServer.reason(response))")
        case 404:
            throw Failure(.unavailable, "keycloak-not-found", "no keycloak token endpoint at '\(server.url(Self.tokenPath))' (status 404): check the base URL")
        default:
            throw Failure(.unavailable, "keycloak-error", "keycloak at '\(server.base)': admin login: \(KeycloakServer.reason(response))")
        }
    }

    /// An admin API call with the session's token. A 401 renews the token and retries once;
    /// 401 again, or 403, is a permission failure (77). Other statuses are the caller's to judge.
    public func call(_ method: String, _ path: String, json body: JSON? = nil, timeout: Double? = nil) throws(Failure) -> HTTPResponse {
        var response = try send(method, path, body, timeout)
        if response.status == 401 {
            token?.rejected = true
            response = try send(method, path, body, timeout)
        }
        if response.status == 401 || response.status == 403 {
            throw Failure(.permission, "admin-forbidden", "keycloak refused \(method) \(path) to admin '\(user)': \(KeycloakServer.reason(response))")
        }
        return response
    }

    private func send(_ method: String, _ path: String, _ body: JSON?, _ timeout: Double?) throws(Failure) -> HTTPResponse {
        var headers = [("Authorization", "Bearer " + (try accessToken())), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try server.send(method, path, headers: headers, body: body?.bytes, timeout: timeout)
    }

    /// A 2xx answer's JSON, or a failure naming what was asked.
    public func expectJSON(_ response: HTTPResponse, _ what: String) throws(Failure) -> JSON {
        guard (200..<300).contains(response.status) else { throw Self.unexpected(response, what) }
        guard let json = response.json else { throw Failure(.unavailable, "keycloak-answer", "\(what): keycloak's answer is not JSON") }
        return json
    }

    /// An answer the caller did not expect: 5xx is the server's trouble (69), 4xx a refusal (65).
    public static func unexpected(_ response: HTTPResponse, _ what: String) -> Failure {
        let why = KeycloakServer.reason(response)
        if response.status >= 500 { return Failure(.unavailable, "keycloak-error", "\(what): keycloak answered \(response.status): \(why)") }
        return Failure(.badData, "keycloak-refused", "\(what): keycloak answered \(response.status): \(why)")
    }
}
