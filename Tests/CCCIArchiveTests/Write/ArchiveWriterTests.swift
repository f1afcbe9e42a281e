@testable import CCCIArchive
import CCCICore
import Glibc
import Testing

/// A tree with every kind of node and metadata the profile covers.
func makeRichTree(_ f: Fixture, _ root: String) throws {
    try f.dir(root)
    try f.dir("\(root)/etc", mode: 0o750)
    try f.file("\(root)/etc/conf", "key=value\n", mode: 0o640)
    try f.xattr("\(root)/etc/conf", "user.note", Array("hello".utf8))
    try f.xattr("\(root)/etc/conf", "user.binary", [0, 1, 2, 0x0A, 0xFF])
    try f.file("\(root)/setuid", "#!/bin/true\n", mode: 0o4755)
    try f.chmod("\(root)/setuid", 0o4755)
    try f.file("\(root)/setgid", "x", mode: 0o2711)
    try f.chmod("\(root)/setgid", 0o2711)
    try f.dir("\(root)/tmp", mode: 0o1777)
    try f.chmod("\(root)/tmp", 0o1777)
    try f.file("\(root)/empty", "")
    try f.hardLink("\(root)/etc/conf", "\(root)/conf-link")
    try f.symlink("etc/conf", "\(root)/relative-link")
    try f.symlink("/nonexistent/absolute/target", "\(root)/absolute-link")
    try Path.makeFIFO(f.path("\(root)/fifo"), mode: 0o620)
    let long = String(repeating: "n", count: 120)
    try f.dir("\(root)/\(long)")
    try f.file("\(root)/\(long)/\(long)", "deep\n")
    try f.symlink(String(repeating: "t", count: 300), "\(root)/long-target")
    try f.sparse("\(root)/sparse", size: 64 << 20, data: [(4096 * 100, Array("middle".utf8)), (40 << 20, [1, 2, 3])])
    try f.sparse("\(root)/ends-in-hole", size: 8 << 20, data: [(0, Array("start".utf8))])
    try f.sparse("\(root)/all-hole", size: 1 << 20, data: [])
    try f.file("\(root)/owned", "o")
    try f.chown("\(root)/owned", 3_000_000, 12345)
    try f.file("\(root)/utf8-é", "é")
    try f.mtime("\(root)/etc/conf", 1_234_567_890, 123_456_789)
    try f.mtime("\(root)/empty", -86_400 * 365, 250_000_000)
    try f.mtime("\(root)/etc", 1_000_000_000, 1)
    try f.mtime(root, 1_500_000_000, 999_999_999)
}

/// The members of an archive as the reader sees them.
func members(_ f: Fixture, _ archive: String) throws -> [Entry] {
    let fd = try FileDescriptor.open(f.path(archive), O_RDONLY)
    defer { fd.closeQuietly() }
    var reader = ArchiveReader(try ArchiveInput(fd))
    var out: [Entry] = []
    while let e = try reader.next() { out.append(e) }
    return out
}

