// Durable file updates. Every file the toolkit writes goes through `writeAtomically`:
//
//   1. create `.<name>.tmp-<pid>-<random>` beside the target (O_CREAT|O_EXCL, the final mode),
//   2. write every byte and fsync(2) the file,
//   3. renameat(2) it over the target (atomic: readers see the old file or the new, never a mix),
//   4. fsync(2) the directory, so the rename itself survives a power cut.
//
// A crash before step 3 leaves only a temporary file (named so `isTemporary` recognises it and
// cleanup can remove it); after step 3 the new content is complete. Appends to a log go through
// `appendLine`, which first repairs a missing trailing newline (a torn last line must never glue
// itself onto the next record) and fsyncs after writing.
import Glibc

public enum AtomicFile {
    /// Replaces `name` in `dir` with `bytes`, durably.
    public static func write(_ bytes: [UInt8], to name: String, in dir: FileDescriptor, mode: mode_t = 0o600) throws(SystemError) {
        let temp = try temporaryName(for: name)
        let fd = try FileDescriptor.open(temp, relativeTo: dir, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        do throws(SystemError) {
            try fd.setMode(mode)  // the umask must not weaken or widen what was asked for
            try fd.writeAll(bytes)
            try fd.sync()
            try fd.close()
            try Path.rename(temp, in: dir, to: name, in: dir)
        } catch {
            fd.closeQuietly()
            try? Path.unlink(temp, in: dir)
            throw error
        }
        try dir.sync()
    }

    public static func write(_ text: String, to name: String, in dir: FileDescriptor, mode: mode_t = 0o600) throws(SystemError) {
        try write(Array(text.utf8), to: name, in: dir, mode: mode)
    }

    /// Appends one line (a newline is added) to `name`, creating it, durably. A last line
    /// without its newline was torn by a crash mid-append: when `isRecord` accepts it, it is
    /// completed with a newline; otherwise it is cut off (it was never acknowledged to anyone),
    /// so a torn fragment never ends up in the middle of the log looking like corruption.
    /// Returns the offset the new line starts at, so a caller can take it back (`truncate`).
    @discardableResult
    public static func appendLine(
        _ line: String, to name: String, in dir: FileDescriptor, mode: mode_t = 0o600,
        isRecord: ([UInt8]) -> Bool = { _ in true }
    ) throws(SystemError) -> Int64 {
        let fd = try FileDescriptor.open(name, relativeTo: dir, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, mode: mode)
        defer { fd.closeQuietly() }
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        var size = Int64(try fd.status().st_size)
        if size > 0 {
            var last: [UInt8] = [0]
            let n = try fd.read(into: &last, at: size - 1)
            if n == 1 && last[0] != 0x0A {
                // Find the start of the torn line (at most 1 MiB back; a longer one is kept).
                let window = min(size, 1 << 20)
                var tail: [UInt8] = []
                while tail.count < Int(window) {
                    var chunk = [UInt8](repeating: 0, count: Int(window) - tail.count)
                    let k = try fd.read(into: &chunk, at: size - window + Int64(tail.count))
                    if k == 0 { break }
                    tail += chunk[..<k]
                }
                let start = tail.lastIndex(of: 0x0A).map { $0 + 1 } ?? (window == size ? 0 : nil)
                if let start, !isRecord(Array(tail[start...])) {
                    size = size - window + Int64(start)
                    try fd.truncate(to: size)
                } else {
                    bytes.insert(0x0A, at: 0)
                }
            }
        }
        let start = size + (bytes.first == 0x0A && line.utf8.first != 0x0A ? 1 : 0)
        try fd.writeAll(bytes)
        try fd.sync()
        if size == 0 { try dir.sync() }
        return start
    }

    /// Cuts `name` back to `size` bytes, durably: takes back what `appendLine` added.
    public static func truncate(_ name: String, in dir: FileDescriptor, to size: Int64) throws(SystemError) {
        let fd = try FileDescriptor.open(name, relativeTo: dir, O_WRONLY | O_NOFOLLOW)
        defer { fd.closeQuietly() }
        try fd.truncate(to: size)
        try fd.sync()
    }

    /// Reads a whole file below `dir`, refusing more than `limit` bytes.
    public static func read(_ name: String, in dir: FileDescriptor = .currentDirectory, limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_NOFOLLOW)
        defer { fd.closeQuietly() }
        do throws(SystemError) { return try fd.readAll(limit: limit) } catch { throw SystemError(error.call, errno: error.errno, path: name) }
    }

    /// Reads a file the operator named (an enrolment list, a markers file), following symlinks:
    /// NixOS puts `/etc` files behind links into the store. Anything but a regular file (a
    /// directory, a FIFO that would block, a device) is refused with EINVAL before it is read.
    public static func readNamed(_ path: String, limit: Int) throws(SystemError) -> [UInt8] {
        let fd = try FileDescriptor.open(path, O_RDONLY | O_NONBLOCK)
        defer { fd.closeQuietly() }
        guard try fd.status().st_mode & S_IFMT == S_IFREG else { throw SystemError("open", errno: EINVAL, path: path) }
        try fd.setNonBlocking(false)
        do throws(SystemError) { return try fd.readAll(limit: limit) } catch { throw SystemError(error.call, errno: error.errno, path: path) }
    }

    /// Reads a file if it exists; nil when it does not.
    public static func readIfExists(_ name: String, in dir: FileDescriptor = .currentDirectory, limit: Int = 64 << 20) throws(SystemError) -> [UInt8]? {
        do throws(SystemError) { return try read(name, in: dir, limit: limit) } catch {
            if error.errno == ENOENT { return nil }
            throw error
        }
    }

    /// Whether a directory entry is a temporary file left by an interrupted `write`.
    public static func isTemporary(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(".tmp-")
    }

    static func temporaryName(for name: String) throws(SystemError) -> String {
        let random = try Kernel.randomBytes(6).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        return ".\(name).tmp-\(Kernel.processID)-\(random)"
    }
}
