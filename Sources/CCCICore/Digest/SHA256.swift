import CSHA256

/// A streaming SHA-256 (FIPS 180-4): feed bytes with `update`, then `finalize` once.
/// Uses the CPU's SHA extensions where it has them (see Sources/CSHA256).
public struct SHA256: Sendable {
    private var context = ccci_sha256_context()

    public init() { ccci_sha256_init(&context) }

    /// A hasher that never uses the SHA extensions (to test and measure the portable code).
    public static func portable() -> SHA256 {
        var hasher = SHA256()
        ccci_sha256_init_portable(&hasher.context)
        return hasher
    }

    /// Whether this CPU's SHA extensions are in use.
    public static var isAccelerated: Bool { ccci_sha256_accelerated() != 0 }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        ccci_sha256_update(&context, base, bytes.count)
    }

    public mutating func update(_ bytes: UnsafeRawPointer, count: Int) {
        ccci_sha256_update(&context, bytes, count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ text: String) {
        var text = text
        text.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Feeds the same bytes to two hashers: with the SHA extensions the two run interleaved on one
    /// core, in about the time of one (the archive code hashes the archive and each file's content).
    public static func update(_ first: inout SHA256, _ second: inout SHA256, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        ccci_sha256_update2(&first.context, &second.context, base, bytes.count)
    }

    /// The digest of everything fed so far. The hasher is spent: start a new one for a new message.
    public consuming func finalize() -> SHA256Digest {
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.words) { raw in
            ccci_sha256_final(&context, raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func hash(_ text: String) -> SHA256Digest {
        var hasher = SHA256()
        hasher.update(text)
        return hasher.finalize()
    }

    /// The digest of everything readable from `fd` (to its end), read in 1 MiB pieces.
    public static func hash(contentsOf fd: FileDescriptor) throws(SystemError) -> (digest: SHA256Digest, bytes: Int64) {
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try fd.read(into: buffer)
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += Int64(n)
        }
        return (hasher.finalize(), total)
    }
}

/// A SHA-256 digest: 32 bytes, written as 64 lowercase hexadecimal digits.
public struct SHA256Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    fileprivate var words: (UInt64, UInt64, UInt64, UInt64)

    static let zero = SHA256Digest(words: (0, 0, 0, 0))
    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = .zero
        withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: bytes) }
    }

    /// Parses 64 hexadecimal digits (either case).
    public init?(hex: String) {
        let text = Array(hex.utf8)
        guard text.count == 64 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        for i in 0..<32 {
            guard let high = nibble(text[2 * i]), let low = nibble(text[2 * i + 1]) else { return nil }
            bytes[i] = high << 4 | low
        }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: words) { Array($0) } }
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public static func == (a: SHA256Digest, b: SHA256Digest) -> Bool { a.words == b.words }
    public func hash(into hasher: inout Hasher) { withUnsafeBytes(of: words) { hasher.combine(bytes: $0) } }
    /// Byte order, as the hexadecimal text sorts.
    public static func < (a: SHA256Digest, b: SHA256Digest) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
