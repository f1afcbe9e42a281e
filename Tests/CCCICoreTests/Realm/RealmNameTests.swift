import Testing
@testable import CCCICore

@Suite struct RealmNames {
    @Test func composesAndParses() throws {
        let n = try RealmName(parent: "lasuite-docs", hex: "4c0858")
        #expect(n.value == "lasuite-docs-4c0858")
        let back = try #require(RealmName.parse("lasuite-docs-4c0858"))
        #expect(back == n && back.parent == "lasuite-docs" && back.hex == "4c0858")
    }

    @Test(arguments: ["a-000000", "lasuite-docs-4c0858", "x1-abcdef", String(repeating: "a", count: 48) + "-123456"])
    func ours(_ s: String) { #expect(RealmName.isOurs(s)) }

    @Test(arguments: [
        "master", "", "-abcdef", "a-ABCDEF", "a-abcdeg", "a-abcde", "a-abcdef0", "A-abcdef", "1a-abcdef", "a--abcdef",
        "a_b-abcdef", "a b-abcdef", "a/b-abcdef", "é-abcdef", "abcdef", String(repeating: "a", count: 49) + "-123456",
    ])
    func notOurs(_ s: String) {
        #expect(!RealmName.isOurs(s))
        #expect { try RealmName(s) } throws: { ($0 as? Failure)?.exit == .usage && ($0 as? Failure)?.code == "not-ours" }
    }

    @Test func validatesParts() {
        #expect { try RealmName(parent: "Docs", hex: "abcdef") } throws: { ($0 as? Failure)?.exit == .usage }
        #expect { try RealmName(parent: "docs-", hex: "abcdef") } throws: { ($0 as? Failure)?.exit == .usage }
        #expect { try RealmName(parent: "docs", hex: "ABCDEF") } throws: { ($0 as? Failure)?.exit == .usage }
        #expect { try RealmName(parent: "docs", hex: "abcde") } throws: { ($0 as? Failure)?.exit == .usage }
    }

    @Test func runHexFromHexDomainOrStack() {
        #expect(RealmName.runHex(from: "4c0858") == "4c0858")
        #expect(RealmName.runHex(from: "lasu-4c0858.ci.example") == "4c0858")
        #expect(RealmName.runHex(from: "lasu-4c0858_ci_example") == "4c0858")
        #expect(RealmName.runHex(from: "warm-keycloak.ci.example") == nil)
        #expect(RealmName.runHex(from: "4C0858") == nil)
        #expect(RealmName.runHex(from: "") == nil)
    }

    @Test(arguments: [
        "lasu-4c0858.ci.example;rm -rf /", "lasu-4c0858.ci.example\n", "lasu-4c0858.ci.example/../x", "lasu-4c0858.ci.example%2F",
        "lasu-4c0858.ci example", "lasu-4c0858", "lasu-4c0858.", "LASU-4c0858.ci.example", "lasuu-4c0858.ci.example",
        "-4c0858.ci.example", "lasu-4c0858_ci_ex;", "lasu-4c0858_", "lasu-4c0858__x", "lasu-4c0858.ci.example\u{0}",
    ])
    func runHexRefusesAnythingBesidesTheScheme(_ text: String) { #expect(RealmName.runHex(from: text) == nil) }
}
