// The archive byte stream coming in, in two stages on two threads (as ArchiveOutput, reversed):
// a feeder thread reads the descriptor into 1 MiB buffers, filling each completely before handing
// it over (so chunks are whole multiples of 512 and no header ever straddles two); the consumer
// hashes every byte as it takes it (a file's data together with the file's content hash, in one
// pass) and parses and extracts. The SHA-256 covers every byte up to the end of the input, which
// is read once. If the consumer stops early (a refused archive), it closes the
// hand-offs and detaches the feeder, which stops after its current read; the buffers belong to
// the shared feeder state, so nothing is freed under it.
import CCCICore

final class ArchiveInput {
    private let feeder: Feeder
    private var thread: WorkerThread?
    private var chunk: ArchiveOutput.Chunk? = nil
    private var start = 0
    /// Stream offset of the current chunk's first byte.
    private var base: Int64 = 0
    private var ended = false
    private var hasher = SHA256()

    static let capacity = 1 << 20
    static let buffers = 4

    init(_ fd: FileDescriptor) throws(ArchiveError) {
        feeder = Feeder(fd)
        for b in feeder.buffers { feeder.free.put(b) }
        let feeder = self.feeder
        do throws(SystemError) { thread = try WorkerThread { feeder.run() } } catch { throw ArchiveError(error) }
    }

    deinit {
        feeder.free.close()
        feeder.full.close()
        thread?.detach()
    }

    /// Offset in the stream of the next unconsumed byte.
    var offset: Int64 { base + Int64(start) }

    /// The current chunk with unconsumed bytes, taking the next one when it is used up; nil at
    /// the end of input.
    private func current() throws(ArchiveError) -> ArchiveOutput.Chunk? {
        if let c = chunk, start < c.count { return c }
        if let c = chunk {
            base += Int64(c.count)
            feeder.free.put(c.buffer)
            chunk = nil
            start = 0
        }
        if ended { return nil }
        guard let next = feeder.full.take() else {
            ended = true
            thread?.join()
            thread = nil
            if let error = feeder.error { throw error }
            return nil
        }
        chunk = next
        return next
    }

    /// The next 512-byte block, valid until the next call; nil at a clean end of input.
    func block() throws(ArchiveError) -> UnsafeRawBufferPointer? {
        guard let c = try current() else { return nil }
        guard c.count - start >= Header.size else {
            throw ArchiveError(.corrupt, "archive truncated inside a header at byte \(offset)")
        }
        let b = UnsafeRawBufferPointer(rebasing: c.buffer[start..<start + Header.size])
        start += Header.size
        hasher.update(b)
        return b
    }

    /// Exactly `count` bytes (for extended headers and long names, whose size the caller bounds).
    func bytes(_ count: Int) throws(ArchiveError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        try chunks(Int64(count)) { (piece: UnsafeRawBufferPointer) throws(ArchiveError) in out.append(contentsOf: piece) }
        return out
    }

    /// Hands over exactly `count` bytes in pieces; throws if the input ends first.
    func chunks(_ count: Int64, _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var left = count
        while left > 0 {
            guard let c = try current() else {
                throw ArchiveError(.corrupt, "archive truncated: \(left) bytes of member data missing at byte \(offset)")
            }
            let n = Int(min(Int64(c.count - start), left))
            let piece = UnsafeRawBufferPointer(rebasing: c.buffer[start..<start + n])
            start += n
            left -= Int64(n)
            hasher.update(piece)
            try body(piece)
        }
    }

    /// `chunks`, feeding the pieces to `content` (as the file's bytes from `offset` on) in the
    /// same pass as the archive hash; `body` gets each piece with its offset in the file.
    func chunks(_ count: Int64, content: inout ContentHasher, at offset: Int64, _ body: (Int64, UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) {
        var left = count
        var position = offset
        while left > 0 {
            guard let c = try current() else {
                throw ArchiveError(.corrupt, "archive truncated: \(left) bytes of member data missing at byte \(self.offset)")
            }
            let n = Int(min(Int64(c.count - start), left))
            let piece = UnsafeRawBufferPointer(rebasing: c.buffer[start..<start + n])
            start += n
            left -= Int64(n)
            content.update(at: position, piece, alongside: &hasher)
            try body(position, piece)
            position += Int64(n)
        }
    }

    func skip(_ count: Int64) throws(ArchiveError) {
        try chunks(count) { (_: UnsafeRawBufferPointer) throws(ArchiveError) in }
    }

    /// Reads to the end of input; true when everything left was zeros (tape-record padding).
    func restIsZero() throws(ArchiveError) -> Bool {
        var zero = true
        while let c = try current() {
            let rest = UnsafeRawBufferPointer(rebasing: c.buffer[start..<c.count])
            if zero && !rest.allSatisfy({ $0 == 0 }) { zero = false }
            hasher.update(rest)
            start = c.count
        }
        return zero
    }

    /// The SHA-256 and length of everything read; only after the input has been read to its end.
    func finish() -> (sha256: SHA256Digest, bytes: Int64) {
        thread?.join()
        thread = nil
        let digest = hasher.finalize()
        hasher = SHA256()
        return (digest, feeder.received)
    }

    /// The feeder stage's state, shared with the worker thread (which may outlive the input).
    final class Feeder: @unchecked Sendable {
        let fd: FileDescriptor
        let buffers: [UnsafeMutableRawBufferPointer]
        let full = HandOff<ArchiveOutput.Chunk>(capacity: ArchiveInput.buffers)
        let free = HandOff<UnsafeMutableRawBufferPointer>(capacity: ArchiveInput.buffers)
        var received: Int64 = 0
        var error: ArchiveError?

        init(_ fd: FileDescriptor) {
            self.fd = fd
            buffers = (0..<ArchiveInput.buffers).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveInput.capacity, alignment: 4096) }
        }

        deinit { for b in buffers { b.deallocate() } }

        func run() {
            defer { full.close() }
            while let buffer = free.take() {
                var count = 0
                while count < buffer.count {
                    let n: Int
                    do throws(SystemError) { n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count..<buffer.count])) } catch {
                        self.error = ArchiveError(error)
                        return
                    }
                    if n == 0 { break }
                    count += n
                }
                if count == 0 { return }
                received += Int64(count)
                Progress.add(count)
                if !full.put(ArchiveOutput.Chunk(buffer: buffer, count: count)) { return }
                if count < buffer.count { return }
            }
        }
    }
}
