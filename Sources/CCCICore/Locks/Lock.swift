// Locks that can never go stale.
//
// Every mutating operation on an app holds the kernel flock(2) of `<state>/<app>/lock`. The lock
// belongs to an open file description, so it disappears the instant its last holder dies: there
// is no lock file to clean up, and "is it running?" is answered by trying the lock.
//
// Passing a held lock down. A porcelain holds an app's lock for a whole sequence and calls
// plumbing that needs the same lock; a second flock(2) on a fresh descriptor would wait for
// ourselves forever. So a holder that runs a child leaves its descriptor open across exec
// (FD_CLOEXEC cleared) and names it in the environment:
//
//     CCCI_HELD_LOCKS="<st_dev>:<st_ino>:<fd> ..."
//
// keyed by the lock file's identity, not its path, so any spelling of the state root matches.
// A command that needs a lock first looks for its file's entry; it accepts the entry only if that
// descriptor is open, fstat(2) shows it is the same file, and flock(LOCK_EX|LOCK_NB) on it
// succeeds, which is immediate for the open file description the holder shares with us and fails
// if someone else holds the lock. Otherwise (no entry, a forged or stale one) it takes the lock
// the ordinary way. An inherited lock is never unlocked by the child (LOCK_UN on the shared
// description would release the parent's lock too); the child simply leaves it to its holder.
import Glibc

public struct HeldLock: Sendable {
    public let descriptor: FileDescriptor
    /// True when the lock came from a holder up the process tree (and is theirs to release).
    public let inherited: Bool
    let identity: String

    /// Releases a lock this process took itself; an inherited one is left alone.
    public func release() {
        guard !inherited else { return }
        _ = try? Kernel.flock(descriptor, LOCK_UN, nonBlocking: false)
        descriptor.closeQuietly()
    }

    /// Keeps the descriptor open across exec and returns the environment entry to pass down, so
    /// ci-warm commands run by the child recognise the lock as already held.
    public func passDown() throws(SystemError) -> (String, String) {
        try descriptor.setCloseOnExec(false)
        var entries = (Environment.value(Lock.environmentVariable) ?? "").split(separator: " ").map(String.init)
        entries.removeAll { $0.hasPrefix(identity + ":") }
        entries.append("\(identity):\(descriptor.rawValue)")
        return (Lock.environmentVariable, entries.joined(separator: " "))
    }
}

public enum Lock {
    public static let environmentVariable = "CCCI_HELD_LOCKS"

    public enum Wait: Sendable, Equatable {
        /// Fail at once (exit 75) when the lock is held.
        case none
        /// Wait at most this many seconds.
        case seconds(Double)
        /// Wait as long as it takes.
        case forever
    }

    /// Takes the exclusive lock on `name` in `dir` (creating the file, 0600).
    /// Throws Failure 75 ("busy") when it cannot be had within `wait`.
    public static func acquire(_ name: String, in dir: FileDescriptor, wait: Wait, what: String) throws(Failure) -> HeldLock {
        let fd: FileDescriptor
        let st: stat
        do throws(SystemError) {
            fd = try FileDescriptor.open(name, relativeTo: dir, O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
            st = try fd.status()
        } catch {
            throw Failure(error, doing: "opening the lock of \(what)")
        }
        let identity = "\(st.st_dev):\(st.st_ino)"
        if let inherited = inheritedDescriptor(identity: identity, device: st.st_dev, inode: st.st_ino) {
            fd.closeQuietly()
            return HeldLock(descriptor: inherited, inherited: true, identity: identity)
        }
        do throws(SystemError) {
            if try Kernel.flock(fd, LOCK_EX, nonBlocking: true) {
                return HeldLock(descriptor: fd, inherited: false, identity: identity)
            }
            switch wait {
            case .none: break
            case .forever:
                _ = try Kernel.flock(fd, LOCK_EX, nonBlocking: false)
                return HeldLock(descriptor: fd, inherited: false, identity: identity)
            case .seconds(let limit):
                let deadline = Kernel.monotonicNanoseconds() + UInt64(limit * 1e9)
                var pause = 10
                while Kernel.monotonicNanoseconds() < deadline {
                    Kernel.sleep(milliseconds: pause)
                    pause = min(pause * 2, 200)
                    if try Kernel.flock(fd, LOCK_EX, nonBlocking: true) {
                        return HeldLock(descriptor: fd, inherited: false, identity: identity)
                    }
                }
            }
        } catch {
            fd.closeQuietly()
            throw Failure(error, doing: "locking \(what)")
        }
        fd.closeQuietly()
        throw Failure(.busy, "locked", "\(what) is locked by another operation")
    }

    /// Whether the lock is free right now (without keeping it). For "is a run in flight?".
    public static func isHeld(_ name: String, in dir: FileDescriptor) throws(SystemError) -> Bool {
        let fd: FileDescriptor
        do throws(SystemError) { fd = try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_NOFOLLOW) } catch where error.errno == ENOENT {
            return false
        }
        defer { fd.closeQuietly() }
        if try Kernel.flock(fd, LOCK_EX, nonBlocking: true) {
            _ = try Kernel.flock(fd, LOCK_UN, nonBlocking: false)
            return false
        }
        return true
    }

