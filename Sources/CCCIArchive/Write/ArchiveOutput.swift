// The archive byte stream on its way out, in two stages on two threads:
//
//   producer (the caller's thread)              drain (a worker thread)
//   fills a 1 MiB buffer: headers, and file  -->  write(2) to the descriptor, start writeback
//   data read straight into it; hashes the        of every 8 MiB written (sync_file_range),
//   archive bytes, file data together with   <--  hand the buffer back
//   the file's content hash (one pass, two
//   SHA-256 chains interleaved)
//
// Four buffers circulate through two bounded hand-offs, so memory stays at 4 MiB whatever the
// archive's size. The SHA-256 is of exactly the bytes handed to the descriptor, in order.
// Writeback is started as soon as each window is written and never waited for here: the final
// fsync then has little left to do, while waiting on older windows (to bound dirty memory) was
// measured to cost more than it saves; the kernel's dirty limits bound memory anyway. O_DIRECT
// writes were measured too, and were slower, here on ext4 and on a loop device.
// A failed write stops the drain, which closes the buffer supply; the producer then fails at its
// next flush with the drain's error.
import CCCICore
import Glibc

final class ArchiveOutput {
    private let drain: Drain
    private var thread: WorkerThread?
    private var current: UnsafeMutableRawBufferPointer
    private var used = 0
    /// Bytes of the current buffer already fed to `hasher`.
    private var hashed = 0
    private var flushed: Int64 = 0
    private var hasher = SHA256()
    /// Only a regular file can be fsynced (a pipe or FIFO answers EINVAL).
    private let regular: Bool

    static let capacity = 1 << 20
    static let buffers = 4

    init(_ fd: FileDescriptor, writeback: Bool) throws(ArchiveError) {
        var regular = false
        do throws(SystemError) { regular = try fd.status().st_mode & S_IFMT == S_IFREG } catch { throw ArchiveError(error) }
        self.regular = regular
        drain = Drain(fd, writeback: writeback && regular)
        current = drain.buffers[0]
        for b in drain.buffers.dropFirst() { drain.free.put(b) }
        let drain = self.drain
        do throws(SystemError) { thread = try WorkerThread { drain.run() } } catch { throw ArchiveError(error) }
    }

    deinit {
        drain.full.close()
        thread?.join()
    }

    /// Bytes produced so far, flushed or not.
    var position: Int64 { flushed + Int64(used) }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var offset = 0
        while offset < bytes.count {
            if used == Self.capacity { try flush() }
            let n = min(Self.capacity - used, bytes.count - offset)
            UnsafeMutableRawBufferPointer(rebasing: current[used..<used + n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
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
            UnsafeMutableRawBufferPointer(rebasing: current[used..<used + n]).initializeMemory(as: UInt8.self, repeating: 0)
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
        return UnsafeMutableRawBufferPointer(rebasing: current[used..<Self.capacity])
    }

    /// Commits `count` bytes of a file's data written into `space`, hashing them for the archive
    /// and, in the same pass, into the file's content hash at `offset`.
    func commit(_ count: Int, content: inout ContentHasher, at offset: Int64) {
        catchUp()
        content.update(at: offset, UnsafeRawBufferPointer(rebasing: current[used..<used + count]), alongside: &hasher)
        used += count
        hashed = used
    }

    private func catchUp() {
        if hashed < used { hasher.update(UnsafeRawBufferPointer(rebasing: current[hashed..<used])) }
        hashed = used
    }

    /// Hands the current buffer to the drain and takes a free one.
    func flush() throws(ArchiveError) {
        guard used > 0 else { return }
        catchUp()
        drain.full.put(Chunk(buffer: current, count: used))
        flushed += Int64(used)
        used = 0
        hashed = 0
        guard let next = drain.free.take() else { throw stop() }
        current = next
    }

    /// Waits for the drain and answers its error.
    private func stop() -> ArchiveError {
        drain.full.close()
        thread?.join()
        thread = nil
        return drain.error ?? ArchiveError(.system(SystemError("write", errno: EIO)), "the archive writer stopped")
    }

    /// Flushes, waits for every byte to be written, fsyncs when asked (and the output is a regular
    /// file), and answers the SHA-256 and length of everything written.
    func finish(sync: Bool) throws(ArchiveError) -> (sha256: SHA256Digest, bytes: Int64) {
        try flush()
        drain.full.close()
        thread?.join()
        thread = nil
        if let error = drain.error { throw error }
        if sync && regular {
            do throws(SystemError) { try drain.fd.sync() } catch { throw ArchiveError(error) }
        }
        let digest = hasher.finalize()
        hasher = SHA256()
        return (digest, drain.written)
    }

    struct Chunk: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        let count: Int
    }

    /// The drain stage's state; touched by the worker thread until it is joined.
    final class Drain: @unchecked Sendable {
        let fd: FileDescriptor
        let buffers: [UnsafeMutableRawBufferPointer]
        let full = HandOff<Chunk>(capacity: ArchiveOutput.buffers)
        let free = HandOff<UnsafeMutableRawBufferPointer>(capacity: ArchiveOutput.buffers)
        var written: Int64 = 0
        var error: ArchiveError?
        var writeback: Bool
        var started: Int64 = 0

        static let window: Int64 = 8 << 20

        init(_ fd: FileDescriptor, writeback: Bool) {
            self.fd = fd
            self.writeback = writeback
            buffers = (0..<ArchiveOutput.buffers).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveOutput.capacity, alignment: 4096) }
        }

        deinit { for b in buffers { b.deallocate() } }

        func run() {
            while let chunk = full.take() {
                if error == nil { write(UnsafeRawBufferPointer(rebasing: chunk.buffer[0..<chunk.count])) }
                if error != nil { free.close() } else { free.put(chunk.buffer) }
            }
        }

        private func write(_ bytes: UnsafeRawBufferPointer) {
            do throws(SystemError) { try fd.writeAll(bytes) } catch {
                self.error = ArchiveError(error)
                return
            }
            written += Int64(bytes.count)
            if writeback && written - started >= Self.window {
                // Not every file supports sync_file_range; the final fsync still makes it durable.
                do throws(SystemError) { try fd.startWriteback(offset: started, count: written - started) } catch { writeback = false }
                started = written
            }
        }
    }
}
