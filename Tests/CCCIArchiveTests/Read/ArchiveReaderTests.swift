@testable import CCCIArchive
import CCCICore
import Glibc
import Testing

func kind(_ error: any Error) -> ArchiveError.Kind? { (error as? ArchiveError)?.kind }

@Suite struct ArchiveReaderTests {
    /// Cutting a valid archive anywhere before its end marker is complete is refused as corrupt,
    /// by both the verifier and the extractor.
    @Test func truncationAnywhereIsRefused() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        try f.write("src", to: "a.tar")
        let whole = try f.read("a.tar")
        // The end marker's second zero block ends at this offset; anything after is padding.
        let list = try members(f, "a.tar")
        #expect(!list.isEmpty)
        var cuts = Set(stride(from: 0, to: whole.count, by: 512))
        for c in stride(from: 7, to: whole.count, by: 997) { cuts.insert(c) }
        var refused = 0
        var accepted: [Int] = []
        for cut in cuts.sorted() {
            try f.save(Array(whole[0..<cut]), as: "cut.tar")
            do {
                _ = try f.verify("cut.tar")
                accepted.append(cut)
            } catch {
                #expect(kind(error) == .corrupt, "cut at \(cut): \(error)")
                refused += 1
            }
        }
        // Only cuts inside the final record's zero padding, after both end blocks, may pass.
        let endOfMarker = try endMarkerOffset(whole)
        #expect(accepted.allSatisfy { $0 >= endOfMarker }, "\(accepted) \(endOfMarker)")
        #expect(refused > 20)
    }

    /// Offset just past the two zero blocks that end the members.
    func endMarkerOffset(_ bytes: [UInt8]) throws -> Int {
        var last = bytes.count
        while last > 0 && bytes[last - 1] == 0 { last -= 1 }
        let block = (last + 511) / 512 * 512
        return block + 1024
    }

    @Test func aBadHeaderChecksumIsRefused() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.header("a", size: 1, corruptChecksum: true) + Member.padded([0x61]) + Member.end, as: "a.tar")
        #expect { try f.verify("a.tar") } throws: { kind($0) == .corrupt }
        try f.save(Member.root + Member.file("a", "x") + Member.end, as: "b.tar")
        #expect(try f.verify("b.tar").entries == 2)
    }

    @Test func everyHeaderByteIsCoveredByTheChecksum() throws {
        let f = try Fixture()
        defer { f.remove() }
        let good = Member.file("dir/name", "content")
        for i in [0, 50, 99, 100, 110, 124, 136, 156, 157, 257, 300, 345, 500] {
            var bad = good
            bad[i] ^= 0x01
            try f.save(bad + Member.end, as: "a.tar")
            #expect(throws: ArchiveError.self, "byte \(i)") { try f.verify("a.tar") }
        }
    }

    @Test func aLoneZeroBlockOrTrailingGarbageIsRefused() throws {
        let f = try Fixture()
        defer { f.remove() }
        let one = Member.file("a", "x")
        try f.save(one + [UInt8](repeating: 0, count: 512), as: "lone.tar")
        #expect { try f.verify("lone.tar") } throws: { kind($0) == .corrupt }
        try f.save(one + [UInt8](repeating: 0, count: 512) + Member.file("b", "y") + Member.end, as: "lone2.tar")
        #expect { try f.verify("lone2.tar") } throws: { kind($0) == .corrupt }
        try f.save(one + Member.end + [1], as: "garbage.tar")
        #expect { try f.verify("garbage.tar") } throws: { kind($0) == .corrupt }
        try f.save(Member.root + one + Member.end + [UInt8](repeating: 0, count: 9000), as: "padded.tar")
        #expect(try f.verify("padded.tar").entries == 2)
        try f.save([], as: "empty.tar")
        #expect { try f.verify("empty.tar") } throws: { kind($0) == .corrupt }
    }

    @Test func absurdSizesAreRefusedBeforeReading() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.header("a", sizeField: Array("77777777777777777777".utf8.prefix(11)) + [0]) + Member.end, as: "a.tar")
        #expect { try f.verify("a.tar") } throws: { kind($0) == .corrupt }
        try f.save(Member.pax([("size", "99999999999999999")]) + Member.header("a") + Member.end, as: "b.tar")
        #expect { try f.verify("b.tar") } throws: { kind($0) == .corrupt }
        try f.save(Member.header("x", type: 0x78, size: 100 << 20) + Member.end, as: "c.tar")
        #expect { try f.verify("c.tar") } throws: { kind($0) == .corrupt }
        // A plausible size whose data is missing is truncation.
        try f.save(Member.header("a", size: 1 << 30) + Member.end, as: "d.tar")
        #expect { try f.verify("d.tar") } throws: { kind($0) == .corrupt }
    }

    @Test func paxSizeOverEightGiBIsRead() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.save(Member.pax([("size", "9663676416")]) + Member.header("big") + [UInt8](repeating: 0x61, count: 4096), as: "a.tar")
        let fd = try FileDescriptor.open(f.path("a.tar"), O_RDONLY)
        defer { fd.closeQuietly() }
        var reader = ArchiveReader(try ArchiveInput(fd))
        let e = try #require(try reader.next())
        #expect(e.size == 9 << 30)
        var content = ContentHasher()
        #expect { try reader.readContent(into: &content) { (_: Int64, _: UnsafeRawBufferPointer) throws(ArchiveError) in } } throws: { kind($0) == .corrupt }
    }

    @Test func unsupportedTypesAreRefused() throws {
        let f = try Fixture()
        defer { f.remove() }
        for type in [UInt8(ascii: "D"), UInt8(ascii: "M"), UInt8(ascii: "V"), UInt8(ascii: "Z"), UInt8(ascii: "S")] {
            try f.save(Member.header("a", type: type) + Member.end, as: "a.tar")
            #expect(throws: ArchiveError.self) { try f.verify("a.tar") }
        }
        try f.save(Member.header("a", magic: "xxxxxxxx") + Member.end, as: "b.tar")
        #expect { try f.verify("b.tar") } throws: { kind($0) == .corrupt }
    }

    @Test func ustarPrefixGnuLongNamesAndGlobalHeaders() throws {
        let f = try Fixture()
        defer { f.remove() }
        var prefixed = Member.header("name", size: 0)
        for (i, c) in "some/prefix".utf8.enumerated() { prefixed[345 + i] = c }
        var sum = 0
        for i in 0..<512 where !(148..<156).contains(i) { sum += Int(prefixed[i]) }
        sum += 8 * 0x20
        let s = String(sum, radix: 8)
        for (i, c) in (String(repeating: "0", count: 6 - s.count) + s).utf8.enumerated() { prefixed[148 + i] = c }
        prefixed[154] = 0
        prefixed[155] = 0x20
        let longName = String(repeating: "L", count: 300)
        let gnuLong = Member.header("././@LongLink", type: UInt8(ascii: "L"), size: 301, magic: "ustar  \u{0}") + Member.padded(Array(longName.utf8) + [0])
            + Member.header("truncated", size: 0, magic: "ustar  \u{0}")
        var globalData: [UInt8] = []
        globalData += PaxRecords.encode("mtime", "42.5")
        let global = Member.header("g", type: 0x67, size: globalData.count) + Member.padded(globalData)
        try f.save(prefixed + gnuLong + global + Member.header("after") + Member.end, as: "a.tar")
        let list = try members(f, "a.tar")
        #expect(list.map(\.pathText) == ["some/prefix/name", longName, "after"])
        #expect(list[2].modified.seconds == 42 && list[2].modified.nanoseconds == 500_000_000)
        #expect(list[0].modified.seconds == 1_600_000_000)
    }

    @Test func sparseOldAndZeroFormatsAreRead() throws {
        let f = try Fixture()
        defer { f.remove() }
        // pax sparse 0.1: the map in a record, the data regions back to back.
        let data = Array("abcdef".utf8)
        let v01 = Member.pax([("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1"), ("GNU.sparse.name", "sp"),
                              ("GNU.sparse.size", "100000"), ("GNU.sparse.map", "10,3,50000,3")])
            + Member.header("GNUSparseFile.1/sp", size: 6) + Member.padded(data)
        try f.save(Member.root + v01 + Member.end, as: "a.tar")
        let list = try members(f, "a.tar").dropFirst().map { $0 }
        #expect(list[0].pathText == "sp")
        #expect(list[0].size == 100000)
        #expect(list[0].regions == [Region(offset: 10, length: 3), Region(offset: 50000, length: 3)])
        try f.extract("a.tar", into: "x")
        let content = try f.read("x/sp")
        #expect(content.count == 100000)
        #expect(Array(content[10..<13]) == Array("abc".utf8) && Array(content[50000..<50003]) == Array("def".utf8))
        #expect(content[0..<10].allSatisfy { $0 == 0 })
        // A map that claims more data than the member holds is corrupt.
        let bad = Member.pax([("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1"), ("GNU.sparse.name", "sp"),
                              ("GNU.sparse.size", "100"), ("GNU.sparse.map", "10,3,50,300")])
            + Member.header("sp", size: 6) + Member.padded(data)
        try f.save(bad + Member.end, as: "b.tar")
        #expect { try f.verify("b.tar") } throws: { kind($0) == .corrupt }
    }

    @Test func aWrongExpectedDigestIsReportedAfterReading() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeRichTree(f, "src")
        let s = try f.write("src", to: "a.tar")
        #expect(try f.verify("a.tar", expected: s.sha256) == s)
        #expect { try f.verify("a.tar", expected: SHA256.hash("other")) } throws: { kind($0) == .digestMismatch }
        // A flipped content byte keeps the framing valid but changes both digests.
        var bytes = try f.read("a.tar")
        let at = try #require(findBytes(bytes, Array("key=value".utf8)))
        bytes[at] = UInt8(ascii: "K")
        try f.save(bytes, as: "b.tar")
        let other = try f.verify("b.tar")
        #expect(other.sha256 != s.sha256 && other.treeDigest != s.treeDigest)
        #expect { try f.verify("b.tar", expected: s.sha256) } throws: { kind($0) == .digestMismatch }
    }
}

func findBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<i + needle.count]) == needle { return i }
    return nil
}

/// Damaged archives never crash the reader: a valid archive with one byte changed, or cut and
/// changed, is either still valid or refused with an ArchiveError, and extracting it writes
/// nothing outside the staging directory.
@Suite struct DamagedArchiveTests {
    @Test func singleByteChangesAreReadOrRefusedNeverTrapped() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("src")
        try f.dir("src/d")
        try f.file("src/d/f", "content\n", mode: 0o4755)
        try f.xattr("src/d/f", "user.x", [0, 1, 2])
        try f.hardLink("src/d/f", "src/h")
        try f.symlink(String(repeating: "t", count: 150), "src/l")
        try f.file("src/" + String(repeating: "n", count: 120), String(repeating: "x", count: 3000))
        try f.sparse("src/s", size: 256 << 10, data: [(128 << 10, [1, 2, 3])])
        try f.mtime("src/d/f", 1_234_567_890, 5)
        try f.write("src", to: "a.tar")
        let original = try f.read("a.tar")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        // Bias towards headers: most changes land in the first bytes of a 512-byte block.
        let blocks = original.count / 512
        var refused = 0
        for round in 0..<1500 {
            var bytes = original
            let at = (next() % blocks) * 512 + (round % 3 == 0 ? next() % 512 : next() % 160)
            bytes[at] = UInt8(truncatingIfNeeded: next())
            if round % 10 == 0 { bytes = Array(bytes.prefix(at + 1 + next() % 4096)) }
            try f.save(bytes, as: "damaged.tar")
            do {
                _ = try f.verify("damaged.tar")
            } catch is ArchiveError {
                refused += 1
            }
            if round % 25 == 0 {
                try? Path.removeTree(f.path("staging"))
                do { try f.extract("damaged.tar", into: "staging") } catch is ArchiveError {}
                #expect(try f.listing("").filter { !$0.hasPrefix("staging") && !$0.hasPrefix("src") }.sorted() == ["a.tar", "damaged.tar"])
            }
        }
        #expect(refused > 500)
    }
}
