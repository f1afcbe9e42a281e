import CCCICore
import Testing

@Suite struct SHA256Tests {
    // FIPS 180-4 examples and the NIST CAVP short/long message vectors.
    static let vectors: [(String, String)] = [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    @Test(arguments: [false, true]) func nistVectors(portable: Bool) {
        for (message, expected) in Self.vectors {
            var hasher = portable ? SHA256.portable() : SHA256()
            hasher.update(message)
            #expect(hasher.finalize().hex == expected, "\(message)")
        }
    }

    @Test(arguments: [false, true]) func oneMillionA(portable: Bool) {
        var hasher = portable ? SHA256.portable() : SHA256()
        let chunk = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { hasher.update(chunk) }
        #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the padding boundaries, fed whole and byte by byte, agrees across both
    /// block functions.
    @Test func splitsAndPaddingAgree() {
        var bytes: [UInt8] = []
        for length in 0..<300 {
            var whole = SHA256()
            whole.update(bytes)
            var pieces = SHA256.portable()
            for b in bytes { pieces.update([b]) }
            #expect(whole.finalize() == pieces.finalize(), "length \(length)")
            bytes.append(UInt8(truncatingIfNeeded: length &* 151 &+ 3))
        }
    }

    @Test func matchesSha256sumOnRandomData() throws {
        let data = try Kernel.randomBytes(3 << 20 | 77)
        var process = Subprocess(["sha256sum"])
        process.input = data
        let result = try process.run()
        #expect(result.succeeded)
        let expected = String(result.stdoutText.prefix(64))
        var hasher = SHA256()
        var offset = 0
        var step = 1
        while offset < data.count {
            let end = min(data.count, offset + step)
            hasher.update(data[offset..<end])
            offset = end
            step = step * 3 + 1
        }
        #expect(hasher.finalize().hex == expected)
        #expect(SHA256.hash(data).hex == expected)
    }

    /// Feeding two hashers at once gives what feeding each alone gives, whether their partial
    /// blocks agree (the interleaved path) or not (one after the other).
    @Test func dualUpdateMatchesTwoSingleUpdates() throws {
        let data = try Kernel.randomBytes(70_000)
        for (prefixA, prefixB) in [(0, 0), (64, 128), (5, 5), (63, 63), (0, 7), (100, 3)] {
            for length in [0, 1, 63, 64, 65, 1000, 4096, 65_536] {
                var a = SHA256(), b = SHA256(), singleA = SHA256(), singleB = SHA256()
                a.update(data[0..<prefixA]); singleA.update(data[0..<prefixA])
                b.update(data[1000..<1000 + prefixB]); singleB.update(data[1000..<1000 + prefixB])
                data[2000..<2000 + length].withUnsafeBytes { SHA256.update(&a, &b, $0) }
                singleA.update(data[2000..<2000 + length])
                singleB.update(data[2000..<2000 + length])
                #expect(a.finalize() == singleA.finalize(), "\(prefixA)/\(prefixB)/\(length)")
                #expect(b.finalize() == singleB.finalize(), "\(prefixA)/\(prefixB)/\(length)")
            }
        }
    }

    @Test func digestHexRoundTrip() {
        let d = SHA256.hash("abc")
        #expect(SHA256Digest(hex: d.hex) == d)
        #expect(SHA256Digest(hex: d.hex.uppercased()) == d)
        #expect(SHA256Digest(hex: "xyz") == nil)
        #expect(SHA256Digest(bytes: d.bytes) == d)
    }
}
