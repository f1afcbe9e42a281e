// Extracting an archive into a staging directory, which the caller later swaps in by rename.
//
// Nothing is ever written outside the staging directory, whatever the archive says:
// - names are normalised by the reader, which refuses absolute names and "..";
// - every directory on the way to an entry is opened relative to the staging descriptor, one
//   component at a time, with O_DIRECTORY | O_NOFOLLOW (DirectoryChain), so a symlink (one that
//   was there before, or one this archive created a moment ago) is refused, never followed;
// - the entry itself is created with an exclusive call (O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat,
//   symlinkat, linkat, mknodat) so nothing that exists is ever opened for writing or replaced:
//   a second entry for a path is refused, except a directory again (its metadata wins);
// - hard links must name an earlier entry of this archive, reached the same way;
// - device nodes only when running as root; the staging directory must start empty.
//
// Metadata goes on in the order that keeps it: for each file chown, then xattrs (chown clears
// security.capability), then chmod (chown clears setuid/setgid), then the times; directories get
// theirs after everything inside them exists (deepest first), so creating children does not move
// their mtimes and a read-only or default-ACL directory does not get in the way.
//
// Durability without an fsync per file: a large file's writeback is started every 8 MiB written,
// on a worker thread (Flusher) so the submission work overlaps with extracting what follows, and
// one syncfs(2) at the end commits the rest (small files, metadata) of the whole staging
// filesystem. Starting writeback for every small file too was measured: 20,000 tiny submissions
// cost more CPU than the final syncfs saves.
//
// Three threads: ArchiveInput's feeder reads; ReadAhead parses, checks and hashes the archive and
// each file's content in one pass (for the tree digest), so the archive is read once; this thread
// only touches the filesystem. A mismatch with the expected SHA-256 is reported after
// the whole archive has been read; the staging directory then holds untrusted content and the
// caller must remove it, as after any other error.
import CCCICore
import Glibc

public enum Extractor {
    public struct Options: Sendable {
        /// Start writeback while extracting and syncfs at the end.
        public var durable = true
        /// chown to the archive's numeric owners. Default: when running as root.
        public var preserveOwners = Kernel.effectiveUserID == 0
        /// Create device nodes; refused (permission) otherwise. Default: when running as root.
        public var allowDeviceNodes = Kernel.effectiveUserID == 0
        /// Accept directories the archive needs but does not name (the previous system's plain
        /// tars, read once by a migration). Never for our own snapshots.
        public var allowImpliedDirectories = false
        public init() {}
    }

    /// Extracts the archive read from `input` into the empty directory `staging`.
    public static func extract(
        from input: FileDescriptor, into staging: FileDescriptor, expectedSHA256: SHA256Digest?, options: Options = Options()
    ) throws(ArchiveError) -> ArchiveSummary {
        let present: [[UInt8]]
        do throws(SystemError) { present = try Path.names(in: staging) } catch { throw ArchiveError(error) }
        if !present.isEmpty {
            throw ArchiveError(.system(SystemError("extract", errno: ENOTEMPTY)), "the staging directory is not empty")
        }
        let extraction = try Extraction(staging: staging, options: options)
        defer { extraction.close() }
        return try extraction.run(ArchiveReader(try ArchiveInput(input)), judgement: Judgement(allowDeviceNodes: options.allowDeviceNodes, allowImpliedDirectories: options.allowImpliedDirectories), expectedSHA256: expectedSHA256)
    }

