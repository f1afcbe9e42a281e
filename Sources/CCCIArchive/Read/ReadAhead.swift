import CCCICore

/// The first stage of an extraction, on a worker thread: reads the archive (through
/// ArchiveInput), checks each entry against the ones before it (duplicates, hard-link targets),
/// hashes the archive and each file's content in one pass, and hands entries and data over to
/// the thread that touches the filesystem. Data is copied into a pool of four 1 MiB buffers that
/// the extracting thread hands back once written, so memory stays bounded and the stage that
/// creates files never waits for hashing.
///
/// The stages stop each other by closing the hand-offs: the extracting thread on its own error,
/// this one on a refused archive (its error is kept for the other to throw).
final class ReadAhead: @unchecked Sendable {
    enum Event {
        case entry(Entry)
        /// A piece of the current file's data at `offset`; the buffer goes back with `recycle`.
        case data(ArchiveOutput.Chunk, offset: Int64)
        /// The whole archive was read and checked.
        case end
    }

    let events = HandOff<Event>(capacity: 16)
    private let free = HandOff<UnsafeMutableRawBufferPointer>(capacity: ReadAhead.buffers)
    private let buffers: [UnsafeMutableRawBufferPointer]
    private var reader: ArchiveReader
    private var judgement: Judgement

    // Read by the other thread only after joining this one.
    private(set) var digest = TreeDigest()
    private(set) var entries = 0
    private(set) var error: ArchiveError?
    private(set) var result: (sha256: SHA256Digest, bytes: Int64)?

    static let buffers = 4
    static let capacity = 1 << 20

    init(_ reader: consuming ArchiveReader, judgement: Judgement) {
        self.reader = reader
        self.judgement = judgement
        buffers = (0..<Self.buffers).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.capacity, alignment: 4096) }
        for b in buffers { free.put(b) }
    }

    deinit { for b in buffers { b.deallocate() } }

    func recycle(_ chunk: ArchiveOutput.Chunk) { free.put(chunk.buffer) }

    /// Stops this stage early (the extracting thread failed).
    func cancel() {
        events.close()
        free.close()
    }

    func run() {
        defer { events.close() }
        do throws(ArchiveError) {
            while let entry = try reader.next() {
                try judgement.admit(entry)
                entries += 1
                if entry.type != .directory && digest.contains(entry.path) {
                    throw ArchiveError(.hostile, "duplicate entry", path: entry.pathText)
                }
                if entry.type == .hardLink { try digest.add(entry, content: nil) }  // an earlier non-directory
                guard events.put(.entry(entry)) else { return }
                var content: SHA256Digest? = nil
                if entry.type == .file {
                    var hasher = ContentHasher()
                    var stopped = false
                    try reader.readContent(into: &hasher) { (offset: Int64, piece: UnsafeRawBufferPointer) throws(ArchiveError) in
                        var done = 0
                        while !stopped && done < piece.count {
                            guard let buffer = free.take() else { stopped = true; return }
                            let n = min(buffer.count, piece.count - done)
                            UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: piece[done..<done + n]))
                            if !events.put(.data(ArchiveOutput.Chunk(buffer: buffer, count: n), offset: offset + Int64(done))) { stopped = true }
                            done += n
                        }
                    }
                    if stopped { return }
                    content = hasher.finalize(size: entry.size)
                }
                if entry.type != .hardLink { try digest.add(entry, content: content) }
            }
            try judgement.finish()
            result = reader.input.finish()
            events.put(.end)
        } catch {
            self.error = error
        }
    }
}
