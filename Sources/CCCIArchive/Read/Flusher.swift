import CCCICore

/// Starts writeback of extracted files on a worker thread, and closes them there. Submitting a
/// file's pages for writeback (sync_file_range) allocates its blocks and builds the I/O: measured
/// at a fifth of an extraction's CPU time, it would otherwise sit on the thread that parses and
/// writes. Requests for one descriptor are handled in order, and the descriptor belongs to the
/// flusher from its first request on: the last request for it closes it.
final class Flusher {
    private let work: Work
    private var thread: WorkerThread?

    struct Request: Sendable {
        let fd: FileDescriptor
        let offset: Int64
        /// 0: to the end of the file.
        let count: Int64
        let close: Bool
    }

    init() throws(ArchiveError) {
        work = Work()
        let work = self.work
        do throws(SystemError) { thread = try WorkerThread { work.run() } } catch { throw ArchiveError(error) }
    }

    deinit {
        work.requests.close()
        thread?.join()
    }

    /// Starts writeback of the range (in the background), then closes the descriptor if asked.
    func submit(_ request: Request) { work.requests.put(request) }

    /// Waits until every request is handled; the first writeback error, if any.
    func finish() throws(ArchiveError) {
        work.requests.close()
        thread?.join()
        thread = nil
        if let error = work.error { throw ArchiveError(error) }
    }

    final class Work: @unchecked Sendable {
        let requests = HandOff<Request>(capacity: 256)
        var error: SystemError?

        func run() {
            while let r = requests.take() {
                if error == nil {
                    do throws(SystemError) { try r.fd.startWriteback(offset: r.offset, count: r.count) } catch { self.error = error }
                }
                if r.close { r.fd.closeQuietly() }
            }
        }
    }
}
