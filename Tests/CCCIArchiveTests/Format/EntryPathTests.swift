@testable import CCCIArchive
import Testing

@Suite struct EntryPathTests {
    @Test(arguments: [("./a//b/", "a/b"), ("a", "a"), ("./", ""), (".", ""), ("a/./b", "a/b"), ("...", "..."), ("a..b/..c", "a..b/..c")])
    func normalises(raw: String, expected: String) throws {
        #expect(try EntryPath.normalise(Array(raw.utf8)) == Array(expected.utf8))
    }

    @Test(arguments: ["/etc/passwd", "..", "../x", "a/../../x", "a/..", "", "//x", "a\u{0}b"])
    func refusesWhatCouldEscape(raw: String) {
        #expect {
            try EntryPath.normalise(Array(raw.utf8))
        } throws: { ($0 as? ArchiveError)?.kind == .hostile }
    }
}
