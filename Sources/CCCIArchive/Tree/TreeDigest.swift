// The tree digest: one SHA-256 over what a tree *is*, independent of how an archive lays it out
// (entry order, pax or GNU headers, which name of a hard-linked inode came first, whether a file
// was stored sparse). docs/archive-format.md defines it byte for byte; in short:
//
//   digest = SHA-256( ns("ccci-tree-digest-v1") || ns(record_1) || ... || ns(record_n) )
//
// with records sorted by path bytes, ns(x) the netstring "<decimal length>:x,", and each record
// the concatenation of the netstrings of its fields: path, type, mode, uid, gid, mtime, size,
// content SHA-256, symlink target, hard-link group, device, xattrs. It is computed from a
// directory on disk (TreeDigest.compute(directory:)), while writing an archive, and while reading
// or extracting one, so a restore can prove the restored tree equals the snapshot's manifest.
import CCCICore

public struct TreeDigest: Sendable {
    struct Record {
        var path: [UInt8]
        var type: EntryType
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var modified: Timestamp
        var size: Int64
        var content: SHA256Digest?
        var target: [UInt8]
        var deviceMajor: UInt32
        var deviceMinor: UInt32
        var xattrs: [ExtendedAttribute]
    }

    private var records: [Record] = []
    private var index: [[UInt8]: Int] = [:]
    /// Record index -> index of the first record of its hard-link group.
    private var groups: [Int: Int] = [:]

    public init() {}

    /// Adds an entry; `content` is the SHA-256 of a regular file's logical content. Hard links
    /// take the record of the entry they name. A path may appear twice only as a directory (the
    /// later metadata wins).
    mutating func add(_ entry: Entry, content: SHA256Digest?) throws(ArchiveError) {
        var record: Record
        var groupWith: Int? = nil
        if entry.type == .hardLink {
            guard let target = index[entry.linkTarget] else {
                throw ArchiveError(.hostile, "hard link to '\(ArchiveError.describe(entry.linkTarget))', which is not an earlier entry", path: entry.pathText)
            }
            guard records[target].type != .directory else {
                throw ArchiveError(.hostile, "hard link to a directory", path: entry.pathText)
            }
            record = records[target]
            record.path = entry.path
            groupWith = target
        } else {
            record = Record(
                path: entry.path, type: entry.type, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid,
                modified: entry.modified, size: entry.type == .file ? entry.size : 0, content: entry.type == .file ? content : nil,
                target: entry.type == .symlink ? entry.linkTarget : [],
                deviceMajor: entry.deviceMajor, deviceMinor: entry.deviceMinor, xattrs: entry.xattrs)
        }
        if let existing = index[entry.path] {
            guard records[existing].type == .directory && record.type == .directory else {
                throw ArchiveError(.hostile, "duplicate entry", path: entry.pathText)
            }
            records[existing] = record
            return
        }
        let i = records.count
        records.append(record)
        index[entry.path] = i
        if let target = groupWith {
            let group = groups[target] ?? target
            groups[target] = group
            groups[i] = group
        }
    }

    /// Whether a path has been added.
    func contains(_ path: [UInt8]) -> Bool { index[path] != nil }

    public func finalize() -> SHA256Digest {
        var leaders: [Int: [UInt8]] = [:]
        for (member, group) in groups {
            let path = records[member].path
            if let current = leaders[group], !path.lexicographicallyPrecedes(current) { continue }
            leaders[group] = path
        }
        let order = records.indices.sorted { records[$0].path.lexicographicallyPrecedes(records[$1].path) }
        var hasher = SHA256()
        Self.netstring(Array("ccci-tree-digest-v1".utf8), into: &hasher)
        var body: [UInt8] = []
        for i in order {
            let r = records[i]
            body.removeAll(keepingCapacity: true)
            Self.field(r.path.isEmpty ? [0x2E] : r.path, &body)
            Self.field(Self.typeName(r.type), &body)
            Self.field(r.type == .symlink ? [] : Array(Self.octal4(r.mode).utf8), &body)
            Self.field(Array(String(r.uid).utf8), &body)
            Self.field(Array(String(r.gid).utf8), &body)
            Self.field(Array(Self.time(r.modified).utf8), &body)
            Self.field(Array(String(r.size).utf8), &body)
            Self.field(r.content.map { Array($0.hex.utf8) } ?? [], &body)
            Self.field(r.target, &body)
            Self.field(groups[i].flatMap { leaders[$0] } ?? [], &body)
            Self.field(r.type == .characterDevice || r.type == .blockDevice ? Array("\(r.deviceMajor),\(r.deviceMinor)".utf8) : [], &body)
            var xattrs: [UInt8] = []
            for x in r.xattrs {
                Self.field(x.name, &xattrs)
                Self.field(x.value, &xattrs)
            }
            Self.field(xattrs, &body)
            Self.netstring(body, into: &hasher)
        }
        return hasher.finalize()
    }

