// Restoring the known-good snapshot, and the journal that makes it all-or-nothing. The mechanism
// is described at the top of Snapshot.swift.
import CCCICore
import Glibc

/// Proof that restored trees equal the manifest: per volume, the tree digest recomputed from the
/// restored directory.
public struct Receipt: Sendable {
    public struct Volume: Sendable {
        public var name: Name
        public var path: String
        public var expected: SHA256Digest
        public var actual: SHA256Digest
        public var entries: Int
        public var equal: Bool { expected == actual }
    }
    public var app: Name
    public var manifestDigest: SHA256Digest
    public var version: String?
    public var volumes: [Volume]
    public var untouched: [String]
    public var recovered: String?
    public var ok: Bool { volumes.allSatisfy(\.equal) }

    public var json: JSON {
        ["app": .string(app.value), "version": JSON(version), "manifest_digest": .string(manifestDigest.hex),
         "ok": .bool(ok), "recovered": JSON(recovered),
         "volumes": .array(volumes.map { v in
             ["name": .string(v.name.value), "path": .string(v.path), "entries": JSON(v.entries),
              "tree_digest": .string(v.actual.hex), "expected": .string(v.expected.hex), "equal": .bool(v.equal)]
         }),
         "not_in_snapshot": .array(untouched.map { .string($0) })]
    }
}

/// The restore journal. Recovery acts only on what it can prove is its own: every volume must be
/// one of the snapshot's, its live path the one the caller resolved for that name, its staging
/// name `.ccci-staging-<token>-<volume>` beside it (the token recorded here), and, once swapping,
/// the two directories must carry the inode numbers recorded before the swap.
struct Journal {
    struct Volume {
        var name: String
        var live: String
        var staging: String
        var device: UInt64?
        var liveInode: UInt64?
        var stagingInode: UInt64?
    }
    var phase: String
    var token: String
    var volumes: [Volume]

    var json: JSON {
        ["op": "restore", "phase": .string(phase), "token": .string(token), "written_at": .string(Timestamp.now().rfc3339),
         "volumes": .array(volumes.map { v in
             ["name": .string(v.name), "live": .string(v.live), "staging": .string(v.staging),
              "device": v.device.map { JSON($0) } ?? .null, "live_inode": v.liveInode.map { JSON($0) } ?? .null,
              "staging_inode": v.stagingInode.map { JSON($0) } ?? .null]
         })]
    }

    init(phase: String, token: String, volumes: [Volume]) {
        self.phase = phase
        self.token = token
        self.volumes = volumes
    }

    static func stagingPath(live: String, token: String, volume: String) -> String {
        "\(parent(live))/.ccci-staging-\(token)-\(volume)"
    }

    init(parsing bytes: [UInt8]) throws(Failure) {
        func bad(_ why: String) -> Failure { Failure(.internal, "bad-journal", "restore journal unreadable: \(why): resolve by hand (docs/operator-guide.md)") }
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw bad("\(error)") }
        guard j["op"]?.string == "restore", let phase = j["phase"]?.string, ["staging", "swapping"].contains(phase), let list = j["volumes"]?.array else {
            throw bad("unknown op or phase")
        }
        guard let token = j["token"]?.string, token.utf8.count == 12, token.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw bad("no staging token")
        }
        func number(_ v: JSON?) -> UInt64? { v?.int.flatMap { $0 >= 0 ? UInt64($0) : nil } }
        var vs: [Volume] = []
        for v in list {
            guard let n = v["name"]?.string, Name.isValid(n), let live = v["live"]?.string, let staging = v["staging"]?.string,
                live.hasPrefix("/"), !live.utf8.contains(0), Journal.base(live) != "", !Journal.base(live).hasPrefix(".ccci-staging-"),
                staging == Journal.stagingPath(live: live, token: token, volume: n), !vs.contains(where: { $0.name == n })
            else { throw bad("a volume entry is malformed") }
            vs.append(Volume(name: n, live: live, staging: staging, device: number(v["device"]), liveInode: number(v["live_inode"]),
                             stagingInode: number(v["staging_inode"])))
        }
        self.init(phase: phase, token: token, volumes: vs)
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
    static func base(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}

