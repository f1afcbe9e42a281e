// The archive byte stream on its way out, in three stages on three threads:
//
//   producer (the caller's thread)     hasher (a worker thread)          drain (a worker thread)
//   fills a 1 MiB buffer: headers,  -> hashes the buffer: the archive  -> write(2) to the
//   and file data read straight        bytes, file data together with     descriptor, start
//   into it; marks where each file's   the file's content hash (one       writeback of every
//   data lies and where each entry     pass, two SHA-256 chains           8 MiB written
//   ends                               interleaved); at each entry's      (sync_file_range),
//                                      end, its tree-digest record     <- hand the buffer back
//
// Six buffers circulate through three bounded hand-offs, so memory stays at 6 MiB whatever the
// archive's size. The SHA-256 is of exactly the bytes handed to the descriptor, in order: the
// hasher reads the buffer before the drain gets it, and nobody writes to it until the drain hands
// it back. Hashing was the producer's largest cost (~0.6 s of CPU per GB); on its own thread it
// overlaps with walking and reading (docs/archive-format.md, Performance).
// Writeback is started as soon as each window is written and never waited for here: the final
// fsync then has little left to do, while waiting on older windows (to bound dirty memory) was
// measured to cost more than it saves; the kernel's dirty limits bound memory anyway. O_DIRECT
// writes were measured too, and were slower, here on ext4 and on a loop device.
// A failed write stops the drain, which closes the buffer supply; the producer then fails at its
// next flush with the drain's error. A tree-digest record refused by the hasher is reported when
// the archive is finished.
import CCCICore
import Glibc

final class ArchiveOutput {
    private let drain: Drain
    private var thread: WorkerThread?
    private var hashThread: WorkerThread?
    private var current: UnsafeMutableRawBufferPointer
    private var used = 0
    private var flushed: Int64 = 0
    /// What the hasher must know about the current buffer, in order.
    private var marks: [Mark] = []
    /// Only a regular file can be fsynced (a pipe or FIFO answers EINVAL).
    private let regular: Bool

    static let capacity = 1 << 20
    static let buffers = 6

    init(_ fd: FileDescriptor, writeback: Bool) throws(ArchiveError) {
        var regular = false
        do throws(SystemError) { regular = try fd.status().st_mode & S_IFMT == S_IFREG } catch { throw ArchiveError(error) }
        self.regular = regular
        drain = Drain(fd, writeback: writeback && regular)
        current = drain.buffers[0]
        for b in drain.buffers.dropFirst() { drain.free.put(b) }
        let drain = self.drain
        do throws(SystemError) {
            thread = try WorkerThread { drain.run() }
            hashThread = try WorkerThread { drain.hash() }
        } catch {
            drain.full.close()
            drain.hashed.close()
            throw ArchiveError(error)
        }
    }

    deinit {
        drain.full.close()
        hashThread?.join()
        thread?.join()
    }

    /// Marks in a buffer, for the hasher.
    enum Mark {
        /// `count` bytes at `at` in the buffer are the current file's data at `offset`.
        case content(at: Int, count: Int, offset: Int64)
        /// The entry's member is complete: its tree-digest record (with the content hash of the
        /// data marked since the previous entry, for a file) comes next.
        case entry(Entry, content: Bool)
    }

    struct Batch: @unchecked Sendable {
        let chunk: Chunk
        let marks: [Mark]
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

    /// Commits `count` bytes of a file's data written into `space`, as the file's bytes at
    /// `offset` (hashed for the archive and into the file's content hash, in one pass).
    func commit(_ count: Int, at offset: Int64) {
        marks.append(.content(at: used, count: count, offset: offset))
        used += count
    }

    /// Ends an entry's member: the hasher adds its tree-digest record, with the content hash of
    /// the data committed since the previous entry when `content`.
    func endEntry(_ entry: Entry, content: Bool) {
        marks.append(.entry(entry, content: content))
    }

