// Writing a tree as a POSIX pax archive, in one pass: walk, serialise, hash the archive bytes,
// hash each file's content for the tree digest, and push the result towards the disk while doing
// so. The profile (docs/archive-format.md) is chosen so that the same tree always gives the same
// bytes: entries in walk order (depth first, names in byte order), member names "./path" ("./" for
// the root, a trailing "/" for directories), numeric owners only (uname and gname empty), no atime
// or ctime, pax headers only where a ustar field cannot hold the value, their records in a fixed
// order, sparse files in GNU's pax format 1.0, and the end padded to a 10 KiB record.
import CCCICore
import Glibc

/// What writing or reading a whole archive found.
public struct ArchiveSummary: Sendable, Equatable {
    /// SHA-256 of the archive's bytes, as `sha256sum` would print it.
    public var sha256: SHA256Digest
    /// The archive's length in bytes.
    public var bytes: Int64
    /// Members other than pax and GNU meta headers (the root directory counts).
    public var entries: Int
    /// The tree digest (docs/archive-format.md).
    public var treeDigest: SHA256Digest
    /// Nodes the archive cannot hold and were left out (sockets), by path.
    public var skipped: [String]
}

public enum ArchiveWriter {
    public struct Options: Sendable {
        /// fsync the archive before returning (writeback is overlapped with the writing).
        public var durable = true
        /// Archive device nodes; refused (permission) otherwise. Default: when running as root.
        public var allowDeviceNodes = Kernel.effectiveUserID == 0
        public init() {}
    }

    /// Writes the tree under `tree` (a directory descriptor) as an archive to `output`.
    public static func write(tree: FileDescriptor, to output: FileDescriptor, options: Options = Options()) throws(ArchiveError) -> ArchiveSummary {
        let out = try ArchiveOutput(output, writeback: options.durable)
        var walk = TreeWalk(allowDeviceNodes: options.allowDeviceNodes)
        var digest = TreeDigest()
        var entries = 0
        var judgement = Judgement(allowDeviceNodes: true)  // TreeWalk applies the device policy
        var holes: Int64 = 0
        try walk.walk(tree) { node throws(ArchiveError) in
            try judgement.admit(node.entry)
            if let regions = node.entry.regions {
                // What the reader would refuse is not written (measured from before the header,
                // so the writer is the stricter of the two).
                let stored = regions.reduce(0) { $0 + $1.length }
                holes += node.entry.size - stored
                guard ArchiveReader.holesAllowed(holes, by: out.position + stored) else {
                    throw ArchiveError(.unsupported, "a sparse file whose holes are out of proportion to its data (see docs/archive-format.md)", path: node.entry.pathText)
                }
            }
            let content = try write(node, to: out)
            try digest.add(node.entry, content: content)
            entries += 1
        }
        try judgement.finish()
        try out.appendZeros(2 * Header.size)
        let record = Int(out.position % 10240)
        if record != 0 { try out.appendZeros(10240 - record) }
        let (sha256, bytes) = try out.finish(sync: options.durable)
        return ArchiveSummary(
            sha256: sha256, bytes: bytes, entries: entries, treeDigest: digest.finalize(),
            skipped: walk.skipped.map { String(decoding: $0, as: UTF8.self) })
    }

