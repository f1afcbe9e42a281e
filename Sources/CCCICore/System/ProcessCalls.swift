import CSystem
import Glibc

/// Process, pipe, terminal, lock and clock calls.
public enum Kernel {
    /// Wraps pipe2(2) with O_CLOEXEC: (read end, write end).
    public static func pipe() throws(SystemError) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: [CInt] = [0, 0]
        _ = try retrying("pipe2") { ccci_pipe2(&fds, O_CLOEXEC) }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    /// Wraps poll(2). Returns the number of ready descriptors (0 on timeout). EINTR returns 0 so the
    /// caller re-checks its deadline.
    public static func poll(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws(SystemError) -> Int {
        let n = Glibc.poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
        if n == -1 {
            if errno == EINTR { return 0 }
            throw SystemError("poll", errno: errno)
        }
        return Int(n)
    }

    /// Wraps kill(2). ESRCH (already gone) is not an error.
    public static func signal(_ pid: pid_t, _ sig: CInt) throws(SystemError) {
        if Glibc.kill(pid, sig) == -1 && errno != ESRCH { throw SystemError("kill", errno: errno) }
    }

    /// Wraps waitpid(2). Returns nil when `noHang` and the child is still running.
    public static func wait(_ pid: pid_t, noHang: Bool = false) throws(SystemError) -> CInt? {
        var status: CInt = 0
        let r = try retrying("waitpid") { waitpid(pid, &status, noHang ? WNOHANG : 0) }
        return r == 0 ? nil : status
    }

    /// Wraps flock(2). Returns false when `nonBlocking` and the lock is held elsewhere (EWOULDBLOCK).
    public static func flock(_ fd: FileDescriptor, _ operation: CInt, nonBlocking: Bool) throws(SystemError) -> Bool {
        while true {
            if ccci_flock(fd.rawValue, operation | (nonBlocking ? LOCK_NB : 0)) == 0 { return true }
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK && nonBlocking { return false }
            throw SystemError("flock", errno: code)
        }
    }

    /// Wraps clock_gettime(2) with CLOCK_MONOTONIC, in nanoseconds.
    public static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Wraps clock_gettime(2) with CLOCK_REALTIME: seconds and nanoseconds since the epoch.
    public static func wallClock() -> (seconds: Int64, nanoseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int64(ts.tv_sec), ts.tv_nsec)
    }

    /// Wraps nanosleep(2), sleeping the full duration across interruptions.
    public static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }

    /// Wraps getpid(2).
    public static var processID: pid_t { getpid() }

    /// Wraps geteuid(2).
    public static var effectiveUserID: uid_t { geteuid() }

    /// Wraps getrandom(2): cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) throws(SystemError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let code: CInt = bytes.withUnsafeMutableBytes { raw in
            var filled = 0
            while filled < count {
                let n = ccci_getrandom(raw.baseAddress! + filled, count - filled, 0)
                if n == -1 {
                    if errno == EINTR { continue }
                    return errno
                }
                filled += n
            }
            return 0
        }
        if code != 0 { throw SystemError("getrandom", errno: code) }
        return bytes
    }

    /// Wraps posix_openpt(3), grantpt(3), unlockpt(3) and ptsname_r(3): a new pseudo-terminal's
    /// controller descriptor and the path of its terminal side.
    public static func openPseudoTerminal() throws(SystemError) -> (controller: FileDescriptor, terminalPath: String) {
        let fd = try retrying("posix_openpt") { ccci_posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC) }
        let controller = FileDescriptor(rawValue: fd)
        do throws(SystemError) {
            _ = try once("grantpt") { ccci_grantpt(fd) }
            _ = try once("unlockpt") { ccci_unlockpt(fd) }
            var name = [CChar](repeating: 0, count: 128)
            let r = ccci_ptsname_r(fd, &name, name.count)
            if r != 0 { throw SystemError("ptsname_r", errno: r) }
            let path = String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (controller, path)
        } catch {
            controller.closeQuietly()
            throw error
        }
    }
}

extension Kernel {
    /// Starts catching SIGINT, SIGTERM and SIGHUP (ccci_signals_catch), for the time a child
    /// runs: the waiting loop forwards what was caught to the child's process group. Signals we
    /// inherited as ignored stay ignored.
    public static func catchTerminationSignals() { ccci_signals_catch() }

    /// Puts back the dispositions `catchTerminationSignals` replaced (ccci_signals_restore).
    public static func restoreTerminationSignals() { ccci_signals_restore() }

    /// The first termination signal caught since `catchTerminationSignals`, cleared (ccci_signals_take).
    public static func takeCaughtSignal() -> CInt? {
        let s = ccci_signals_take()
        return s == 0 ? nil : s
    }

    /// Ends this process by `sig` with its default action, as a shell expects of a program that
    /// was interrupted (status 128+N); _exit(128+N) if the signal does not end it.
    public static func die(of sig: CInt) -> Never {
        Glibc.signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        sigprocmask(SIG_UNBLOCK, &set, nil)
        Glibc.raise(sig)
        _exit(128 + sig)
    }
}
