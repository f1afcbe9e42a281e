import Testing
@testable import CCCICore

@Suite struct Names {
    @Test(arguments: ["keycloak", "warm-custom-html", "a", "a.b_c-d", "0app", String(repeating: "a", count: 63)])
    func valid(_ s: String) { #expect(Name.isValid(s)) }

    @Test(arguments: ["", "..", "a..b", "-a", ".a", "_a", "A", "a/b", "a b", "/etc", "a\u{0}", String(repeating: "a", count: 64), "é"])
    func invalid(_ s: String) {
        #expect(!Name.isValid(s))
        #expect { try Name(s) } throws: { ($0 as? Failure)?.exit == .usage }
    }
}
