// The one strict judgement of an archive, shared by everything that reads one: `Extractor.verify`
// (so `ccci-restore --verify` and `ccci-canon has`), `Extractor.extract` (so restore and
// `--into`), and the writer, which refuses to write what it would refuse to read. What it
// accepts, extraction can apply; what it refuses, nothing may call valid. Entry by entry, before
// anything is written:
//
// - names: every component at most 255 bytes (NAME_MAX); NUL, "..", absolute names are refused
//   by the reader's normalisation already;
// - structure: no path goes through an earlier non-directory (a symlink or file the archive made:
//   that is how a write escapes), an entry never replaces a directory (named or implied) and
//   never repeats a path (directories excepted), a hard link names an earlier non-directory
//   entry; at the end, the root and every directory a member needs must have been named (an
//   archive that leaves one out cannot say what it is, and its digest cannot be checked);
// - values the kernel cannot apply: uid or gid 4294967295 (chown's "leave unchanged"), an
//   mtime outside what ext4 stores (1901-12-13 to 2446-05-10) or nanoseconds >= 10^9, a symlink
//   target over 4095 bytes, an xattr name over 255 bytes or value over 64 KiB;
// - device nodes only where they may be created (root), else permission (77).
//
// Verify and extraction therefore give the same verdict on every archive; restore additionally
// proves the staged tree from the disk before swapping it in (Restore.swift).
import CCCICore

struct Judgement {
    let allowDeviceNodes: Bool
    /// Directories the archive needs but does not name are accepted (created with the extractor's
    /// mode). Only for reading the previous system's plain tars once, during a migration that
    /// rewrites them in our format and proves the result; never for our own snapshots.
    var allowImpliedDirectories = false
    /// Every path seen: true for a directory (named or implied), false for anything else.
    private var kinds: [[UInt8]: Bool] = [:]
    /// Directories named by an entry (the root is the empty path).
    private var named: Set<[UInt8]> = []

    static let maxComponent = 255
    static let maxLinkTarget = 4095
    static let maxXattrName = 255
    static let maxXattrValue = 65536
    /// What ext4 (with 256-byte inodes) stores: seconds from -2^31 to 2^34 - 2^31 - 1.
    static let mtimes: ClosedRange<Int64> = -(1 << 31)...((1 << 34) - (1 << 31) - 1)

    init(allowDeviceNodes: Bool, allowImpliedDirectories: Bool = false) {
        self.allowDeviceNodes = allowDeviceNodes
        self.allowImpliedDirectories = allowImpliedDirectories
    }

    mutating func admit(_ entry: Entry) throws(ArchiveError) {
        let parts = entry.components
        for part in parts where part.count > Self.maxComponent {
            throw ArchiveError(.hostile, "a name component is longer than \(Self.maxComponent) bytes", path: entry.pathText)
        }
        if entry.uid == UInt32.max || entry.gid == UInt32.max {
            throw ArchiveError(.unsupported, "owner 4294967295 cannot be applied", path: entry.pathText)
        }
        guard Self.mtimes.contains(entry.modified.seconds), (0..<1_000_000_000).contains(entry.modified.nanoseconds) else {
            throw ArchiveError(.unsupported, "mtime \(entry.modified.seconds) is outside what the filesystem stores", path: entry.pathText)
        }
        for x in entry.xattrs where x.name.count > Self.maxXattrName || x.value.count > Self.maxXattrValue {
            throw ArchiveError(.unsupported, "extended attribute '\(ArchiveError.describe(x.name))' is too large to apply", path: entry.pathText)
        }
        switch entry.type {
        case .symlink where entry.linkTarget.count > Self.maxLinkTarget:
            throw ArchiveError(.unsupported, "symlink target longer than \(Self.maxLinkTarget) bytes", path: entry.pathText)
        case .characterDevice where !allowDeviceNodes, .blockDevice where !allowDeviceNodes:
            throw ArchiveError(.permission, "device nodes are extracted only when running as root", path: entry.pathText)
        default: break
        }
        // Every directory on the way: a directory, never something the archive made otherwise.
        var prefix: [UInt8] = []
        for part in parts.dropLast() {
            if !prefix.isEmpty { prefix.append(0x2F) }
            prefix += part
            switch kinds[prefix] {
            case false?: throw ArchiveError(.hostile, "path goes through a non-directory ('\(ArchiveError.describe(prefix))')", path: entry.pathText)
            case nil: kinds[prefix] = true
            default: break
            }
        }
        if entry.type == .hardLink {
            guard kinds[entry.linkTarget] == false else {
                throw ArchiveError(.hostile, "hard link to '\(ArchiveError.describe(entry.linkTarget))', which is not an earlier non-directory entry", path: entry.pathText)
            }
        }
        let isDirectory = entry.type == .directory
        switch kinds[entry.path] {
        case true? where !isDirectory: throw ArchiveError(.hostile, "entry would replace a directory", path: entry.pathText)
        case false?: throw ArchiveError(.hostile, "duplicate entry", path: entry.pathText)
        default: break
        }
        kinds[entry.path] = isDirectory
        if isDirectory { named.insert(entry.path) }
    }

    /// At the end of the archive: the root and every directory a member needed were named.
    func finish() throws(ArchiveError) {
        if allowImpliedDirectories { return }
        guard named.contains([]) else { throw ArchiveError(.corrupt, "the archive does not name its root directory ('./')") }
        for (path, isDirectory) in kinds where isDirectory && !named.contains(path) {
            throw ArchiveError(.corrupt, "the archive does not name directory '\(ArchiveError.describe(path))'")
        }
    }
}
