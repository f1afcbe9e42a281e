// Alerts that reach a person.
//
//   <state>/alerts/<id>.json          an open alert
//   <state>/alerts/archive/<id>.json  a relayed or acknowledged one
//
// `<id>` is `<UTC time>-<app>-<kind>` (`20261123T094400.123Z-keycloak-rollback`), so `ls` sorts
// open alerts by the time they were first raised. Raising the same app and kind while one is open
// updates that alert (count, last_seen, details) instead of adding another. A systemd path unit
// watching `alerts/` (PathChanged=) fires when an alert is raised; moving one into `archive/`
// touches `alerts/` once and never again, so the archive growing never re-triggers it.
// Every change holds flock(2) on the `alerts/` directory itself, so concurrent raisers and a relay
// serialise without a lock file.
import Glibc

public struct Alert: Sendable {
    public var json: JSONObject

    public var id: String { json["id"]?.string ?? "" }
    public var app: String { json["app"]?.string ?? "" }
    public var kind: String { json["kind"]?.string ?? "" }

    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count <= 200 && !id.hasPrefix(".") && !id.contains("/") && !id.contains("..")
            && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || [0x2E, 0x2D, 0x5F, 0x54, 0x5A].contains($0) }
    }
}

public struct AlertBox {
    let state: StateRoot
    public init(_ state: StateRoot) { self.state = state }

    public static let kinds = ["rollback", "held-major", "held-manual-migration", "held-policy", "held-unparsable", "restore-failed", "health-failed", "sweep-failed",
        "snapshot-failed", "advance-failed", "not-deployed", "porcelain-failed", "interrupted", "unit-failed", "fetch-failed", "disk-low"]

    /// Runs `body` with the alerts directory open and locked.
    func locked<T>(_ body: (FileDescriptor) throws -> T) throws -> T {
        let dir = try state.open(["alerts"], create: true)
        defer { dir.closeQuietly() }
        do { _ = try Kernel.flock(dir, LOCK_EX, nonBlocking: false) } catch { throw Failure(error, doing: "locking alerts") }
        return try body(dir)
    }

