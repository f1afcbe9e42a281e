// Running other programs. Always an argv array through posix_spawnp, never a shell, except where
// running the operator's own command line is the point (`Subprocess.shell`). Secrets reach a child
// on its standard input, never in argv or the environment.
//
// One loop (`communicate`) feeds stdin and drains stdout and stderr together with poll(2), so a
// child that writes a lot while we are still writing its input cannot deadlock us; a deadline
// sends SIGTERM to the child's whole process group, then SIGKILL after a grace period.
//
// Children run in their own process group, so a Ctrl-C or a supervisor's SIGTERM aimed at us
// would not reach them. While a child runs we catch SIGINT, SIGTERM and SIGHUP and forward them
// to its group (as timeout(1) does), wait up to `killGrace` seconds for it to end, then SIGKILL
// it; only once it is gone do we die of the same signal (status 128+N). A lock this process
// holds is therefore never released while the child it protects still runs.
import Glibc

public struct Subprocess: Sendable {
    public var argv: [String]
    /// Extra variables (nil removes one) applied to our own environment.
    public var environment: [(String, String?)] = []
    public var input: [UInt8]? = nil
    public var directory: String? = nil
    /// Seconds before the child's process group is terminated; nil waits forever.
    public var timeout: Double? = nil
    /// Run under a pseudo-terminal (stdout and stderr merge into `stdout`), for programs that insist
    /// on a terminal even when told not to prompt.
    public var terminal: Bool = false
    /// Captured output beyond this many bytes per stream is dropped (and `truncated` is set).
    public var captureLimit: Int = 16 << 20
    /// Seconds a child gets to end after a forwarded signal (or a timeout's SIGTERM) before SIGKILL.
    public var killGrace: Double = Subprocess.defaultKillGrace

    /// `CCCI_KILL_GRACE` seconds, else 10.
    public static var defaultKillGrace: Double {
        Environment.value("CCCI_KILL_GRACE").flatMap(Double.init).flatMap { $0 >= 0 && $0 <= 3600 ? $0 : nil } ?? 10
    }

    public init(_ argv: [String]) { self.argv = argv }

    public struct Result: Sendable {
        public var status: Termination
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var timedOut: Bool
        public var truncated: Bool
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
        public var succeeded: Bool { status == .exited(0) && !timedOut }
    }

