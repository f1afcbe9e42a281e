// The previous system's alerts, converted in place (ccci-migrate --alerts / --all).
//
// Its open alerts are `alerts/<UTC time>-<app>-<kind>.json` with its own fields (`attempted`,
// `last_good`, `recovered`, notes, ...) and none of ours, so `ccci-alert` could neither address
// nor relay them. The rule:
//   - an open old alert becomes one of ours under the same id (its file name): `app` and `kind`
//     from its fields or its name, `first_seen` from its time, `state` "open", `legacy` true, and
//     the old object whole as `details`; the old bytes are kept first as `alerts/legacy/<name>`;
//   - a file that cannot be converted (not a JSON object, a name that is not a valid id) is moved
//     to `alerts/legacy/` untouched, reported, and not relayed;
//   - `alerts/seen/` (alerts the old system already relayed) is left as it is: nothing of ours
//     reads it, and relaying those again would repeat old news. Our archive is `alerts/archive/`.
// Idempotent: an alert already in our shape is left alone. Holds the alerts directory's lock.
import Glibc

extension AlertBox {
    /// Whether an alert object is ours (`id`, `kind` and `state` present).
    static func isOurs(_ o: JSONObject) -> Bool {
        o["id"]?.string != nil && o["kind"]?.string != nil && o["state"]?.string != nil
    }

    /// Converts the old open alerts; with `dryRun`, only reports what it would do.
    public func convertLegacy(dryRun: Bool) throws -> JSON {
        guard (try? Path.statusIfExists("\(state.path)/alerts")) != nil else {
            return AlertBox.report("nothing", converted: [], setAside: [], native: 0, seen: 0)
        }
        let dir = try state.open(["alerts"], create: false)
        defer { dir.closeQuietly() }
        do { _ = try Kernel.flock(dir, LOCK_EX, nonBlocking: false) } catch { throw Failure(error, doing: "locking alerts") }
        var converted: [String] = []
        var setAside: [String] = []
        var native = 0
        for name in try Path.list(dir) where name.hasSuffix(".json") && !name.hasPrefix(".") {
            guard let st = try Path.statusIfExists(name, in: dir), st.st_mode & S_IFMT == S_IFREG else { continue }
            let bytes = try AtomicFile.read(name, in: dir, limit: 1 << 20)
            let id = String(name.dropLast(5))
            guard case .object(let old)? = try? JSON.parse(bytes), Alert.isValidID(id) else {
                setAside.append(name)
                if !dryRun {
                    let legacy = try AlertBox.legacyDirectory(in: dir)
                    defer { legacy.closeQuietly() }
                    try Path.rename(name, in: dir, to: name, in: legacy)
                    try legacy.sync()
                    try dir.sync()
                }
                continue
            }
            if AlertBox.isOurs(old) { native += 1; continue }
            converted.append(id)
            if dryRun { continue }
            let legacy = try AlertBox.legacyDirectory(in: dir)
            defer { legacy.closeQuietly() }
            try AtomicFile.write(bytes, to: name, in: legacy)
            try AtomicFile.write(JSON.object(AlertBox.converted(old, id: id)).bytes + [0x0A], to: name, in: dir)
        }
        var seen = 0
        if let s = try? FileDescriptor.open("seen", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) {
            seen = (try? Path.list(s).count) ?? 0
            s.closeQuietly()
        }
        let action = converted.isEmpty && setAside.isEmpty ? "nothing" : dryRun ? "would-convert" : "converted"
        return AlertBox.report(action, converted: converted, setAside: setAside, native: native, seen: seen)
    }

    static func report(_ action: String, converted: [String], setAside: [String], native: Int, seen: Int) -> JSON {
        ["scope": "alerts", "action": .string(action), "converted": .array(converted.map { .string($0) }),
         "set_aside": .array(setAside.map { .string($0) }), "native": JSON(native), "seen_left": JSON(seen)]
    }

    static func legacyDirectory(in dir: FileDescriptor) throws(SystemError) -> FileDescriptor {
        try Path.makeDirectoryIfMissing("legacy", in: dir, mode: 0o700)
        return try FileDescriptor.open("legacy", relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    }

    /// One old alert in our shape. Its name is `<time>-<app>-<kind>`; its own fields win.
    static func converted(_ old: JSONObject, id: String) -> JSONObject {
        var rest = Substring(id)
        var time: Timestamp?
        if let dash = rest.firstIndex(of: "-"), rest.first.map({ $0.isNumber }) == true {
            time = compactTime(String(rest[..<dash]))
            if time != nil { rest = rest[rest.index(after: dash)...] }
        }
        let named = kinds.sorted { $0.count > $1.count }.first { rest.hasSuffix("-" + $0) }
            ?? rest.lastIndex(of: "-").map { String(rest[rest.index(after: $0)...]) }
        let kind = old["kind"]?.string ?? named ?? "legacy"
        let app = old["app"]?.string ?? old["recipe"]?.string
            ?? (rest.hasSuffix("-" + kind) ? String(rest.dropLast(kind.count + 1)) : String(rest))
        for key in ["ts", "at", "time", "created_at"] where time == nil {
            if let s = old[key]?.string { time = Timestamp(rfc3339: s) ?? Timestamp(rfc3339: s + "Z") }
            if let n = old[key]?.double, n > 0 { time = Timestamp(seconds: Int64(n)) }
        }
        let when = (time ?? Timestamp.now()).rfc3339
        return JSONObject([
            ("id", .string(id)), ("app", .string(app)), ("kind", .string(kind)), ("state", "open"),
            ("first_seen", .string(when)), ("last_seen", .string(when)), ("count", 1),
            ("message", .string(old["message"]?.string ?? "\(app): \(kind) (raised by the previous system)")),
            ("details", .object(old)), ("relay_attempts", 0), ("legacy", true),
        ])
    }

    /// `20260529T005510Z` (optionally with a fraction before the Z), as the old names carry it.
    static func compactTime(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        guard b.count >= 16, b[8] == 0x54, b.last == 0x5A, b[0..<8].allSatisfy({ (0x30...0x39).contains($0) }),
            b[9..<15].allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        func part(_ from: Int, _ to: Int) -> String { String(decoding: b[from..<to], as: UTF8.self) }
        return Timestamp(rfc3339: "\(part(0, 4))-\(part(4, 6))-\(part(6, 8))T\(part(9, 11)):\(part(11, 13)):\(part(13, 15))\(part(15, b.count))")
    }
}
