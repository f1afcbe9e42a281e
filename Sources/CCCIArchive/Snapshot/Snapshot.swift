// The one known-good snapshot of an app, and restoring it. The caller holds the app's lock.
//
// Taking a snapshot (`take`): every volume is archived into `<app>/.snapshot.new-<token>/`
// (archives 0600, directories 0700, each archive written, hashed and synced in one pass), the
// manifest is written last, the directory is synced, and only then is it swapped in: with
// renameat2(RENAME_EXCHANGE) when a snapshot exists (the old one lands at the temporary name and
// is removed afterwards), with a plain rename when none does. So at every instant exactly one
// complete known-good exists at `<app>/snapshot`, and nothing else in `<app>/` is touched.
// Leftover `.snapshot.new-*` directories of an interrupted run are removed by the next one.
//
// Restoring (`restore`), all-or-nothing across the app's volumes, with `<app>/journal.json`:
//
//   1. verify the manifest and every live volume (it exists, it neither is nor holds a mount
//      point: LiveTree.swift); extract every volume's archive into its own staging directory
//      beside its live one (same filesystem: `<volume>/.ccci-staging-<token>-<name>` next to
//      `<volume>/_data`), hashing as it reads, then prove the staged tree's digest from the disk;
//      any mismatch or hostile entry: remove every staging directory, stop, nothing live
//      touched. The journal (phase "staging") names every staging directory.
//   2. journal phase "swapping", with each volume's device and the inode numbers of its live and
//      staging directories; then for each volume exchange staging and live (RENAME_EXCHANGE: one
//      atomic step per volume).
//   3. remove the old trees (now at the staging names; never across a mount), then the journal.
//
// Recovery (`recover`, run first by restore, snap and promote with the volumes they resolved)
// acts only on what it can prove is its own (Restore.swift, `requireOwned`): a journal in phase
// "staging" is reversed (staging directories removed: every volume is still wholly old); one in
// phase "swapping" is rolled forward: a volume whose live directory already has the recorded
// staging inode is done, one whose directories still hold the recorded old and staging inodes
// is exchanged now, anything else is left alone (70). Either way every volume ends wholly old
// or wholly restored, and the journal goes only when that is true. Commands without the volumes
// (`--verify`, `ccci-canon has`) never resolve a restore journal.
import CCCICore
import Glibc

public struct SnapshotStore {
    public let state: StateRoot
    public let app: Name
    public static let toolVersion = "ci-warm 0.1.0"

    public init(state: StateRoot, app: Name) {
        self.state = state
        self.app = app
    }

    func appDirectory() throws(Failure) -> FileDescriptor { try state.app(app, create: true) }

    static func token() throws(Failure) -> String {
        do { return Hex.encode(try Kernel.randomBytes(6)) } catch { throw Failure(error) }
    }

    // MARK: reading

    /// The current snapshot's manifest, or nil when there is none. Its digest is the SHA-256 of
    /// the file as it is on disk.
    public func manifest() throws(Failure) -> Manifest? {
        let dir: FileDescriptor
        do { dir = try state.app(app, create: false) } catch {
            if error.exit == .noInput { return nil }
            throw error
        }
        defer { dir.closeQuietly() }
        try refuseLegacy(in: dir)
        let bytes: [UInt8]?
        do { bytes = try SnapshotStore.readRegular("snapshot/manifest.json", in: dir, limit: 4 << 20) } catch {
            if error.errno == EINVAL || error.errno == ENOTDIR || error.errno == ELOOP || error.errno == ENXIO {
                throw Failure(.badData, "bad-manifest", "snapshot manifest of '\(app)': \(error.description)")
            }
            throw Failure(error, doing: "reading the snapshot manifest of '\(app)'")
        }
        guard let bytes else { return nil }
        return try Manifest(parsing: bytes)
    }