    /// Hands the current buffer to the hasher and takes a free one.
    func flush() throws(ArchiveError) {
        guard used > 0 || !marks.isEmpty else { return }
        drain.full.put(Batch(chunk: Chunk(buffer: current, count: used), marks: marks))
        marks = []
        flushed += Int64(used)
        used = 0
        guard let next = drain.free.take() else { throw stop() }
        current = next
    }

    /// Waits for the drain and answers its error.
    private func stop() -> ArchiveError {
        drain.full.close()
        hashThread?.join()
        hashThread = nil
        thread?.join()
        thread = nil
        return drain.error ?? ArchiveError(.system(SystemError("write", errno: EIO)), "the archive writer stopped")
    }

    /// Flushes, waits for every byte to be written, fsyncs when asked (and the output is a regular
    /// file), and answers the SHA-256 and length of everything written, and the tree digest of
    /// the entries ended.
    func finish(sync: Bool) throws(ArchiveError) -> (sha256: SHA256Digest, bytes: Int64, treeDigest: SHA256Digest) {
        try flush()
        drain.full.close()
        hashThread?.join()
        hashThread = nil
        thread?.join()
        thread = nil
        if let error = drain.error { throw error }
        if let error = drain.refused { throw error }
        if sync && regular {
            do throws(SystemError) { try drain.fd.sync() } catch { throw ArchiveError(error) }
        }
        let hasher = drain.hasher
        let digest = drain.digest
        return (hasher.finalize(), drain.written, digest.finalize())
    }

    struct Chunk: @unchecked Sendable {
        let buffer: UnsafeMutableRawBufferPointer
        let count: Int
    }

    /// The hasher's and the drain's state; touched by their threads until they are joined.
    final class Drain: @unchecked Sendable {
        let fd: FileDescriptor
        let buffers: [UnsafeMutableRawBufferPointer]
        let full = HandOff<Batch>(capacity: ArchiveOutput.buffers)
        let hashed = HandOff<Chunk>(capacity: ArchiveOutput.buffers)
        let free = HandOff<UnsafeMutableRawBufferPointer>(capacity: ArchiveOutput.buffers)
        var written: Int64 = 0
        var error: ArchiveError?
        // The hasher's.
        var hasher = SHA256()
        var content = ContentHasher()
        var digest = TreeDigest()
        var refused: ArchiveError?
        var writeback: Bool
        var started: Int64 = 0

        static let window: Int64 = 8 << 20

        init(_ fd: FileDescriptor, writeback: Bool) {
            self.fd = fd
            self.writeback = writeback
            buffers = (0..<ArchiveOutput.buffers).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: ArchiveOutput.capacity, alignment: 4096) }
        }

        deinit { for b in buffers { b.deallocate() } }

        /// The hashing stage: each buffer's bytes into the archive's SHA-256 (file data into the
        /// file's content hash in the same pass), each ended entry into the tree digest; then the
        /// buffer goes on to `run`.
        func hash() {
            defer { hashed.close() }
            while let batch = full.take() {
                let bytes = UnsafeRawBufferPointer(rebasing: batch.chunk.buffer[0..<batch.chunk.count])
                var done = 0
                for mark in batch.marks {
                    switch mark {
                    case .content(let at, let count, let offset):
                        if at > done { hasher.update(UnsafeRawBufferPointer(rebasing: bytes[done..<at])) }
                        content.update(at: offset, UnsafeRawBufferPointer(rebasing: bytes[at..<at + count]), alongside: &hasher)
                        done = at + count
                    case .entry(let entry, let hasContent):
                        let finished = content
                        content = ContentHasher()
                        guard refused == nil else { continue }
                        do throws(ArchiveError) { try digest.add(entry, content: hasContent ? finished.finalize(size: entry.size) : nil) } catch {
                            refused = error
                        }
                    }
                }
                if done < bytes.count { hasher.update(UnsafeRawBufferPointer(rebasing: bytes[done...])) }
                if !hashed.put(batch.chunk) { return }
            }
        }

        func run() {
            while let chunk = hashed.take() {
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
