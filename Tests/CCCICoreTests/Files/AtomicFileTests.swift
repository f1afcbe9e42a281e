import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct AtomicFiles {
    @Test func writeReplacesWholeAndSetsMode() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try d.open()
        defer { dir.closeQuietly() }
        try AtomicFile.write("one", to: "f", in: dir, mode: 0o600)
        try AtomicFile.write("two", to: "f", in: dir, mode: 0o640)
        #expect(try d.read("f") == "two")
        #expect(try Path.status(d.file("f")).st_mode & 0o777 == 0o640)
        #expect(try Path.list(dir) == ["f"])  // no temporary left behind
    }

    @Test func appendRepairsMissingNewline() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("log", "{\"a\":1}\n{\"torn\"")
        let dir = try d.open()
        defer { dir.closeQuietly() }
        try AtomicFile.appendLine("{\"b\":2}", to: "log", in: dir)
        try AtomicFile.appendLine("{\"c\":3}", to: "new", in: dir)
        #expect(try d.read("log") == "{\"a\":1}\n{\"torn\"\n{\"b\":2}\n")
        #expect(try d.read("new") == "{\"c\":3}\n")
    }

    @Test func refusesToWriteThroughSymlinkTemp() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("target", "keep")
        let dir = try d.open()
        defer { dir.closeQuietly() }
        // A symlink at the final name is replaced (rename), never written through.
        try Path.symlink(d.file("target"), at: "f", in: dir)
        try AtomicFile.write("new", to: "f", in: dir)
        #expect(try d.read("target") == "keep")
        #expect(try d.read("f") == "new")
    }

    @Test func readLimitAndMissing() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("big", String(repeating: "x", count: 100))
        #expect(throws: SystemError.self) { try AtomicFile.read(d.file("big"), limit: 10) }
        #expect(try AtomicFile.readIfExists(d.file("none")) == nil)
        #expect(AtomicFile.isTemporary(".f.tmp-12-abcdef"))
        #expect(!AtomicFile.isTemporary("f"))
    }
}
