import Glibc

/// An open file descriptor. A value type, like swift-system's: closing is explicit.
public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)
    /// The AT_FDCWD pseudo-descriptor: paths relative to the working directory.
    public static let currentDirectory = FileDescriptor(rawValue: AT_FDCWD)

    /// Wraps openat(2). O_CLOEXEC is always added.
    public static func open(
        _ path: String, relativeTo dir: FileDescriptor = .currentDirectory,
        _ flags: CInt, mode: mode_t = 0o600
    ) throws(SystemError) -> FileDescriptor {
        let fd = try retrying("open", path: path) { openat(dir.rawValue, path, flags | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    /// Wraps close(2). Never retried: on Linux the descriptor is gone even when close fails.
    public func close() throws(SystemError) {
        _ = try once("close") { Glibc.close(rawValue) }
    }

    /// Closes, ignoring errors; for cleanup paths where a failure is already being reported.
    public func closeQuietly() { _ = Glibc.close(rawValue) }

    /// Wraps read(2): up to `count` bytes into `buffer`; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try retrying("read") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// read(2) into the start of an array; returns the count read.
    public func read(into buffer: inout [UInt8]) throws(SystemError) -> Int {
        let fd = rawValue
        let count = buffer.count
        let n = buffer.withUnsafeMutableBytes { raw in
            var r: Int
            repeat { r = Glibc.read(fd, raw.baseAddress, count) } while r == -1 && errno == EINTR
            return r
        }
        if n == -1 { throw SystemError("read", errno: errno) }
        return n
    }

    /// Wraps pread(2): into the start of an array; returns the count read.
    public func read(into buffer: inout [UInt8], at offset: Int64) throws(SystemError) -> Int {
        let fd = rawValue
        let count = buffer.count
        let n = buffer.withUnsafeMutableBytes { raw in
            var r: Int
            repeat { r = Glibc.pread(fd, raw.baseAddress, count, off_t(offset)) } while r == -1 && errno == EINTR
            return r
        }
        if n == -1 { throw SystemError("pread", errno: errno) }
        return n
    }

    /// Wraps write(2), looping until every byte is written.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            let n = try retrying("write") { Glibc.write(rawValue, buffer.baseAddress! + done, buffer.count - done) }
            done += n
        }
    }

    public func writeAll(_ bytes: [UInt8]) throws(SystemError) {
        let fd = rawValue
        let code: CInt = bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n == -1 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += n
            }
            return 0
        }
        if code != 0 { throw SystemError("write", errno: code) }
    }

    /// One write(2) of a prefix of `bytes` on a non-blocking descriptor: the count written, or 0
    /// when the descriptor is not ready (EAGAIN).
    public func writeSome(_ bytes: ArraySlice<UInt8>) throws(SystemError) -> Int {
        let fd = rawValue
        let (n, code): (Int, CInt) = bytes.withUnsafeBytes { raw in
            while true {
                let r = Glibc.write(fd, raw.baseAddress, raw.count)
                if r >= 0 { return (r, 0) }
                if errno == EINTR { continue }
                return (-1, errno)
            }
        }
        if n >= 0 { return n }
        if code == EAGAIN { return 0 }
        throw SystemError("write", errno: code)
    }

    public func writeAll(_ string: String) throws(SystemError) {
        try writeAll(Array(string.utf8))
    }

    /// Reads until end of file. `limit` bounds memory: more input than that is an error (EFBIG).
    public func readAll(limit: Int = 64 << 20) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try read(into: &chunk)
            if n == 0 { return result }
            if result.count + n > limit { throw SystemError("read", errno: EFBIG) }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    /// Wraps fsync(2).
    public func sync() throws(SystemError) {
        _ = try retrying("fsync") { fsync(rawValue) }
    }

    /// Wraps fstat(2).
    public func status() throws(SystemError) -> stat {
        var st = stat()
        _ = try retrying("fstat") { fstat(rawValue, &st) }
        return st
    }

    /// Wraps fchmod(2).
    public func setMode(_ mode: mode_t) throws(SystemError) {
        _ = try retrying("fchmod") { fchmod(rawValue, mode) }
    }

    /// Wraps ftruncate(2).
    public func truncate(to size: Int64) throws(SystemError) {
        _ = try retrying("ftruncate") { ftruncate(rawValue, off_t(size)) }
    }

    /// Wraps fcntl(2) F_GETFD, F_SETFD: whether the descriptor survives exec.
    public func setCloseOnExec(_ on: Bool) throws(SystemError) {
        let flags = try retrying("fcntl") { fcntl(rawValue, F_GETFD) }
        let wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        _ = try retrying("fcntl") { fcntl(rawValue, F_SETFD, wanted) }
    }

    /// Occupies a closed stdin, stdout or stderr with /dev/null opened the wrong way round
    /// (stdin write-only, stdout and stderr read-only), so no file the command opens later lands
    /// on descriptor 0, 1 or 2 (the answer must never be written into a state file) and a read
    /// or write there still fails (EBADF), as it would on the closed stream.
    public static func reserveStandardStreams() {
        for fd: CInt in 0...2 where !FileDescriptor(rawValue: fd).isOpen {
            _ = Glibc.open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) | O_NOCTTY)
        }
    }

    /// Wraps fcntl(2) F_GETFD, only to ask whether the descriptor is open.
    public var isOpen: Bool { fcntl(rawValue, F_GETFD) != -1 }

    /// Wraps fcntl(2) F_GETFL, F_SETFL for O_NONBLOCK.
    public func setNonBlocking(_ on: Bool) throws(SystemError) {
        let flags = try retrying("fcntl") { fcntl(rawValue, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try retrying("fcntl") { fcntl(rawValue, F_SETFL, wanted) }
    }

    /// Wraps isatty(3).
    public var isTerminal: Bool { isatty(rawValue) == 1 }

    /// Wraps ioctl(2) TIOCGWINSZ: the terminal's width in columns; nil when not a terminal or unknown.
    public var terminalColumns: Int? {
        var size = winsize()
        guard ioctl(rawValue, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
