// The registry of known-goods, in the state directory:
//
//   <app>/canonical.json   the data-warm canonical: which version and commit its snapshot holds,
//                          its domain, its status (idle | deployed | quick), the run that
//                          promoted it and the digest of the snapshot manifest it vouches for
//   <app>/history.jsonl    append-only provenance: one JSON object per promotion, rollback, hold
//   <app>/last_good        live-warm infra: the last version that passed the health gate
//
// Writers hold the app's lock; every write is atomic (AtomicFile), every append repairs a torn
// last line first.
import Glibc

public struct CanonicalRecord: Sendable, Equatable {
    public static let statuses = ["idle", "deployed", "quick"]
    public var app: Name
    public var recipe: String
    public var domain: String
    public var version: String
    public var commit: String?
    public var status: String
    public var run: String?
    public var manifestDigest: String
    public var promotedAt: String
    public var updatedAt: String

    public var json: JSON {
        ["app": .string(app.value), "recipe": .string(recipe), "domain": .string(domain), "version": .string(version),
         "commit": JSON(commit), "status": .string(status), "run": JSON(run), "manifest_digest": .string(manifestDigest),
         "promoted_at": .string(promotedAt), "updated_at": .string(updatedAt)]
    }

    public init(app: Name, recipe: String, domain: String, version: String, commit: String?, status: String, run: String?, manifestDigest: String, promotedAt: String, updatedAt: String) {
        self.app = app
        self.recipe = recipe
        self.domain = domain
        self.version = version
        self.commit = commit
        self.status = status
        self.run = run
        self.manifestDigest = manifestDigest
        self.promotedAt = promotedAt
        self.updatedAt = updatedAt
    }

    public init(parsing bytes: [UInt8]) throws(Failure) {
        func bad(_ why: String) -> Failure { Failure(.badData, "bad-record", "invalid canonical.json: \(why)") }
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw bad("\(error)") }
        // Names read back from the record are checked as strictly as when they were written:
        // the domain becomes a swarm stack name, the recipe a path under ABRA_DIR.
        guard let a = j["app"]?.string, Name.isValid(a), let recipe = j["recipe"]?.string, Name.isValid(recipe),
            let domain = j["domain"]?.string, AppIdentity.isValidDomain(domain),
            let version = j["version"]?.string, let status = j["status"]?.string, CanonicalRecord.statuses.contains(status),
            let digest = j["manifest_digest"]?.string, Hex.isLowercase(digest, count: 64),
            let promoted = j["promoted_at"]?.string, let updated = j["updated_at"]?.string
        else { throw bad("a required field is missing or invalid") }
        self.init(app: try Name(a), recipe: recipe, domain: domain, version: version, commit: j["commit"]?.string, status: status,
                  run: j["run"]?.string, manifestDigest: digest, promotedAt: promoted, updatedAt: updated)
    }
}

public struct Registry: Sendable {
    public let state: StateRoot
    public init(_ state: StateRoot) { self.state = state }

