/// A validated app, volume, recipe or pool name: `^[a-z0-9][a-z0-9._-]{0,62}$` and no "..".
/// Every path the toolkit builds from a name is built from one of these, so no name can reach
/// outside the state root.
public struct Name: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String
    public var description: String { value }

    public init(_ text: String, kind: String = "name") throws(Failure) {
        guard Name.isValid(text) else {
            throw Failure(.usage, "invalid-name", "invalid \(kind) '\(text)': expected 1-63 of a-z 0-9 . _ -, starting with a letter or digit, without '..'")
        }
        value = text
    }

    public static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard (1...63).contains(b.count) else { return false }
        func ok(_ c: UInt8) -> Bool { (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
        guard ok(b[0]) else { return false }
        guard b.allSatisfy({ ok($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }) else { return false }
        return !text.contains("..")
    }

    public static func < (a: Name, b: Name) -> Bool { a.value < b.value }
}