    /// The tree digest of a directory on disk.
    public static func compute(directory: FileDescriptor) throws(ArchiveError) -> SHA256Digest {
        var digest = TreeDigest()
        var walk = TreeWalk(allowDeviceNodes: true)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        try walk.walk(directory) { node throws(ArchiveError) in
            var content: SHA256Digest? = nil
            if let file = node.file {
                var hasher = ContentHasher()
                for region in node.entry.regions ?? [Region(offset: 0, length: node.entry.size)] {
                    var offset = region.offset
                    let end = region.offset + region.length
                    while offset < end {
                        let want = Int(min(Int64(buffer.count), end - offset))
                        let n = try Self.readFile(file, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset, path: node.entry)
                        hasher.update(at: offset, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                        offset += Int64(n)
                        Progress.add(n)
                    }
                }
                content = hasher.finalize(size: node.entry.size)
            }
            try digest.add(node.entry, content: content)
        }
        return digest.finalize()
    }

    /// pread(2) for the digest and the writer: a file that ends early changed under us.
    static func readFile(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path entry: Entry) throws(ArchiveError) -> Int {
        let n: Int
        do throws(SystemError) { n = try file.read(into: buffer, at: offset) } catch { throw ArchiveError(error, path: entry.path) }
        if n == 0 { throw ArchiveError(.changed, "shrank while being read", path: entry.pathText) }
        return n
    }

    static func typeName(_ type: EntryType) -> [UInt8] {
        switch type {
        case .file, .hardLink: return Array("file".utf8)
        case .directory: return Array("dir".utf8)
        case .symlink: return Array("symlink".utf8)
        case .fifo: return Array("fifo".utf8)
        case .characterDevice: return Array("char".utf8)
        case .blockDevice: return Array("block".utf8)
        }
    }

    static func octal4(_ mode: UInt32) -> String {
        let s = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    /// "<seconds>.<nine digits>", seconds rounded down (so -0.5 s is "-1.500000000").
    static func time(_ t: Timestamp) -> String {
        let n = String(t.nanoseconds)
        return "\(t.seconds)." + String(repeating: "0", count: 9 - n.count) + n
    }

    static func field(_ bytes: [UInt8], _ out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count).utf8)
        out.append(0x3A)
        out.append(contentsOf: bytes)
        out.append(0x2C)
    }

    static func netstring(_ bytes: [UInt8], into hasher: inout SHA256) {
        hasher.update(String(bytes.count) + ":")
        hasher.update(bytes)
        hasher.update(",")
    }
}

/// SHA-256 of a file's logical content fed region by region: the holes between regions (and up
/// to `size` at the end) count as zeros.
struct ContentHasher {
    private var hasher = SHA256()
    private var position: Int64 = 0
    private static let zeros = [UInt8](repeating: 0, count: 1 << 16)

    mutating func update(at offset: Int64, _ bytes: UnsafeRawBufferPointer) {
        if offset > position { zeros(offset - position) }
        hasher.update(bytes)
        position = offset + Int64(bytes.count)
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
        position += Int64(bytes.count)
    }

    /// `update(at:_:)` while feeding the same bytes to `archive` (both hashed in one pass).
    mutating func update(at offset: Int64, _ bytes: UnsafeRawBufferPointer, alongside archive: inout SHA256) {
        if offset > position { zeros(offset - position) }
        SHA256.update(&hasher, &archive, bytes)
        position = offset + Int64(bytes.count)
    }

    private mutating func zeros(_ count: Int64) {
        var left = count
        Self.zeros.withUnsafeBytes { z in
            while left > 0 {
                let n = Int(min(left, Int64(z.count)))
                hasher.update(UnsafeRawBufferPointer(rebasing: z[0..<n]))
                left -= Int64(n)
            }
        }
        position += count
    }

    consuming func finalize(size: Int64) -> SHA256Digest {
        if size > position { zeros(size - position) }
        return hasher.finalize()
    }
}
