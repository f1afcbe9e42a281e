// Migrating the previous system's state of one app in place (ccci-migrate). The old files are the
// only copy of the old known-good, so none of them is changed or removed before its replacement
// is proven. Under the app's lock:
//
//   1. read `snapshot/meta.json` and list `snapshot/volumes/*.tar` (or the same below
//      `legacy/snapshot/`, where an interrupted earlier run left them);
//   2. extract every old tar with the strict extractor, restore's own judgement (hostile, corrupt
//      or unsupported content refuses the app while nothing has been changed), into a scratch
//      directory `<app>/.migrate-<token>/<volume>`, and check the tree on disk has the digest read
//      from the archive: owners, modes, times, links and xattrs all kept;
//   3. write our snapshot of those trees (native pax, deterministic, a manifest with digests),
//      re-read and verify it, check each volume's tree digest equals its old archive's; only then,
//      just before the new snapshot is renamed into place, move the old `snapshot/` to
//      `legacy/snapshot/` (one rename);
//   4. remove the scratch; copy the old record to `legacy/canonical.json`, then write ours over
//      `canonical.json` (its version is the snapshot's, its provenance the old record's);
//   5. append `migrated` to history.jsonl (unless a crashed run already did), and write
//      `legacy/migration.json` last: from then on the app is ours (see LegacyState).
//
// A crash anywhere leaves the old snapshot complete, at `snapshot/` (before the rename in 3) or at
// `legacy/snapshot/` (after), and the app legacy until 5; the next run removes the scratch and
// starts again from wherever the old snapshot is. An old record without any snapshot is retired
// to `legacy/canonical.json` (the next green cold run promotes afresh). A refused app keeps every
// old file where it was.
import CCCICore
import Glibc

/// The old `snapshot/`: meta.json (kept as it is) and one plain tar per volume.
public struct LegacySnapshot: Sendable {
    /// Where it is below the app's directory: `snapshot` or `legacy/snapshot`.
    public var location: String
    public var meta: JSON
    public var volumes: [Name]

    public var version: String? { meta["version"]?.string }
    public var commit: String? { meta["commit"]?.string }

    static func incomplete(_ app: Name, _ why: String) -> Failure {
        Failure(.badData, "legacy-incomplete", "the old snapshot of '\(app)' is incomplete: \(why); nothing was changed")
    }

    /// Reads meta.json and the volume list. The volumes are the `volumes/*.tar` files; when
    /// meta.json names volumes, the two lists must agree.
    static func read(_ app: Name, at location: String, in appDir: FileDescriptor) throws(Failure) -> LegacySnapshot {
        do {
            let dir = try Migration.openDirectory(location, in: appDir)
            defer { dir.closeQuietly() }
            guard let bytes = try AtomicFile.readIfExists("meta.json", in: dir, limit: 1 << 20) else {
                throw incomplete(app, "\(location)/meta.json is missing")
            }
            guard let meta = try? JSON.parse(bytes), meta.object != nil else { throw incomplete(app, "\(location)/meta.json is not a JSON object") }
            guard let volumesDir = try? FileDescriptor.open("volumes", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else {
                throw incomplete(app, "\(location)/volumes/ is missing")
            }
            defer { volumesDir.closeQuietly() }
            var names: [Name] = []
            for file in try Path.list(volumesDir) where file.hasSuffix(".tar") {
                let base = String(file.dropLast(4))
                guard Name.isValid(base), let st = try Path.statusIfExists(file, in: volumesDir), st.st_mode & S_IFMT == S_IFREG else {
                    throw incomplete(app, "\(location)/volumes/\(file) is not a regular file with a valid volume name")
                }
                names.append(try Name(base, kind: "volume"))
            }
            guard !names.isEmpty else { throw incomplete(app, "\(location)/volumes/ holds no .tar") }
            if let listed = try listedVolumes(meta) {
                let onDisk = Set(names.map(\.value))
                if let missing = listed.first(where: { !onDisk.contains($0) }) { throw incomplete(app, "meta.json names volume '\(missing)' but \(location)/volumes/\(missing).tar is missing") }
                if let extra = onDisk.sorted().first(where: { !listed.contains($0) }) { throw incomplete(app, "\(location)/volumes/\(extra).tar is not in meta.json") }
            }
            return LegacySnapshot(location: location, meta: meta, volumes: names)
        } catch let f as Failure {
            throw f
        } catch let s as SystemError {
            throw Failure(s, doing: "reading the old snapshot of '\(app)'")
        } catch {
            throw Failure.from(error)
        }
    }

    /// The volume names meta.json lists, if it lists any: an array of names or of objects with
    /// `name` (or `volume`), or an object keyed by name.
    static func listedVolumes(_ meta: JSON) throws(Failure) -> Set<String>? {
        guard let v = meta["volumes"], !v.isNull else { return nil }
        if let o = v.object { return Set(o.keys) }
        guard let a = v.array else { throw Failure(.badData, "legacy-incomplete", "meta.json: 'volumes' is neither a list nor an object") }
        var names = Set<String>()
        for e in a {
            guard let n = e.string ?? e["name"]?.string ?? e["volume"]?.string else {
                throw Failure(.badData, "legacy-incomplete", "meta.json: an entry of 'volumes' has no name")
            }
            names.insert(n)
        }
        return names
    }
}

/// The old `canonical.json`: `{recipe, domain, version, commit, status, ts}`.
public struct LegacyRecord: Sendable {
    /// Where it is below the app's directory: `canonical.json` or `legacy/canonical.json`.
    public var location: String
    public var bytes: [UInt8]
    public var json: JSON

