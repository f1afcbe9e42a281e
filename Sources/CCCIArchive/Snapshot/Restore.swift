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

struct Journal {
    struct Volume {
        var name: String
        var live: String
        var staging: String
        var stagingInode: UInt64?
    }
    var phase: String
    var volumes: [Volume]

    var json: JSON {
        ["op": "restore", "phase": .string(phase), "written_at": .string(Timestamp.now().rfc3339),
         "volumes": .array(volumes.map { v in
             ["name": .string(v.name), "live": .string(v.live), "staging": .string(v.staging),
              "staging_inode": v.stagingInode.map { JSON($0) } ?? .null]
         })]
    }

    init(phase: String, volumes: [Volume]) {
        self.phase = phase
        self.volumes = volumes
    }

    init(parsing bytes: [UInt8]) throws(Failure) {
        func bad(_ why: String) -> Failure { Failure(.internal, "bad-journal", "restore journal unreadable: \(why): resolve by hand (docs/operator-guide.md)") }
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw bad("\(error)") }
        guard j["op"]?.string == "restore", let phase = j["phase"]?.string, ["staging", "swapping"].contains(phase), let list = j["volumes"]?.array else {
            throw bad("unknown op or phase")
        }
        var vs: [Volume] = []
        for v in list {
            guard let n = v["name"]?.string, let live = v["live"]?.string, let staging = v["staging"]?.string,
                live.hasPrefix("/"), staging.hasPrefix("/"), Journal.parent(live) == Journal.parent(staging),
                Journal.base(staging).hasPrefix(".ccci-staging-")
            else { throw bad("a volume entry is malformed") }
            vs.append(Volume(name: n, live: live, staging: staging, stagingInode: v["staging_inode"]?.int.map { UInt64($0) }))
        }
        self.init(phase: phase, volumes: vs)
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

