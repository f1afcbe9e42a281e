import Testing
@testable import CCCICore

@Suite struct RealmArguments {
    static func parse(_ argv: [String], _ options: [Option]) throws -> Arguments {
        try Arguments.parse(argv, options: options, operands: [], acceptsTrailingCommand: false)
    }

    @Test func reapNeedsAWordOnLiveRuns() throws {
        let options = ReapRules.options
        #expect { try ReapRules.from(try Self.parse([], options)) } throws: { ($0 as? Failure)?.exit == .usage }
        let none = try ReapRules.from(try Self.parse(["--live", ""], options))
        #expect(none.rules.live.isEmpty && none.stacks == nil && none.rules.graceSeconds == 3600)
        let some = try ReapRules.from(try Self.parse(["--live", "aaa111,lasu-bbb222.ci.example", "--live", "keyc-ccc333_ci_example", "--grace", "5"], options))
        #expect(some.rules.live == ["aaa111", "bbb222", "ccc333"] && some.rules.graceSeconds == 300)
        #expect { try ReapRules.from(try Self.parse(["--live", "AAA111"], options)) } throws: { ($0 as? Failure)?.exit == .usage }
        #expect { try ReapRules.from(try Self.parse(["--live", "aaa111", "--grace", "-1"], options)) } throws: { ($0 as? Failure)?.exit == .usage }
    }

    @Test func createValidatesWhatTravelsInURLsAndJSON() throws {
        let name = try RealmName("docs-aaa111")
        let spec = try RealmSpec(try Self.parse(["--redirect-uri", "https://x.example/*"], RealmSpec.options), name: name)
        #expect(spec.run == "aaa111" && spec.clientID == "docs" && spec.username == "ci" && spec.firstName == "ci-warm" && spec.lastName == "docs-aaa111")
        #expect(spec.redirectURIs == ["https://x.example/*"] && spec.clientSecret == nil && spec.password == nil)
        for bad in [["--username", "CI"], ["--client-id", "a/b"], ["--run", "a b"], ["--email", "nope"], ["--redirect-uri", "a b"],
                    ["--first-name", ""], ["--client-secret-file", "/nonexistent/x"]] {
            #expect(throws: Failure.self) { try RealmSpec(try Self.parse(bad, RealmSpec.options), name: name) }
        }
    }

    @Test func adminPasswordFromExactlyOneSource() throws {
        let options = KeycloakServer.options + KeycloakAdmin.options
        #expect { try KeycloakAdmin(try Self.parse(["--url", "http://kc.example"], options)) } throws: { ($0 as? Failure)?.exit == .usage }
        #expect { try KeycloakAdmin(try Self.parse(["--url", "http://kc.example", "--admin-password-file", "f", "--admin-password-command", "c"], options)) }
            throws: { ($0 as? Failure)?.exit == .usage }
        let admin = try KeycloakAdmin(try Self.parse(["--url", "http://kc.example/auth/", "--admin-password-command", "echo pw"], options))
        #expect(admin.server.base == "http://kc.example/auth" && admin.password == "pw" && admin.user == "admin" && admin.tokenRequests == 0)
    }

    @Test func parentsAreValidated() throws {
        #expect(try RealmName.parents(try Self.parse(["--parent", "docs", "--parent", "hedgedoc"], [RealmName.parentOption])) == ["docs", "hedgedoc"])
        #expect { try RealmName.parents(try Self.parse(["--parent", "Docs"], [RealmName.parentOption])) } throws: { ($0 as? Failure)?.exit == .usage }
    }
}
