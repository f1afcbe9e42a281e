// Reading pax, GNU and ustar archives member by member, strictly: every header's checksum is
// verified, every numeric field and pax record must parse, sizes above `maxSize` are refused as
// absurd, the input must end with the two zero blocks of the end-of-archive marker (and nothing
// but zeros after them), and member names are normalised and refused when absolute or holding
// "..". What we accept:
//
// - ustar members, with the prefix field joined to the name;
// - pax 'x' (per member) and 'g' (global) headers: path, linkpath, size, uid, gid, mtime,
//   SCHILY.xattr.*, SCHILY.devmajor/devminor, GNU.sparse.* (formats 0.0, 0.1 and 1.0); path,
//   linkpath, size and GNU.sparse.* describe one member and are refused in a global header, and
//   a link name on a member that is not a link is refused; the holes of sparse members are
//   bounded by the archive's size (`holesAllowed`), since hashing a hole costs as much as data;
//   other keywords (atime, ctime, uname, gname, LIBARCHIVE.*, SCHILY.acl.*...) are ignored;
// - GNU 'L'/'K' long names and links, base-256 numbers, and the old GNU sparse type 'S';
// - types 0 (and NUL, 7), 1, 2, 3, 4, 5, 6. Anything else (GNU 'D', 'M', 'V', vendor types) is
//   refused as unsupported rather than silently skipped.
import CCCICore

struct ArchiveReader {
    let input: ArchiveInput
    private var global: [(keyword: [UInt8], value: [UInt8])] = []
    /// Member data (and padding) of the current entry not yet consumed.
    private var pending: Int64 = 0
    /// The current entry's data layout.
    private var layout: Layout = .none

    /// Sizes above this (1 PiB) are absurd: refused before anything is allocated or written.
    static let maxSize: Int64 = 1 << 50
    /// Bounds on what is held in memory: an extended header, a long name, a sparse map.
    static let maxHeaderData = 1 << 20
    static let maxLongName = 64 << 10
    static let maxRegions = 1 << 18
    /// Keywords that describe one member and make no sense for all of them.
    static let perMemberOnly: [[UInt8]] = ["path", "linkpath", "size"].map { Array($0.utf8) }
    /// The work a sparse member can demand without data behind it is bounded: the holes of all
    /// members so far may not exceed `holeAllowance` plus `holeRatio` times the archive's bytes
    /// up to the end of the member's data (hashing a hole costs as much as hashing data).
    static let holeAllowance: Int64 = 256 << 20
    static let holeRatio: Int64 = 64
    private var holes: Int64 = 0

    static func holesAllowed(_ holes: Int64, by offset: Int64) -> Bool {
        holes <= holeAllowance + holeRatio * offset
    }

    private enum Layout {
        case none
        /// `size` bytes of contiguous data.
        case contiguous(Int64)
        /// Data regions back to back.
        case sparse([Region])
    }

    init(_ input: ArchiveInput) { self.input = input }

    /// The next member, or nil after the end-of-archive marker. Unread data of the previous
    /// member is skipped (and hashed).
    mutating func next() throws(ArchiveError) -> Entry? {
        if pending > 0 { try input.skip(pending) }
        pending = 0
        layout = .none
        var local: [(keyword: [UInt8], value: [UInt8])] = []
        var longName: [UInt8]? = nil
        var longLink: [UInt8]? = nil
        var metaPending = false
        while true {
            let at = input.offset
            guard let block = try input.block() else {
                throw ArchiveError(.corrupt, "archive truncated: no end-of-archive marker at byte \(at)")
            }
            if Header.isZero(block) {
                if metaPending { throw ArchiveError(.corrupt, "extended header not followed by a member at byte \(at)") }
                guard let second = try input.block() else { throw ArchiveError(.corrupt, "archive truncated inside the end-of-archive marker") }
                guard Header.isZero(second) else { throw ArchiveError(.corrupt, "a lone zero block at byte \(at)") }
                guard try input.restIsZero() else { throw ArchiveError(.corrupt, "data after the end-of-archive marker") }
                return nil
            }
            guard Header.checksumMatches(block) else { throw ArchiveError(.corrupt, "bad header checksum at byte \(at)") }
            guard let magic = Header.magic(block) else { throw ArchiveError(.corrupt, "not a ustar, pax or GNU tar header at byte \(at)") }
            let typeflag = block[156]
            guard let size = Header.number(block, 124, 12), size >= 0 else { throw ArchiveError(.corrupt, "malformed size field at byte \(at)") }
            switch typeflag {
            case Header.paxLocal, Header.paxGlobal, Header.gnuLongName, Header.gnuLongLink:
                let limit = typeflag == Header.paxLocal || typeflag == Header.paxGlobal ? Self.maxHeaderData : Self.maxLongName
                guard size <= limit else { throw ArchiveError(.corrupt, "absurd size \(size) for an extended header at byte \(at)") }
                let data = try input.bytes(Int(size))
                try input.skip(Self.padding(size))
                switch typeflag {
                case Header.paxLocal: local += try PaxRecords.parse(data)
                case Header.paxGlobal:
                    let records = try PaxRecords.parse(data)
                    for (keyword, _) in records where Self.perMemberOnly.contains(keyword) || keyword.starts(with: Array("GNU.sparse.".utf8)) {
                        throw ArchiveError(.corrupt, "pax keyword '\(ArchiveError.describe(keyword))' in a global header at byte \(at)")
                    }
                    global += records
                case Header.gnuLongName: longName = Array(data.prefix(while: { $0 != 0 }))
                default: longLink = Array(data.prefix(while: { $0 != 0 }))
                }
                metaPending = true
                continue
            default:
                break
            }
            return try member(block, magic: magic, size: size, at: at, records: global + local, longName: longName, longLink: longLink)
        }
    }

