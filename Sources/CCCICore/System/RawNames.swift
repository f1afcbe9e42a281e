import CSystem
import Glibc

// File names as the kernel stores them: bytes, not necessarily UTF-8. The archive code reads and
// recreates trees whose names it did not choose, so it works on these; the `String` forms in
// Paths.swift are for names the toolkit itself chose. Every call is relative to a directory
// descriptor and never follows a symlink in the last component.

/// Calls `body` with `name` as a NUL-terminated C string.
@inline(__always)
func withCName<R>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
    var z = name
    z.append(0)
    return z.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) } }
}

/// A byte name as text for error messages (invalid UTF-8 shown as U+FFFD).
@inline(__always)
func describe(_ name: [UInt8]) -> String { String(decoding: name, as: UTF8.self) }

extension FileDescriptor {
    /// Wraps openat(2) for a byte name. O_CLOEXEC is always added.
    public static func open(
        _ name: [UInt8], relativeTo dir: FileDescriptor, _ flags: CInt, mode: mode_t = 0o600
    ) throws(SystemError) -> FileDescriptor {
        let fd = try retrying("open", path: describe(name)) { withCName(name) { openat(dir.rawValue, $0, flags | O_CLOEXEC, mode) } }
        return FileDescriptor(rawValue: fd)
    }

    /// Wraps fchown(2).
    public func setOwner(uid: uid_t, gid: gid_t) throws(SystemError) {
        _ = try retrying("fchown") { fchown(rawValue, uid, gid) }
    }

    /// Wraps futimens(2); access time is set equal to modification time.
    public func setModificationTime(seconds: Int64, nanoseconds: Int) throws(SystemError) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds), timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)]
        _ = try retrying("futimens") { futimens(rawValue, &times) }
    }

    /// Wraps pread(2): up to `buffer.count` bytes from `offset`; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) -> Int {
        try retrying("pread") { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Wraps pwrite(2), looping until every byte is written.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, at offset: Int64) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let n = try retrying("pwrite") { pwrite(rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done)) }
            done += n
        }
    }

    /// Wraps fdatasync(2).
    public func dataSync() throws(SystemError) {
        _ = try retrying("fdatasync") { fdatasync(rawValue) }
    }
}

