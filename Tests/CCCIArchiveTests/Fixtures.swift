// Trees and archives for the archive tests: a scratch directory holding a source tree, archives
// as files, and hand-built members for the cases no honest writer produces.
import CCCIArchive
import CCCICore
import Glibc
import Testing
import TestSupport

struct Fixture {
    let scratch: ScratchDirectory

    init(_ label: String = "ccci-archive") throws {
        scratch = try ScratchDirectory(label)
    }

    func remove() { scratch.remove() }

    func path(_ rel: String) -> String { scratch.file(rel) }

    func dir(_ rel: String, mode: mode_t = 0o755) throws {
        try Path.makeDirectory(path(rel), mode: mode)
        try Path.setMode(path(rel), mode)
    }

    func file(_ rel: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let fd = try FileDescriptor.open(path(rel), O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        defer { fd.closeQuietly() }
        try fd.writeAll(bytes)
        try fd.setMode(mode)
    }

    func file(_ rel: String, _ text: String, mode: mode_t = 0o644) throws { try file(rel, Array(text.utf8), mode: mode) }

    /// A file of `size` bytes with `data` written at each offset and holes elsewhere.
    func sparse(_ rel: String, size: Int64, data: [(Int64, [UInt8])]) throws {
        let fd = try FileDescriptor.open(path(rel), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { fd.closeQuietly() }
        try fd.truncate(to: size)
        for (offset, bytes) in data {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
            defer { buffer.deallocate() }
            buffer.copyBytes(from: bytes)
            try fd.writeAll(UnsafeRawBufferPointer(buffer), at: offset)
        }
    }

    func symlink(_ target: String, _ rel: String) throws { try Path.symlink(target, at: path(rel)) }
    func hardLink(_ existing: String, _ rel: String) throws { try Path.link(path(existing), at: path(rel)) }

    func xattr(_ rel: String, _ name: String, _ value: [UInt8]) throws {
        let fd = try FileDescriptor.open(path(rel), O_RDONLY)
        defer { fd.closeQuietly() }
        try ExtendedAttributes.set(Array(name.utf8), to: value, on: fd)
    }

    func mtime(_ rel: String, _ seconds: Int64, _ nanoseconds: Int = 0) throws {
        try Path.setModificationTime(path(rel), seconds: seconds, nanoseconds: nanoseconds)
    }

    func chown(_ rel: String, _ uid: uid_t, _ gid: gid_t) throws { try Path.setOwner(path(rel), uid: uid, gid: gid) }
    func chmod(_ rel: String, _ mode: mode_t) throws { try Path.setMode(path(rel), mode) }

    func open(_ rel: String) throws -> FileDescriptor { try FileDescriptor.open(path(rel), O_RDONLY | O_DIRECTORY) }

    func read(_ rel: String) throws -> [UInt8] { try AtomicFile.read(path(rel), limit: 1 << 30) }

    /// Archives the tree `rel` into the file `archive`.
    @discardableResult
    func write(_ rel: String, to archive: String) throws -> ArchiveSummary {
        let tree = try open(rel)
        defer { tree.closeQuietly() }
        let out = try FileDescriptor.open(path(archive), O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        defer { out.closeQuietly() }
        var options = ArchiveWriter.Options()
        options.durable = false
        return try ArchiveWriter.write(tree: tree, to: out, options: options)
    }

    /// Extracts the file `archive` into a new directory `into`.
    @discardableResult
    func extract(_ archive: String, into rel: String, expected: SHA256Digest? = nil, options: Extractor.Options? = nil) throws -> ArchiveSummary {
        try dir(rel, mode: 0o700)
        let input = try FileDescriptor.open(path(archive), O_RDONLY)
        defer { input.closeQuietly() }
        let staging = try open(rel)
        defer { staging.closeQuietly() }
        var o = options ?? Extractor.Options()
        if options == nil { o.durable = false }
        return try Extractor.extract(from: input, into: staging, expectedSHA256: expected, options: o)
    }

    func verify(_ archive: String, expected: SHA256Digest? = nil) throws -> ArchiveSummary {
        let input = try FileDescriptor.open(path(archive), O_RDONLY)
        defer { input.closeQuietly() }
        return try Extractor.verify(from: input, expectedSHA256: expected)
    }

    func digest(_ rel: String) throws -> SHA256Digest {
        let fd = try open(rel)
        defer { fd.closeQuietly() }
        return try TreeDigest.compute(directory: fd)
    }

    func save(_ bytes: [UInt8], as rel: String) throws { try file(rel, bytes, mode: 0o600) }

    /// Names under `rel`, recursively, as sorted relative paths (to show nothing else appeared).
    func listing(_ rel: String) throws -> [String] {
        var out: [String] = []
        func walk(_ dir: String, _ prefix: String) throws {
            let fd = try FileDescriptor.open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { fd.closeQuietly() }
            for name in try Path.list(fd) {
                let child = prefix.isEmpty ? name : prefix + "/" + name
                out.append(child)
                let st = try Path.status("\(dir)/\(name)")
                if st.st_mode & S_IFMT == S_IFDIR { try walk("\(dir)/\(name)", child) }
            }
        }
        try walk(path(rel), "")
        return out
    }
}

/// Hand-built archive members, for what no honest writer produces.
enum Member {
    static func header(_ name: String, type: UInt8 = 0x30, size: Int = 0, mode: Int = 0o644, link: String = "",
                       magic: String = "ustar\u{0}00", corruptChecksum: Bool = false, sizeField: [UInt8]? = nil) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int) { for (i, x) in bytes.enumerated() { b[at + i] = x } }
        func octal(_ v: Int, _ width: Int) -> [UInt8] {
            let s = String(v, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - s.count) + s).utf8) + [0]
        }
        put(Array(name.utf8.prefix(100)), 0)
        put(octal(mode, 8), 100)
        put(octal(0, 8), 108)
        put(octal(0, 8), 116)
        put(sizeField ?? octal(size, 12), 124)
        put(octal(1_600_000_000, 12), 136)
        b[156] = type
        put(Array(link.utf8.prefix(100)), 157)
        put(Array(magic.utf8), 257)
        var sum = 0
        for (i, x) in b.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(x) }
        if corruptChecksum { sum += 1 }
        put(octal(sum, 7) + [0x20], 148)
        return b
    }

    static func padded(_ data: [UInt8]) -> [UInt8] {
        data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    static func file(_ name: String, _ content: String, mode: Int = 0o644) -> [UInt8] {
        header(name, size: content.utf8.count, mode: mode) + padded(Array(content.utf8))
    }

    static func pax(_ records: [(String, String)]) -> [UInt8] {
        var data: [UInt8] = []
        for (k, v) in records {
            let body = " \(k)=\(v)\n".utf8.count
            var length = body + 1
            while String(length).count + body != length { length = String(length).count + body }
            data += Array("\(length) \(k)=\(v)\n".utf8)
        }
        return header("././@PaxHeader", type: 0x78, size: data.count) + padded(data)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
    /// The root entry every complete archive names first.
    static let root = header("./", type: 0x35, mode: 0o755)
}
