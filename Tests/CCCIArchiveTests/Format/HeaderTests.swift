@testable import CCCIArchive
import CCCICore
import Testing

@Suite struct HeaderTests {
    @Test func encodedHeaderHasAValidChecksumAndParsesBack() {
        var f = Header.Fields()
        f.name = Array("./a/b".utf8)
        f.mode = 0o4755
        f.uid = 1000
        f.gid = 0o7777777
        f.size = Header.maxOctal11
        f.mtime = 1_700_000_000
        let b = Header.encode(f)
        #expect(b.count == 512)
        b.withUnsafeBytes { raw in
            #expect(Header.checksumMatches(raw))
            #expect(Header.magic(raw) == .ustar)
            #expect(Header.number(raw, 100, 8) == 0o4755)
            #expect(Header.number(raw, 116, 8) == 0o7777777)
            #expect(Header.number(raw, 124, 12) == Header.maxOctal11)
            #expect(Header.text(raw, 0, 100) == Array("./a/b".utf8))
        }
    }

    @Test func valuesThatDoNotFitAreWrittenAsZero() {
        var f = Header.Fields()
        f.size = Header.maxOctal11 + 1
        f.mtime = -5
        Header.encode(f).withUnsafeBytes { raw in
            #expect(Header.number(raw, 124, 12) == 0)
            #expect(Header.number(raw, 136, 12) == 0)
        }
    }

    @Test func aFlippedByteBreaksTheChecksum() {
        var b = Header.encode(Header.Fields())
        b[10] = 0x41
        b.withUnsafeBytes { #expect(!Header.checksumMatches($0)) }
    }

    @Test func gnuBase256Numbers() {
        var field = [UInt8](repeating: 0, count: 512)
        // 9 GiB as base-256 in the 12-byte size field.
        field[124] = 0x80
        let v: UInt64 = 9 << 30
        for i in 0..<8 { field[124 + 4 + i] = UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64(i))) }
        field.withUnsafeBytes { #expect(Header.number($0, 124, 12) == 9 << 30) }
        // -1 as base-256 (GNU writes negative mtimes this way).
        for i in 0..<12 { field[136 + i] = 0xFF }
        field.withUnsafeBytes { #expect(Header.number($0, 136, 12) == -1) }
    }

    @Test(arguments: ["12x4", "1 2", "\u{7F}"]) func malformedOctalIsRefused(text: String) {
        var field = [UInt8](repeating: 0, count: 512)
        for (i, c) in text.utf8.enumerated() { field[108 + i] = c }
        field.withUnsafeBytes { #expect(Header.number($0, 108, 8) == nil) }
    }

    @Test func blankAndSpacePaddedOctal() {
        var field = [UInt8](repeating: 0, count: 512)
        field.withUnsafeBytes { #expect(Header.number($0, 108, 8) == 0) }
        for (i, c) in "  755 \u{0}".utf8.enumerated() { field[100 + i] = c }
        field.withUnsafeBytes { #expect(Header.number($0, 100, 8) == 0o755) }
    }
}
