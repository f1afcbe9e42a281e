import CCCICore

/// Why an archive could not be written, read or extracted.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not a valid archive: bad header checksum, truncation, malformed field or record.
        case corrupt
        /// Valid framing, but an entry would reach outside the staging directory or replace what
        /// it must not (absolute path, `..`, through a symlink, link escaping, duplicates).
        case hostile
        /// An entry type or extension we do not restore (e.g. GNU multi-volume).
        case unsupported
        /// Needs a privilege we lack (device nodes when not root).
        case permission
        /// The archive's SHA-256 is not the expected one.
        case digestMismatch
        /// A file changed while it was being archived.
        case changed
        /// A system call failed.
        case system(SystemError)
    }

    public let kind: Kind
    public let message: String
    /// The entry concerned, when there is one.
    public let path: String?

    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    init(_ error: SystemError, path: [UInt8]? = nil) {
        self.init(.system(error), error.description, path: path.map(ArchiveError.describe))
    }

    /// A name from an archive as message text: control bytes (a NUL, a newline, an escape
    /// sequence) shown as \xNN so no archive can forge or garble our diagnostics.
    static func describe(_ name: [UInt8]) -> String {
        guard name.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return String(decoding: name, as: UTF8.self) }
        var out: [UInt8] = []
        for b in name {
            if b < 0x20 || b == 0x7F {
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, 0x78, hex[Int(b >> 4)], hex[Int(b & 15)]]
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String {
        if let path { return "\(message) (entry '\(path)')" }
        return message
    }
}

extension Failure {
    /// The archive's errors on the toolkit's exit table: 65 for anything wrong with the archive's
    /// bytes, 77 for a missing privilege, the system error's own mapping (74 I/O, ...) otherwise.
    public init(_ error: ArchiveError) {
        switch error.kind {
        case .corrupt: self.init(.badData, "corrupt-archive", error.description)
        case .hostile: self.init(.badData, "hostile-archive", error.description)
        case .unsupported: self.init(.badData, "unsupported-entry", error.description)
        case .digestMismatch: self.init(.badData, "digest-mismatch", error.description)
        case .permission: self.init(.permission, "permission", error.description)
        case .changed: self.init(.io, "changed", error.description)
        case .system(let s):
            self.init(s)
            if let path = error.path { message += " (entry '\(path)')" }
        }
    }
}

extension ArchiveError: FailureConvertible {
    public var failure: Failure { Failure(self) }
}
