// The syscall layer. Every system call the toolkit makes has exactly one Swift wrapper in this
// folder; each wrapper names the C function it wraps, retries EINTR, and throws `SystemError`
// (the call, errno and the path it concerned) instead of returning -1. Nothing outside this folder
// calls Glibc's file, process or lock functions directly.
import Glibc

/// A failed system call: which one, its errno, and the path it was about (if any).
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: CInt
    public let path: String?

    public init(_ call: String, errno: CInt, path: String? = nil) {
        self.call = call
        self.errno = errno
        self.path = path
    }

    /// The C library's text for the errno, lowercased as our messages are.
    public var reason: String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        let s = String(cString: text)
        guard let first = s.first else { return s }
        return first.lowercased() + s.dropFirst()
    }

    public var description: String {
        if let path { return "\(call) '\(path)': \(reason)" }
        return "\(call): \(reason)"
    }
}

/// Runs a call returning -1 on failure until it does not fail with EINTR.
@inline(__always)
func retrying<T: FixedWidthInteger>(_ call: String, path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw SystemError(call, errno: code, path: path)
    }
}

/// Runs a call that returns -1 on failure, once (for calls where a retry would be wrong, e.g. close).
@inline(__always)
func once<T: FixedWidthInteger>(_ call: String, path: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    let result = body()
    if result == -1 { throw SystemError(call, errno: Glibc.errno, path: path) }
    return result
}
