import Testing
@testable import CCCICore

@Suite struct EnvFiles {
    @Test func appendingNeverGluesOntoALastLineWithoutNewline() {
        var env = EnvFile(text: "TYPE=custom-html:1.0.0+1.27.0\n# a comment without newline")
        env.set("DOMAIN", "warm-custom-html.ci.example")
        #expect(env.text == "TYPE=custom-html:1.0.0+1.27.0\n# a comment without newline\nDOMAIN=warm-custom-html.ci.example\n")
    }

    @Test func replacingKeepsEveryOtherByteAndTheOriginalEnding() {
        var env = EnvFile(text: "A=1\nTIMEOUT=300\nB=2")
        env.set("TIMEOUT", "60")
        #expect(env.text == "A=1\nTIMEOUT=60\nB=2")
    }

    @Test func crlfLinesAreLinesAndEveryByteIsKept() {
        var env = EnvFile(text: "DOMAIN=old.example\r\nTYPE=keycloak:10.7.1+26.6.2\r\n")
        #expect(env.recipeAndVersion?.version == "10.7.1+26.6.2")
        #expect(env.value("DOMAIN") == "old.example")
        env.set("TIMEOUT", "60")
        #expect(env.text == "DOMAIN=old.example\r\nTYPE=keycloak:10.7.1+26.6.2\r\nTIMEOUT=60\n")
        env.set("DOMAIN", "new.example")
        #expect(env.text == "DOMAIN=new.example\nTYPE=keycloak:10.7.1+26.6.2\r\nTIMEOUT=60\n")
    }

    @Test func readsTheVersionPinAndQuotedValues() {
        let env = EnvFile(text: "#TYPE=old\nTYPE=keycloak:10.7.1+26.6.2\nDOMAIN=\"warm-keycloak.ci.example\" # the domain\n")
        #expect(env.recipeAndVersion?.recipe == "keycloak")
        #expect(env.recipeAndVersion?.version == "10.7.1+26.6.2")
        #expect(env.value("DOMAIN") == "warm-keycloak.ci.example")
        #expect(EnvFile(text: "RECIPE=custom-html\n").recipeAndVersion?.version == nil)
        #expect(EnvFile(text: "").text == "")
    }
}

@Suite struct Identities {
    @Test func warmColdAndStackNames() throws {
        let app = try Name("keycloak")
        let warm = try AppIdentity.warm(app: app, baseDomain: "ci.commoninternet.net")
        #expect(warm.domain == "warm-keycloak.ci.commoninternet.net")
        #expect(warm.stack == "warm-keycloak_ci_commoninternet_net")
        let cold = try AppIdentity.cold(app: try Name("lasuite-docs"), hex: "0a1b2c", baseDomain: "ci.example")
        #expect(cold.domain == "lasu-0a1b2c.ci.example")
        let long = try AppIdentity(app: app, recipe: app, domain: "a-very-long-subdomain-for-testing.ci.commoninternet.net")
        #expect(long.stack.count == 45)
    }

    @Test(arguments: ["UPPER.example", "no_underscore.example", "-lead.example", "single", "a..b.example", "sp ace.example"])
    func invalidDomains(_ d: String) { #expect(!AppIdentity.isValidDomain(d)) }

    @Test func coldNeedsSixLowercaseHex() {
        #expect(throws: Failure.self) { try AppIdentity.cold(app: try Name("x"), hex: "ABCDEF", baseDomain: "ci.example") }
        #expect(throws: Failure.self) { try AppIdentity.cold(app: try Name("x"), hex: "0a1b2", baseDomain: "ci.example") }
    }
}

@Suite struct AbraOutput {
    @Test func fatalLinesLoseColourAndCarriageReturns() {
        #expect(Abra.clean("\u{1B}[31mFATA\u{1B}[0m deploy timed out 🛑\r") == "FATA deploy timed out 🛑")
    }
}