@Suite struct ArchiveWriterTests {
    @Test func sameTreeGivesTheSameBytes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let a = try f.write("src", to: "a.tar")
        let b = try f.write("src", to: "b.tar")
        #expect(try f.read("a.tar") == f.read("b.tar"))
        #expect(a == b)
        #expect(a.bytes % 10240 == 0)
    }

    /// Extracting our archive and archiving the result again gives the identical archive: every
    /// byte of the profile is a function of the tree alone.
    @Test func extractedCopyArchivesToTheSameBytes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let first = try f.write("src", to: "a.tar")
        try f.extract("a.tar", into: "copy")
        let second = try f.write("copy", to: "b.tar")
        #expect(first.sha256 == second.sha256)
        #expect(try f.read("a.tar") == f.read("b.tar"))
    }

    /// The hasher thread gets each buffer with marks for file data and entry ends: files that
    /// span buffers, end exactly at a buffer's end, or hold nothing must hash as a reader and the
    /// tree walk see them.
    @Test func hashesAndTreeDigestHoldAcrossBufferBoundaries() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        try f.dir("src/many")
        var seed: UInt64 = 42
        func bytes(_ n: Int) -> [UInt8] {
            (0..<n).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: seed >> 33)
            }
        }
        try f.file("src/big", bytes(3 * ArchiveOutput.capacity + 7))
        try f.file("src/buffer-sized", bytes(ArchiveOutput.capacity))
        try f.file("src/empty", [])
        for i in 0..<400 { try f.file("src/many/\(i)", bytes((i * 997) % 9000)) }
        try f.sparse("src/sparse", size: 4 << 20, data: [(1 << 20, bytes(5000))])
        try f.hardLink("src/many/7", "src/link")
        let s = try f.write("src", to: "a.tar")
        var whole = SHA256()
        let archive = try f.read("a.tar")
        archive.withUnsafeBytes { whole.update($0) }
        #expect(s.sha256 == whole.finalize())
        #expect(s.bytes == Int64(archive.count))
        #expect(s.treeDigest == (try f.digest("src")))
        let read = try f.verify("a.tar", expected: s.sha256)
        #expect(read.treeDigest == s.treeDigest && read.entries == s.entries)
    }

    @Test func summaryMatchesSha256sumOfTheFile() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let s = try f.write("src", to: "a.tar")
        var p = Subprocess(["sha256sum", f.path("a.tar")])
        p.timeout = 30
        let r = try p.run()
        #expect(r.stdoutText.hasPrefix(s.sha256.hex))
        #expect(s.bytes == Int64(try f.read("a.tar").count))
    }

    @Test func entriesAreSortedDepthFirstAndHardLinksStoredOnce() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        try f.dir("src/b")
        try f.file("src/b/z", "1")
        try f.file("src/a.c", "2")
        try f.dir("src/a")
        try f.file("src/a/x", "shared")
        try f.hardLink("src/a/x", "src/b/y")
        try f.hardLink("src/a/x", "src/a.c2")
        let s = try f.write("src", to: "a.tar")
        let list = try members(f, "a.tar")
        #expect(list.map(\.pathText) == [".", "a", "a/x", "a.c", "a.c2", "b", "b/y", "b/z"])
        #expect(list.filter { $0.type == .hardLink }.map(\.pathText) == ["a.c2", "b/y"])
        #expect(list.first { $0.pathText == "b/y" }?.linkTarget == Array("a/x".utf8))
        #expect(s.entries == 8)
    }

    @Test func longNamesTargetsLargeOwnersAndNanosecondsUsePax() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        try f.write("src", to: "a.tar")
        let list = try members(f, "a.tar")
        let long = String(repeating: "n", count: 120)
        #expect(list.contains { $0.pathText == "\(long)/\(long)" && $0.type == .file })
        #expect(list.first { $0.pathText == "long-target" }?.linkTarget.count == 300)
        let owned = try #require(list.first { $0.pathText == "owned" })
        #expect(owned.uid == 3_000_000 && owned.gid == 12345)
        let conf = try #require(list.first { $0.pathText == "etc/conf" })
        #expect(conf.modified.seconds == 1_234_567_890 && conf.modified.nanoseconds == 123_456_789)
        #expect(conf.mode == 0o640)
        // The walk meets "conf-link" first, so it carries the inode's data and xattrs.
        #expect(conf.type == .hardLink && conf.linkTarget == Array("conf-link".utf8))
        let first = try #require(list.first { $0.pathText == "conf-link" })
        #expect(first.xattrs.map { String(decoding: $0.name, as: UTF8.self) } == ["user.binary", "user.note"])
        #expect(first.xattrs.first?.value == [0, 1, 2, 0x0A, 0xFF])
        let empty = try #require(list.first { $0.pathText == "empty" })
        #expect(empty.modified.seconds == -86_400 * 365 && empty.modified.nanoseconds == 250_000_000)
        #expect(list.first { $0.pathText == "setuid" }?.mode == 0o4755)
        #expect(list.first { $0.pathText == "tmp" }?.mode == 0o1777)
        #expect(list.first { $0.pathText == "fifo" }?.type == .fifo)
    }

    @Test func sparseFilesAreStoredAsRegions() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let s = try f.write("src", to: "a.tar")
        #expect(s.bytes < 1 << 20)  // 73 MiB of logical sparse content, stored in well under 1 MiB
        let list = try members(f, "a.tar")
        let sparse = try #require(list.first { $0.pathText == "sparse" })
        #expect(sparse.size == 64 << 20)
        let regions = try #require(sparse.regions)
        #expect(regions.count == 2)
        #expect(regions.allSatisfy { $0.length % 4096 == 0 })
        let allHole = try #require(list.first { $0.pathText == "all-hole" })
        #expect(allHole.regions == [])
        #expect(allHole.size == 1 << 20)
    }

    @Test func socketsAreSkippedAndListed() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        try f.file("src/a", "a")
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(sock) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let p = f.path("src/sock")
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, c) in p.utf8.enumerated() { raw[i] = c } }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        let s = try f.write("src", to: "a.tar")
        #expect(s.skipped == ["sock"])
        #expect(try members(f, "a.tar").map(\.pathText) == [".", "a"])
    }

    @Test func deviceNodesNeedRoot() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        guard Kernel.effectiveUserID == 0 else { return }
        try Path.makeNode(f.path("src/null"), mode: S_IFCHR | 0o666, device: Kernel.device(major: 1, minor: 3))
        let tree = try f.open("src")
        defer { tree.closeQuietly() }
        let out = try FileDescriptor.open(f.path("a.tar"), O_WRONLY | O_CREAT | O_TRUNC)
        defer { out.closeQuietly() }
        var options = ArchiveWriter.Options()
        options.durable = false
        options.allowDeviceNodes = false
        #expect { try ArchiveWriter.write(tree: tree, to: out, options: options) } throws: { ($0 as? ArchiveError)?.kind == .permission }
        let s = try f.write("src", to: "b.tar")
        let null = try #require(try members(f, "b.tar").first { $0.pathText == "null" })
        #expect(null.type == .characterDevice && null.deviceMajor == 1 && null.deviceMinor == 3)
        #expect(s.entries == 2)
    }

    @Test func memberNamesAndSparseNames() {
        #expect(ArchiveWriter.memberName([], directory: true) == Array("./".utf8))
        #expect(ArchiveWriter.memberName(Array("a/b".utf8), directory: true) == Array("./a/b/".utf8))
        #expect(ArchiveWriter.sparseName(Array("a/b/c".utf8)) == Array("./a/b/GNUSparseFile.0/c".utf8))
        #expect(ArchiveWriter.sparseName(Array("c".utf8)) == Array("./GNUSparseFile.0/c".utf8))
        let map = ArchiveWriter.sparseMapText([Region(offset: 0, length: 5)], size: 10)
        #expect(map.count == 512)
        #expect(Array(map.prefix(10)) == Array("2\n0\n5\n10\n0".utf8))
    }
}
