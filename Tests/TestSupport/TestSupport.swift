// Shared helpers for the core's tests: scratch directories and small file fixtures.
import CCCICore
import Glibc

/// A fresh directory under $TMPDIR (or /tmp), removed by `remove()`.
public struct ScratchDirectory {
    public let path: String

    public init(_ label: String = "ccci-test") throws {
        let base = Environment.value("TMPDIR") ?? "/tmp"
        path = try Path.makeTemporaryDirectory(prefix: "\(base)/\(label)-")
    }

    public func remove() { try? Path.removeTree(path) }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `name` (parents must exist).
    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws {
        let fd = try FileDescriptor.open(file(name), O_WRONLY | O_CREAT | O_TRUNC, mode: mode)
        defer { fd.closeQuietly() }
        try fd.writeAll(text)
    }

    public func read(_ name: String) throws -> String {
        String(decoding: try AtomicFile.read(file(name)), as: UTF8.self)
    }

    public func makeDirectory(_ name: String) throws {
        try Path.makeDirectory(file(name), mode: 0o755)
    }

    public func open() throws -> FileDescriptor {
        try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY)
    }
}
