import CCCICore

/// The archive byte stream coming in: read in 1 MiB pieces and hashed as it is read, so the
/// archive is read once and its SHA-256 covers every byte up to the end of the input.
final class ArchiveInput {
    let fd: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var hasher = SHA256()
    private var atEnd = false
    /// Bytes read from the descriptor so far.
    private(set) var received: Int64 = 0

    static let capacity = 1 << 20

    init(_ fd: FileDescriptor) {
        self.fd = fd
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.capacity, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Offset in the stream of the next unconsumed byte.
    var offset: Int64 { received - Int64(end - start) }

    /// Makes `count` (at most the capacity) bytes available; false when the input ends first.
    private func fill(_ count: Int) throws(ArchiveError) -> Bool {
        if end - start >= count { return true }
        if start > 0 {
            let n = end - start
            if n > 0 { UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<end])) }
            start = 0
            end = n
        }
        while end < count && !atEnd {
            let n: Int
            do throws(SystemError) { n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<Self.capacity])) } catch {
                throw ArchiveError(error)
            }
            if n == 0 { atEnd = true; break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[end..<end + n]))
            received += Int64(n)
            end += n
        }
        return end - start >= count
    }

    /// The next 512-byte block, valid until the next call; nil at a clean end of input.
    func block() throws(ArchiveError) -> UnsafeRawBufferPointer? {
        if try !fill(Header.size) {
            if end == start { return nil }
            throw ArchiveError(.corrupt, "archive truncated inside a header at byte \(offset)")
        }
        let b = UnsafeRawBufferPointer(rebasing: buffer[start..<start + Header.size])
        start += Header.size
        return b
    }

    /// Exactly `count` bytes (for extended headers and long names, whose size the caller bounds).
    func bytes(_ count: Int) throws(ArchiveError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try chunks(Int64(count)) { (chunk: UnsafeRawBufferPointer) throws(ArchiveError) in out.append(contentsOf: chunk) }
        return out
    }

    /// Hands over exactly `count` bytes in pieces; throws if the input ends first.
    func chunks(_ count: Int64, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var left = count
        while left > 0 {
            if end == start, try !fill(1) {
                throw ArchiveError(.corrupt, "archive truncated: \(left) bytes of member data missing at byte \(offset)")
            }
            let n = Int(min(Int64(end - start), left))
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<start + n])
            start += n
            left -= Int64(n)
            try body(chunk)
        }
    }

    func skip(_ count: Int64) throws(ArchiveError) {
        try chunks(count) { (_: UnsafeRawBufferPointer) throws(ArchiveError) in }
    }

    /// Reads to the end of input; true when everything left was zeros (tape-record padding).
    func restIsZero() throws(ArchiveError) -> Bool {
        var zero = true
        while try fill(1) {
            if !UnsafeRawBufferPointer(rebasing: buffer[start..<end]).allSatisfy({ $0 == 0 }) { zero = false }
            start = end
        }
        return zero
    }

    /// The SHA-256 and length of everything read.
    func finish() -> (sha256: SHA256Digest, bytes: Int64) {
        let digest = hasher.finalize()
        hasher = SHA256()
        return (digest, received)
    }
}
