// The previous system's state (the Python ci-warm of the seeds), found in a state directory we
// are given. Its layout overlaps ours file for file, so a reader must tell the two apart before
// trusting anything:
//
//   <app>/canonical.json         {recipe, domain, version, commit, status, ts}; ours has `app`
//                                and `manifest_digest`
//   <app>/snapshot/meta.json     where ours has manifest.json; volumes/<volume>.tar are plain tars
//                                (GNU tar, Python tarfile) without digests
//   <app>/last_good              a version, as ours: read by both, nothing to migrate
//   alerts/<ts>-<app>-<kind>.json  the old alert fields (no id, kind, state); alerts/seen/ relayed
//
// An app is legacy while any of its markers is present:
//   - `snapshot/` without our `manifest.json` (the old snapshot, or a torn one);
//   - `canonical.json` in the old shape (`recipe` and `version`, no `manifest_digest`);
//   - `legacy/` without `legacy/migration.json` (a migration that has not finished).
// Every reader of an app's state asks here first and refuses with code `legacy-state` (65)
// instead of misreading the old files; `ccci-canon has` answers a clean no. `ccci-migrate`
// converts an app and writes `legacy/migration.json` last (CCCIArchive/Legacy/Migration.swift).
import Glibc

public enum LegacyState {
    /// Where a migration keeps the old files, below the app's directory.
    public static let directory = "legacy"
    /// Written last by a migration: its presence means the app is ours.
    public static let doneMarker = "migration.json"
    public static let code = "legacy-state"

    /// The old record's shape: an object with `recipe` and `version` but no `manifest_digest`.
    public static func isLegacyRecord(_ record: JSON) -> Bool {
        record.object != nil && record["manifest_digest"] == nil && record["recipe"]?.string != nil && record["version"]?.string != nil
    }

    /// The legacy markers present in an app's directory (relative paths); empty when the app's
    /// state is ours.
    public static func markers(in dir: FileDescriptor) throws(SystemError) -> [String] {
        var found: [String] = []
        if let s = try Path.statusIfExists("snapshot", in: dir), s.st_mode & S_IFMT == S_IFDIR,
            try Path.statusIfExists("snapshot/manifest.json", in: dir) == nil
        {
            found.append(try Path.statusIfExists("snapshot/meta.json", in: dir) != nil ? "snapshot/meta.json" : "snapshot/")
        }
        if let bytes = try AtomicFile.readIfExists("canonical.json", in: dir, limit: 1 << 20),
            let record = try? JSON.parse(bytes), isLegacyRecord(record)
        {
            found.append("canonical.json")
        }
        if try Path.statusIfExists(directory, in: dir) != nil, try Path.statusIfExists("\(directory)/\(doneMarker)", in: dir) == nil {
            found.append("\(directory)/")
        }
        return found
    }

    /// The markers of `app`, or none when it has no directory.
    public static func markers(_ app: Name, state: StateRoot) throws(Failure) -> [String] {
        let dir: FileDescriptor
        do { dir = try FileDescriptor.open("\(state.path)/\(app.value)", O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
            if error.errno == ENOENT { return [] }
            throw Failure(error, doing: "state of '\(app)'")
        }
        defer { dir.closeQuietly() }
        do { return try markers(in: dir) } catch { throw Failure(error, doing: "state of '\(app)'") }
    }

    /// Whether `app` has finished a migration (`legacy/migration.json` exists).
    public static func isMigrated(_ app: Name, state: StateRoot) -> Bool {
        (try? Path.statusIfExists("\(state.path)/\(app.value)/\(directory)/\(doneMarker)")) != nil
    }

    /// The refusal every command gives on a legacy app.
    public static func failure(_ app: Name, markers: [String]) -> Failure {
        Failure(.badData, code, "app '\(app)' holds the previous system's state (\(markers.joined(separator: ", "))): migrate it with 'ccci-migrate \(app)'",
                details: ["app": .string(app.value), "markers": .array(markers.map { .string($0) })])
    }

    /// Throws `legacy-state` when `app` is legacy.
    public static func refuse(_ app: Name, state: StateRoot) throws(Failure) {
        let found = try markers(app, state: state)
        if !found.isEmpty { throw failure(app, markers: found) }
    }
}