    /// Finishes or reverses a restore that a crash interrupted. Returns what it did, or nil.
    @discardableResult
    public func recover() throws(Failure) -> String? {
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.readIfExists("journal.json", in: dir, limit: 1 << 20) } catch {
            throw Failure(error, doing: "reading the restore journal of '\(app)'")
        }
        guard let bytes else { return nil }
        if let any = try? JSON.parse(bytes), any["op"]?.string == "promote" { return try recoverPromotion(any) }
        let journal = try Journal(parsing: bytes)
        do {
            if journal.phase == "staging" {
                for v in journal.volumes { try removeStaging(v.staging) }
                try removeJournal(in: dir)
                return "reversed"
            }
            for v in journal.volumes {
                guard let inode = v.stagingInode else { throw Failure(.internal, "bad-journal", "restore journal lacks the staging inode of '\(v.name)'") }
                let parent = try FileDescriptor.open(Journal.parent(v.live), O_RDONLY | O_DIRECTORY)
                defer { parent.closeQuietly() }
                let live = try Path.statusIfExists(Journal.base(v.live), in: parent)
                if live.map({ UInt64($0.st_ino) }) == inode {
                    // Already swapped: what sits at the staging name is the old tree.
                } else if let staged = try Path.statusIfExists(Journal.base(v.staging), in: parent), UInt64(staged.st_ino) == inode {
                    if live == nil {
                        try Path.rename(Journal.base(v.staging), in: parent, to: Journal.base(v.live), in: parent)
                    } else {
                        try Path.exchange(Journal.base(v.staging), Journal.base(v.live), in: parent)
                    }
                    try parent.sync()
                } else {
                    throw Failure(.internal, "journal-unresolved", "restore of '\(app)': volume '\(v.name)' is in neither the old nor the restored state; the journal is kept: resolve by hand (docs/operator-guide.md)")
                }
                try Path.removeTree(Journal.base(v.staging), in: parent)
                try parent.sync()
            }
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

    func removeStaging(_ path: String) throws {
        let parent = try FileDescriptor.open(Journal.parent(path), O_RDONLY | O_DIRECTORY)
        defer { parent.closeQuietly() }
        try Path.removeTree(Journal.base(path), in: parent)
        try parent.sync()
    }

    /// Restores the snapshot into the live volumes (all or nothing) and proves the result.
    public func restore(into targets: [VolumeTarget]) throws(Failure) -> Receipt {
        let recovered = try recover()
        guard let manifest = try manifest() else { throw Failure(.noInput, "no-snapshot", "app '\(app)' has no snapshot") }
        var plan: [(record: VolumeRecord, target: VolumeTarget)] = []
        for record in manifest.volumes {
            guard let t = targets.first(where: { $0.name == record.name }) else {
                throw Failure(.noInput, "missing-volume", "volume '\(record.name)' of the snapshot of '\(app)' does not exist")
            }
            guard t.path.hasPrefix("/"), Journal.base(t.path) != "", !Journal.base(t.path).hasPrefix(".ccci-staging-") else {
                throw Failure.usage("invalid volume path '\(t.path)'")
            }
            plan.append((record, t))
        }
        let untouched = targets.filter { t in !manifest.volumes.contains { $0.name == t.name } }.map(\.name.value)
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        let token = try SnapshotStore.token()
        var journal = Journal(phase: "staging", volumes: plan.map { p in
            Journal.Volume(name: p.record.name.value, live: p.target.path, staging: "\(Journal.parent(p.target.path))/.ccci-staging-\(token)", stagingInode: nil)
        })
        try writeJournal(journal, in: dir)
        // 1. Extract everything into staging, hashing as we read. Any failure: nothing live changed.
        do {
            let snap = try state.open([app.value, "snapshot"], create: false)
            defer { snap.closeQuietly() }
            for (i, p) in plan.enumerated() {
                let parent = try FileDescriptor.open(Journal.parent(p.target.path), O_RDONLY | O_DIRECTORY)
                defer { parent.closeQuietly() }
                let stagingName = Journal.base(journal.volumes[i].staging)
                try Path.makeDirectory(stagingName, in: parent, mode: 0o700)
                let staging = try FileDescriptor.open(stagingName, relativeTo: parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { staging.closeQuietly() }
                journal.volumes[i].stagingInode = UInt64(try staging.status().st_ino)
                let archive = try FileDescriptor.open(p.record.archive, relativeTo: snap, O_RDONLY | O_NOFOLLOW)
                defer { archive.closeQuietly() }
                let summary = try Extractor.extract(from: archive, into: staging, expectedSHA256: p.record.sha256)
                guard summary.entries == p.record.entries, summary.treeDigest == p.record.treeDigest else {
                    throw Failure(.badData, "manifest-mismatch", "snapshot of '\(app)': \(p.record.archive) does not match its manifest")
                }
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
        try recover()
        // 3. The receipt: digests recomputed from the live, restored directories.
        var receipt = Receipt(app: app, manifestDigest: manifest.digest, version: manifest.version, volumes: [], untouched: untouched, recovered: recovered)
        for p in plan {
            receipt.volumes.append(try prove(p.record, at: p.target.path))
        }
        return receipt
    }

    /// Restores into scratch directories `DIR/<volume>` (a restore drill); live volumes untouched.
    public func restoreDrill(into directory: String) throws(Failure) -> Receipt {
        guard let manifest = try manifest() else { throw Failure(.noInput, "no-snapshot", "app '\(app)' has no snapshot") }
        var receipt = Receipt(app: app, manifestDigest: manifest.digest, version: manifest.version, volumes: [], untouched: [], recovered: nil)
        do {
            try Path.makeDirectories(directory)
            let base = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
            defer { base.closeQuietly() }
            let snap = try state.open([app.value, "snapshot"], create: false)
            defer { snap.closeQuietly() }
            for record in manifest.volumes {
                try Path.makeDirectory(record.name.value, in: base, mode: 0o700)
                let target = try FileDescriptor.open(record.name.value, relativeTo: base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { target.closeQuietly() }
                let archive = try FileDescriptor.open(record.archive, relativeTo: snap, O_RDONLY | O_NOFOLLOW)
                defer { archive.closeQuietly() }
                _ = try Extractor.extract(from: archive, into: target, expectedSHA256: record.sha256)
                receipt.volumes.append(try prove(record, at: "\(directory)/\(record.name.value)"))
            }
        } catch let s as SystemError {
            throw Failure(s, doing: "restore drill of '\(app)' into '\(directory)'")
        } catch {
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
