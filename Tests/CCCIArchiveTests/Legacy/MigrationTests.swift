import CCCICore
import Glibc
import Testing
@testable import CCCIArchive

/// A state directory holding one app in the previous system's format: `snapshot/meta.json`,
/// `snapshot/volumes/<v>.tar` and the old `canonical.json`.
struct LegacyFixture {
    let f: Fixture
    let state: StateRoot
    let app: Name

    init(record: Bool = true, metaVersion: String = "1.11.0+1.29.0") throws {
        f = try Fixture("ccci-migrate")
        state = StateRoot(path: f.path("state"))
        app = try Name("custom-html")
        try f.dir("src")
        try f.dir("src/content")
        try f.dir("src/content/sub", mode: 0o750)
        try f.file("src/content/index.html", "known good\n")
        try f.file("src/content/sub/secret", "s", mode: 0o600)
        try f.symlink("index.html", "src/content/link")
        try f.mtime("src/content/index.html", 1_700_000_000, 5)
        try f.dir("src/db")
        try f.file("src/db/rows", "1\n2\n")
        for d in ["state", "state/custom-html", "state/custom-html/snapshot", "state/custom-html/snapshot/volumes"] { try f.dir(d, mode: 0o700) }
        try f.write("src/content", to: "state/custom-html/snapshot/volumes/content.tar")
        try f.write("src/db", to: "state/custom-html/snapshot/volumes/db.tar")
        try f.file("state/custom-html/snapshot/meta.json", #"{"recipe":"custom-html","version":"\#(metaVersion)","volumes":["content","db"]}"#)
        if record {
            try f.file("state/custom-html/canonical.json", #"{"recipe":"custom-html","domain":"warm-custom-html.ci.example","version":"1.11.0+1.29.0","commit":"8a02606","status":"idle","ts":1748512800}"#)
        }
    }

    var migration: Migration { Migration(state: state, app: app) }
    func bytes(_ rel: String) throws -> [UInt8] { try f.read("state/custom-html/\(rel)") }
    func exists(_ rel: String) -> Bool { (try? Path.statusIfExists(f.path("state/custom-html/\(rel)"))) != nil }
}

@Suite struct Migrations {
    @Test func migratesSnapshotRecordAndHistoryAndKeepsTheOldFiles() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        let oldTar = try l.bytes("snapshot/volumes/content.tar")
        let oldRecord = try l.bytes("canonical.json")
        let out = try l.migration.run()
        #expect(out["action"]?.string == "migrated")
        #expect(out["resumed"] == false)
        #expect(try LegacyState.markers(l.app, state: l.state).isEmpty)

        let store = SnapshotStore(state: l.state, app: l.app)
        let manifest = try store.verify()
        #expect(manifest.volumes.map(\.name.value) == ["content", "db"])
        #expect(manifest.version == "1.11.0+1.29.0")
        #expect(manifest.digest.hex == out["manifest_digest"]?.string)
        // the new archive holds exactly the old tree
        #expect(manifest.volumes[0].treeDigest == (try l.f.digest("src/content")))

        let record = try #require(try Registry(l.state).record(l.app))
        #expect(record.manifestDigest == manifest.digest.hex)
        #expect(record.domain == "warm-custom-html.ci.example" && record.commit == "8a02606" && record.status == "idle")
        #expect(record.promotedAt == "2025-05-29T10:00:00.000Z")

        #expect(try l.bytes("legacy/snapshot/volumes/content.tar") == oldTar)
        #expect(try l.bytes("legacy/canonical.json") == oldRecord)
        #expect(l.exists("legacy/migration.json"))
        let history = try Registry(l.state).history(l.app)
        #expect(history.map { $0["event"]?.string } == ["migrated"])
        #expect(history[0]["legacy_record"]?["commit"]?.string == "8a02606")
        #expect(try l.f.listing("state/custom-html").filter { $0.hasPrefix(".") }.isEmpty)

        #expect(try Canonical.check(l.app, state: l.state, docker: nil)["has"] == true)
        #expect(try l.migration.run()["action"]?.string == "already-migrated")
        #expect(try Registry(l.state).history(l.app).count == 1)
    }

    @Test func anOldArchiveThatDoesNotNameItsRootIsFlaggedAndGetsTheImpliedMode() throws {
        let l = try LegacyFixture(record: false)
        defer { l.f.remove() }
        try l.f.save(Member.file("rows", "1\n") + Member.end, as: "state/custom-html/snapshot/volumes/db.tar")
        let out = try l.migration.run()
        let volumes = out["volumes"]?.array ?? []
        #expect(volumes.first { $0["name"]?.string == "db" }?["implied_directories"] == true)
        #expect(volumes.first { $0["name"]?.string == "content" }?["implied_directories"] == false)
        let receipt = try SnapshotStore(state: l.state, app: l.app).restoreDrill(into: l.f.path("drill"))
        #expect(receipt.ok)
        #expect(try Path.status(l.f.path("drill/db")).st_mode & 0o7777 == 0o755)
        #expect(try l.f.read("drill/db/rows") == Array("1\n".utf8))
    }

    @Test func theDryRunReadsEveryArchiveAndWritesNothing() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        let before = try l.f.listing("state")
        let digest = try l.f.digest("state")
        let plan = try l.migration.plan()
        #expect(plan["action"]?.string == "would-migrate")
        #expect(plan["volumes"]?.array?.count == 2)
        #expect(try l.f.listing("state") == before)
        #expect(try l.f.digest("state") == digest)
    }

