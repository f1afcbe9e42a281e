@testable import CCCIArchive
import CCCICore
import Glibc
import Testing

@Suite struct ExtractorTests {
    @Test func extractionReproducesTheTree() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let written = try f.write("src", to: "a.tar")
        let extracted = try f.extract("a.tar", into: "out", expected: written.sha256)
        #expect(extracted.sha256 == written.sha256)
        #expect(extracted.treeDigest == written.treeDigest)
        #expect(extracted.entries == written.entries)
        #expect(try f.digest("out") == written.treeDigest)
        #expect(try f.digest("src") == written.treeDigest)

        let conf = try Path.status(f.path("out/etc/conf"))
        #expect(conf.st_mode & 0o7777 == 0o640)
        #expect(conf.st_mtim.tv_sec == 1_234_567_890 && conf.st_mtim.tv_nsec == 123_456_789)
        #expect(conf.st_nlink == 2)
        #expect(try Path.status(f.path("out/conf-link")).st_ino == conf.st_ino)
        #expect(try Path.status(f.path("out/setuid")).st_mode & 0o7777 == 0o4755)
        #expect(try Path.status(f.path("out/tmp")).st_mode & 0o7777 == 0o1777)
        #expect(try Path.status(f.path("out/etc")).st_mtim.tv_sec == 1_000_000_000)
        #expect(try Path.status(f.path("out")).st_mtim.tv_nsec == 999_999_999)
        #expect(try Path.readLink(f.path("out/absolute-link")) == "/nonexistent/absolute/target")
        let owned = try Path.status(f.path("out/owned"))
        #expect(owned.st_uid == 3_000_000 && owned.st_gid == 12345)
        // Holes survive: the 64 MiB sparse file occupies a few blocks.
        let sparse = try Path.status(f.path("out/sparse"))
        #expect(sparse.st_size == 64 << 20 && sparse.st_blocks * 512 < 1 << 20)
        #expect(try Path.status(f.path("out/all-hole")).st_blocks == 0)
        let fd = try FileDescriptor.open(f.path("out/etc/conf"), O_RDONLY)
        defer { fd.closeQuietly() }
        #expect(try ExtendedAttributes.value(Array("user.binary".utf8), of: fd) == [0, 1, 2, 0x0A, 0xFF])
    }

    /// The durable paths: writeback started on the writer's drain thread and on the extractor's
    /// flusher thread, fsync and syncfs at the end; the result is the same tree.
    @Test func durableWriteAndExtraction() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        try f.file("src/big", [UInt8](repeating: 0x5A, count: 20 << 20))
        let tree = try f.open("src")
        defer { tree.closeQuietly() }
        let out = try FileDescriptor.open(f.path("a.tar"), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        let written = try ArchiveWriter.write(tree: tree, to: out)
        out.closeQuietly()
        var options = Extractor.Options()
        options.durable = true
        let extracted = try f.extract("a.tar", into: "out", expected: written.sha256, options: options)
        #expect(extracted.treeDigest == written.treeDigest)
        #expect(try f.digest("out") == written.treeDigest)
    }

    @Test func capabilitiesSurviveTheChown() throws {
        guard Kernel.effectiveUserID == 0 else { return }
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        try f.file("src/ping", "binary", mode: 0o755)
        try f.chown("src/ping", 1000, 1000)
        // cap_net_raw+ep, VFS_CAP_REVISION_2.
        let capability: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        try f.xattr("src/ping", "security.capability", capability)
        let s = try f.write("src", to: "a.tar")
        try f.extract("a.tar", into: "out")
        let fd = try FileDescriptor.open(f.path("out/ping"), O_RDONLY)
        defer { fd.closeQuietly() }
        #expect(try ExtendedAttributes.value(Array("security.capability".utf8), of: fd) == capability)
        #expect(try fd.status().st_uid == 1000)
        #expect(try f.digest("out") == s.treeDigest)
    }

    @Test func deviceNodesAreRefusedWithoutPermission() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.header("null", type: UInt8(ascii: "3")) + Member.end, as: "a.tar")
        var options = Extractor.Options()
        options.durable = false
        options.allowDeviceNodes = false
        #expect { try f.extract("a.tar", into: "out", options: options) } throws: { kind($0) == .permission }
        #expect(try f.listing("out").isEmpty)
        #expect(Failure(ArchiveError(.permission, "x")).exit == .permission)
    }

    @Test func theStagingDirectoryMustBeEmpty() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.file("a", "x") + Member.end, as: "a.tar")
        try f.dir("out")
        try f.file("out/old", "old")
        let input = try FileDescriptor.open(f.path("a.tar"), O_RDONLY)
        defer { input.closeQuietly() }
        let staging = try f.open("out")
        defer { staging.closeQuietly() }
        #expect(throws: ArchiveError.self) { try Extractor.extract(from: input, into: staging, expectedSHA256: nil) }
    }

    /// Each hostile archive is refused, and nothing appears or changes outside the staging
    /// directory (a sibling "outside" directory with a victim file, and the parent).
    static let hostile: [(String, [UInt8], ArchiveError.Kind)] = [
        ("absolute path", Member.file("/tmp/ccci-pwned", "x"), .hostile),
        ("dot-dot", Member.file("../outside/victim", "x"), .hostile),
        ("dot-dot inside", Member.file("a/../../outside/victim", "x"), .hostile),
        ("pax path dot-dot", Member.pax([("path", "../outside/victim")]) + Member.file("innocent", "x"), .hostile),
        ("through a symlink made earlier", Member.header("link", type: 0x32, link: "../outside") + Member.file("link/victim", "x"), .hostile),
        ("through an absolute symlink", Member.header("link", type: 0x32, link: "/") + Member.file("link/tmp/ccci-pwned", "x"), .hostile),
        ("symlink then replace with file", Member.header("s", type: 0x32, link: "../outside/victim") + Member.file("s", "x"), .hostile),
        ("hard link outside", Member.header("h", type: 0x31, link: "../outside/victim"), .hostile),
        ("hard link absolute", Member.header("h", type: 0x31, link: "/etc/passwd"), .hostile),
        ("hard link to missing", Member.header("h", type: 0x31, link: "nothing"), .hostile),
        ("hard link through symlink", Member.header("l", type: 0x32, link: "../outside") + Member.header("h", type: 0x31, link: "l/victim"), .hostile),
        ("hard link to directory", Member.header("d/", type: 0x35) + Member.header("h", type: 0x31, link: "d"), .hostile),
        ("directory replaced by symlink", Member.header("d/", type: 0x35) + Member.header("d", type: 0x32, link: "../outside"), .hostile),
        ("directory replaced by file", Member.header("d/", type: 0x35) + Member.file("d", "x"), .hostile),
        ("implicit directory replaced by symlink", Member.file("d/f", "x") + Member.header("d", type: 0x32, link: "../outside"), .hostile),
        ("duplicate file", Member.file("f", "x") + Member.file("f", "y"), .hostile),
        ("file then directory", Member.file("f", "x") + Member.header("f/", type: 0x35), .hostile),
        ("root as a file", Member.pax([("path", ".")]) + Member.file("x", "y"), .hostile),
        ("NUL in pax path", Member.pax([("path", "a\u{0}b")]) + Member.file("innocent", "x"), .hostile),
        ("truncated", Array(Member.file("f", String(repeating: "x", count: 2000)).prefix(1200)), .corrupt),
        ("bad checksum", Member.header("f", size: 1, corruptChecksum: true) + Member.padded([0x61]), .corrupt),
        ("absurd size", Member.pax([("size", "2000000000000000000")]) + Member.header("f"), .corrupt),
        ("unsupported type", Member.header("f", type: UInt8(ascii: "D")), .unsupported),
    ]

    @Test(arguments: hostile.indices) func hostileArchivesAreRefusedWithNothingWrittenOutside(index: Int) throws {
        let (name, members, expected) = Self.hostile[index]
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("outside")
        try f.file("outside/victim", "precious")
        try f.save(members + Member.end, as: "evil.tar")
        let before = try f.listing("")
        let victim = try Path.status(f.path("outside/victim"))
        #expect(throws: ArchiveError.self, "\(name)") { try f.extract("evil.tar", into: "staging") }
        do { try f.extract("evil.tar", into: "staging2") } catch {
            #expect(kind(error) == expected, "\(name): \(error)")
            if expected == .hostile || expected == .corrupt || expected == .unsupported {
                #expect(Failure(error as! ArchiveError).exit == .badData)
            }
        }
        let after = try f.listing("").filter { !$0.hasPrefix("staging") }
        #expect(after == before.filter { !$0.hasPrefix("staging") } , "\(name)")
        #expect(try f.read("outside/victim") == Array("precious".utf8), "\(name)")
        let now = try Path.status(f.path("outside/victim"))
        #expect(now.st_mtim.tv_sec == victim.st_mtim.tv_sec && now.st_mtim.tv_nsec == victim.st_mtim.tv_nsec && now.st_nlink == 1, "\(name)")
        #expect(try Path.statusIfExists("/tmp/ccci-pwned") == nil)
    }

    @Test func aDirectoryMayAppearTwiceAndTheLaterMetadataWins() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.root + Member.header("d/", type: 0x35, mode: 0o700) + Member.file("d/f", "x") + Member.header("d/", type: 0x35, mode: 0o751) + Member.end, as: "a.tar")
        let s = try f.extract("a.tar", into: "out")
        #expect(try Path.status(f.path("out/d")).st_mode & 0o7777 == 0o751)
        #expect(s.entries == 4)
        #expect(try f.digest("out") == s.treeDigest)
    }

    /// An archive that leaves out the root or a directory its members need cannot say what that
    /// directory is: verify and extract both refuse it (they used to disagree on its digest).
    @Test func unnamedDirectoriesAreRefusedByVerifyAndExtractAlike() throws {
        let f = try Fixture()
        defer { f.remove() }
        for (i, members) in [Member.file("a/b/c", "x"), Member.root + Member.file("a/b/c", "x"),
                             Member.root + Member.header("a/", type: 0x35) + Member.file("a/b/c", "x")].enumerated() {
            try f.save(members + Member.end, as: "a\(i).tar")
            #expect { try f.verify("a\(i).tar") } throws: { kind($0) == .corrupt }
            #expect { try f.extract("a\(i).tar", into: "out\(i)") } throws: { kind($0) == .corrupt }
        }
        try f.save(Member.root + Member.header("a/", type: 0x35) + Member.header("a/b/", type: 0x35) + Member.file("a/b/c", "x") + Member.end, as: "ok.tar")
        let s = try f.extract("ok.tar", into: "ok")
        #expect(try f.digest("ok") == s.treeDigest)
        #expect(try f.verify("ok.tar").treeDigest == s.treeDigest)
    }

    /// One judgement: every hostile fixture gets the same verdict from verify as from extract.
    @Test(arguments: hostile.indices) func verifyAgreesWithExtract(index: Int) throws {
        let (name, members, _) = Self.hostile[index]
        let f = try Fixture()
        defer { f.remove() }
        try f.save(members + Member.end, as: "evil.tar")
        var verdicts: [String] = []
        do { _ = try f.verify("evil.tar"); verdicts.append("ok") } catch { verdicts.append(String(describing: kind(error))) }
        do { _ = try f.extract("evil.tar", into: "staging"); verdicts.append("ok") } catch { verdicts.append(String(describing: kind(error))) }
        #expect(verdicts[0] == verdicts[1], "\(name): verify \(verdicts[0]), extract \(verdicts[1])")
    }

    @Test func aMismatchedDigestFailsTheExtraction() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.root + Member.file("a", "x") + Member.end, as: "a.tar")
        #expect { try f.extract("a.tar", into: "out", expected: SHA256.hash("nope")) } throws: { kind($0) == .digestMismatch }
    }
}