    /// Writes one member; answers the content SHA-256 of a regular file.
    static func write(_ node: TreeNode, to out: ArchiveOutput) throws(ArchiveError) -> SHA256Digest? {
        let e = node.entry
        let name = memberName(e.path, directory: e.type == .directory)
        var fields = Header.Fields()
        fields.name = name
        fields.mode = e.mode
        fields.uid = e.uid
        fields.gid = e.gid
        fields.mtime = e.modified.seconds
        var records: [UInt8] = []

        var sparseMap: [UInt8] = []
        var memberSize: Int64 = 0
        switch e.type {
        case .file:
            fields.typeflag = Header.regular
            memberSize = e.size
            if let regions = e.regions {
                sparseMap = sparseMapText(regions, size: e.size)
                memberSize = Int64(sparseMap.count) + regions.reduce(0) { $0 + $1.length }
                fields.name = sparseName(e.path)
            }
        case .directory: fields.typeflag = Header.directory
        case .symlink:
            fields.typeflag = Header.symlink
            fields.linkname = e.linkTarget
        case .hardLink:
            fields.typeflag = Header.hardLink
            fields.linkname = memberName(e.linkTarget, directory: false)
        case .fifo: fields.typeflag = Header.fifo
        case .characterDevice, .blockDevice:
            fields.typeflag = e.type == .characterDevice ? Header.characterDevice : Header.blockDevice
            fields.deviceMajor = e.deviceMajor
            fields.deviceMinor = e.deviceMinor
        }
        fields.size = memberSize

        if e.regions == nil && name.count > 100 { records += PaxRecords.encode(Array("path".utf8), name) }
        if fields.linkname.count > 100 { records += PaxRecords.encode(Array("linkpath".utf8), fields.linkname) }
        if memberSize > Header.maxOctal11 { records += PaxRecords.encode("size", String(memberSize)) }
        if Int64(e.uid) > Header.maxOctal7 { records += PaxRecords.encode("uid", String(e.uid)) }
        if Int64(e.gid) > Header.maxOctal7 { records += PaxRecords.encode("gid", String(e.gid)) }
        if e.modified.nanoseconds != 0 || e.modified.seconds < 0 || e.modified.seconds > Header.maxOctal11 {
            records += PaxRecords.encode("mtime", PaxRecords.formatTime(e.modified))
        }
        if e.regions != nil {
            records += PaxRecords.encode("GNU.sparse.major", "1")
            records += PaxRecords.encode("GNU.sparse.minor", "0")
            records += PaxRecords.encode(Array("GNU.sparse.name".utf8), name)
            records += PaxRecords.encode("GNU.sparse.realsize", String(e.size))
        }
        if Int64(e.deviceMajor) > Header.maxOctal7 { records += PaxRecords.encode("SCHILY.devmajor", String(e.deviceMajor)) }
        if Int64(e.deviceMinor) > Header.maxOctal7 { records += PaxRecords.encode("SCHILY.devminor", String(e.deviceMinor)) }
        if e.type != .hardLink {
            for x in e.xattrs { records += PaxRecords.encode(Array("SCHILY.xattr.".utf8) + x.name, x.value) }
        }

        if records.count > ArchiveReader.maxHeaderData {
            throw ArchiveError(.unsupported, "extended attributes and names too large for an archive header (over 1 MiB)", path: e.pathText)
        }
        if !records.isEmpty {
            var pax = Header.Fields()
            pax.name = Array("././@PaxHeader".utf8)
            pax.mode = 0o644
            pax.size = Int64(records.count)
            pax.typeflag = Header.paxLocal
            try out.append(Header.encode(pax))
            try out.append(records)
            try out.padToBlock()
        }
        try out.append(Header.encode(fields))
        guard e.type == .file, let file = node.file else { return nil }

        var hasher = ContentHasher()
        if let regions = e.regions {
            try out.append(sparseMap)
            for region in regions {
                var offset = region.offset
                let end = region.offset + region.length
                while offset < end {
                    let space = try out.space(minimum: 64 << 10)
                    let want = Int(min(Int64(space.count), end - offset))
                    let n = try TreeDigest.readFile(file, into: UnsafeMutableRawBufferPointer(rebasing: space[0..<want]), at: offset, path: e)
                    out.commit(n, content: &hasher, at: offset)
                    offset += Int64(n)
                }
            }
        } else {
            var left = e.size
            while left > 0 {
                let space = try out.space(minimum: 64 << 10)
                let want = Int(min(Int64(space.count), left))
                let n: Int
                do throws(SystemError) { n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: space[0..<want])) } catch {
                    throw ArchiveError(error, path: e.path)
                }
                if n == 0 { throw ArchiveError(.changed, "shrank while being read", path: e.pathText) }
                out.commit(n, content: &hasher, at: e.size - left)
                left -= Int64(n)
            }
        }
        try out.padToBlock()
        let after: stat
        do throws(SystemError) { after = try file.status() } catch { throw ArchiveError(error, path: e.path) }
        if Int64(after.st_size) != e.size || after.st_mtim.tv_sec != Int(e.modified.seconds) || after.st_mtim.tv_nsec != e.modified.nanoseconds {
            throw ArchiveError(.changed, "changed while being read", path: e.pathText)
        }
        return hasher.finalize(size: e.size)
    }

    /// "./" + path, with a trailing "/" for directories; "./" for the root.
    static func memberName(_ path: [UInt8], directory: Bool) -> [UInt8] {
        if path.isEmpty { return Array("./".utf8) }
        return Array("./".utf8) + path + (directory ? [0x2F] : [])
    }

    /// The ustar name of a sparse member, as GNU tar forms it with the process id fixed at 0:
    /// "<dir>/GNUSparseFile.0/<base>". Readers that know the format take GNU.sparse.name instead.
    static func sparseName(_ path: [UInt8]) -> [UInt8] {
        let parts = path.split(separator: 0x2F, omittingEmptySubsequences: false)
        let base = Array(parts.last ?? [])
        let dir = parts.dropLast().map { Array($0) }
        var name = Array("./".utf8)
        for d in dir { name += d + [0x2F] }
        name += Array("GNUSparseFile.0/".utf8) + base
        return Array(name.prefix(100))
    }

    /// The sparse 1.0 map that starts the member's data: the number of regions, then each
    /// region's offset and length, one decimal per line, padded with NULs to a block. A file
    /// that ends in a hole gets a last, empty region at its size.
    static func sparseMapText(_ regions: [Region], size: Int64) -> [UInt8] {
        var map = regions
        if map.last.map({ $0.offset + $0.length < size }) ?? true { map.append(Region(offset: size, length: 0)) }
        var text = Array("\(map.count)\n".utf8)
        for r in map { text += Array("\(r.offset)\n\(r.length)\n".utf8) }
        let rest = text.count % Header.size
        if rest != 0 { text += [UInt8](repeating: 0, count: Header.size - rest) }
        return text
    }
}