extension SnapshotStore {
    func writeJournal(_ journal: Journal, in dir: FileDescriptor) throws(Failure) {
        do { try AtomicFile.write(journal.json.bytes + [0x0A], to: "journal.json", in: dir) } catch {
            throw Failure(error, doing: "writing the restore journal of '\(app)'")
        }
    }

    func removeJournal(in dir: FileDescriptor) throws(Failure) {
        do {
            try Path.unlink("journal.json", in: dir)
            try dir.sync()
        } catch {
            if error.errno != ENOENT { throw Failure(error, doing: "removing the restore journal of '\(app)'") }
        }
    }

    /// Finishes or reverses an operation a crash interrupted. Returns what it did, or nil.
    /// A restore journal is resolved only against `volumes`, the volumes the caller resolved for
    /// the app (nil: the caller has none, and an interrupted restore is refused with 75,
    /// `restore-interrupted`, for `ccci-restore` or `ccci-snap` to finish).
    @discardableResult
    public func recover(volumes targets: [VolumeTarget]?) throws(Failure) -> String? {
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        let bytes: [UInt8]?
        do { bytes = try SnapshotStore.readRegular("journal.json", in: dir, limit: 1 << 20) } catch {
            throw Failure(error, doing: "reading the restore journal of '\(app)'")
        }
        guard let bytes else { return nil }
        if let any = try? JSON.parse(bytes), any["op"]?.string == "promote" { return try recoverPromotion(any) }
        let journal = try Journal(parsing: bytes)
        guard let targets else {
            throw Failure(.busy, "restore-interrupted", "a restore of '\(app)' was interrupted: run ccci-restore '\(app)' with its volumes to finish it")
        }
        try requireOwned(journal, against: targets)
        do {
            if journal.phase == "staging" {
                for v in journal.volumes { try removeStaging(v.staging) }
                try removeJournal(in: dir)
                return "reversed"
            }
            for v in journal.volumes { try finishSwap(v) }
            try removeJournal(in: dir)
            return "rolled-forward"
        } catch let f as Failure {
            throw f
        } catch let s as SystemError {
            throw Failure(s, doing: "recovering the interrupted restore of '\(app)'")
        } catch {
            throw Failure.from(error)
        }
    }

    /// Refuses (70, journal kept) a journal naming anything but this app's own volumes and the
    /// staging names this toolkit made beside them.
    func requireOwned(_ journal: Journal, against targets: [VolumeTarget]) throws(Failure) {
        func unproven(_ why: String) -> Failure {
            Failure(.internal, "journal-unproven", "restore journal of '\(app)': \(why); nothing was touched and the journal is kept: resolve by hand (docs/operator-guide.md)")
        }
        let names = Set((try? manifest())??.volumes.map(\.name.value) ?? [])
        for v in journal.volumes {
            guard names.contains(v.name) else { throw unproven("volume '\(v.name)' is not in the snapshot") }
            guard let t = targets.first(where: { $0.name.value == v.name }) else { throw unproven("volume '\(v.name)' is not one of the volumes given") }
            guard t.path == v.live else { throw unproven("volume '\(v.name)' is at '\(t.path)', the journal says '\(v.live)'") }
            if journal.phase == "swapping" && (v.device == nil || v.liveInode == nil || v.stagingInode == nil) {
                throw unproven("volume '\(v.name)' lacks its recorded inodes")
            }
        }
    }

    /// One volume of a journal in phase "swapping": exchange staging and live unless that was
    /// done, then remove the old tree (now at the staging name).
    func finishSwap(_ v: Journal.Volume) throws {
        let parent = try FileDescriptor.open(Journal.parent(v.live), O_RDONLY | O_DIRECTORY)
        defer { parent.closeQuietly() }
        let liveName = Array(Journal.base(v.live).utf8)
        let stagingName = Array(Journal.base(v.staging).utf8)
        let live = try Path.statusIfExists(liveName, in: parent)
        let staged = try Path.statusIfExists(stagingName, in: parent)
        func matches(_ st: stat?, _ inode: UInt64?) -> Bool {
            guard let st, let inode else { return false }
            return st.st_mode & S_IFMT == S_IFDIR && UInt64(st.st_dev) == v.device && UInt64(st.st_ino) == inode
        }
        if matches(live, v.stagingInode) && (staged == nil || matches(staged, v.liveInode)) {
            // Already swapped: what sits at the staging name (if anything) is the old tree.
        } else if matches(live, v.liveInode) && matches(staged, v.stagingInode) {
            try Path.exchange(Journal.base(v.staging), Journal.base(v.live), in: parent)
            try parent.sync()
        } else {
            throw Failure(.internal, "journal-unresolved", "restore of '\(app)': volume '\(v.name)' is in neither the old nor the restored state; the journal is kept: resolve by hand (docs/operator-guide.md)")
        }
        try LiveTree.remove(stagingName, in: parent)
        try parent.sync()
    }

