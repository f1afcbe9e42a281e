// The state directory: plain files whose layout is a public interface (docs/state-layout.md).
//
//   <root>/alerts/              open alerts (one JSON file each)
//   <root>/<app>/canonical.json the data-warm canonical's registry record
//   <root>/<app>/history.jsonl  append-only provenance
//   <root>/<app>/last_good      live-warm infra: last version that passed the health gate
//   <root>/<app>/snapshot/      the one known-good snapshot
//   <root>/<app>/lock           flock target serialising every mutating operation on <app>
//   <root>/<app>/journal.json   a multi-step operation in flight
//   <root>/triggers/            webhook comment ids already seen
//
// Root: --state DIR, else $CCCI_STATE, else /var/lib/ci-warm. Directories are created 0700.
import Glibc

public struct StateRoot: Sendable {
    public static let defaultPath = "/var/lib/ci-warm"
    public static let environmentVariable = "CCCI_STATE"
    public let path: String

    public init(path: String) { self.path = path }

    /// The option every state-touching command declares.
    public static let option = Option.value("state", "DIR", "state directory", environment: environmentVariable, default: defaultPath)

    public init(_ arguments: Arguments) throws(Failure) {
        let p = arguments.value("state") ?? StateRoot.defaultPath
        guard !p.isEmpty, !p.utf8.contains(0) else { throw Failure.usage("invalid state directory '\(p)'") }
        path = p
    }

    /// A failure to open a state directory. Something that is not a directory where one must be
    /// (a file, a device such as /dev/full, a symlink below the root) is 73: the directory cannot
    /// be had, and it is not missing; the rest maps as every system error does.
    public static func failure(_ error: SystemError, doing what: String) -> Failure {
        if error.errno == ENOTDIR || error.errno == ELOOP {
            return Failure(.cantCreate, "not-a-directory", "\(what): \(error.description) (a state directory must be a directory, not a file or a symlink)")
        }
        return Failure(error, doing: what)
    }

    /// Opens the root directory, creating it (0700) when `create` is set.
    public func open(create: Bool) throws(Failure) -> FileDescriptor {
        do throws(SystemError) {
            if create { try Path.makeDirectories(path) }
            return try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
        } catch {
            throw StateRoot.failure(error, doing: "state directory '\(path)'")
        }
    }

    /// Opens (or creates) a directory below the root, one validated component at a time, never
    /// following a symlink.
    public func open(_ components: [String], create: Bool) throws(Failure) -> FileDescriptor {
        var dir = try open(create: create)
        for c in components {
            precondition(Name.isValid(c) || ["alerts", "triggers", "snapshot", "slots"].contains(c), "unvalidated path component")
            do throws(SystemError) {
                if create { try Path.makeDirectoryIfMissing(c, in: dir) }
                let next = try FileDescriptor.open(c, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                dir.closeQuietly()
                dir = next
            } catch {
                dir.closeQuietly()
                throw StateRoot.failure(error, doing: "state directory '\(path)/\(components.joined(separator: "/"))'")
            }
        }
        return dir
    }

    /// The directory of one app.
    public func app(_ app: Name, create: Bool) throws(Failure) -> FileDescriptor {
        try open([app.value], create: create)
    }
}
