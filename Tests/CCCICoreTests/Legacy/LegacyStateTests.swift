import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct LegacyStates {
    static let oldRecord = #"{"recipe":"custom-html","domain":"warm-custom-html.ci.example","version":"1.11.0+1.29.0","commit":"8a02606","status":"idle","ts":"2026-05-29T10:00:00"}"#

    func app(_ d: ScratchDirectory) throws -> FileDescriptor {
        try d.makeDirectory("app")
        return try FileDescriptor.open(d.file("app"), O_RDONLY | O_DIRECTORY)
    }

    @Test func anEmptyAppHasNoMarkers() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try app(d)
        defer { dir.closeQuietly() }
        #expect(try LegacyState.markers(in: dir).isEmpty)
        #expect(try LegacyState.markers(try Name("missing"), state: StateRoot(path: d.path)).isEmpty)
    }

    @Test func theOldRecordShapeIsAMarkerAndOursIsNot() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try app(d)
        defer { dir.closeQuietly() }
        try d.write("app/canonical.json", LegacyStates.oldRecord)
        #expect(try LegacyState.markers(in: dir) == ["canonical.json"])
        try d.write("app/canonical.json", #"{"app":"app","recipe":"r","domain":"d","version":"1","status":"idle","manifest_digest":"\#(String(repeating: "a", count: 64))","promoted_at":"t","updated_at":"t"}"#)
        #expect(try LegacyState.markers(in: dir).isEmpty)
        try d.write("app/canonical.json", "not json")
        #expect(try LegacyState.markers(in: dir).isEmpty)  // malformed, not legacy: bad-record as before
    }

    @Test func aSnapshotWithoutOurManifestIsAMarker() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try app(d)
        defer { dir.closeQuietly() }
        try d.makeDirectory("app/snapshot")
        #expect(try LegacyState.markers(in: dir) == ["snapshot/"])
        try d.write("app/snapshot/meta.json", "{}")
        #expect(try LegacyState.markers(in: dir) == ["snapshot/meta.json"])
        try d.write("app/snapshot/manifest.json", "{}")
        #expect(try LegacyState.markers(in: dir).isEmpty)
    }

    @Test func anUnfinishedMigrationIsAMarkerUntilItsDoneMarker() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try app(d)
        defer { dir.closeQuietly() }
        try d.makeDirectory("app/legacy")
        #expect(try LegacyState.markers(in: dir) == ["legacy/"])
        try d.write("app/legacy/migration.json", "{}")
        #expect(try LegacyState.markers(in: dir).isEmpty)
        #expect(LegacyState.isMigrated(try Name("app"), state: StateRoot(path: d.path)))
    }

    @Test func theRegistryRefusesALegacyRecordWithItsOwnCode() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("app")
        try d.write("app/canonical.json", LegacyStates.oldRecord)
        let registry = Registry(StateRoot(path: d.path))
        #expect { try registry.record(try Name("app")) } throws: { ($0 as? Failure)?.code == "legacy-state" && ($0 as? Failure)?.exit == .badData }
        try d.write("app/canonical.json", #"{"app":"app"}"#)
        #expect { try registry.record(try Name("app")) } throws: { ($0 as? Failure)?.code == "bad-record" }
    }

    @Test func oldOpenAlertsBecomeOursAndKeepTheirBytes() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("alerts")
        try d.makeDirectory("alerts/seen")
        let old = #"{"attempted":"10.7.10+26.6.2","last_good":"10.7.9+26.6.2","recovered":true}"#
        try d.write("alerts/20260529T005510Z-keycloak-rollback.json", old)
        try d.write("alerts/20260530T010000Z-keycloak-held-manual-migration.json", #"{"app":"keycloak","notes":"manual migration"}"#)
        try d.write("alerts/garbage.json", "not json {")
        try d.write("alerts/seen/20260528T000000Z-traefik-rollback.json", "{}")
        let box = AlertBox(StateRoot(path: d.path))

        let dry = try box.convertLegacy(dryRun: true)
        #expect(dry["action"]?.string == "would-convert")
        #expect(dry["converted"]?.array?.count == 2)
        #expect(try d.read("alerts/20260529T005510Z-keycloak-rollback.json") == old)

        let done = try box.convertLegacy(dryRun: false)
        #expect(done["action"]?.string == "converted")
        #expect(done["set_aside"] == ["garbage.json"])
        #expect(done["seen_left"] == 1)
        let alerts = try box.list(archived: false)
        #expect(alerts.count == 2)
        let rollback = try #require(alerts.first { $0.id == "20260529T005510Z-keycloak-rollback" })
        #expect(rollback.app == "keycloak" && rollback.kind == "rollback")
        #expect(rollback.json["first_seen"]?.string == "2026-05-29T00:55:10.000Z")
        #expect(rollback.json["details"]?["attempted"]?.string == "10.7.10+26.6.2")
        #expect(rollback.json["legacy"] == true)
        let held = try #require(alerts.first { $0.kind == "held-manual-migration" })
        #expect(held.app == "keycloak")
        #expect(try d.read("alerts/legacy/20260529T005510Z-keycloak-rollback.json") == old)
        #expect(try d.read("alerts/legacy/garbage.json") == "not json {")
        #expect(try d.read("alerts/seen/20260528T000000Z-traefik-rollback.json") == "{}")

        let again = try box.convertLegacy(dryRun: false)
        #expect(again["action"]?.string == "nothing")
        #expect(again["native"] == 2)
    }

    @Test func noAlertsDirectoryIsNothingAndCreatesNothing() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        #expect(try AlertBox(StateRoot(path: d.path)).convertLegacy(dryRun: false)["action"]?.string == "nothing")
        #expect(try Path.statusIfExists(d.file("alerts")) == nil)
    }
}