    private mutating func member(
        _ block: UnsafeRawBufferPointer, magic: Header.Magic, size headerSize: Int64, at: Int64,
        records: [(keyword: [UInt8], value: [UInt8])], longName: [UInt8]?, longLink: [UInt8]?
    ) throws(ArchiveError) -> Entry {
        func field(_ offset: Int, _ width: Int, _ what: String) throws(ArchiveError) -> Int64 {
            guard let v = Header.number(block, offset, width) else { throw ArchiveError(.corrupt, "malformed \(what) field at byte \(at)") }
            return v
        }
        let typeflag = block[156]
        var name = Header.text(block, 0, 100)
        if magic == .ustar {
            let prefix = Header.text(block, 345, 155)
            if !prefix.isEmpty { name = prefix + [0x2F] + name }
        }
        var link = Header.text(block, 157, 100)
        let mode = try field(100, 8, "mode")
        var uid = try field(108, 8, "uid")
        var gid = try field(116, 8, "gid")
        var size = headerSize
        var modified = Timestamp(seconds: try field(136, 12, "mtime"))
        var major = try field(329, 8, "devmajor")
        var minor = try field(337, 8, "devminor")
        if let longName { name = longName }
        if let longLink { link = longLink }

        var xattrs: [[UInt8]: [UInt8]] = [:]
        var sparseMajor: [UInt8]? = nil
        var sparseMinor: [UInt8]? = nil
        var sparseName: [UInt8]? = nil
        var sparseRealSize: Int64? = nil
        var sparseMap: [Int64] = []
        var sparseMapText: [UInt8]? = nil
        func number(_ v: [UInt8], _ keyword: [UInt8], limit: Int64 = ArchiveReader.maxSize) throws(ArchiveError) -> Int64 {
            guard let n = PaxRecords.parseNumber(v, limit: limit) else {
                throw ArchiveError(.corrupt, "bad or absurd value for pax keyword '\(ArchiveError.describe(keyword))' at byte \(at)")
            }
            return n
        }
        let xattrPrefix = Array("SCHILY.xattr.".utf8)
        for (keyword, value) in records {
            switch String(decoding: keyword, as: UTF8.self) {
            case "path": name = value.isEmpty ? name : value
            case "linkpath": link = value.isEmpty ? link : value
            case "size": if !value.isEmpty { size = try number(value, keyword) }
            case "uid": if !value.isEmpty { uid = try number(value, keyword, limit: Int64(UInt32.max)) }
            case "gid": if !value.isEmpty { gid = try number(value, keyword, limit: Int64(UInt32.max)) }
            case "mtime":
                if !value.isEmpty {
                    guard let t = PaxRecords.parseTime(value) else { throw ArchiveError(.corrupt, "bad pax mtime at byte \(at)") }
                    modified = t
                }
            case "SCHILY.devmajor": major = try number(value, keyword, limit: Int64(UInt32.max))
            case "SCHILY.devminor": minor = try number(value, keyword, limit: Int64(UInt32.max))
            case "GNU.sparse.major": sparseMajor = value
            case "GNU.sparse.minor": sparseMinor = value
            case "GNU.sparse.name": sparseName = value
            case "GNU.sparse.realsize", "GNU.sparse.size": sparseRealSize = try number(value, keyword)
            case "GNU.sparse.map": sparseMapText = value
            case "GNU.sparse.offset", "GNU.sparse.numbytes":
                sparseMap.append(try number(value, keyword))
                guard sparseMap.count <= 2 * Self.maxRegions else { throw ArchiveError(.corrupt, "absurd sparse map at byte \(at)") }
            default:
                if keyword.starts(with: xattrPrefix) {
                    let attribute = Array(keyword[xattrPrefix.count...])
                    guard !attribute.isEmpty, !attribute.contains(0) else { throw ArchiveError(.corrupt, "bad xattr name at byte \(at)") }
                    xattrs[attribute] = value
                }
            }
        }
        guard size <= Self.maxSize else { throw ArchiveError(.corrupt, "absurd member size \(size) at byte \(at)") }
        guard (0...0o7777777777).contains(mode), uid >= 0, uid <= Int64(UInt32.max), gid >= 0, gid <= Int64(UInt32.max),
            major >= 0, major <= Int64(UInt32.max), minor >= 0, minor <= Int64(UInt32.max)
        else { throw ArchiveError(.corrupt, "numeric field out of range at byte \(at)") }

        var type: EntryType
        switch typeflag {
        case Header.regular, 0, Header.contiguous:
            type = name.last == 0x2F && sparseName == nil ? .directory : .file
        case Header.gnuSparse where magic == .gnu: type = .file
        case Header.hardLink: type = .hardLink
        case Header.symlink: type = .symlink
        case Header.characterDevice: type = .characterDevice
        case Header.blockDevice: type = .blockDevice
        case Header.directory: type = .directory
        case Header.fifo: type = .fifo
        default:
            let shown = typeflag >= 0x20 && typeflag < 0x7F ? String(UnicodeScalar(typeflag)) : "\\\(typeflag)"
            throw ArchiveError(.unsupported, "entry type '\(shown)' is not supported", path: ArchiveError.describe(name))
        }
        if let sparseName { name = sparseName }

        var entry = Entry(path: try EntryPath.normalise(name), type: type)
        entry.mode = UInt32(mode & 0o7777)
        entry.uid = UInt32(uid)
        entry.gid = UInt32(gid)
        entry.modified = modified
        entry.xattrs = xattrs.map { ExtendedAttribute(name: $0.key, value: $0.value) }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        if type == .characterDevice || type == .blockDevice {
            entry.deviceMajor = UInt32(major)
            entry.deviceMinor = UInt32(minor)
        }
        switch type {
        case .symlink:
            guard !link.isEmpty, !link.contains(0) else { throw ArchiveError(.corrupt, "symlink without a target", path: entry.pathText) }
            entry.linkTarget = link
        case .hardLink:
            entry.linkTarget = try EntryPath.normalise(link)
            guard !entry.linkTarget.isEmpty else { throw ArchiveError(.hostile, "hard link to the root", path: entry.pathText) }
        default:
            guard link.isEmpty else { throw ArchiveError(.hostile, "a link target on an entry that is not a link", path: entry.pathText) }
        }
        if entry.path.isEmpty && type != .directory { throw ArchiveError(.hostile, "the root is not a directory") }

        pending = size + Self.padding(size)
        guard type == .file else { return entry }

        // Regular file: contiguous, or one of the sparse layouts.
        if typeflag == Header.gnuSparse {
            // The real size first: reading extension blocks moves the buffer under `block`.
            guard let real = Header.number(block, 483, 12), real >= 0, real <= Self.maxSize else {
                throw ArchiveError(.corrupt, "bad sparse real size at byte \(at)")
            }
            entry.size = real
            entry.regions = try oldGNUSparseMap(block, at: at)
        } else if sparseMajor != nil || sparseMapText != nil || !sparseMap.isEmpty {
            guard let real = sparseRealSize else { throw ArchiveError(.corrupt, "sparse member without its real size", path: entry.pathText) }
            entry.size = real
            let version = (sparseMajor.map { String(decoding: $0, as: UTF8.self) } ?? "0") + "." + (sparseMinor.map { String(decoding: $0, as: UTF8.self) } ?? "")
            switch version {
            case "1.0": entry.regions = try sparseMap10(dataSize: size, at: at)
            case "0.1", "0.", "0.0":
                var numbers = sparseMap
                if let text = sparseMapText {
                    numbers = []
                    for part in text.split(separator: 0x2C, omittingEmptySubsequences: false) {
                        guard let n = PaxRecords.parseNumber(Array(part), limit: Self.maxSize) else { throw ArchiveError(.corrupt, "bad GNU.sparse.map at byte \(at)") }
                        numbers.append(n)
                        guard numbers.count <= 2 * Self.maxRegions else { throw ArchiveError(.corrupt, "absurd sparse map at byte \(at)") }
                    }
                }
                guard numbers.count % 2 == 0 else { throw ArchiveError(.corrupt, "odd sparse map at byte \(at)") }
                entry.regions = stride(from: 0, to: numbers.count, by: 2).map { Region(offset: numbers[$0], length: numbers[$0 + 1]) }
            default:
                throw ArchiveError(.unsupported, "sparse format \(version) is not supported", path: entry.pathText)
            }
        } else {
            entry.size = size
        }
        if var regions = entry.regions {
            regions.removeAll { $0.length == 0 }
            var end: Int64 = 0
            var total: Int64 = 0
            for r in regions {
                guard r.offset >= end, r.length <= entry.size, r.offset <= entry.size - r.length else {
                    throw ArchiveError(.corrupt, "sparse map regions out of order or beyond the file's size", path: entry.pathText)
                }
                end = r.offset + r.length
                total += r.length
            }
            let stored: Int64
            if case .sparse = layout { stored = pending - Self.padding(size) } else { stored = size }
            guard total == stored else { throw ArchiveError(.corrupt, "sparse map does not match the member's data size", path: entry.pathText) }
            holes += entry.size - total
            guard Self.holesAllowed(holes, by: input.offset + stored) else {
                throw ArchiveError(.corrupt, "sparse holes out of proportion to the archive (\(holes) bytes of holes by byte \(input.offset + stored))", path: entry.pathText)
            }
            entry.regions = regions
            layout = .sparse(regions)
        } else {
            layout = .contiguous(size)
        }
        return entry
    }

