import Glibc

/// The one exit-code table of the toolkit (docs/exit-codes.md). Sysexits for failures.
public enum ExitCode: Int32, Sendable, CaseIterable {
    /// Yes / done.
    case ok = 0
    /// A clean "no": hold, unhealthy, not promoted, not a trigger.
    case no = 1
    case usage = 64
    case badData = 65
    case noInput = 66
    case unavailable = 69
    case `internal` = 70
    case cantCreate = 73
    case io = 74
    case busy = 75
    case permission = 77
}

/// A command's failure: the exit code it maps to, a stable machine-readable code, and a message
/// in git's style (lowercase, what failed first, the subject quoted, no full stop).
public struct Failure: Error, Sendable, CustomStringConvertible {
    public var exit: ExitCode
    public var code: String
    public var message: String
    /// Extra structured facts for the error line (e.g. which containers still use a volume).
    public var details: JSON?

    public init(_ exit: ExitCode, _ code: String, _ message: String, details: JSON? = nil) {
        self.exit = exit
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { message }

    public static func usage(_ message: String) -> Failure { Failure(.usage, "usage", message) }
    public static func badData(_ message: String, code: String = "bad-data") -> Failure { Failure(.badData, code, message) }
    public static func `internal`(_ message: String) -> Failure { Failure(.internal, "internal", message) }
}

extension Failure {
    /// The single place where a system error becomes an exit code.
    public init(_ error: SystemError, doing what: String? = nil) {
        let exit: ExitCode
        let code: String
        switch error.errno {
        case ENOENT, ENOTDIR: (exit, code) = (.noInput, "missing")
        case EACCES, EPERM, EROFS: (exit, code) = (.permission, "permission")
        case EEXIST: (exit, code) = (.cantCreate, "exists")
        case EWOULDBLOCK: (exit, code) = (.busy, "busy")
        case ENOSPC, EDQUOT, EIO, EFBIG: (exit, code) = (.io, "io")
        case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT: (exit, code) = (.unavailable, "unavailable")
        default: (exit, code) = (.io, "io")
        }
        let text = what.map { "\($0): \(error.description)" } ?? error.description
        self.init(exit, code, text)
    }

    /// Any error thrown out of a command, mapped to a Failure.
    public static func from(_ error: any Error) -> Failure {
        switch error {
        case let f as Failure: return f
        case let c as any FailureConvertible: return c.failure
        case let s as SystemError: return Failure(s)
        case let j as JSONError: return Failure(.badData, "bad-json", "invalid JSON: \(j.description)")
        default: return .internal("unexpected error: \(error)")
        }
    }
}

/// An error type of a library above the core (the archive's) that knows its place in the exit
/// table, so `Failure.from` maps it without every caller converting by hand.
public protocol FailureConvertible: Error {
    var failure: Failure { get }
}
