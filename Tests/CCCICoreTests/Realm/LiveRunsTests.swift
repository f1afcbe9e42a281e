import Testing
@testable import CCCICore

@Suite struct LiveRunsFromStacks {
    @Test func coldStacksGiveTheirHex() {
        #expect(LiveRuns.hex(ofStack: "lasu-4c0858_ci_commoninternet_net") == "4c0858")
        #expect(LiveRuns.hex(ofStack: "c-abcdef_test_local") == "abcdef")
        #expect(LiveRuns.hex(ofStack: "ab-c-0a1b2c_test_local") == "0a1b2c")
        #expect(LiveRuns.hex(ofStack: "lasu-4c0858") == "4c0858")  // cut to the stack-name limit, or no base
    }

    @Test(arguments: [
        "warm-keycloak_ci_example", "traefik_ci_example", "lasu-4C0858_ci_example", "lasu-4c085_ci_example",
        "lasu_4c0858_example", "-4c0858_x", "lasu-4c0858x_ci", "", "_", "x_lasu-4c0858",
    ])
    func otherStacksGiveNone(_ stack: String) { #expect(LiveRuns.hex(ofStack: stack) == nil) }

    @Test func aWarmAppNamedLikeARunCountsAsLive() {
        // Generous on purpose: keeping a realm one sweep too long is the safe mistake.
        #expect(LiveRuns.hex(ofStack: "warm-dec0de_ci_example") == "dec0de")
    }

    @Test func hexesAreSortedAndUnique() {
        let stacks = ["lasu-bbb222_t_l", "keyc-aaa111_t_l", "warm-keycloak_t_l", "cust-bbb222_t_l"]
        #expect(LiveRuns.hexes(ofStacks: stacks) == ["aaa111", "bbb222"])
    }

    @Test func readsDockerStackLs() throws {
        let out = Array("""
            {"Name":"lasu-4c0858_test_local","Namespace":"","Orchestrator":"Swarm","Services":"3"}
            {"Name":"warm-keycloak_test_local","Namespace":"","Orchestrator":"Swarm","Services":"1"}

            """.utf8)
        #expect(try LiveRuns.stackNames(fromDockerLines: out) == ["lasu-4c0858_test_local", "warm-keycloak_test_local"])
        #expect(try LiveRuns.stackNames(fromDockerLines: []) == [])
    }

    @Test(arguments: ["lasu-4c0858_test_local\n", "{\"Services\":\"1\"}\n", "{\"Name\":\"\"}\n", "{\"Name\":\"a\"}\n{oops\n"])
    func refusesAnythingElse(_ text: String) {
        #expect { try LiveRuns.stackNames(fromDockerLines: Array(text.utf8)) } throws: { ($0 as? Failure)?.exit == .unavailable }
    }
}