    /// Streams the current file's content as (logical offset, bytes), in increasing order, hashing
    /// it into `content` in the same pass as the archive hash; holes between the pieces are zeros.
    /// Then skips the member's padding.
    mutating func readContent(into content: inout ContentHasher, _ body: (Int64, UnsafeRawBufferPointer) throws(ArchiveError) -> Void) throws(ArchiveError) {
        switch layout {
        case .none: return
        case .contiguous(let size):
            try input.chunks(size, content: &content, at: 0, body)
            pending -= size
        case .sparse(let regions):
            for r in regions {
                try input.chunks(r.length, content: &content, at: r.offset, body)
                pending -= r.length
            }
        }
        layout = .none
        try input.skip(pending)
        pending = 0
    }

    static func padding(_ size: Int64) -> Int64 { (512 - size % 512) % 512 }

    /// Sparse 1.0: the map is decimal text at the start of the member's data (count, then offset
    /// and length per region, one per line), padded to a block.
    private mutating func sparseMap10(dataSize: Int64, at: Int64) throws(ArchiveError) -> [Region] {
        var numbers: [Int64] = []
        var count: Int64? = nil
        var current: Int64 = 0
        var digits = 0
        var consumed: Int64 = 0
        while count.map({ numbers.count < 2 * Int($0) }) ?? true {
            guard consumed + 512 <= dataSize else { throw ArchiveError(.corrupt, "sparse map runs past the member's data at byte \(at)") }
            let block = try input.bytes(512)
            consumed += 512
            for byte in block {
                if let c = count, numbers.count == 2 * Int(c) { break }
                if byte == 0x0A {
                    guard digits > 0 else { throw ArchiveError(.corrupt, "bad sparse map at byte \(at)") }
                    if count == nil {
                        guard current <= Int64(Self.maxRegions) else { throw ArchiveError(.corrupt, "absurd sparse map at byte \(at)") }
                        count = current
                    } else {
                        numbers.append(current)
                    }
                    current = 0
                    digits = 0
                } else if byte >= 0x30 && byte <= 0x39 && digits < 18 {
                    current = current * 10 + Int64(byte - 0x30)
                    digits += 1
                } else {
                    throw ArchiveError(.corrupt, "bad sparse map at byte \(at)")
                }
            }
        }
        pending -= consumed
        layout = .sparse([])
        return stride(from: 0, to: numbers.count, by: 2).map { Region(offset: numbers[$0], length: numbers[$0 + 1]) }
    }

    /// Old GNU sparse ('S'): four regions in the header, then extension blocks of 21 while the
    /// "isextended" byte is set.
    private mutating func oldGNUSparseMap(_ header: UnsafeRawBufferPointer, at: Int64) throws(ArchiveError) -> [Region] {
        var regions: [Region] = []
        func collect(_ block: UnsafeRawBufferPointer, base: Int, count: Int) throws(ArchiveError) {
            for i in 0..<count {
                let o = base + 24 * i
                if block[o] == 0 { return }
                guard let offset = Header.number(block, o, 12), let length = Header.number(block, o + 12, 12), offset >= 0, length >= 0 else {
                    throw ArchiveError(.corrupt, "bad GNU sparse map at byte \(at)")
                }
                regions.append(Region(offset: offset, length: length))
            }
        }
        try collect(header, base: 386, count: 4)
        var extended = header[482] != 0
        while extended {
            guard let block = try input.block() else { throw ArchiveError(.corrupt, "archive truncated inside a GNU sparse map") }
            try collect(block, base: 0, count: 21)
            extended = block[504] != 0
            guard regions.count <= Self.maxRegions else { throw ArchiveError(.corrupt, "absurd sparse map at byte \(at)") }
        }
        return regions
    }
}