    /// Reads the whole archive as `extract` would, writing nothing: its SHA-256, length, entry count
    /// and tree digest, after every check that does not need a filesystem.
    /// The same judgement as `extract` (Judgement.swift), so what verifies extracts.
    public static func verify(from input: FileDescriptor, expectedSHA256: SHA256Digest?, options: Options = Options()) throws(ArchiveError) -> ArchiveSummary {
        var reader = ArchiveReader(try ArchiveInput(input))
        var digest = TreeDigest()
        var judgement = Judgement(allowDeviceNodes: options.allowDeviceNodes, allowImpliedDirectories: options.allowImpliedDirectories)
        var entries = 0
        while let entry = try reader.next() {
            try judgement.admit(entry)
            entries += 1
            var content: SHA256Digest? = nil
            if entry.type == .file {
                var hasher = ContentHasher()
                try reader.readContent(into: &hasher) { (_: Int64, _: UnsafeRawBufferPointer) throws(ArchiveError) in }
                content = hasher.finalize(size: entry.size)
            }
            try digest.add(entry, content: content)
        }
        try judgement.finish()
        let (sha256, bytes) = reader.input.finish()
        try check(sha256, expected: expectedSHA256)
        return ArchiveSummary(sha256: sha256, bytes: bytes, entries: entries, treeDigest: digest.finalize(), skipped: [])
    }

    static func check(_ actual: SHA256Digest, expected: SHA256Digest?) throws(ArchiveError) {
        if let expected, expected != actual {
            throw ArchiveError(.digestMismatch, "archive SHA-256 is \(actual.hex), expected \(expected.hex)")
        }
    }
}

/// One extraction's state.
final class Extraction {
    let staging: FileDescriptor
    let options: Extractor.Options
    private let chain: DirectoryChain
    private let linkChain: DirectoryChain
    private var digest = TreeDigest()
    /// Directories whose metadata is applied at the end, in creation order, by path.
    private var directories: [(path: [UInt8], entry: Entry)] = []
    private var directoryIndex: [[UInt8]: Int] = [:]
    /// Starts each file's writeback off this thread (durable extractions only).
    private let flusher: Flusher?

    static let window: Int64 = 8 << 20

    init(staging: FileDescriptor, options: Extractor.Options) throws(ArchiveError) {
        self.staging = staging
        self.options = options
        chain = DirectoryChain(root: staging)
        linkChain = DirectoryChain(root: staging)
        flusher = options.durable ? try Flusher() : nil
    }

    func close() {
        chain.close()
        linkChain.close()
    }

    func run(_ reader: consuming ArchiveReader, judgement: Judgement, expectedSHA256: SHA256Digest?) throws(ArchiveError) -> ArchiveSummary {
        let ahead = ReadAhead(reader, judgement: judgement)
        let thread: WorkerThread
        do throws(SystemError) { thread = try WorkerThread { ahead.run() } } catch { throw ArchiveError(error) }
        var open: OpenFile? = nil
        var finished = false
        do throws(ArchiveError) {
            while let event = ahead.events.take() {
                switch event {
                case .entry(let entry):
                    if let file = open { try close(file) }
                    open = nil
                    switch entry.type {
                    case .directory: try directory(entry)
                    case .file: open = try create(entry)
                    case .hardLink: try hardLink(entry)
                    case .symlink, .fifo, .characterDevice, .blockDevice: try special(entry)
                    }
                case .data(let chunk, let offset):
                    defer { ahead.recycle(chunk) }
                    guard var file = open else { throw ArchiveError(.corrupt, "data outside a file") }
                    try write(UnsafeRawBufferPointer(rebasing: chunk.buffer[0..<chunk.count]), at: offset, to: &file)
                    open = file
                case .end:
                    if let file = open { try close(file) }
                    open = nil
                    finished = true
                }
            }
        } catch {
            ahead.cancel()
            thread.join()
            if let file = open { abandon(file) }
            throw error
        }
        thread.join()
        if !finished {
            throw ahead.error ?? ArchiveError(.system(SystemError("read", errno: EIO)), "the archive reader stopped")
        }
        let (sha256, bytes) = ahead.result!
        digest = ahead.digest  // completed below with the directories the archive did not name
        try Extractor.check(sha256, expected: expectedSHA256)
        chain.close()
        linkChain.close()
        try flusher?.finish()
        try finishDirectories()
        if options.durable {
            do throws(SystemError) { try staging.syncFileSystem() } catch { throw ArchiveError(error) }
        }
        return ArchiveSummary(sha256: sha256, bytes: bytes, entries: ahead.entries, treeDigest: digest.finalize(), skipped: [])
    }