    @Test func aCorruptOldArchiveRefusesTheAppAndChangesNothing() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        var tar = try l.bytes("snapshot/volumes/db.tar")
        tar[10] ^= 0xFF  // the first header's name: its checksum no longer matches
        try l.f.save(tar, as: "state/custom-html/snapshot/volumes/db.tar")
        let snapshot = try l.f.digest("state/custom-html/snapshot")
        let record = try l.bytes("canonical.json")
        #expect { try l.migration.run() } throws: { ($0 as? Failure)?.exit == .badData && ($0 as? Failure)?.code == "corrupt-archive" }
        #expect(try l.f.digest("state/custom-html/snapshot") == snapshot)
        #expect(try l.bytes("canonical.json") == record)
        #expect(!l.exists("legacy"))
        #expect(try l.f.listing("state/custom-html").sorted() == ["canonical.json", "snapshot", "snapshot/meta.json", "snapshot/volumes", "snapshot/volumes/content.tar", "snapshot/volumes/db.tar"])
    }

    @Test func aHostileOldArchiveIsRefusedByTheExtractorsJudgement() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        // a symlink out of the tree, then a file through it: only extraction can see this
        let hostile = Member.header("./", type: 0x35, mode: 0o755) + Member.header("./out", type: 0x32, link: "/tmp")
            + Member.file("./out/ccci-migrate-escape", "x") + Member.end
        try l.f.save(hostile, as: "state/custom-html/snapshot/volumes/db.tar")
        #expect { try l.migration.run() } throws: { ($0 as? Failure)?.code == "hostile-archive" }
        #expect(try Path.statusIfExists("/tmp/ccci-migrate-escape") == nil)
        #expect(try LegacyState.markers(l.app, state: l.state) == ["snapshot/meta.json", "canonical.json"])
        #expect(try l.f.listing("state/custom-html").filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aRunInterruptedAfterTheOldSnapshotMovedAsideIsFinished() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        let oldTar = try l.bytes("snapshot/volumes/db.tar")
        // the state of a crash between the rename to legacy/ and the new snapshot's rename
        try l.f.dir("state/custom-html/legacy", mode: 0o700)
        try Path.rename(l.f.path("state/custom-html/snapshot"), to: l.f.path("state/custom-html/legacy/snapshot"))
        try l.f.dir("state/custom-html/.migrate-0123456789ab", mode: 0o700)
        try l.f.dir("state/custom-html/.migrate-0123456789ab/db", mode: 0o555)
        try l.f.dir("state/custom-html/.snapshot.new-0123456789ab", mode: 0o700)
        #expect(try LegacyState.markers(l.app, state: l.state) == ["canonical.json", "legacy/"])
        #expect { try SnapshotStore(state: l.state, app: l.app).manifest() } throws: { ($0 as? Failure)?.code == "legacy-state" }
        let out = try l.migration.run()
        #expect(out["action"]?.string == "migrated" && out["resumed"] == true)
        #expect(try l.bytes("legacy/snapshot/volumes/db.tar") == oldTar)
        _ = try SnapshotStore(state: l.state, app: l.app).verify()
        #expect(try l.f.listing("state/custom-html").filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func aRunInterruptedBeforeItsMarkerIsFinishedWithOneHistoryLine() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        let oldRecord = try l.bytes("canonical.json")
        _ = try l.migration.run()
        // back to a crash after the history line, before the record and the marker
        try l.f.save(oldRecord, as: "state/custom-html/canonical.json")
        try Path.unlink(l.f.path("state/custom-html/legacy/migration.json"))
        #expect(try Canonical.check(l.app, state: l.state, docker: nil)["reason"]?.string == "legacy-state")
        let out = try l.migration.run()
        #expect(out["action"]?.string == "migrated" && out["resumed"] == true)
        #expect(try Registry(l.state).history(l.app).count == 1)
        #expect(try Canonical.check(l.app, state: l.state, docker: nil)["has"] == true)
    }

    @Test func anIncompleteOldSnapshotIsRefused() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        try Path.unlink(l.f.path("state/custom-html/snapshot/volumes/db.tar"))
        #expect { try l.migration.plan() } throws: { ($0 as? Failure)?.code == "legacy-incomplete" }
        #expect { try l.migration.run() } throws: { ($0 as? Failure)?.code == "legacy-incomplete" }
        #expect(l.exists("snapshot/volumes/content.tar") && !l.exists("legacy"))
    }

    @Test func theSnapshotsVersionWinsOverADisagreeingRecord() throws {
        let l = try LegacyFixture(metaVersion: "1.12.0+1.29.1")
        defer { l.f.remove() }
        let out = try l.migration.run()
        #expect(out["version"]?.string == "1.12.0+1.29.1")
        #expect(out["version_conflict"]?["record"]?.string == "1.11.0+1.29.0")
        #expect(try Registry(l.state).record(l.app)?.version == "1.12.0+1.29.1")
    }

    @Test func anInfraSnapshotWithoutARecordMigratesWithoutOne() throws {
        let l = try LegacyFixture(record: false)
        defer { l.f.remove() }
        let out = try l.migration.run()
        #expect(out["action"]?.string == "migrated" && out["record"] == false)
        #expect(!l.exists("canonical.json"))
        _ = try SnapshotStore(state: l.state, app: l.app).verify()
    }

    @Test func anOldRecordWithoutASnapshotIsRetired() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        try Path.rename(l.f.path("state/custom-html/snapshot"), to: l.f.path("elsewhere"))
        let record = try l.bytes("canonical.json")
        #expect(try l.migration.plan()["action"]?.string == "would-retire")
        #expect(try l.migration.run()["action"]?.string == "retired")
        #expect(!l.exists("canonical.json"))
        #expect(try l.bytes("legacy/canonical.json") == record)
        #expect(try Canonical.check(l.app, state: l.state, docker: nil)["reason"]?.string == "no-record")
    }

    @Test func snapshotsNeverReplaceAnUnmigratedOldOne() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        let store = SnapshotStore(state: l.state, app: l.app)
        let targets = [VolumeTarget(name: try Name("db"), path: l.f.path("src/db"))]
        #expect { try store.take(targets, version: nil, commit: nil) } throws: { ($0 as? Failure)?.code == "legacy-state" }
        #expect(l.exists("snapshot/meta.json"))
        #expect(try Canonical.check(l.app, state: l.state, docker: nil)["reason"]?.string == "legacy-state")
    }

    @Test func theOldTimestampBecomesPromotedAt() throws {
        func at(_ ts: String) throws -> String? {
            let text = #"{"recipe":"r","version":"1","ts":\#(ts)}"#
            return LegacyRecord(location: "canonical.json", bytes: Array(text.utf8), json: try JSON.parse(Array(text.utf8))).promotedAt
        }
        #expect(try at(#""2026-05-29T10:00:01.123456""#) == "2026-05-29T10:00:01.123Z")  // Python's naive isoformat: UTC
        #expect(try at(#""2026-05-29T10:00:01+00:00""#) == "2026-05-29T10:00:01.000Z")
        #expect(try at("1780000000.5") == "2026-05-28T20:26:40.500Z")
        #expect(try at(#""yesterday""#) == nil)
    }

    @Test func candidatesAreTheLegacyAndMigratedAppsOnly() throws {
        let l = try LegacyFixture()
        defer { l.f.remove() }
        try l.f.dir("state/native", mode: 0o700)
        try l.f.file("state/native/last_good", "1.0.0+1\n")
        try l.f.dir("state/alerts", mode: 0o700)
        #expect(try Migration.candidates(state: l.state).map(\.value) == ["custom-html"])
        _ = try l.migration.run()
        #expect(try Migration.candidates(state: l.state).map(\.value) == ["custom-html"])
    }
}