extension Path {
    /// Wraps fstatat(2) with AT_SYMLINK_NOFOLLOW for a byte name.
    public static func status(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> stat {
        var st = stat()
        _ = try retrying("stat", path: describe(name)) { withCName(name) { fstatat(dir.rawValue, $0, &st, AT_SYMLINK_NOFOLLOW) } }
        return st
    }

    /// fstatat(2) that answers nil for ENOENT instead of throwing.
    public static func statusIfExists(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> stat? {
        do throws(SystemError) { return try status(name, in: dir) } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// Wraps mkdirat(2) for a byte name.
    public static func makeDirectory(_ name: [UInt8], in dir: FileDescriptor, mode: mode_t) throws(SystemError) {
        _ = try retrying("mkdir", path: describe(name)) { withCName(name) { mkdirat(dir.rawValue, $0, mode) } }
    }

    /// Wraps symlinkat(2) for byte names.
    public static func symlink(_ target: [UInt8], at name: [UInt8], in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("symlink", path: describe(name)) {
            withCName(target) { t in withCName(name) { symlinkat(t, dir.rawValue, $0) } }
        }
    }

    /// Wraps linkat(2) for byte names, without AT_SYMLINK_FOLLOW.
    public static func link(_ existing: [UInt8], in existingDir: FileDescriptor, at name: [UInt8], in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("link", path: describe(name)) {
            withCName(existing) { e in withCName(name) { linkat(existingDir.rawValue, e, dir.rawValue, $0, 0) } }
        }
    }

    /// Wraps readlinkat(2) for a byte name: the target's bytes.
    public static func readLink(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> [UInt8] {
        var size = 256
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            let capacity = size
            let n = try retrying("readlink", path: describe(name)) {
                withCName(name) { c in buffer.withUnsafeMutableBytes { readlinkat(dir.rawValue, c, $0.baseAddress!.assumingMemoryBound(to: CChar.self), capacity) } }
            }
            if n < size { return Array(buffer[0..<n]) }
            size *= 4
        }
    }

    /// Wraps unlinkat(2) for a byte name (not a directory).
    public static func unlink(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("unlink", path: describe(name)) { withCName(name) { unlinkat(dir.rawValue, $0, 0) } }
    }

    /// Wraps fchownat(2) with AT_SYMLINK_NOFOLLOW for a byte name.
    public static func setOwner(_ name: [UInt8], in dir: FileDescriptor, uid: uid_t, gid: gid_t) throws(SystemError) {
        _ = try retrying("chown", path: describe(name)) { withCName(name) { fchownat(dir.rawValue, $0, uid, gid, AT_SYMLINK_NOFOLLOW) } }
    }

    /// Wraps fchmodat(2) for a byte name. It follows symlinks: callers pass only names they just
    /// created as non-symlinks in a directory nobody else writes.
    public static func setMode(_ name: [UInt8], in dir: FileDescriptor, _ mode: mode_t) throws(SystemError) {
        _ = try retrying("chmod", path: describe(name)) { withCName(name) { fchmodat(dir.rawValue, $0, mode, 0) } }
    }

    /// Wraps utimensat(2) with AT_SYMLINK_NOFOLLOW for a byte name; access time = modification time.
    public static func setModificationTime(_ name: [UInt8], in dir: FileDescriptor, seconds: Int64, nanoseconds: Int) throws(SystemError) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds), timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)]
        _ = try retrying("utimensat", path: describe(name)) { withCName(name) { utimensat(dir.rawValue, $0, &times, AT_SYMLINK_NOFOLLOW) } }
    }

    /// Wraps mknodat(2) for a byte name.
    public static func makeNode(_ name: [UInt8], in dir: FileDescriptor, mode: mode_t, device: dev_t) throws(SystemError) {
        _ = try retrying("mknod", path: describe(name)) { withCName(name) { mknodat(dir.rawValue, $0, mode, device) } }
    }

    /// Wraps mkfifoat(3) for a byte name.
    public static func makeFIFO(_ name: [UInt8], in dir: FileDescriptor, mode: mode_t) throws(SystemError) {
        _ = try retrying("mkfifo", path: describe(name)) { withCName(name) { mkfifoat(dir.rawValue, $0, mode) } }
    }

    /// Wraps fdopendir(3)/readdir(3) on a duplicate of `dir`: the names in it as bytes, without "."
    /// and "..", in byte order.
    public static func names(in dir: FileDescriptor) throws(SystemError) -> [[UInt8]] {
        let copy = try retrying("dup") { fcntl(dir.rawValue, F_DUPFD_CLOEXEC, 0) }
        guard let stream = fdopendir(copy) else {
            let code = Glibc.errno
            _ = Glibc.close(copy)
            throw SystemError("fdopendir", errno: code)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [[UInt8]] = []
        while true {
            Glibc.errno = 0
            guard let entry = readdir(stream) else {
                if Glibc.errno != 0 { throw SystemError("readdir", errno: Glibc.errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }
}

extension Kernel {
    /// Wraps getegid(2).
    public static var effectiveGroupID: gid_t { getegid() }

    /// Wraps gnu_dev_major(3) and gnu_dev_minor(3).
    public static func deviceNumbers(_ device: dev_t) -> (major: UInt32, minor: UInt32) {
        let d = UInt64(device)
        let major = ((d >> 8) & 0xfff) | ((d >> 32) & ~UInt64(0xfff))
        let minor = (d & 0xff) | ((d >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
    }

    /// Wraps gnu_dev_makedev(3).
    public static func device(major: UInt32, minor: UInt32) -> dev_t {
        let ma = UInt64(major), mi = UInt64(minor)
        return dev_t((ma & 0xfff) << 8 | (ma & ~UInt64(0xfff)) << 32 | (mi & 0xff) | (mi & ~UInt64(0xff)) << 12)
    }
}

extension FileDescriptor {
    /// O_NOATIME (GNU): reading does not update the access time.
    public static let noAccessTime: CInt = ccci_o_noatime()
}

extension Path {
    /// Wraps unlinkat(2) with AT_REMOVEDIR for a byte name (an empty directory).
    public static func removeDirectory(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("rmdir", path: describe(name)) { withCName(name) { unlinkat(dir.rawValue, $0, AT_REMOVEDIR) } }
    }
}