    /// The canonical record of `app`, or nil.
    public func record(_ app: Name) throws(Failure) -> CanonicalRecord? {
        guard let dir = try appDirectoryIfExists(app) else { return nil }
        defer { dir.closeQuietly() }
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.readIfExists("canonical.json", in: dir, limit: 1 << 20) } catch {
            throw Failure(error, doing: "reading the canonical record of '\(app)'")
        }
        guard let bytes else { return nil }
        let markers: [String]
        do { markers = try LegacyState.markers(in: dir) } catch { throw Failure(error, doing: "state of '\(app)'") }
        if !markers.isEmpty { throw LegacyState.failure(app, markers: markers) }
        let record = try CanonicalRecord(parsing: bytes)
        // The record names its app; one filed under another app's directory is not to be
        // trusted (a write would land in the other app's state).
        guard record.app == app else {
            throw Failure(.badData, "bad-record", "invalid canonical.json of '\(app)': it names app '\(record.app)'")
        }
        return record
    }

    /// Writes the record atomically. The caller holds the app's lock.
    public func write(_ record: CanonicalRecord) throws(Failure) {
        let dir = try state.app(record.app, create: true)
        defer { dir.closeQuietly() }
        do { try AtomicFile.write(record.json.bytes + [0x0A], to: "canonical.json", in: dir) } catch {
            throw Failure(error, doing: "writing the canonical record of '\(record.app)'")
        }
    }

    /// Every app directory that has a canonical record, by name.
    public func apps() throws(Failure) -> [Name] {
        let root: FileDescriptor
        do { root = try FileDescriptor.open(state.path, O_RDONLY | O_DIRECTORY) } catch {
            if error.errno == ENOENT { return [] }
            throw StateRoot.failure(error, doing: "state directory '\(state.path)'")
        }
        defer { root.closeQuietly() }
        do {
            return try Path.list(root).filter { name in
                Name.isValid(name) && (try? Path.statusIfExists("\(name)/canonical.json", in: root)) != nil
            }.map { try Name($0) }
        } catch let e as SystemError {
            throw Failure(e, doing: "listing '\(state.path)'")
        } catch {
            throw Failure.from(error)
        }
    }

    /// Appends one provenance event: `{"at","event","app",...fields}`. A field that would replace
    /// `at`, `event` or `app` is refused (it was dropped silently before).
    ///
    /// With `deliver`, the caller's answer is handed over after the append (the caller holds the
    /// app's lock); when it cannot be, the line is taken back and the failure is 74, so a caller
    /// that saw a failure and logs again does not leave the event twice.
    public func appendHistory(
        _ app: Name, event: String, fields: JSONObject, deliver: (() throws(SystemError) -> Void)? = nil
    ) throws(Failure) {
        var line = JSONObject([("at", .string(Timestamp.now().rfc3339)), ("event", .string(event)), ("app", .string(app.value))])
        for (k, v) in fields {
            guard line[k] == nil else { throw Failure(.usage, "reserved-field", "history field '\(k)' is reserved") }
            line[k] = v
        }
        let dir = try state.app(app, create: true)
        defer { dir.closeQuietly() }
        let isRecord: ([UInt8]) -> Bool = { bytes in (try? JSON.parse(bytes))?.object != nil }
        let start: Int64
        do { start = try AtomicFile.appendLine(JSON.object(line).text, to: "history.jsonl", in: dir, isRecord: isRecord) } catch {
            throw Failure(error, doing: "appending to the history of '\(app)'")
        }
        guard let deliver else { return }
        do throws(SystemError) { try deliver() } catch {
            var failure = Failure(error, doing: "writing the answer")
            failure.exit = .io
            failure.code = "io"
            do throws(SystemError) {
                try AtomicFile.truncate("history.jsonl", in: dir, to: start)
                failure.message += " (the event was not logged)"
            } catch {
                failure.message += "; taking the event back failed too: \(error)"
            }
            throw failure
        }
    }

    /// The history, oldest first. A torn last line (a crash mid-append, no newline after it) is
    /// skipped and reported through `torn`; any other line that is not a JSON object is
    /// corruption, and the history is refused (65, with the line number): a reader that judges
    /// by the history must not judge by part of it.
    public func history(_ app: Name, torn: (Int) -> Void = { _ in }) throws(Failure) -> [JSON] {
        guard let dir = try appDirectoryIfExists(app) else { return [] }
        defer { dir.closeQuietly() }
        let bytes: [UInt8]?
        do { bytes = try AtomicFile.readIfExists("history.jsonl", in: dir, limit: 64 << 20) } catch {
            throw Failure(error, doing: "reading the history of '\(app)'")
        }
        guard let bytes else { return [] }
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        var events: [JSON] = []
        for (n, line) in lines.enumerated() where !(line.isEmpty && n == lines.count - 1) {
            if let event = try? JSON.parse(Array(line)), event.object != nil {
                events.append(event)
            } else if n == lines.count - 1 {
                torn(n + 1)
            } else {
                throw Failure(.badData, "corrupt-history", "history of '\(app)' line \(n + 1) is not a JSON object", details: ["line": JSON(n + 1)])
            }
        }
        return events
    }

    /// The keys `appendHistory` sets itself, which a caller's fields may not replace.
    public static let reservedHistoryKeys: Set<String> = ["at", "event", "app"]

    /// The fields of a logged event from `KEY=VALUE` arguments (string values) and an optional
    /// JSON object (an argument wins over the same key there). Every key is checked before
    /// anything is written: a reserved or malformed key is refused, 64 from an argument and 65
    /// from the object, never dropped or kept as sent.
    public static func historyFields(arguments: [String], stdin: JSONObject?) throws(Failure) -> JSONObject {
        let rule = "expected 1-64 of a-z 0-9 _, a letter first, not at, event or app"
        var fields = JSONObject()
        for f in arguments {
            guard let eq = f.firstIndex(of: "="), eq != f.startIndex else { throw Failure.usage("invalid --field '\(f)': expected KEY=VALUE") }
            let key = String(f[..<eq])
            guard isValidHistoryKey(key) else { throw Failure(.usage, "invalid-field", "invalid --field key '\(key)': \(rule)") }
            fields[key] = .string(String(f[f.index(after: eq)...]))
        }
        for (key, value) in stdin ?? JSONObject() where fields[key] == nil {
            guard isValidHistoryKey(key) else { throw Failure(.badData, "invalid-field", "invalid key '\(key)' in the fields on stdin: \(rule)") }
            fields[key] = value
        }
        return fields
    }

    /// Whether `key` may name a history field: 1-64 of a-z 0-9 _, a letter first, not reserved.
    public static func isValidHistoryKey(_ key: String) -> Bool {
        let b = Array(key.utf8)
        guard (1...64).contains(b.count), (0x61...0x7A).contains(b[0]), !reservedHistoryKeys.contains(key) else { return false }
        return b.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    public func lastGood(_ app: Name) throws(Failure) -> String? {
        guard let dir = try appDirectoryIfExists(app) else { return nil }
        defer { dir.closeQuietly() }
        do {
            return try AtomicFile.readIfExists("last_good", in: dir, limit: 4096).map { String(decoding: $0, as: UTF8.self).trimmingCharacters() }
        } catch {
            throw Failure(error, doing: "reading last_good of '\(app)'")
        }
    }

    public func setLastGood(_ app: Name, _ version: String) throws(Failure) {
        let dir = try state.app(app, create: true)
        defer { dir.closeQuietly() }
        do { try AtomicFile.write(version + "\n", to: "last_good", in: dir) } catch {
            throw Failure(error, doing: "writing last_good of '\(app)'")
        }
    }

    func appDirectoryIfExists(_ app: Name) throws(Failure) -> FileDescriptor? {
        do {
            return try FileDescriptor.open("\(state.path)/\(app.value)", O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        } catch {
            if error.errno == ENOENT { return nil }
            throw StateRoot.failure(error, doing: "state of '\(app)'")
        }
    }

    /// The enrolment list: one recipe per line, `#` comments; invalid names are refused (65).
    public static func enrolled(file: String) throws(Failure) -> [Name] {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.readNamed(file, limit: 1 << 20) } catch {
            if error.errno == EINVAL { throw Failure.badData("enrolment list '\(file)' is not a regular file") }
            throw Failure(error, doing: "reading the enrolment list")
        }
        var names: [Name] = []
        for (n, line) in Text.lines(bytes).enumerated() {
            let t = String(decoding: line, as: UTF8.self).trimmingCharacters()
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard Name.isValid(t) else { throw Failure.badData("enrolment list '\(file)' line \(n + 1): invalid recipe '\(t)'") }
            let name = try Name(t)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    public static let enrolledOption = Option.value("enrolled", "FILE", "the enrolment list (one recipe per line)", environment: "CCCI_ENROLLED", default: "/etc/ci-warm/enrolled")
}
