import CCCICore

/// What an archive member (or a tree node) is.
public enum EntryType: Sendable, Equatable {
    case file
    case directory
    case symlink
    /// Another name for an earlier entry's inode (`linkTarget`).
    case hardLink
    case fifo
    case characterDevice
    case blockDevice
}

public struct ExtendedAttribute: Sendable, Equatable {
    public var name: [UInt8]
    public var value: [UInt8]
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A data region of a sparse file; everything between regions (and after the last) is a hole.
public struct Region: Sendable, Equatable {
    public var offset: Int64
    public var length: Int64
    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }
}

/// One archive member, normalised: the same model whether it came from a tree on disk, our own
/// archive or someone else's.
public struct Entry: Sendable {
    /// Components joined by "/": no leading "./" or "/", no trailing slash, no "." or ".."
    /// components. Empty for the tree's root.
    public var path: [UInt8]
    public var type: EntryType
    /// Permission bits including setuid, setgid and sticky (0o7777).
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var modified: Timestamp
    /// Regular files: the logical size (holes included). Otherwise 0.
    public var size: Int64
    /// Symlinks: the target, as stored. Hard links: the earlier entry's normalised path.
    public var linkTarget: [UInt8]
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Sorted by name.
    public var xattrs: [ExtendedAttribute]
    /// Sparse files only: the data regions, in order.
    public var regions: [Region]?

    public init(path: [UInt8], type: EntryType) {
        self.path = path
        self.type = type
        mode = 0
        uid = 0
        gid = 0
        modified = Timestamp(seconds: 0)
        size = 0
        linkTarget = []
        deviceMajor = 0
        deviceMinor = 0
        xattrs = []
        regions = nil
    }

    /// The path's components.
    public var components: [[UInt8]] { path.isEmpty ? [] : path.split(separator: 0x2F).map { Array($0) } }
    /// The path for messages ("." for the root; control bytes escaped).
    public var pathText: String { path.isEmpty ? "." : ArchiveError.describe(path) }
}

/// Entry paths as they come out of archives, checked and normalised.
enum EntryPath {
    /// Splits a raw archive name into components: drops empty and "." components (so "./a//b/"
    /// is "a/b"), and refuses what could reach outside the tree: absolute names, "..", NUL.
    static func normalise(_ raw: [UInt8]) throws(ArchiveError) -> [UInt8] {
        let text = ArchiveError.describe(raw)
        if raw.isEmpty { throw ArchiveError(.hostile, "empty entry name") }
        if raw.contains(0) { throw ArchiveError(.hostile, "entry name contains a NUL byte", path: text) }
        if raw[0] == 0x2F { throw ArchiveError(.hostile, "absolute entry name", path: text) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        for part in raw.split(separator: 0x2F, omittingEmptySubsequences: true) {
            if part.count == 1 && part.first == 0x2E { continue }
            if part.count == 2 && part.first == 0x2E && part.last == 0x2E {
                throw ArchiveError(.hostile, "entry name contains '..'", path: text)
            }
            if !out.isEmpty { out.append(0x2F) }
            out.append(contentsOf: part)
        }
        return out
    }
}