    /// The alerts in `dir`. The file name is the id (an `id` inside that says otherwise is
    /// overruled), so no name read from a file's content is ever used to build a path; files
    /// whose names are not alert ids are not ours and are left alone.
    func openAlerts(in dir: FileDescriptor) throws -> [Alert] {
        var result: [Alert] = []
        for name in try Path.list(dir) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let id = String(name.dropLast(5))
            guard Alert.isValidID(id) else { continue }
            let bytes = try AtomicFile.read(name, in: dir, limit: 1 << 20)
            // The previous system's alerts wait for `ccci-migrate --alerts` (LegacyAlerts.swift).
            guard case .object(var o) = try JSON.parse(bytes), AlertBox.isOurs(o) else { continue }
            o["id"] = .string(id)
            result.append(Alert(json: o))
        }
        return result
    }

    /// An alert's message as one line: every line break or other control character (CR, LF,
    /// NEL, U+2028/2029, tabs) becomes a space, runs of spaces collapse, the ends are trimmed, and
    /// it is cut to 1,000 characters. An empty result is no message.
    public static func oneLine(_ text: String) -> String? {
        var out = ""
        var space = false
        for scalar in text.unicodeScalars {
            let c = scalar.properties.generalCategory
            if c == .control || c == .lineSeparator || c == .paragraphSeparator || c == .spaceSeparator {
                space = !out.isEmpty
                continue
            }
            if space { out.unicodeScalars.append(" "); space = false }
            out.unicodeScalars.append(scalar)
            if out.unicodeScalars.count >= 1000 { break }
        }
        return out.isEmpty ? nil : out
    }

    /// Raises an alert, or updates the open one of the same app and kind, then hands the answer
    /// over with `deliver` while still holding the lock. When delivering fails, the change is
    /// undone (a new alert removed, an updated one put back as it was), so a caller that saw a
    /// failure and retries raises it afresh (`new` is true again) instead of finding it raised.
    public func raise(
        app: Name, kind: String, message: String?, details: JSON,
        deliver: (_ alert: Alert, _ new: Bool) throws(SystemError) -> Void
    ) throws {
        try locked { dir in
            let now = Timestamp.now().rfc3339
            if var existing = try openAlerts(in: dir).first(where: { $0.app == app.value && $0.kind == kind }) {
                let before = existing
                existing.json["count"] = JSON((existing.json["count"]?.int ?? 1) + 1)
                existing.json["last_seen"] = .string(now)
                if let message { existing.json["message"] = .string(message) }
                existing.json["details"] = details
                try AtomicFile.write(JSON.object(existing.json).bytes + [0x0A], to: existing.id + ".json", in: dir)
                do throws(SystemError) { try deliver(existing, false) } catch {
                    try undo(error) { () throws(SystemError) in
                        try AtomicFile.write(JSON.object(before.json).bytes + [0x0A], to: before.id + ".json", in: dir)
                    }
                }
                return
            }
            let compact = now.filter { $0 != "-" && $0 != ":" }
            var id = "\(compact)-\(app.value)-\(kind)"
            var n = 2
            while try Path.statusIfExists(id + ".json", in: dir) != nil { id = "\(compact)-\(app.value)-\(kind)-\(n)"; n += 1 }
            let alert = Alert(json: JSONObject([
                ("id", .string(id)), ("app", .string(app.value)), ("kind", .string(kind)), ("state", "open"),
                ("first_seen", .string(now)), ("last_seen", .string(now)), ("count", 1),
                ("message", JSON(message)), ("details", details), ("relay_attempts", 0),
            ]))
            try AtomicFile.write(JSON.object(alert.json).bytes + [0x0A], to: id + ".json", in: dir)
            do throws(SystemError) { try deliver(alert, true) } catch {
                try undo(error) { () throws(SystemError) in
                    try Path.unlink(id + ".json", in: dir)
                    try dir.sync()
                }
            }
        }
    }

    /// Undoes a raise whose answer could not be delivered, and throws the I/O failure.
    func undo(_ error: SystemError, what: String = "the alert was not raised", _ revert: () throws(SystemError) -> Void) throws(Failure) {
        var failure = Failure(error, doing: "writing the answer")
        failure.exit = .io
        failure.code = "io"
        do { try revert(); failure.message += " (\(what))" } catch {
            failure.message += "; undoing the change failed too: \(error)"
        }
        throw failure
    }

    /// Open alerts, oldest first; with `archived`, the archive after them.
    public func list(archived: Bool) throws -> [Alert] {
        try locked { dir in
            var all = try openAlerts(in: dir)
            if archived, let archive = try? FileDescriptor.open("archive", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) {
                defer { archive.closeQuietly() }
                all += try openAlerts(in: archive)
            }
            return all
        }
    }

    /// Moves an open alert to the archive, marked `acked` or `relayed`.
    func close(_ alert: Alert, as state: String, in dir: FileDescriptor, extra: [(String, JSON)] = []) throws {
        var done = alert
        done.json["state"] = .string(state)
        done.json["\(state)_at"] = .string(Timestamp.now().rfc3339)
        for (k, v) in extra { done.json[k] = v }
        try Path.makeDirectoryIfMissing("archive", in: dir)
        let archive = try FileDescriptor.open("archive", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { archive.closeQuietly() }
        // Archive copy first, then remove the open one: a crash in between leaves a duplicate in the
        // archive, never a lost alert.
        try AtomicFile.write(JSON.object(done.json).bytes + [0x0A], to: alert.id + ".json", in: archive)
        try Path.unlink(alert.id + ".json", in: dir)
        try dir.sync()
    }

    /// Acknowledges an open alert and hands the answer over with `deliver` under the lock; when
    /// that fails the alert is put back open (74), so "acknowledged" is never a change nobody was
    /// told about.
    public func acknowledge(_ id: String, deliver: (Alert) throws(SystemError) -> Void) throws {
        guard Alert.isValidID(id) else { throw Failure.usage("invalid alert id '\(id)'") }
        try locked { dir in
            guard let alert = try openAlerts(in: dir).first(where: { $0.id == id }) else {
                throw Failure(.noInput, "no-such-alert", "no open alert '\(id)'")
            }
            try close(alert, as: "acked", in: dir)
            var done = alert
            done.json["state"] = "acked"
            do throws(SystemError) { try deliver(done) } catch {
                try undo(error, what: "the alert is still open") { () throws(SystemError) in
                    // Open again first, then drop the archive copy: a crash in between leaves a
                    // duplicate, never a lost alert.
                    try AtomicFile.write(JSON.object(alert.json).bytes + [0x0A], to: id + ".json", in: dir)
                    let archive = try FileDescriptor.open("archive", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                    defer { archive.closeQuietly() }
                    try Path.unlink(id + ".json", in: archive)
                    try archive.sync()
                }
            }
        }
    }

    /// Runs `command` (the operator's command line) once per open alert, the alert JSON on its
    /// stdin. Relayed alerts are archived; failed ones stay open with the attempt recorded.
    public func relay(command: String, timeout: Double, report: (JSON) throws -> Void) throws -> (relayed: Int, failed: Int) {
        try locked { dir in
            var relayed = 0
            var failed = 0
            for var alert in try openAlerts(in: dir) {
                var p = Subprocess.shell(command)
                p.input = JSON.object(alert.json).bytes + [0x0A]
                p.timeout = timeout
                p.environment = [("CCCI_ALERT_ID", alert.id), ("CCCI_ALERT_APP", alert.app), ("CCCI_ALERT_KIND", alert.kind)]
                let result = try p.run()
                if result.succeeded {
                    try close(alert, as: "relayed", in: dir)
                    relayed += 1
                    try report(["id": .string(alert.id), "relayed": true, "exit": 0])
                } else {
                    let why = result.timedOut ? "timed out after \(timeout) s" : result.status.description
                    alert.json["relay_attempts"] = JSON((alert.json["relay_attempts"]?.int ?? 0) + 1)
                    alert.json["last_relay_error"] = .string(why + (result.stderr.isEmpty ? "" : ": " + String(result.stderrText.suffix(500))))
                    try AtomicFile.write(JSON.object(alert.json).bytes + [0x0A], to: alert.id + ".json", in: dir)
                    failed += 1
                    try report(["id": .string(alert.id), "relayed": false, "exit": JSON(Int(result.status.shellCode)), "error": .string(why)])
                }
            }
            return (relayed, failed)
        }
    }
}
