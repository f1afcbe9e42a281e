import Testing
@testable import CCCICore

@Suite struct Timestamps {
    @Test func formatsAndParses() throws {
        let t = Timestamp(seconds: 1_795_426_020, nanoseconds: 123_000_000)
        #expect(t.rfc3339 == "2026-11-23T09:27:00.123Z")
        let back = try #require(Timestamp(rfc3339: t.rfc3339))
        #expect(back.seconds == t.seconds && back.nanoseconds == t.nanoseconds)
        #expect(Timestamp(rfc3339: "2026-11-23T10:27:00+01:00")?.seconds == 1_795_426_020)
        #expect(Timestamp(rfc3339: "2026-11-23T09:27:00Z")?.seconds == 1_795_426_020)
    }

    @Test(arguments: ["", "2026-13-01T00:00:00Z", "2026-11-23", "2026-11-23T09:27:00", "2026-11-23T09:27:00.Z", "x026-11-23T09:27:00Z"])
    func rejects(_ s: String) { #expect(Timestamp(rfc3339: s) == nil) }

    @Test func nowIsRecent() {
        #expect(Timestamp.now().seconds > 1_700_000_000)
    }
}