    private func parent(of entry: Entry) throws(ArchiveError) -> (FileDescriptor, [UInt8]) {
        let parts = entry.components
        return (try chain.open(parts.dropLast(), create: true, for: entry), parts.last!)
    }

    /// Turns an EEXIST from an exclusive create into the refusal it stands for.
    private func existing(_ error: SystemError, _ leaf: [UInt8], in dir: FileDescriptor, _ entry: Entry) -> ArchiveError {
        guard error.errno == EEXIST else { return ArchiveError(error, path: entry.path) }
        if let st = try? Path.status(leaf, in: dir), st.st_mode & S_IFMT == S_IFDIR {
            return ArchiveError(.hostile, "entry would replace a directory", path: entry.pathText)
        }
        return ArchiveError(.hostile, "duplicate entry", path: entry.pathText)
    }

    private func directory(_ entry: Entry) throws(ArchiveError) {
        if !entry.path.isEmpty {
            let (dir, leaf) = try parent(of: entry)
            do throws(SystemError) { try Path.makeDirectory(leaf, in: dir, mode: 0o700) } catch {
                guard error.errno == EEXIST, let st = try? Path.status(leaf, in: dir), st.st_mode & S_IFMT == S_IFDIR else {
                    throw existing(error, leaf, in: dir, entry)
                }
            }
        }
        if let i = directoryIndex[entry.path] {
            directories[i].entry = entry
        } else {
            directoryIndex[entry.path] = directories.count
            directories.append((entry.path, entry))
        }
    }

    /// A regular file being extracted: its descriptor and how far its writeback was started.
    struct OpenFile {
        let entry: Entry
        let fd: FileDescriptor
        var started: Int64 = 0
        /// Once the flusher has a request for the descriptor, it is the flusher's to close.
        var handedOver = false
    }

