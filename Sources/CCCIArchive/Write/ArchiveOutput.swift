import CCCICore
import Glibc

/// The archive byte stream on its way out: gathered in a 1 MiB buffer, hashed as each buffer is
/// written (so the SHA-256 is of exactly the bytes that reached the descriptor), and, for a regular
/// file, pushed towards the disk while the archive is still being produced: writeback of every
/// 8 MiB window starts as soon as it is written, and we wait for the window written `lag` windows
/// ago, which bounds dirty memory and leaves the final fsync little to do.
final class ArchiveOutput {
    let fd: FileDescriptor
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var hasher = SHA256()
    private(set) var written: Int64 = 0
    private var writeback: Bool
    private var started: Int64 = 0
    private var awaited: Int64 = 0

    static let capacity = 1 << 20
    static let window: Int64 = 8 << 20
    static let lag: Int64 = 4

    init(_ fd: FileDescriptor, writeback: Bool) throws(ArchiveError) {
        self.fd = fd
        var regular = false
        do throws(SystemError) { regular = try fd.status().st_mode & S_IFMT == S_IFREG } catch { throw ArchiveError(error) }
        self.writeback = writeback && regular
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.capacity, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// Bytes produced so far, buffered or not.
    var position: Int64 { written + Int64(used) }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var offset = 0
        while offset < bytes.count {
            if used == Self.capacity { try flush() }
            let n = min(Self.capacity - used, bytes.count - offset)
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            used += n
            offset += n
        }
    }

    func append(_ bytes: [UInt8]) throws(ArchiveError) {
        var failure: ArchiveError? = nil
        bytes.withUnsafeBytes { raw in
            do throws(ArchiveError) { try append(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func appendZeros(_ count: Int) throws(ArchiveError) {
        var left = count
        while left > 0 {
            if used == Self.capacity { try flush() }
            let n = min(Self.capacity - used, left)
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + n]).initializeMemory(as: UInt8.self, repeating: 0)
            used += n
            left -= n
        }
    }

    /// Zeros up to the next multiple of 512.
    func padToBlock() throws(ArchiveError) {
        let rest = Int(position % 512)
        if rest != 0 { try appendZeros(512 - rest) }
    }

    /// Free space at the end of the buffer to be filled directly (then `commit`), at least
    /// `minimum` bytes.
    func space(minimum: Int) throws(ArchiveError) -> UnsafeMutableRawBufferPointer {
        if Self.capacity - used < minimum { try flush() }
        return UnsafeMutableRawBufferPointer(rebasing: buffer[used..<Self.capacity])
    }

    func commit(_ count: Int) { used += count }

    func flush() throws(ArchiveError) {
        guard used > 0 else { return }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<used])
        hasher.update(chunk)
        do throws(SystemError) { try fd.writeAll(chunk) } catch { throw ArchiveError(error) }
        written += Int64(used)
        used = 0
        if writeback && written - started >= Self.window {
            do throws(SystemError) {
                try fd.startWriteback(offset: started, count: written - started)
                started = written
                let target = started - Self.lag * Self.window
                if target > awaited {
                    try fd.awaitWriteback(offset: awaited, count: target - awaited)
                    awaited = target
                }
            } catch {
                // Not every file supports sync_file_range; the final fsync still makes it durable.
                writeback = false
            }
        }
    }

    /// Flushes, fsyncs when asked, and answers the SHA-256 and length of everything written.
    func finish(sync: Bool) throws(ArchiveError) -> (sha256: SHA256Digest, bytes: Int64) {
        try flush()
        if sync {
            do throws(SystemError) { try fd.sync() } catch { throw ArchiveError(error) }
        }
        let digest = hasher.finalize()
        hasher = SHA256()
        return (digest, written)
    }
}
