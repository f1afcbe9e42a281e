// manifest.json: what a snapshot holds and how to prove it (docs/snapshot-format.md).
import CCCICore

public struct VolumeRecord: Sendable, Equatable {
    public var name: Name
    /// The archive's path relative to the snapshot directory: `volumes/<name>.tar`.
    public var archive: String { "volumes/\(name.value).tar" }
    public var bytes: Int64
    public var entries: Int
    public var sha256: SHA256Digest
    public var treeDigest: SHA256Digest
    /// Nodes the archive cannot hold and left out (sockets), reported; only present when any.
    public var skipped: [String] = []

    public var json: JSON {
        var o = JSONObject([("name", .string(name.value)), ("archive", .string(archive)), ("bytes", JSON(bytes)), ("entries", JSON(entries)),
                            ("sha256", .string(sha256.hex)), ("tree_digest", .string(treeDigest.hex))])
        if !skipped.isEmpty { o["skipped"] = .array(skipped.map { .string($0) }) }
        return .object(o)
    }
}

public struct Manifest: Sendable, Equatable {
    public static let format = "ccci-snapshot/1"
    public var app: Name
    public var version: String?
    public var commit: String?
    public var takenAt: String
    public var toolVersion: String
    public var volumes: [VolumeRecord]

    public var json: JSON {
        ["format": .string(Manifest.format), "app": .string(app.value), "version": JSON(version), "commit": JSON(commit),
         "taken_at": .string(takenAt), "tool_version": .string(toolVersion), "volumes": .array(volumes.map(\.json))]
    }

    /// The manifest file's bytes as written: its JSON and a newline.
    public var bytes: [UInt8] { json.bytes + [0x0A] }
    /// The snapshot's digest: the SHA-256 of the manifest file exactly as it is on disk (as read,
    /// for a parsed manifest), so a rewritten manifest never keeps its old digest.
    public private(set) var digest: SHA256Digest

    static func digest(app: Name, version: String?, commit: String?, takenAt: String, toolVersion: String, volumes: [VolumeRecord]) -> SHA256Digest {
        let json: JSON = ["format": .string(Manifest.format), "app": .string(app.value), "version": JSON(version), "commit": JSON(commit),
                          "taken_at": .string(takenAt), "tool_version": .string(toolVersion), "volumes": .array(volumes.map(\.json))]
        return SHA256.hash(json.bytes + [0x0A])
    }

    /// Reads a manifest strictly: every field present and well-formed, names valid, no duplicates.
    public init(parsing bytes: [UInt8]) throws(Failure) {
        func bad(_ why: String) -> Failure { Failure(.badData, "bad-manifest", "invalid snapshot manifest: \(why)") }
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw bad("\(error)") }
        guard j["format"]?.string == Manifest.format else { throw bad("format is not '\(Manifest.format)'") }
        guard let appText = j["app"]?.string, Name.isValid(appText) else { throw bad("missing or invalid 'app'") }
        guard let taken = j["taken_at"]?.string, let tool = j["tool_version"]?.string else { throw bad("missing 'taken_at' or 'tool_version'") }
        guard let list = j["volumes"]?.array else { throw bad("missing 'volumes'") }
        guard !list.isEmpty else { throw bad("'volumes' is empty: a snapshot holds at least one volume") }
        var volumes: [VolumeRecord] = []
        for v in list {
            guard let n = v["name"]?.string, Name.isValid(n), let name = try? Name(n, kind: "volume") else { throw bad("a volume without a valid 'name'") }
            guard v["archive"]?.string == "volumes/\(n).tar" else { throw bad("volume '\(n)': unexpected 'archive'") }
            guard let b = v["bytes"]?.int, b >= 0, let e = v["entries"]?.int, e >= 0 else { throw bad("volume '\(n)': missing 'bytes' or 'entries'") }
            guard let s = v["sha256"]?.string.flatMap(SHA256Digest.init(hex:)), let t = v["tree_digest"]?.string.flatMap(SHA256Digest.init(hex:)) else {
                throw bad("volume '\(n)': missing 'sha256' or 'tree_digest'")
            }
            if volumes.contains(where: { $0.name == name }) { throw bad("volume '\(n)' listed twice") }
            var record = VolumeRecord(name: name, bytes: b, entries: Int(e), sha256: s, treeDigest: t)
            if let list = v["skipped"] {
                guard let items = list.array, items.allSatisfy({ $0.string != nil }) else { throw bad("volume '\(n)': 'skipped' is not a list of paths") }
                record.skipped = items.compactMap(\.string)
            }
            volumes.append(record)
        }
        app = try Name(appText)
        version = j["version"]?.string
        commit = j["commit"]?.string
        takenAt = taken
        toolVersion = tool
        self.volumes = volumes
        digest = SHA256.hash(bytes)
    }

    public init(app: Name, version: String?, commit: String?, takenAt: String, toolVersion: String, volumes: [VolumeRecord]) {
        self.app = app
        self.version = version
        self.commit = commit
        self.takenAt = takenAt
        self.toolVersion = toolVersion
        self.volumes = volumes
        digest = Manifest.digest(app: app, version: version, commit: commit, takenAt: takenAt, toolVersion: toolVersion, volumes: volumes)
    }
}

/// A volume to snapshot or restore: its name and the directory holding its data.
public struct VolumeTarget: Sendable, Equatable {
    public var name: Name
    public var path: String
    public init(name: Name, path: String) {
        self.name = name
        self.path = path
    }

    /// `NAME=PATH` from a flag.
    public init(flag: String) throws(Failure) {
        guard let eq = flag.firstIndex(of: "="), eq != flag.startIndex, flag.index(after: eq) != flag.endIndex else {
            throw Failure.usage("invalid --volume '\(flag)': expected NAME=PATH")
        }
        let path = String(flag[flag.index(after: eq)...])
        guard path.hasPrefix("/") else { throw Failure.usage("invalid --volume '\(flag)': PATH must be absolute") }
        self.init(name: try Name(String(flag[..<eq]), kind: "volume"), path: path)
    }

    /// The JSON `ccci-app volumes` prints: `{"volumes":[{"name","mountpoint"}]}` (or a bare array).
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> [VolumeTarget] {
        let j: JSON
        do { j = try JSON.parse(bytes) } catch { throw Failure.badData("invalid volume list on stdin: \(error)", code: "bad-json") }
        guard let list = j.array ?? j["volumes"]?.array else { throw Failure.badData("expected {\"volumes\":[...]} or an array of volumes on stdin") }
        var out: [VolumeTarget] = []
        for v in list {
            guard let n = v["name"]?.string, let p = v["mountpoint"]?.string ?? v["path"]?.string, p.hasPrefix("/") else {
                throw Failure.badData("each volume needs 'name' and an absolute 'mountpoint'")
            }
            out.append(VolumeTarget(name: try Name(n, kind: "volume"), path: p))
        }
        return out
    }
}