    private func create(_ entry: Entry) throws(ArchiveError) -> OpenFile {
        let (dir, leaf) = try parent(of: entry)
        do throws(SystemError) {
            return OpenFile(entry: entry, fd: try FileDescriptor.open(leaf, relativeTo: dir, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600))
        } catch {
            throw existing(error, leaf, in: dir, entry)
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64, to file: inout OpenFile) throws(ArchiveError) {
        do throws(SystemError) {
            if file.entry.regions != nil { try file.fd.writeAll(bytes, at: offset) } else { try file.fd.writeAll(bytes) }
        } catch { throw ArchiveError(error, path: file.entry.path) }
        let end = offset + Int64(bytes.count)
        if let flusher, end - file.started >= Self.window {
            flusher.submit(Flusher.Request(fd: file.fd, offset: file.started, count: end - file.started, close: false))
            file.handedOver = true
            file.started = end
        }
    }

    /// Applies a file's metadata (chown, xattrs, chmod, times: the order that keeps them all) and
    /// hands it to the flusher for writeback and closing.
    private func close(_ file: OpenFile) throws(ArchiveError) {
        let entry = file.entry
        let fd = file.fd
        do throws(SystemError) {
            if entry.regions != nil { try fd.truncate(to: entry.size) }
            if options.preserveOwners { try fd.setOwner(uid: entry.uid, gid: entry.gid) }
            for x in entry.xattrs { try ExtendedAttributes.set(x.name, to: x.value, on: fd) }
            try fd.setMode(mode_t(entry.mode))
            try fd.setModificationTime(seconds: entry.modified.seconds, nanoseconds: entry.modified.nanoseconds)
        } catch {
            abandon(file)
            throw ArchiveError(error, path: entry.path)
        }
        if let flusher, file.handedOver {
            flusher.submit(Flusher.Request(fd: fd, offset: file.started, count: 0, close: true))
        } else {
            fd.closeQuietly()
        }
    }

    /// Closes a file after a failure (through the flusher if it already has the descriptor).
    private func abandon(_ file: OpenFile) {
        if file.handedOver, let flusher {
            flusher.submit(Flusher.Request(fd: file.fd, offset: 0, count: 0, close: true))
        } else {
            file.fd.closeQuietly()
        }
    }

    private func hardLink(_ entry: Entry) throws(ArchiveError) {
        let (dir, leaf) = try parent(of: entry)
        var target = entry
        target.path = entry.linkTarget
        let targetParts = target.components
        let targetDir = try linkChain.open(targetParts.dropLast(), create: false, for: entry)
        do throws(SystemError) { try Path.link(targetParts.last!, in: targetDir, at: leaf, in: dir) } catch {
            switch error.errno {
            case EEXIST: throw existing(error, leaf, in: dir, entry)
            case ENOENT: throw ArchiveError(.hostile, "hard link to a missing target", path: entry.pathText)
            case EPERM: throw ArchiveError(.hostile, "hard link to a directory", path: entry.pathText)
            default: throw ArchiveError(error, path: entry.path)
            }
        }
    }

    private func special(_ entry: Entry) throws(ArchiveError) {
        if (entry.type == .characterDevice || entry.type == .blockDevice) && !options.allowDeviceNodes {
            throw ArchiveError(.permission, "device nodes are extracted only when running as root", path: entry.pathText)
        }
        let (dir, leaf) = try parent(of: entry)
        do throws(SystemError) {
            switch entry.type {
            case .symlink: try Path.symlink(entry.linkTarget, at: leaf, in: dir)
            case .fifo: try Path.makeFIFO(leaf, in: dir, mode: 0o600)
            default:
                let format = entry.type == .characterDevice ? S_IFCHR : S_IFBLK
                try Path.makeNode(leaf, in: dir, mode: format | 0o600, device: Kernel.device(major: entry.deviceMajor, minor: entry.deviceMinor))
            }
        } catch { throw existing(error, leaf, in: dir, entry) }
        do throws(SystemError) {
            if options.preserveOwners { try Path.setOwner(leaf, in: dir, uid: entry.uid, gid: entry.gid) }
            for x in entry.xattrs { try ExtendedAttributes.set(x.name, to: x.value, onLink: leaf, in: dir) }
            if entry.type != .symlink { try Path.setMode(leaf, in: dir, mode_t(entry.mode)) }
            try Path.setModificationTime(leaf, in: dir, seconds: entry.modified.seconds, nanoseconds: entry.modified.nanoseconds)
        } catch { throw ArchiveError(error, path: entry.path) }
    }

    /// Directory metadata, deepest first; then the digest records of directories the archive did
    /// not name (created on the way, or the root), as they ended up.
    private func finishDirectories() throws(ArchiveError) {
        let walker = DirectoryChain(root: staging)
        defer { walker.close() }
        for (path, entry) in directories.reversed() {
            let dir = try walker.open(entry.components[...], create: false, for: entry)
            do throws(SystemError) {
                if options.preserveOwners { try dir.setOwner(uid: entry.uid, gid: entry.gid) }
                for x in entry.xattrs { try ExtendedAttributes.set(x.name, to: x.value, on: dir) }
                try dir.setMode(mode_t(entry.mode))
                try dir.setModificationTime(seconds: entry.modified.seconds, nanoseconds: entry.modified.nanoseconds)
            } catch { throw ArchiveError(error, path: path) }
        }
        var unnamed = chain.created.filter { directoryIndex[$0] == nil }
        if directoryIndex[[]] == nil { unnamed.append([]) }
        for path in unnamed {
            let entry = Entry(path: path, type: .directory)
            let dir = try walker.open(entry.components[...], create: false, for: entry)
            let st: stat
            do throws(SystemError) { st = try dir.status() } catch { throw ArchiveError(error, path: path) }
            var found = TreeWalk.entry(path, type: .directory, st)
            found.xattrs = try TreeWalk.xattrs(of: dir, path: path)
            try digest.add(found, content: nil)
        }
    }
}
