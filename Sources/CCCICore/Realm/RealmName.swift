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
    /// (`lasu-4c0858.ci.example` -> `4c0858`) or stack name (`lasu-4c0858_ci_example`). The
    /// whole text must be of that scheme: anything after the hex that is not a valid base domain
    /// (`;rm -rf /`, a newline, `/../x`, `%2F`, a space, upper case) makes it nil.
    public static func runHex(from text: String) -> String? {
        if Hex.isLowercase(text, count: 6) { return text }
        return coldHex(ofDomain: text) ?? coldHex(ofStack: text)
    }

    private init(unchecked parent: String, _ hex: String) {
        self.parent = parent
        self.hex = hex
    }

    public static func < (a: RealmName, b: RealmName) -> Bool { a.value < b.value }
}

extension RealmName {
    /// The run hex of a cold domain `<recipe[:4]>-<hex>.<base>`, or nil unless the whole text
    /// is one: the prefix 1-4 of a-z 0-9 - (a letter or digit first, no '-' last), the hex 6
    /// lowercase digits, the base a valid domain.
    public static func coldHex(ofDomain text: String) -> String? {
        guard AppIdentity.isValidDomain(text), let dot = text.firstIndex(of: ".") else { return nil }
        return coldHex(ofLabel: text[..<dot])
    }

    /// The run hex of a cold run's stack name (the cold domain with '.' made '_', cut to
    /// `AppIdentity.stackNameLimit`), or nil unless the whole text is one.
    public static func coldHex(ofStack text: String) -> String? {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard text.utf8.count <= AppIdentity.stackNameLimit, parts.count >= 2 else { return nil }
        // The cut may end the last label anywhere, even empty or on a '-'.
        for (i, p) in parts.enumerated().dropFirst() {
            let last = i == parts.count - 1
            guard last || (!p.isEmpty && p.first != "-" && p.last != "-") else { return nil }
            guard p.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }) else { return nil }
        }
        guard !(parts.count == 2 && parts[1].isEmpty) else { return nil }
        return coldHex(ofLabel: parts[0])
    }

    static func coldHex(ofLabel label: Substring) -> String? {
        let b = Array(label.utf8)
        guard (8...11).contains(b.count), b[b.count - 7] == 0x2D else { return nil }
        let prefix = b[..<(b.count - 7)]
        let hex = String(decoding: b[(b.count - 6)...], as: UTF8.self)
        guard Hex.isLowercase(hex, count: 6), let first = prefix.first, first != 0x2D, prefix.last != 0x2D,
              prefix.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D })
        else { return nil }
        return hex
    }

}
