import CSystem
import Glibc

/// Path operations, each relative to a directory descriptor (the *at family), so a validated
/// directory stays the anchor even if a path component is renamed under us.
public enum Path {
    /// Wraps renameat(2).
    public static func rename(
        _ from: String, in fromDir: FileDescriptor = .currentDirectory,
        to: String, in toDir: FileDescriptor = .currentDirectory
    ) throws(SystemError) {
        _ = try retrying("rename", path: from) { renameat(fromDir.rawValue, from, toDir.rawValue, to) }
    }

    /// Wraps renameat2(2) with RENAME_EXCHANGE: swaps two existing paths atomically.
    public static func exchange(_ a: String, _ b: String, in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("renameat2", path: a) {
            ccci_renameat2(dir.rawValue, a, dir.rawValue, b, 2 /* RENAME_EXCHANGE */)
        }
    }

    /// Wraps renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing.
    public static func renameNoReplace(_ from: String, to: String, in dir: FileDescriptor) throws(SystemError) {
        _ = try retrying("renameat2", path: from) {
            ccci_renameat2(dir.rawValue, from, dir.rawValue, to, 1 /* RENAME_NOREPLACE */)
        }
    }

    /// Wraps mkdirat(2).
    public static func makeDirectory(_ path: String, in dir: FileDescriptor = .currentDirectory, mode: mode_t = 0o700) throws(SystemError) {
        _ = try retrying("mkdir", path: path) { mkdirat(dir.rawValue, path, mode) }
    }

    /// mkdirat(2) that accepts an existing entry of that name.
    public static func makeDirectoryIfMissing(_ path: String, in dir: FileDescriptor = .currentDirectory, mode: mode_t = 0o700) throws(SystemError) {
        do { try makeDirectory(path, in: dir, mode: mode) } catch {
            if error.errno != EEXIST { throw error }
        }
    }

    /// mkdir -p: every missing component of `path` (mode 0700 for those it creates).
    public static func makeDirectories(_ path: String) throws(SystemError) {
        if try statusIfExists(path, follow: true) != nil { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            try makeDirectoryIfMissing(prefix)
            prefix += "/"
        }
    }

    /// Wraps unlinkat(2) for a file or symlink.
    public static func unlink(_ path: String, in dir: FileDescriptor = .currentDirectory) throws(SystemError) {
        _ = try retrying("unlink", path: path) { unlinkat(dir.rawValue, path, 0) }
    }

    /// Wraps unlinkat(2) with AT_REMOVEDIR for an empty directory.
    public static func removeDirectory(_ path: String, in dir: FileDescriptor = .currentDirectory) throws(SystemError) {
        _ = try retrying("rmdir", path: path) { unlinkat(dir.rawValue, path, AT_REMOVEDIR) }
    }

    /// Wraps fstatat(2). `follow: false` describes a symlink itself (AT_SYMLINK_NOFOLLOW).
    public static func status(_ path: String, in dir: FileDescriptor = .currentDirectory, follow: Bool = false) throws(SystemError) -> stat {
        var st = stat()
        _ = try retrying("stat", path: path) { fstatat(dir.rawValue, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) }
        return st
    }

    /// fstatat(2) that answers nil for ENOENT/ENOTDIR instead of throwing.
    public static func statusIfExists(_ path: String, in dir: FileDescriptor = .currentDirectory, follow: Bool = false) throws(SystemError) -> stat? {
        do throws(SystemError) { return try status(path, in: dir, follow: follow) } catch {
            if error.errno == ENOENT || error.errno == ENOTDIR { return nil }
            throw error
        }
    }

    /// Wraps readlinkat(2).
    public static func readLink(_ path: String, in dir: FileDescriptor = .currentDirectory) throws(SystemError) -> String {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let n = try retrying("readlink", path: path) { readlinkat(dir.rawValue, path, &buffer, size) }
            if n < size {
                return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            size *= 4
        }
    }

    /// Wraps symlinkat(2).
    public static func symlink(_ target: String, at path: String, in dir: FileDescriptor = .currentDirectory) throws(SystemError) {
        _ = try retrying("symlink", path: path) { symlinkat(target, dir.rawValue, path) }
    }

    /// Wraps linkat(2) (no AT_SYMLINK_FOLLOW: a hard link to a symlink links the symlink).
    public static func link(
        _ existing: String, in existingDir: FileDescriptor = .currentDirectory,
        at path: String, in dir: FileDescriptor = .currentDirectory
    ) throws(SystemError) {
        _ = try retrying("link", path: path) { linkat(existingDir.rawValue, existing, dir.rawValue, path, 0) }
    }

    /// Wraps fchownat(2) without following symlinks.
    public static func setOwner(_ path: String, in dir: FileDescriptor = .currentDirectory, uid: uid_t, gid: gid_t) throws(SystemError) {
        _ = try retrying("chown", path: path) { fchownat(dir.rawValue, path, uid, gid, AT_SYMLINK_NOFOLLOW) }
    }

    /// Wraps fchmodat(2) (which always follows symlinks; callers never pass one).
    public static func setMode(_ path: String, in dir: FileDescriptor = .currentDirectory, _ mode: mode_t) throws(SystemError) {
        _ = try retrying("chmod", path: path) { fchmodat(dir.rawValue, path, mode, 0) }
    }

    /// Wraps utimensat(2) without following symlinks; access time is set equal to modification time.
    public static func setModificationTime(_ path: String, in dir: FileDescriptor = .currentDirectory, seconds: Int64, nanoseconds: Int) throws(SystemError) {
        var times = [timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds), timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)]
        _ = try retrying("utimensat", path: path) { utimensat(dir.rawValue, path, &times, AT_SYMLINK_NOFOLLOW) }
    }

    /// Wraps mknodat(2).
    public static func makeNode(_ path: String, in dir: FileDescriptor = .currentDirectory, mode: mode_t, device: dev_t) throws(SystemError) {
        _ = try retrying("mknod", path: path) { mknodat(dir.rawValue, path, mode, device) }
    }

    /// Wraps mkfifoat(3).
    public static func makeFIFO(_ path: String, in dir: FileDescriptor = .currentDirectory, mode: mode_t) throws(SystemError) {
        _ = try retrying("mkfifo", path: path) { mkfifoat(dir.rawValue, path, mode) }
    }

    /// The names in `dir` (without "." and ".."), in byte order, as text (see `names(in:)` for
    /// the raw bytes).
    public static func list(_ dir: FileDescriptor) throws(SystemError) -> [String] {
        try names(in: dir).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Wraps mkdtemp(3): a new directory (0700) named `<prefix>XXXXXX`.
    public static func makeTemporaryDirectory(prefix: String) throws(SystemError) -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        guard let result = mkdtemp(&template) else { throw SystemError("mkdtemp", errno: errno, path: prefix) }
        return String(cString: result)
    }

    /// Removes a tree below `dir` without following symlinks. Used only on paths the toolkit itself
    /// created (staging and temporary directories).
    public static func removeTree(_ path: String, in dir: FileDescriptor = .currentDirectory) throws(SystemError) {
        guard let st = try statusIfExists(path, in: dir) else { return }
        if st.st_mode & S_IFMT != S_IFDIR {
            try unlink(path, in: dir)
            return
        }
        let sub = try FileDescriptor.open(path, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        do throws(SystemError) {
            for name in try list(sub) { try removeTree(name, in: sub) }
            sub.closeQuietly()
        } catch {
            sub.closeQuietly()
            throw error
        }
        try removeDirectory(path, in: dir)
    }
}