    static func read(at location: String, in appDir: FileDescriptor) throws(SystemError) -> LegacyRecord? {
        guard let bytes = try AtomicFile.readIfExists(location, in: appDir, limit: 1 << 20), let j = try? JSON.parse(bytes),
            LegacyState.isLegacyRecord(j)
        else { return nil }
        return LegacyRecord(location: location, bytes: bytes, json: j)
    }

    /// `ts` as our RFC 3339 text: an RFC 3339 string (a zone-less one is taken as UTC) or seconds
    /// since the epoch; nil when it is neither.
    var promotedAt: String? {
        if let n = json["ts"]?.double, n.isFinite, n > 0 {
            return Timestamp(seconds: Int64(n), nanoseconds: Int((n - n.rounded(.down)) * 1e9)).rfc3339
        }
        guard let s = json["ts"]?.string else { return nil }
        return (Timestamp(rfc3339: s) ?? Timestamp(rfc3339: s + "Z"))?.rfc3339
    }
}

/// One app's migration. `survey` only reads; `run` (the caller holds the app's lock) migrates.
public struct Migration {
    public let state: StateRoot
    public let app: Name

    public init(state: StateRoot, app: Name) {
        self.state = state
        self.app = app
    }

    /// What is in the app's directory, read without changing anything.
    struct Survey {
        var markers: [String]
        var migrated: Bool
        var snapshot: LegacySnapshot?
        var record: LegacyRecord?
        /// Both `snapshot/` (old) and `legacy/snapshot/` exist: resolve by hand.
        var conflict: Bool
    }

    func survey(_ dir: FileDescriptor) throws(Failure) -> Survey {
        do {
            let markers = try LegacyState.markers(in: dir)
            let migrated = try Path.statusIfExists("\(LegacyState.directory)/\(LegacyState.doneMarker)", in: dir) != nil
            var s = Survey(markers: markers, migrated: migrated, snapshot: nil, record: nil, conflict: false)
            if markers.isEmpty { return s }
            let old = markers.contains { $0.hasPrefix("snapshot/") }
            let moved = try Path.statusIfExists("\(LegacyState.directory)/snapshot", in: dir) != nil
            s.conflict = old && moved
            if old || moved { s.snapshot = try LegacySnapshot.read(app, at: old ? "snapshot" : "\(LegacyState.directory)/snapshot", in: dir) }
            s.record = try LegacyRecord.read(at: "canonical.json", in: dir) ?? LegacyRecord.read(at: "\(LegacyState.directory)/canonical.json", in: dir)
            if let r = s.record, (r.json["domain"]?.string ?? "").isEmpty {
                throw Failure(.badData, "legacy-incomplete", "the old record of '\(app)' (\(r.location)) has no domain; nothing was changed")
            }
            return s
        } catch let f as Failure {
            throw f
        } catch let e as SystemError {
            throw Failure(e, doing: "reading the state of '\(app)'")
        } catch {
            throw Failure.from(error)
        }
    }

