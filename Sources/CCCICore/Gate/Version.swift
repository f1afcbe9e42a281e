// Co-op Cloud release versions.
//
//   <recipe-semver>+<upstream>   10.7.1+26.6.2, 5.0.3+27.0.1-fpm, 5.1.1+v3.6.15, 1.2.0+2024-05-01
//   <upstream>_<revision>        1.14.1-rootless_1 (the 2021 form, before recipe semver)
//
// The recipe side is strict semver MAJOR.MINOR.PATCH (Co-op Cloud: major = may break, minor =
// images updated, patch = recipe-only). The upstream side takes whatever the image uses: an
// optional leading `v`, numeric dot-separated components, then an optional suffix (`-fpm`,
// `-rootless`, `-alpine`). Date-shaped upstreams (a four-digit year first, or YYYYMMDD) are
// calendar versions: they carry no compatibility signal, so their bumps are classed `date` and
// the recipe's own semver decides. Anything else is unparsable, and the gate holds it.

public struct RecipeVersion: Sendable, Hashable, CustomStringConvertible {
    public enum Form: Sendable, Hashable { case semver, legacy }

    public let text: String
    public let form: Form
    /// MAJOR.MINOR.PATCH of the recipe; empty for the legacy form.
    public let recipe: [Int]
    public let upstream: Upstream
    /// The legacy form's `_<revision>`.
    public let revision: Int?

    public var description: String { text }

    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 128,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") })
        else { return nil }
        self.text = text
        if let plus = text.firstIndex(of: "+") {
            let parts = text[..<plus].split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy(RecipeVersion.isNumber), let up = Upstream(String(text[text.index(after: plus)...])) else { return nil }
            form = .semver
            recipe = parts.map { Int($0)! }
            upstream = up
            revision = nil
        } else if let underscore = text.lastIndex(of: "_") {
            let rev = text[text.index(after: underscore)...]
            guard RecipeVersion.isNumber(rev), let up = Upstream(String(text[..<underscore])) else { return nil }
            form = .legacy
            recipe = []
            upstream = up
            revision = Int(rev)
        } else {
            return nil
        }
    }

    static func isNumber(_ s: Substring) -> Bool {
        !s.isEmpty && s.count <= 9 && s.utf8.allSatisfy { (0x30...0x39).contains($0) } && (s == "0" || s.first != "0")
    }
}

/// The upstream part of a version.
public struct Upstream: Sendable, Hashable {
    public let text: String
    /// Numeric components, e.g. [26, 6, 2]; for dates [year, month, day] or [yyyymmdd].
    public let numbers: [Int]
    /// What follows the numbers (`-fpm`), compared as text.
    public let suffix: String
    public let isDate: Bool

    init?(_ text: String) {
        var s = Substring(text)
        if s.first == "v" || s.first == "V" { s = s.dropFirst() }
        var numbers: [Int] = []
        var i = s.startIndex
        while i < s.endIndex {
            var j = i
            while j < s.endIndex, s[j].isASCII, s[j].isNumber { j = s.index(after: j) }
            guard j > i, s.distance(from: i, to: j) <= 9, let n = Int(s[i..<j]) else { break }
            numbers.append(n)
            i = j
            if i < s.endIndex, s[i] == "." || (s[i] == "-" && numbers.count < 3 && Upstream.dateLike(numbers)) {
                let next = s.index(after: i)
                if next < s.endIndex, s[next].isASCII, s[next].isNumber { i = next; continue }
            }
            break
        }
        guard !numbers.isEmpty else { return nil }
        let rest = String(s[i...])
        // A suffix starts with a separator: `27.0.1-fpm`, `1.14.1-rootless`, `2.0+build`.
        guard rest.isEmpty || rest.first == "-" || rest.first == "+" || rest.first == "_" else { return nil }
        self.text = text
        self.numbers = numbers
        self.suffix = rest
        self.isDate = Upstream.dateLike(numbers) || (numbers.count == 1 && numbers[0] >= 19_900_101 && numbers[0] <= 29_991_231)
    }

    static func dateLike(_ numbers: [Int]) -> Bool {
        guard let first = numbers.first else { return false }
        return first >= 1990 && first <= 2999 && (numbers.count < 2 || (1...12).contains(numbers[1]))
    }

    /// Numeric comparison, missing components counting as 0, then the suffix as text.
    static func compare(_ a: Upstream, _ b: Upstream) -> Int {
        for k in 0..<max(a.numbers.count, b.numbers.count) {
            let x = k < a.numbers.count ? a.numbers[k] : 0
            let y = k < b.numbers.count ? b.numbers[k] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        if a.suffix == b.suffix { return 0 }
        return a.suffix < b.suffix ? -1 : 1
    }
}

/// How far one version moves from another, on one side.
public enum Bump: String, Sendable, Comparable {
    case none, patch, minor, major
    /// Calendar versions: a change with no compatibility signal of its own.
    case date
    /// The suffix (image variant) changed: `-fpm` to `-apache` is a different image.
    case variant
    /// The two forms cannot be compared (legacy to semver).
    case unknown

    var rank: Int {
        switch self {
        case .none: 0
        case .patch, .date: 1
        case .minor: 2
        case .major, .variant, .unknown: 3
        }
    }
    public static func < (a: Bump, b: Bump) -> Bool { a.rank < b.rank }
}

extension RecipeVersion {
    /// Orders versions: recipe semver first, upstream second; every legacy tag sorts before
    /// every semver tag (the legacy form predates recipe semver).
    public static func compare(_ a: RecipeVersion, _ b: RecipeVersion) -> Int {
        switch (a.form, b.form) {
        case (.legacy, .semver): return -1
        case (.semver, .legacy): return 1
        case (.semver, .semver):
            for k in 0..<3 where a.recipe[k] != b.recipe[k] { return a.recipe[k] < b.recipe[k] ? -1 : 1 }
            return Upstream.compare(a.upstream, b.upstream)
        case (.legacy, .legacy):
            let c = Upstream.compare(a.upstream, b.upstream)
            if c != 0 { return c }
            let (x, y) = (a.revision ?? 0, b.revision ?? 0)
            return x == y ? 0 : (x < y ? -1 : 1)
        }
    }

    /// The recipe-side bump from `self` to `newer`.
    public func recipeBump(to newer: RecipeVersion) -> Bump {
        switch (form, newer.form) {
        case (.semver, .semver):
            if recipe[0] != newer.recipe[0] { return .major }
            if recipe[1] != newer.recipe[1] { return .minor }
            if recipe[2] != newer.recipe[2] { return .patch }
            return .none
        case (.legacy, .legacy):
            return revision == newer.revision ? .none : .patch
        default:
            return .unknown
        }
    }

    /// The upstream-side bump from `self` to `newer`.
    public func upstreamBump(to newer: RecipeVersion) -> Bump {
        let a = upstream
        let b = newer.upstream
        if a.suffix != b.suffix { return .variant }
        if a.isDate != b.isDate { return .unknown }
        if a.isDate { return Upstream.compare(a, b) == 0 ? .none : .date }
        let count = max(a.numbers.count, b.numbers.count)
        for k in 0..<count {
            let x = k < a.numbers.count ? a.numbers[k] : 0
            let y = k < b.numbers.count ? b.numbers[k] : 0
            if x != y {
                // 0.x releases: a minor change is breaking by semver's own rule.
                if k == 0 || (k == 1 && a.numbers.first == 0) { return .major }
                return k == 1 ? .minor : .patch
            }
        }
        return .none
    }
}