    /// Reads a state file that must be a regular file, never blocking: it is opened with
    /// O_NONBLOCK and O_NOFOLLOW and refused (EFTYPE-like: EINVAL) unless fstat says regular.
    /// nil when it does not exist.
    static func readRegular(_ path: String, in dir: FileDescriptor, limit: Int) throws(SystemError) -> [UInt8]? {
        let fd: FileDescriptor
        do throws(SystemError) { fd = try FileDescriptor.open(path, relativeTo: dir, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
        defer { fd.closeQuietly() }
        guard try fd.status().st_mode & S_IFMT == S_IFREG else { throw SystemError("open", errno: EINVAL, path: "\(path) (not a regular file)") }
        return try fd.readAll(limit: limit)
    }

    /// Opens a volume's archive for reading: a regular file (a FIFO or anything else is refused
    /// at once, 65, never waited on).
    static func openArchive(_ record: VolumeRecord, in snap: FileDescriptor, app: Name) throws(Failure) -> FileDescriptor {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(record.archive, relativeTo: snap, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) } catch {
            throw Failure(.badData, "missing-archive", "snapshot of '\(app)': \(record.archive): \(error.reason)")
        }
        do {
            guard try fd.status().st_mode & S_IFMT == S_IFREG else {
                fd.closeQuietly()
                throw Failure(.badData, "bad-archive", "snapshot of '\(app)': \(record.archive) is not a regular file")
            }
            try fd.setNonBlocking(false)
        } catch let f as Failure {
            throw f
        } catch {
            fd.closeQuietly()
            throw Failure.from(error)
        }
        return fd
    }

    /// Re-reads every archive and checks it against the manifest (hash, size, entries, tree
    /// digest). Throws 65 on the first disagreement, 66 when there is no snapshot.
    public func verify() throws(Failure) -> Manifest {
        guard let m = try manifest() else { throw Failure(.noInput, "no-snapshot", "app '\(app)' has no snapshot") }
        let dir = try state.open([app.value, "snapshot"], create: false)
        defer { dir.closeQuietly() }
        try SnapshotStore.check(m, in: dir)
        return m
    }

    /// Re-reads every archive of `manifest` below `dir` and checks it.
    static func check(_ manifest: Manifest, in dir: FileDescriptor) throws(Failure) {
        for v in manifest.volumes {
            let fd = try openArchive(v, in: dir, app: manifest.app)
            defer { fd.closeQuietly() }
            let s: ArchiveSummary
            do { s = try Extractor.verify(from: fd, expectedSHA256: v.sha256) } catch { throw Failure(error) }
            guard s.bytes == v.bytes, s.entries == v.entries, s.treeDigest == v.treeDigest else {
                throw Failure(.badData, "manifest-mismatch", "snapshot of '\(manifest.app)': \(v.archive) does not match its manifest")
            }
        }
    }

    // MARK: taking

    /// Archives every volume and swaps the result in as the one known-good snapshot.
    /// With `verify`, the new archives are re-read and checked against their manifest before the
    /// swap; `beforeSwap` runs last before it (promotion records its journal there). The
    /// previous system's snapshot is never replaced, except by its migration (`replacingLegacy`).
    public func take(
        _ volumes: [VolumeTarget], version: String?, commit: String?, verify: Bool = false, replacingLegacy: Bool = false,
        beforeSwap: (Manifest) throws(Failure) -> Void = { _ in }
    ) throws(Failure) -> Manifest {
        guard !volumes.isEmpty else { throw Failure(.noInput, "no-volumes", "app '\(app)' has no volumes to snapshot") }
        if !replacingLegacy { try LegacyState.refuse(app, state: state) }
        var seen = Set<Name>()
        for v in volumes where !seen.insert(v.name).inserted { throw Failure.usage("volume '\(v.name)' given twice") }
        try recover(volumes: volumes)
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        try removeLeftovers(in: dir)
        let temp = ".snapshot.new-\(try SnapshotStore.token())"
        do {
            try Path.makeDirectory(temp, in: dir, mode: 0o700)
        } catch {
            throw Failure(error, doing: "creating '\(temp)'")
        }
        do {
            let records = try writeArchives(volumes, into: temp, in: dir)
            let manifest = Manifest(
                app: app, version: version, commit: commit, takenAt: Timestamp.now().rfc3339,
                toolVersion: SnapshotStore.toolVersion, volumes: records)
            let snap = try FileDescriptor.open(temp, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { snap.closeQuietly() }
            try AtomicFile.write(manifest.bytes, to: "manifest.json", in: snap)
            try snap.sync()
            if verify { try SnapshotStore.check(manifest, in: snap) }
            try beforeSwap(manifest)
            if try Path.statusIfExists("snapshot", in: dir) != nil {
                try Path.exchange(temp, "snapshot", in: dir)
                try dir.sync()
            } else {
                try Path.rename(temp, in: dir, to: "snapshot", in: dir)
                try dir.sync()
            }
            try? Path.removeTree(temp, in: dir)  // the old snapshot, now at the temporary name
            return manifest
        } catch {
            try? Path.removeTree(temp, in: dir)
            if let s = error as? SystemError { throw Failure(s, doing: "snapshot of '\(app)'") }
            throw Failure.from(error)
        }
    }

    func writeArchives(_ volumes: [VolumeTarget], into temp: String, in dir: FileDescriptor) throws -> [VolumeRecord] {
        let snap = try FileDescriptor.open(temp, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { snap.closeQuietly() }
        try Path.makeDirectory("volumes", in: snap, mode: 0o700)
        let out = try FileDescriptor.open("volumes", relativeTo: snap, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { out.closeQuietly() }
        var records: [VolumeRecord] = []
        for v in volumes.sorted(by: { $0.name < $1.name }) {
            let tree: FileDescriptor
            do { tree = try FileDescriptor.open(v.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
                throw Failure(error, doing: "volume '\(v.name)' at '\(v.path)'")
            }
            defer { tree.closeQuietly() }
            let file = try FileDescriptor.open("\(v.name.value).tar", relativeTo: out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
            defer { file.closeQuietly() }
            let summary = try ArchiveWriter.write(tree: tree, to: file)
            var record = VolumeRecord(name: v.name, bytes: summary.bytes, entries: summary.entries, sha256: summary.sha256, treeDigest: summary.treeDigest)
            record.skipped = summary.skipped
            records.append(record)
        }
        try out.sync()
        return records
    }

    func removeLeftovers(in dir: FileDescriptor) throws(Failure) {
        do {
            for name in try Path.list(dir) where name.hasPrefix(".snapshot.new-") || AtomicFile.isTemporary(name) {
                try Path.removeTree(name, in: dir)
            }
        } catch {
            throw Failure(error, doing: "cleaning up after an interrupted snapshot of '\(app)'")
        }
    }
}
