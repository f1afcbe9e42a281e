import CSystem
import Glibc

/// What a child's standard descriptor is connected to.
public enum ChildDescriptor: Sendable {
    /// The parent's own descriptor of the same number.
    case inherit
    /// /dev/null.
    case null
    /// This descriptor (dup2'd onto the child's).
    case descriptor(FileDescriptor)
    /// The terminal side of a pseudo-terminal, opened in the child after setsid so it becomes the
    /// controlling terminal.
    case terminal(path: String)
}

extension Kernel {
    /// Wraps posix_spawnp(3): runs `argv[0]` found on PATH (or by path) with `environment`, in a new
    /// process group (or a new session when a terminal is attached) so a timeout can signal the
    /// whole group. Only descriptors without FD_CLOEXEC, and the three given, reach the child.
    public static func spawn(
        _ argv: [String], environment: [String],
        stdin: ChildDescriptor, stdout: ChildDescriptor, stderr: ChildDescriptor,
        directory: String? = nil
    ) throws(SystemError) -> pid_t {
        precondition(!argv.isEmpty)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var usesTerminal = false
        for (target, source) in [(CInt(0), stdin), (1, stdout), (2, stderr)] {
            switch source {
            case .inherit: break
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .descriptor(let fd):
                posix_spawn_file_actions_adddup2(&actions, fd.rawValue, target)
            case .terminal(let path):
                usesTerminal = true
                posix_spawn_file_actions_addopen(&actions, target, path, O_RDWR, 0)
            }
        }
        if let directory { ccci_spawn_file_actions_addchdir(&actions, directory) }

        // Default signal dispositions and an empty mask in the child, whatever ours are.
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var flags = CInt(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if usesTerminal {
            flags |= CInt(ccci_spawn_flag_setsid())
        } else {
            flags |= CInt(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let r = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        if r != 0 { throw SystemError("posix_spawnp", errno: r, path: argv[0]) }
        return pid
    }
}

extension Kernel {
    /// Wraps execvpe(3): replaces this process with `argv[0]` (searched on PATH). Returns only by
    /// throwing. Descriptors without FD_CLOEXEC (a lock being passed down) stay open.
    public static func exec(_ argv: [String], environment: [String]) throws(SystemError) -> Never {
        precondition(!argv.isEmpty)
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        _ = ccci_execvpe(argv[0], cArgv, cEnv)
        let code = errno
        cArgv.forEach { free($0) }
        cEnv.forEach { free($0) }
        throw SystemError("execvp", errno: code, path: argv[0])
    }
}
