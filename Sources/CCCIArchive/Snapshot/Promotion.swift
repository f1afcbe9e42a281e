// Promote-on-green-cold: only an enrolled recipe's green, cold run on latest (no PR ref) may
// become the known-good. A PR can never poison the canonical.
//
// Promotion is atomic through the journal: the new snapshot is written and verified beside the
// old one; then `journal.json` records {"op":"promote", the new manifest digest, the new record};
// then the snapshot is swapped in, the record written, the journal removed, the history appended.
// The promotion is complete once the journal is gone: a history line that cannot be appended
// after that is a warning in the result (`history_appended: false`, `warnings`), never a failure
// of a promotion that happened.
// After a crash, recovery compares the live snapshot with the journal: the new one is in place ->
// write the record (roll forward); the old one is still there -> drop the journal (the old
// snapshot and the old record still agree). Either way `canonical.json` and `snapshot/` vouch
// for the same data.
import CCCICore
import Glibc

public struct RunRecord: Sendable {
    public var app: Name
    public var mode: String
    public var ref: String?
    public var status: String
    public var version: String
    public var commit: String?
    public var run: String?

    public init(parsing bytes: [UInt8]) throws(Failure) {
        func bad(_ why: String) -> Failure { Failure(.badData, "bad-run-record", "invalid run record: \(why)") }
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw bad("\(error)") }
        guard j.object != nil else { throw bad("not a JSON object") }
        guard let a = j["app"]?.string else { throw bad("missing 'app'") }
        guard let mode = j["mode"]?.string, ["cold", "quick"].contains(mode) else { throw bad("'mode' must be cold or quick") }
        guard let status = j["status"]?.string, ["pass", "fail"].contains(status) else { throw bad("'status' must be pass or fail") }
        guard let version = j["version"]?.string, !version.isEmpty else { throw bad("missing 'version'") }
        guard let refValue = j["ref"], refValue.isNull || refValue.string != nil else { throw bad("'ref' must be a string or null") }
        app = try Name(a, kind: "app")
        self.mode = mode
        self.status = status
        self.version = version
        ref = refValue.string.flatMap { $0.isEmpty ? nil : $0 }
        commit = j["commit"]?.string
        run = j["run"]?.string
    }
}

public enum Promotion {
    /// The predicate: enrolled AND pass AND cold AND no ref. The reasons a run fails it.
    public static func reasons(_ run: RunRecord, enrolled: [Name]) -> [String] {
        var why: [String] = []
        if !enrolled.contains(run.app) { why.append("not-enrolled") }
        if run.status != "pass" { why.append("not-green") }
        if run.mode != "cold" { why.append("not-cold") }
        if run.ref != nil { why.append("pull-request-ref") }
        return why
    }

    /// Snapshots the canonical's volumes and records the new known-good. The caller holds the
    /// app's lock and has checked that no container uses the volumes.
    public static func promote(_ run: RunRecord, volumes: [VolumeTarget], identity: AppIdentity, state: StateRoot) throws(Failure) -> (record: CanonicalRecord, warnings: [Failure]) {
        let store = SnapshotStore(state: state, app: run.app)
        let registry = Registry(state)
        let previous = try registry.record(run.app)
        let now = Timestamp.now().rfc3339
        var record = CanonicalRecord(
            app: run.app, recipe: identity.recipe.value, domain: identity.domain, version: run.version, commit: run.commit,
            status: "idle", run: run.run, manifestDigest: "", promotedAt: now, updatedAt: now)
        let manifest = try store.take(volumes, version: run.version, commit: run.commit, verify: true) { (m) throws(Failure) in
            record.manifestDigest = m.digest.hex
            let dir = try state.app(run.app, create: true)
            defer { dir.closeQuietly() }
            let journal: JSON = ["op": "promote", "written_at": .string(now), "manifest_digest": .string(m.digest.hex), "record": record.json]
            do throws(SystemError) { try AtomicFile.write(journal.bytes + [0x0A], to: "journal.json", in: dir) } catch {
                throw Failure(error, doing: "writing the promotion journal of '\(run.app)'")
            }
        }
        let warning = try finish(record, previous: previous, manifest: manifest, store: store, recovered: false)
        return (record, warning.map { [$0] } ?? [])
    }

    /// Writes the record and removes the journal (the promotion is then done), then appends the
    /// history; a failed append is answered as a warning, not thrown.
    @discardableResult
    static func finish(_ record: CanonicalRecord, previous: CanonicalRecord?, manifest: Manifest, store: SnapshotStore, recovered: Bool) throws(Failure) -> Failure? {
        let registry = Registry(store.state)
        try registry.write(record)
        let dir = try store.appDirectory()
        defer { dir.closeQuietly() }
        try store.removeJournal(in: dir)
        var fields = JSONObject([
            ("run", JSON(record.run)), ("version", .string(record.version)), ("commit", JSON(record.commit)),
            ("manifest_digest", .string(record.manifestDigest)), ("previous_version", JSON(previous?.version)),
            ("previous_manifest_digest", JSON(previous?.manifestDigest)),
            ("volumes", .array(manifest.volumes.map { ["name": .string($0.name.value), "tree_digest": .string($0.treeDigest.hex)] })),
        ])
        if recovered { fields["recovered"] = true }
        do { try registry.appendHistory(record.app, event: "promoted", fields: fields) } catch {
            return Failure(error.exit, "history-not-appended", "promoted, but the history of '\(record.app)' was not appended: \(error.message)")
        }
        return nil
    }
}

extension SnapshotStore {
    /// Resolves a promotion journal (see the top of Promotion.swift). Called by `recover`.
    func recoverPromotion(_ journal: JSON) throws(Failure) -> String {
        guard let digest = journal["manifest_digest"]?.string, let recordJSON = journal["record"] else {
            throw Failure(.internal, "bad-journal", "promotion journal of '\(app)' is malformed: resolve by hand (docs/operator-guide.md)")
        }
        let record = try CanonicalRecord(parsing: recordJSON.bytes)
        let dir = try appDirectory()
        defer { dir.closeQuietly() }
        if let m = try? manifest(), m.digest.hex == digest {
            try Promotion.finish(record, previous: try Registry(state).record(app), manifest: m, store: self, recovered: true)
            return "promotion-rolled-forward"
        }
        try removeJournal(in: dir)
        return "promotion-dropped"
    }
}
