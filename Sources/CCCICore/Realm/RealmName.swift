// Per-run realm names: `<parent>-<hex>`, where parent names what uses the realm (the dependent
// recipe) and hex is the 6 lowercase hex digits of the run's cold domain `<recipe[:4]>-<hex>.<base>`.
// This pattern is the fence around everything ccci-realm deletes: `master`, and any realm whose
// name does not match, are never touched.

public struct RealmName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let parent: String
    public let hex: String
    public var value: String { "\(parent)-\(hex)" }
    public var description: String { value }

    /// Longest parent: keeps a realm name (and Keycloak's `<name>-realm` client in master) short.
    public static let parentLimit = 48

    public init(parent: String, hex: String) throws(Failure) {
        guard RealmName.isValidParent(parent) else {
            throw Failure(.usage, "invalid-name", "invalid realm parent '\(parent)': expected 1-\(RealmName.parentLimit) of a-z 0-9 -, starting with a letter, not ending with '-'")
        }
        guard Hex.isLowercase(hex, count: 6) else {
            throw Failure(.usage, "invalid-name", "invalid run hex '\(hex)': expected 6 lowercase hex digits (from the run's cold domain)")
        }
        self.parent = parent
        self.hex = hex
    }

    /// Parses a realm name of our pattern; a usage failure for anything else (master included).
    public init(_ text: String) throws(Failure) {
        guard let parsed = RealmName.parse(text) else {
            throw Failure(.usage, "not-ours", "realm '\(text)' is not a ci-warm run realm (expected <parent>-<6 lowercase hex>; master is never touched)")
        }
        self = parsed
    }

    /// The realm name's parts, or nil when `text` is not of our pattern.
    public static func parse(_ text: String) -> RealmName? {
        let b = Array(text.utf8)
        guard b.count >= 8, b[b.count - 7] == 0x2D else { return nil }
        let parent = String(decoding: b[..<(b.count - 7)], as: UTF8.self)
        let hex = String(decoding: b[(b.count - 6)...], as: UTF8.self)
        guard isValidParent(parent), Hex.isLowercase(hex, count: 6) else { return nil }
        return RealmName(unchecked: parent, hex)
    }

    public static func isOurs(_ text: String) -> Bool { parse(text) != nil }

    /// Lowercase letters, digits and single hyphens inside; a letter first.
    public static func isValidParent(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard (1...parentLimit).contains(b.count), (0x61...0x7A).contains(b[0]), b.last != 0x2D else { return false }
        return b.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// The run hex from what a caller has at hand: the hex itself, or the run's cold domain
    /// (`lasu-4c0858.ci.example` -> `4c0858`) or stack name (`lasu-4c0858_ci_example`).
    public static func runHex(from text: String) -> String? {
        if Hex.isLowercase(text, count: 6) { return text }
        return LiveRuns.hex(ofStack: AppIdentity.stackName(for: text))
    }

    private init(unchecked parent: String, _ hex: String) {
        self.parent = parent
        self.hex = hex
    }

    public static func < (a: RealmName, b: RealmName) -> Bool { a.value < b.value }
}