    func removeStaging(_ path: String) throws {
        let parent = try FileDescriptor.open(Journal.parent(path), O_RDONLY | O_DIRECTORY)
        defer { parent.closeQuietly() }
        try LiveTree.remove(Array(Journal.base(path).utf8), in: parent)
        try parent.sync()
    }

    /// Restores the snapshot into the live volumes (all or nothing) and proves the result.
    public func restore(into targets: [VolumeTarget]) throws(Failure) -> Receipt {
        let recovered = try recover(volumes: targets)
        guard let manifest = try manifest() else { throw Failure(.noInput, "no-snapshot", "app '\(app)' has no snapshot") }
        var plan: [(record: VolumeRecord, target: VolumeTarget)] = []
        for record in manifest.volumes {
            guard let t = targets.first(where: { $0.name == record.name }) else {
                throw Failure(.noInput, "missing-volume", "volume '\(record.name)' of the snapshot of '\(app)' does not exist")
            }
            guard t.path.hasPrefix("/"), Journal.base(t.path) != "", !Journal.base(t.path).hasPrefix(".ccci-staging-") else {
                throw Failure.usage("invalid volume path '\(t.path)'")
            }
            if let other = plan.first(where: { $0.target.path == t.path }) {
                throw Failure.usage("volumes '\(other.target.name)' and '\(t.name)' have the same path '\(t.path)'")
            }
            plan.append((record, t))
        }
        // Before any write: every live volume exists, is a directory, and neither is nor holds a
        // mount point (what a mount brings in is not the restore's to replace).
        for p in plan { try LiveTree.check(p.target.path, volume: p.target.name) }
        let untouched = targets.filter { t in !manifest.volumes.contains { $0.name == t.name } }.map(\.name.value)
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        let token = try SnapshotStore.token()
        var journal = Journal(phase: "staging", token: token, volumes: plan.map { p in
            Journal.Volume(name: p.record.name.value, live: p.target.path,
                           staging: Journal.stagingPath(live: p.target.path, token: token, volume: p.record.name.value))
        })
        try writeJournal(journal, in: dir)
        var receipt = Receipt(app: app, manifestDigest: manifest.digest, version: manifest.version, volumes: [], untouched: untouched, recovered: recovered)
        // 1. Extract everything into staging, hashing as we read, then prove each staged tree
        //    from the disk: a value the filesystem did not keep is caught here, before the swap.
        //    Any failure: nothing live changed.
        do {
            let snap = try state.open([app.value, "snapshot"], create: false)
            defer { snap.closeQuietly() }
            for (i, p) in plan.enumerated() {
                let parent = try FileDescriptor.open(Journal.parent(p.target.path), O_RDONLY | O_DIRECTORY)
                defer { parent.closeQuietly() }
                let stagingName = Journal.base(journal.volumes[i].staging)
                let live = try Path.status(Array(Journal.base(p.target.path).utf8), in: parent)
                journal.volumes[i].device = UInt64(live.st_dev)
                journal.volumes[i].liveInode = UInt64(live.st_ino)
                try Path.makeDirectory(stagingName, in: parent, mode: 0o700)
                let staging = try FileDescriptor.open(stagingName, relativeTo: parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { staging.closeQuietly() }
                journal.volumes[i].stagingInode = UInt64(try staging.status().st_ino)
                let archive = try SnapshotStore.openArchive(p.record, in: snap, app: app)
                defer { archive.closeQuietly() }
                Progress.step("extracting '\(p.record.name)'", bytes: p.record.bytes)
                let summary = try Extractor.extract(from: archive, into: staging, expectedSHA256: p.record.sha256)
                guard summary.bytes == p.record.bytes, summary.entries == p.record.entries, summary.treeDigest == p.record.treeDigest else {
                    throw Failure(.badData, "manifest-mismatch", "snapshot of '\(app)': \(p.record.archive) does not match its manifest")
                }
                Progress.step("checking '\(p.record.name)'", bytes: p.record.bytes, estimated: true)
                let onDisk = try TreeDigest.compute(directory: staging)
                guard onDisk == p.record.treeDigest else {
                    throw Failure(.badData, "not-restorable", "snapshot of '\(app)': volume '\(p.record.name)' does not come back equal on this filesystem (it did not keep a value the archive holds); nothing live was touched")
                }
                receipt.volumes.append(Receipt.Volume(name: p.record.name, path: p.target.path, expected: p.record.treeDigest, actual: onDisk, entries: p.record.entries))
            }
        } catch {
            for v in journal.volumes { try? removeStaging(v.staging) }
            try? removeJournal(in: dir)
            if let s = error as? SystemError { throw Failure(s, doing: "restoring '\(app)'") }
            throw Failure.from(error)
        }
        // 2. Swap, volume by volume; the journal now rolls forward after a crash.
        journal.phase = "swapping"
        try writeJournal(journal, in: dir)
        try recover(volumes: targets)
        return receipt
    }

    /// Restores into scratch directories `DIR/<volume>` (a restore drill); live volumes untouched.
    /// The same checks as a restore: the archive's summary against the manifest, then the tree
    /// proven from the disk (65 otherwise). On any failure what the drill created is removed.
    public func restoreDrill(into directory: String) throws(Failure) -> Receipt {
        guard let manifest = try manifest() else { throw Failure(.noInput, "no-snapshot", "app '\(app)' has no snapshot") }
        var receipt = Receipt(app: app, manifestDigest: manifest.digest, version: manifest.version, volumes: [], untouched: [], recovered: nil)
        var createdBase = false
        var made: [String] = []
        var base: FileDescriptor? = nil
        defer { base?.closeQuietly() }
        do {
            if try Path.statusIfExists(directory, follow: true) == nil {
                try Path.makeDirectories(directory)
                createdBase = true
            }
            let dir = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
            base = dir
            let snap = try state.open([app.value, "snapshot"], create: false)
            defer { snap.closeQuietly() }
            for record in manifest.volumes {
                try Path.makeDirectory(record.name.value, in: dir, mode: 0o700)
                made.append(record.name.value)
                let target = try FileDescriptor.open(record.name.value, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { target.closeQuietly() }
                let archive = try SnapshotStore.openArchive(record, in: snap, app: app)
                defer { archive.closeQuietly() }
                Progress.step("extracting '\(record.name)'", bytes: record.bytes)
                let summary = try Extractor.extract(from: archive, into: target, expectedSHA256: record.sha256)
                guard summary.bytes == record.bytes, summary.entries == record.entries, summary.treeDigest == record.treeDigest else {
                    throw Failure(.badData, "manifest-mismatch", "snapshot of '\(app)': \(record.archive) does not match its manifest")
                }
                Progress.step("checking '\(record.name)'", bytes: record.bytes, estimated: true)
                let proof = try prove(record, at: "\(directory)/\(record.name.value)")
                guard proof.equal else {
                    throw Failure(.badData, "not-restorable", "snapshot of '\(app)': volume '\(record.name)' does not come back equal on this filesystem")
                }
                receipt.volumes.append(proof)
            }
        } catch {
            if let dir = base { for name in made { try? LiveTree.remove(Array(name.utf8), in: dir) } }
            if createdBase { try? Path.removeDirectory(directory) }
            if let s = error as? SystemError { throw Failure(s, doing: "restore drill of '\(app)' into '\(directory)'") }
            throw Failure.from(error)
        }
        return receipt
    }

    func prove(_ record: VolumeRecord, at path: String) throws(Failure) -> Receipt.Volume {
        do {
            let fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { fd.closeQuietly() }
            let digest = try TreeDigest.compute(directory: fd)
            return Receipt.Volume(name: record.name, path: path, expected: record.treeDigest, actual: digest, entries: record.entries)
        } catch let s as SystemError {
            throw Failure(s, doing: "reading back '\(path)'")
        } catch {
            throw Failure.from(error)
        }
    }
}
