import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct Registries {
    func record(_ app: String) throws -> CanonicalRecord {
        CanonicalRecord(app: try Name(app), recipe: app, domain: "warm-\(app).ci.example", version: "1.0.0+1", commit: nil, status: "idle",
                        run: "r1", manifestDigest: String(repeating: "a", count: 64), promotedAt: "t", updatedAt: "t")
    }

    @Test func recordsRoundTripAndList() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let reg = Registry(StateRoot(path: d.path))
        try reg.write(try record("custom-html"))
        try reg.setLastGood(try Name("keycloak"), "10.7.9+26.6.2")
        #expect(try reg.record(try Name("custom-html")) == (try record("custom-html")))
        #expect(try reg.apps().map(\.value) == ["custom-html"])
        #expect(try reg.lastGood(try Name("keycloak")) == "10.7.9+26.6.2")
        #expect(try reg.record(try Name("nope")) == nil)
    }

    @Test func refusesAMalformedRecord() throws {
        #expect(throws: Failure.self) { try CanonicalRecord(parsing: Array(#"{"app":"x","status":"weird"}"#.utf8)) }
    }

    @Test func enrolmentListRefusesBadNamesAndDeduplicates() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("ok", "a\n# c\na\n\nb\n")
        #expect(try Registry.enrolled(file: d.file("ok")).map(\.value) == ["a", "b"])
        try d.write("bad", "a\n/etc\n")
        #expect { try Registry.enrolled(file: d.file("bad")) } throws: { ($0 as? Failure)?.exit == .badData }
        try d.write("crlf", "a\r\n# c\r\nb\r\n")
        #expect(try Registry.enrolled(file: d.file("crlf")).map(\.value) == ["a", "b"])
    }

    @Test func historyKeys() {
        for key in ["reason", "attempted", "last_good", "a1"] { #expect(Registry.isValidHistoryKey(key)) }
        for key in ["at", "event", "app", "", "a b", "A", "1a", "a.b", "a-b", String(repeating: "a", count: 65)] {
            #expect(!Registry.isValidHistoryKey(key))
        }
    }

    @Test func historyRefusesACorruptMiddleLineAndSkipsATornLastOne() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let reg = Registry(StateRoot(path: d.path))
        let app = try Name("a")
        try reg.appendHistory(app, event: "held", fields: JSONObject())
        try d.write("a/history.jsonl", (try String(decoding: AtomicFile.read(d.file("a/history.jsonl")), as: UTF8.self)) + "{\"torn\":")
        var torn: [Int] = []
        #expect(try reg.history(app) { torn.append($0) }.count == 1)
        #expect(torn == [2])
        try reg.appendHistory(app, event: "held", fields: JSONObject())
        #expect(try reg.history(app).count == 2)
        try d.write("a/history.jsonl", "{}\nnot json\n{}\n")
        #expect { try reg.history(app) } throws: { ($0 as? Failure)?.code == "corrupt-history" }
        #expect(throws: Failure.self) { try reg.appendHistory(app, event: "held", fields: JSONObject([("app", "other")])) }
    }
}