    public enum Termination: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        public var description: String {
            switch self {
            case .exited(let code): return "exit \(code)"
            case .signalled(let sig): return "signal \(sig)"
            }
        }
        /// A shell's view of it: the exit code, or 128+signal.
        public var shellCode: Int32 {
            switch self {
            case .exited(let code): return code
            case .signalled(let sig): return 128 + sig
            }
        }
        init(waitStatus status: CInt) {
            if status & 0x7f == 0 { self = .exited((status >> 8) & 0xff) } else { self = .signalled(status & 0x7f) }
        }
    }

    /// Runs the program, capturing stdout and stderr.
    public func run() throws(SystemError) -> Result {
        let env = Environment.merging(environment)
        if terminal { return try runOnTerminal(env) }
        let inPipe = try Kernel.pipe()
        let outPipe = try Kernel.pipe()
        let errPipe = try Kernel.pipe()
        let pid: pid_t
        do throws(SystemError) {
            pid = try Kernel.spawn(
                argv, environment: env, stdin: input == nil ? .null : .descriptor(inPipe.read),
                stdout: .descriptor(outPipe.write), stderr: .descriptor(errPipe.write), directory: directory)
        } catch {
            for fd in [inPipe.read, inPipe.write, outPipe.read, outPipe.write, errPipe.read, errPipe.write] { fd.closeQuietly() }
            throw error
        }
        inPipe.read.closeQuietly()
        outPipe.write.closeQuietly()
        errPipe.write.closeQuietly()
        if input == nil { inPipe.write.closeQuietly() }
        return try communicate(pid: pid, stdin: input == nil ? nil : inPipe.write, outputs: [outPipe.read, errPipe.read])
    }

    /// Runs the program with our own stdin, stdout and stderr (for the operator's commands);
    /// returns how it ended. A timeout terminates its process group.
    public func runInheriting() throws(SystemError) -> (status: Termination, timedOut: Bool) {
        let env = Environment.merging(environment)
        let pid = try Kernel.spawn(argv, environment: env, stdin: .inherit, stdout: .inherit, stderr: .inherit, directory: directory)
        let result = try communicate(pid: pid, stdin: nil, outputs: [])
        return (result.status, result.timedOut)
    }

    /// `sh -c LINE`: only for a command line the operator wrote (a test command, a relay command).
    public static func shell(_ line: String) -> Subprocess {
        Subprocess(["/bin/sh", "-c", line])
    }

    private func runOnTerminal(_ env: [String]) throws(SystemError) -> Result {
        let (controller, path) = try Kernel.openPseudoTerminal()
        let pid: pid_t
        do throws(SystemError) {
            pid = try Kernel.spawn(
                argv, environment: env, stdin: .terminal(path: path), stdout: .terminal(path: path),
                stderr: .terminal(path: path), directory: directory)
        } catch {
            controller.closeQuietly()
            throw error
        }
        // The controller both feeds input and carries all output. Reading it fails with EIO once the
        // child side is closed; that is the terminal's end of file.
        return try communicate(pid: pid, stdin: nil, outputs: [controller], terminalInput: input)
    }

    private func communicate(
        pid: pid_t, stdin: FileDescriptor?, outputs: [FileDescriptor], terminalInput: [UInt8]? = nil
    ) throws(SystemError) -> Result {
        let deadline = timeout.map { Kernel.monotonicNanoseconds() + UInt64($0 * 1e9) }
        var captured: [[UInt8]] = Array(repeating: [], count: outputs.count)
        var open = outputs
        let pendingInput = stdin == nil ? [] : (input ?? [])
        var written = 0
        var inputFD = stdin
        var truncated = false
        var timedOut = false
        var killAt: UInt64? = nil
        var status: CInt? = nil
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var interruptedBy: CInt? = nil
        let grace = UInt64(killGrace * 1e9)
        Kernel.catchTerminationSignals()
        defer { Kernel.restoreTerminationSignals() }

        /// Reads once: bytes read, 0 when nothing is ready, nil at end of file.
        func drain(_ fd: FileDescriptor) throws(SystemError) -> Int? {
            let n: Int
            do throws(SystemError) {
                n = try fd.read(into: &buffer)
            } catch {
                if error.errno == EAGAIN { return 0 }
                if error.errno != EIO { throw error }
                n = 0  // EIO: the terminal side has closed
            }
            if n == 0 { return nil }
            let i = outputs.firstIndex(of: fd)!
            let room = captureLimit - captured[i].count
            if room > 0 { captured[i].append(contentsOf: buffer[0..<min(n, room)]) }
            if n > room { truncated = true }
            return n
        }

        if let inputFD { try inputFD.setNonBlocking(true) }
        if let terminalInput, let controller = outputs.first { try controller.writeAll(terminalInput) }
        while status == nil {
            let now = Kernel.monotonicNanoseconds()
            if let sig = Kernel.takeCaughtSignal() {
                interruptedBy = interruptedBy ?? sig
                try? Kernel.signal(-pid, sig)
                killAt = killAt ?? now + grace
            }
            if let deadline, now >= deadline, !timedOut {
                timedOut = true
                try? Kernel.signal(-pid, SIGTERM)
                killAt = killAt ?? now + grace
            }
            if let k = killAt, now >= k {
                try? Kernel.signal(-pid, SIGKILL)
                killAt = nil
            }
            var fds = open.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
            if let inputFD { fds.append(pollfd(fd: inputFD.rawValue, events: Int16(POLLOUT), revents: 0)) }
            if fds.isEmpty {
                // Nothing left to move: wait for the child in steps, so a signal or a deadline is
                // noticed while it runs.
                status = try Kernel.wait(pid, noHang: true)
                if status == nil { Kernel.sleep(milliseconds: 20) }
                continue
            }
            _ = try Kernel.poll(&fds, timeoutMilliseconds: 100)
            var stillOpen: [FileDescriptor] = []
            for (index, fd) in open.enumerated() {
                if fds[index].revents == 0 {
                    stillOpen.append(fd)
                } else if try drain(fd) != nil {
                    stillOpen.append(fd)
                } else {
                    fd.closeQuietly()
                }
            }
            open = stillOpen
            if let fd = inputFD {
                let revents = fds[fds.count - 1].revents
                if revents & Int16(POLLOUT) != 0, written < pendingInput.count {
                    do { written += try fd.writeSome(pendingInput[written...]) } catch {
                        written = pendingInput.count  // EPIPE: it stopped reading its input
                    }
                }
                if written == pendingInput.count || revents & Int16(POLLERR | POLLHUP) != 0 {
                    fd.closeQuietly()
                    inputFD = nil
                }
            }
            // Once the child itself has gone, what it wrote is already buffered: take it and stop,
            // even if a grandchild still holds a copy of the pipe or terminal open.
            if let s = try Kernel.wait(pid, noHang: true) {
                status = s
                for fd in open {
                    try? fd.setNonBlocking(true)
                    while let n = try? drain(fd), n > 0 {}
                    fd.closeQuietly()
                }
                open = []
                inputFD?.closeQuietly()
            }
        }
        if let sig = interruptedBy {
            Kernel.restoreTerminationSignals()
            Command.interrupted(by: sig, stopping: argv[0])
        }
        return Result(
            status: Termination(waitStatus: status ?? 0),
            stdout: captured.first ?? [], stderr: captured.count > 1 ? captured[1] : [],
            timedOut: timedOut, truncated: truncated)
    }
}