    static func inheritedDescriptor(identity: String, device: dev_t, inode: ino_t) -> FileDescriptor? {
        guard let list = Environment.value(environmentVariable) else { return nil }
        for entry in list.split(separator: " ") where entry.hasPrefix(identity + ":") {
            guard let raw = CInt(entry.dropFirst(identity.count + 1)), raw > 2 else { continue }
            let fd = FileDescriptor(rawValue: raw)
            guard fd.isOpen, let st = try? fd.status(), st.st_dev == device, st.st_ino == inode else { continue }
            guard (try? Kernel.flock(fd, LOCK_EX, nonBlocking: true)) == true else { continue }
            try? fd.setCloseOnExec(true)  // ours to use, not to leak further unless passed down again
            return fd
        }
        return nil
    }
}

extension StateRoot {
    /// Runs `body` holding the app's lock (or the one inherited from a caller that holds it).
    public func withAppLock<T>(_ app: Name, wait: Lock.Wait, _ body: (HeldLock) throws -> T) throws -> T {
        let dir = try self.app(app, create: true)
        defer { dir.closeQuietly() }
        let lock = try Lock.acquire("lock", in: dir, wait: wait, what: "app '\(app)'")
        defer { lock.release() }
        return try body(lock)
    }
}

extension Lock {
    /// Takes one of `count` run slots of `pool` (`<state>/slots/<pool>/<i>`): the first free one,
    /// else waits for any. Returns the slot number and its held lock.
    public static func acquireSlot(pool: Name, count: Int, in state: StateRoot, wait: Wait) throws(Failure) -> (slot: Int, lock: HeldLock) {
        let dir = try state.open(["slots", pool.value], create: true)
        defer { dir.closeQuietly() }
        let deadline: UInt64? = switch wait {
        case .none: Kernel.monotonicNanoseconds()
        case .seconds(let s): Kernel.monotonicNanoseconds() + UInt64(s * 1e9)
        case .forever: nil
        }
        var pause = 10
        while true {
            for i in 0..<count {
                do {
                    return (i, try acquire(String(i), in: dir, wait: .none, what: "slot \(i) of pool '\(pool)'"))
                } catch where error.exit == .busy {
                    continue
                }
            }
            if let deadline, Kernel.monotonicNanoseconds() >= deadline { break }
            Kernel.sleep(milliseconds: pause)
            pause = min(pause * 2, 250)
        }
        throw Failure(.busy, "locked", "all \(count) slots of pool '\(pool)' are taken")
    }
}

extension Lock {
    /// The options every command that takes an app's lock declares.
    public static let options: [Option] = [
        .value("lock-wait", "SECONDS", "give up (75) when the app's lock is not free within this time; default: wait"),
        .flag("no-wait", "give up (75) at once when the app's lock is held"),
    ]

    /// How long to wait, from `--no-wait` and `--<option> SECONDS` (default: as long as it takes).
    public static func wait(_ args: Arguments, option: String = "lock-wait") throws(Failure) -> Wait {
        if args.flag("no-wait") {
            if args.value(option) != nil { throw Failure.usage("--\(option) and --no-wait exclude each other") }
            return .none
        }
        return try args.seconds(option).map { .seconds($0) } ?? .forever
    }
}