    /// Throws `no-app` (66) when the app has no state directory.
    public func requireApp() throws(Failure) { try openApp().closeQuietly() }

    func openApp() throws(Failure) -> FileDescriptor {
        do { return try FileDescriptor.open("\(state.path)/\(app.value)", O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
            if error.errno == ENOENT { throw Failure(.noInput, "no-app", "app '\(app)' has no state directory") }
            throw Failure(error, doing: "state of '\(app)'")
        }
    }

    func result(_ action: String, _ extra: [(String, JSON)] = []) -> JSON {
        var o = JSONObject([("app", .string(app.value)), ("action", .string(action))])
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    /// How the previous system's plain tars are read, by the dry run and the migration alike: the
    /// one strict judgement, except that directories they need but do not name (their root, when
    /// written without `./`) are accepted; the migration rewrites them in our format, naming every
    /// directory, and proves the trees equal.
    static var oldArchives: Extractor.Options {
        var o = Extractor.Options()
        o.allowImpliedDirectories = true
        return o
    }

    /// The dry run: reports what `run` would do, reading every old tar through the strict reader
    /// (checks that need no filesystem: framing, checksums, names, sizes). Writes nothing.
    public func plan() throws(Failure) -> JSON {
        let dir = try openApp()
        defer { dir.closeQuietly() }
        let s = try survey(dir)
        if s.markers.isEmpty { return result(s.migrated ? "already-migrated" : "not-legacy") }
        if s.conflict { throw conflict() }
        guard let snapshot = s.snapshot else { return result("would-retire", [("reason", "no-snapshot"), ("record", .bool(s.record != nil))]) }
        var volumes: [JSON] = []
        for v in snapshot.volumes {
            let summary = try readOld(v, of: snapshot, in: dir) { (fd) throws(ArchiveError) in try Extractor.verify(from: fd, expectedSHA256: nil, options: Self.oldArchives) }
            volumes.append(["name": .string(v.value), "legacy_sha256": .string(summary.sha256.hex), "bytes": JSON(summary.bytes),
                            "entries": JSON(summary.entries), "tree_digest": .string(summary.treeDigest.hex)])
        }
        return result("would-migrate", [
            ("source", .string(snapshot.location)), ("version", JSON(snapshot.version ?? s.record?.json["version"]?.string)),
            ("record", .bool(s.record != nil)), ("volumes", .array(volumes)),
        ])
    }

    /// Migrates the app (see the top of this file). The caller holds the app's lock.
    public func run() throws(Failure) -> JSON {
        let dir = try openApp()
        defer { dir.closeQuietly() }
        try removeScratch(in: dir)
        let s = try survey(dir)
        if s.markers.isEmpty { return result(s.migrated ? "already-migrated" : "not-legacy") }
        if s.conflict { throw conflict() }
        let resumed = s.markers.contains("\(LegacyState.directory)/")
        guard let snapshot = s.snapshot else { return try retire(s.record, resumed: resumed, in: dir) }

        // 2. Every old tar through the strict extractor, into scratch trees.
        let scratch = ".migrate-\(try SnapshotStore.token())"
        var old: [Name: ArchiveSummary] = [:]
        var implied: [Name: Bool] = [:]
        var targets: [VolumeTarget] = []
        do {
            try Path.makeDirectory(scratch, in: dir, mode: 0o700)
            let scratchDir = try FileDescriptor.open(scratch, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { scratchDir.closeQuietly() }
            for v in snapshot.volumes {
                // Read first without writing: a corrupt archive is refused before any scratch grows,
                // and its digest (directories the archive does not name left out) tells, compared
                // with the extraction's, whether the archive leaves some directory implied.
                Progress.step("verifying the old '\(v)'", bytes: nil)
                let checked = try readOld(v, of: snapshot, in: dir) { (fd) throws(ArchiveError) in try Extractor.verify(from: fd, expectedSHA256: nil, options: Self.oldArchives) }
                // An archive that does not name its root gets the mode the extractor gives implied
                // directories (0755), not the scratch's own 0700.
                try Path.makeDirectory(v.value, in: scratchDir, mode: 0o755)
                try Path.setMode(v.value, in: scratchDir, 0o755)
                let tree = try FileDescriptor.open(v.value, relativeTo: scratchDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { tree.closeQuietly() }
                var options = Self.oldArchives
                options.durable = false  // scratch: the new archives are what gets synced
                Progress.step("extracting the old '\(v)'", bytes: nil)
                let summary = try readOld(v, of: snapshot, in: dir) { (fd) throws(ArchiveError) in
                    try Extractor.extract(from: fd, into: tree, expectedSHA256: nil, options: options)
                }
                let onDisk: SHA256Digest
                Progress.step("checking the old '\(v)'", bytes: summary.bytes, estimated: true)
                do { onDisk = try TreeDigest.compute(directory: tree) } catch { throw Failure(error) }
                guard onDisk == summary.treeDigest else { throw lossy(v) }
                old[v] = summary
                implied[v] = checked.treeDigest != summary.treeDigest
                targets.append(VolumeTarget(name: v, path: "\(state.path)/\(app.value)/\(scratch)/\(v.value)"))
            }
        } catch {
            try? removeScratch(in: dir)
            if let e = error as? SystemError { throw Failure(e, doing: "extracting the old snapshot of '\(app)'") }
            throw Failure.from(error)
        }

        // 3. Our snapshot of those trees; the old one moves aside only once the new one is proven.
        let version = snapshot.version ?? s.record?.json["version"]?.string
        let commit = s.record?.json["commit"]?.string ?? snapshot.commit
        let manifest: Manifest
        do {
            manifest = try SnapshotStore(state: state, app: app).take(targets, version: version, commit: commit, verify: true, replacingLegacy: true) {
                (m) throws(Failure) in
                for record in m.volumes where record.treeDigest != old[record.name]?.treeDigest { throw lossy(record.name) }
                if snapshot.location == "snapshot" { try moveAside("snapshot", in: dir) }
            }
        } catch {
            try? removeScratch(in: dir)
            throw error
        }
        try removeScratch(in: dir)

        // 4. The record: the old one kept under legacy/, ours in its place.
        if let record = s.record {
            let now = Timestamp.now().rfc3339
            let recipe = record.json["recipe"]?.string ?? app.value, domain = record.json["domain"]?.string ?? ""  // checked by survey
            if record.location == "canonical.json" { try keep(record.bytes, as: "canonical.json", in: dir) }
            let status = record.json["status"]?.string.flatMap { CanonicalRecord.statuses.contains($0) ? $0 : nil } ?? "idle"
            try Registry(state).write(CanonicalRecord(
                app: app, recipe: recipe, domain: domain, version: version ?? record.json["version"]?.string ?? "", commit: commit,
                status: status, run: nil, manifestDigest: manifest.digest.hex, promotedAt: record.promotedAt ?? now, updatedAt: now))
        }

        // 5. Provenance, then the marker that makes the app ours.
        let volumes: [JSON] = manifest.volumes.map { v in
            ["name": .string(v.name.value), "legacy_sha256": JSON(old[v.name]?.sha256.hex), "sha256": .string(v.sha256.hex),
             "bytes": JSON(v.bytes), "entries": JSON(v.entries), "tree_digest": .string(v.treeDigest.hex),
             "implied_directories": .bool(implied[v.name] ?? false)]
        }
        var extra: [(String, JSON)] = [
            ("resumed", .bool(resumed)), ("version", JSON(version)), ("commit", JSON(commit)), ("record", .bool(s.record != nil)),
            ("manifest_digest", .string(manifest.digest.hex)), ("volumes", .array(volumes)), ("legacy", .string("\(LegacyState.directory)/")),
        ]
        if let a = snapshot.version, let b = s.record?.json["version"]?.string, a != b {
            extra.append(("version_conflict", ["snapshot": .string(a), "record": .string(b), "kept": .string(a)]))
        }
        let out = result("migrated", extra)
        let legacySHAs = Set(volumes.compactMap { $0["legacy_sha256"]?.string })
        try log(out, legacy: s.record?.json, meta: snapshot.meta, unless: { h in
            Set(h["volumes"]?.array?.compactMap { $0["legacy_sha256"]?.string } ?? []) == legacySHAs
        })
        try finish(out, in: dir)
        return out
    }

    /// An old record without any snapshot: kept under legacy/, removed from canonical.json.
    func retire(_ record: LegacyRecord?, resumed: Bool, in dir: FileDescriptor) throws(Failure) -> JSON {
        do {
            if let record, record.location == "canonical.json" {
                try keep(record.bytes, as: "canonical.json", in: dir)
                try Path.unlink("canonical.json", in: dir)
                try dir.sync()
            }
        } catch let f as Failure {
            throw f
        } catch let e as SystemError {
            throw Failure(e, doing: "retiring the old record of '\(app)'")
        } catch {
            throw Failure.from(error)
        }
        let out = result("retired", [("resumed", .bool(resumed)), ("reason", "no-snapshot"), ("record", .bool(record != nil)), ("legacy", .string("\(LegacyState.directory)/"))])
        try log(out, legacy: record?.json, meta: nil, unless: { $0["action"]?.string == "retired" })
        try finish(out, in: dir)
        return out
    }

    func log(_ out: JSON, legacy record: JSON?, meta: JSON?, unless done: (JSON) -> Bool) throws(Failure) {
        let registry = Registry(state)
        if try registry.history(app).contains(where: { $0["event"]?.string == "migrated" && done($0) }) { return }
        var fields = out.object ?? JSONObject()
        fields["app"] = nil
        fields["resumed"] = nil
        fields["legacy_record"] = record ?? .null
        fields["legacy_meta"] = meta ?? .null
        try registry.appendHistory(app, event: "migrated", fields: fields)
    }

    func finish(_ out: JSON, in dir: FileDescriptor) throws(Failure) {
        var marker = out.object ?? JSONObject()
        marker["migrated_at"] = .string(Timestamp.now().rfc3339)
        do {
            let legacy = try legacyDirectory(in: dir)
            defer { legacy.closeQuietly() }
            try AtomicFile.write(JSON.object(marker).bytes + [0x0A], to: LegacyState.doneMarker, in: legacy)
        } catch {
            throw Failure(error, doing: "writing the migration marker of '\(app)'")
        }
    }

    // MARK: pieces

    /// Opens `<old snapshot>/volumes/<v>.tar` and hands it to `read`.
    func readOld(_ v: Name, of snapshot: LegacySnapshot, in dir: FileDescriptor, _ read: (FileDescriptor) throws(ArchiveError) -> ArchiveSummary) throws(Failure) -> ArchiveSummary {
        let fd: FileDescriptor
        do {
            let volumes = try Migration.openDirectory("\(snapshot.location)/volumes", in: dir)
            defer { volumes.closeQuietly() }
            fd = try FileDescriptor.open("\(v.value).tar", relativeTo: volumes, O_RDONLY | O_NOFOLLOW)
        } catch {
            throw Failure(error, doing: "opening the old archive of volume '\(v)' of '\(app)'")
        }
        defer { fd.closeQuietly() }
        do { return try read(fd) } catch {
            var f = Failure(error)
            f.message = "old archive of volume '\(v)' of '\(app)' refused: \(f.message); nothing was changed"
            f.details = ["app": .string(app.value), "volume": .string(v.value)]
            throw f
        }
    }

    func legacyDirectory(in dir: FileDescriptor) throws(SystemError) -> FileDescriptor {
        try Path.makeDirectoryIfMissing(LegacyState.directory, in: dir, mode: 0o700)
        return try FileDescriptor.open(LegacyState.directory, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    }

    /// Moves `<app>/<name>` to `<app>/legacy/<name>` in one rename, durably.
    func moveAside(_ name: String, in dir: FileDescriptor) throws(Failure) {
        do {
            let legacy = try legacyDirectory(in: dir)
            defer { legacy.closeQuietly() }
            if try Path.statusIfExists(name, in: legacy) != nil { throw conflict() }
            try dir.sync()  // legacy/ itself, if just made
            try Path.rename(name, in: dir, to: name, in: legacy)
            try legacy.sync()
            try dir.sync()
        } catch let f as Failure {
            throw f
        } catch let e as SystemError {
            throw Failure(e, doing: "moving the old \(name) of '\(app)' to \(LegacyState.directory)/")
        } catch {
            throw Failure.from(error)
        }
    }

    /// Writes a copy of an old file under legacy/ (atomically, so a crash leaves it whole or absent).
    func keep(_ bytes: [UInt8], as name: String, in dir: FileDescriptor) throws(Failure) {
        do {
            let legacy = try legacyDirectory(in: dir)
            defer { legacy.closeQuietly() }
            try dir.sync()
            try AtomicFile.write(bytes, to: name, in: legacy)
        } catch {
            throw Failure(error, doing: "keeping the old \(name) of '\(app)'")
        }
    }

    /// Removes every `.migrate-*` scratch directory (this run's, or a crashed run's).
    func removeScratch(in dir: FileDescriptor) throws(Failure) {
        do {
            for name in try Path.list(dir) where name.hasPrefix(".migrate-") { try Migration.removeTree(name, in: dir) }
        } catch {
            throw Failure(error, doing: "removing the migration scratch of '\(app)'")
        }
    }

    func conflict() -> Failure {
        Failure(.cantCreate, "legacy-conflict", "app '\(app)' has an old snapshot both at snapshot/ and at \(LegacyState.directory)/snapshot/: keep one by hand (docs/commands/ccci-migrate.md)")
    }

    func lossy(_ v: Name) -> Failure {
        Kernel.effectiveUserID == 0
            ? Failure(.io, "lossy-extraction", "the old archive of volume '\(v)' of '\(app)' cannot be reproduced exactly on this filesystem; nothing was changed")
            : Failure(.permission, "lossy-extraction", "the old archive of volume '\(v)' of '\(app)' cannot be reproduced exactly without root (owners); nothing was changed")
    }

    /// Opens a directory below `dir` one component at a time, never following a symlink.
    static func openDirectory(_ path: String, in dir: FileDescriptor) throws(SystemError) -> FileDescriptor {
        var current = try FileDescriptor.open(".", relativeTo: dir, O_RDONLY | O_DIRECTORY)
        for c in path.split(separator: "/") {
            do {
                let next = try FileDescriptor.open(String(c), relativeTo: current, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                current.closeQuietly()
                current = next
            } catch {
                current.closeQuietly()
                throw error
            }
        }
        return current
    }

    /// Removes a scratch tree the extractor made, whatever modes it gave its directories (a
    /// read-only directory would stop a non-root removal).
    static func removeTree(_ name: String, in dir: FileDescriptor) throws(SystemError) {
        guard let st = try Path.statusIfExists(name, in: dir) else { return }
        guard st.st_mode & S_IFMT == S_IFDIR else { return try Path.unlink(name, in: dir) }
        try Path.setMode(name, in: dir, 0o700)
        let sub = try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        do throws(SystemError) {
            for child in try Path.list(sub) { try removeTree(child, in: sub) }
            sub.closeQuietly()
        } catch {
            sub.closeQuietly()
            throw error
        }
        try Path.removeDirectory(name, in: dir)
    }

    /// Every app directory below the root that is legacy or has been migrated.
    public static func candidates(state: StateRoot) throws(Failure) -> [Name] {
        let root: FileDescriptor
        do { root = try FileDescriptor.open(state.path, O_RDONLY | O_DIRECTORY) } catch {
            if error.errno == ENOENT { return [] }
            throw Failure(error, doing: "state directory '\(state.path)'")
        }
        defer { root.closeQuietly() }
        var apps: [Name] = []
        do {
            for entry in try Path.list(root) where Name.isValid(entry) && !["alerts", "triggers", "slots"].contains(entry) {
                guard let st = try Path.statusIfExists(entry, in: root), st.st_mode & S_IFMT == S_IFDIR else { continue }
                let dir = try FileDescriptor.open(entry, relativeTo: root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                defer { dir.closeQuietly() }
                if try !LegacyState.markers(in: dir).isEmpty || Path.statusIfExists("\(LegacyState.directory)/\(LegacyState.doneMarker)", in: dir) != nil {
                    apps.append(try Name(entry))
                }
            }
        } catch let f as Failure {
            throw f
        } catch let e as SystemError {
            throw Failure(e, doing: "listing '\(state.path)'")
        } catch {
            throw Failure.from(error)
        }
        return apps
    }
}

extension SnapshotStore {
    /// Refuses the previous system's state instead of reading it as ours.
    func refuseLegacy(in dir: FileDescriptor) throws(Failure) {
        let found: [String]
        do { found = try LegacyState.markers(in: dir) } catch { throw Failure(error, doing: "state of '\(app)'") }
        if !found.isEmpty { throw LegacyState.failure(app, markers: found) }
    }
}
