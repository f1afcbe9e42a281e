import Testing
@testable import CCCICore

@Suite struct AdminTokens {
    static let second: UInt64 = 1_000_000_000

    @Test func renewedAtNinetyPercentOfItsLifetime() throws {
        let t = try AdminToken(answer: ["access_token": "a", "expires_in": 60, "refresh_token": "r", "refresh_expires_in": 1800], requestedAt: 1000 * Self.second)
        #expect(t.isFresh(at: 1000 * Self.second))
        #expect(t.isFresh(at: 1053 * Self.second))
        #expect(!t.isFresh(at: 1054 * Self.second))
        #expect(t.canRefresh(at: 1054 * Self.second))
        #expect(!t.canRefresh(at: 2620 * Self.second))  // 90% of 1800 s
    }

    @Test func aRejectedTokenIsRenewedAtOnce() throws {
        var t = try AdminToken(answer: ["access_token": "a", "expires_in": 60, "refresh_token": "r"], requestedAt: 0)
        t.rejected = true
        #expect(!t.isFresh(at: 0) && t.canRefresh(at: 0))
    }

    @Test func withoutARefreshTokenOnlyALoginHelps() throws {
        let t = try AdminToken(answer: ["access_token": "a", "expires_in": 60], requestedAt: 0)
        #expect(!t.canRefresh(at: 0))
    }

    @Test func anAnswerWithoutAnAccessTokenIsRefused() {
        #expect { try AdminToken(answer: ["expires_in": 60], requestedAt: 0) } throws: { ($0 as? Failure)?.exit == .unavailable }
    }
}

@Suite struct KeycloakURLs {
    @Test func aBaseMayCarryAPath() throws {
        let s = try KeycloakServer(base: "https://sso.example/auth/")
        #expect(s.base == "https://sso.example/auth")
        #expect(s.url(KeycloakServer.tokenPath(realm: "master")) == "https://sso.example/auth/realms/master/protocol/openid-connect/token")
        #expect(s.realmURL("docs-abcdef") == "https://sso.example/auth/realms/docs-abcdef")
    }

    @Test(arguments: ["", "sso.example", "ftp://sso.example", "https://", "https://sso.example/?x=1", "https://sso example"])
    func refusesOtherURLs(_ u: String) {
        #expect { try KeycloakServer(base: u) } throws: { ($0 as? Failure)?.exit == .usage }
    }

    @Test func errorReasonsComeFromKeycloaksOwnWords() {
        func r(_ status: Int, _ body: String) -> String { KeycloakServer.reason(HTTPResponse(status: status, body: Array(body.utf8))) }
        #expect(r(400, #"{"error":"invalid_grant","error_description":"Account is not fully set up"}"#) == "Account is not fully set up")
        #expect(r(409, #"{"errorMessage":"Client x already exists"}"#) == "Client x already exists")
        #expect(r(404, #"{"error":"Realm not found."}"#) == "Realm not found.")
        #expect(r(502, "") == "status 502")
    }
}

@Suite struct RealmSecrets {
    @Test func passwordsAreOneLine() throws {
        #expect(try AdminPassword.usable(Array("s3cret\n".utf8), from: "x") == "s3cret")
        #expect(try AdminPassword.usable(Array("s3cret\r\n".utf8), from: "x") == "s3cret")
        #expect(try AdminPassword.usable(Array("  spaced  ".utf8), from: "x") == "  spaced  ")
        for bad in ["", "\n", "a\nb", "a\u{0}b"] {
            #expect { try AdminPassword.usable(Array(bad.utf8), from: "x") } throws: { ($0 as? Failure)?.exit == .badData }
        }
    }

    @Test func aMissingPasswordFileIs66() {
        #expect { try AdminPassword.read(file: "/nonexistent/ccci/pw") } throws: { ($0 as? Failure)?.exit == .noInput }
    }

    @Test func aFailingPasswordCommandIs69AndQuotesNothing() throws {
        #expect { try AdminPassword.run(command: "echo hunter2; exit 3") } throws: { error in
            guard let f = error as? Failure else { return false }
            return f.exit == .unavailable && !f.message.contains("hunter2")
        }
        #expect(try AdminPassword.run(command: "printf 'pw\\n'") == "pw")
    }

    @Test func generatedSecretsAreFreshHex() throws {
        let a = try RealmSpec.generateSecret(), b = try RealmSpec.generateSecret()
        #expect(Hex.isLowercase(a, count: 64) && a != b)
    }

    @Test func credentialsLeaveSecretsOutOnRequest() throws {
        let c = RealmCredentials(realm: "docs-abcdef", run: "abcdef", created: "t", issuer: "i", tokenEndpoint: "te", discoveryURL: "d",
            clientID: "docs", clientSecret: "CS", username: "ci", password: "PW", email: "ci@x.example", new: (true, true, true))
        let shown = JSON.object(c.json(withSecrets: false)).text
        #expect(!shown.contains("CS") && !shown.contains("PW"))
        let full = JSON.object(c.json(withSecrets: true))
        #expect(full["client_secret"] == "CS" && full["password"] == "PW")
        let login = try RealmLogin(json: full, realm: "docs-abcdef")
        #expect(login.clientSecret == "CS" && login.password == "PW" && login.username == "ci" && login.clientID == "docs")
        #expect { try RealmLogin(json: full, realm: "docs-000000") } throws: { ($0 as? Failure)?.code == "bad-credentials" }
        #expect { try RealmLogin(json: JSON.object(c.json(withSecrets: false)), realm: "docs-abcdef") } throws: { ($0 as? Failure)?.exit == .badData }
    }

    @Test func specDefaultsPassTheirOwnValidation() throws {
        let spec = RealmSpec(name: try RealmName("lasuite-docs-4c0858"))
        #expect(spec.run == "4c0858" && spec.clientID == "lasuite-docs" && spec.username == "ci")
        #expect(RealmSpec.isValidEmail(spec.email) && RealmSpec.isValidUsername(spec.username) && RealmSpec.isValidIdentifier(spec.clientID))
        #expect(!RealmSpec.isValidUsername("CI") && !RealmSpec.isValidUsername("-x") && !RealmSpec.isValidIdentifier("a b"))
        #expect(!RealmSpec.isValidEmail("nope") && !RealmSpec.isValidEmail("a@b") && !RealmSpec.isValidEmail("a b@c.d"))
    }
}
