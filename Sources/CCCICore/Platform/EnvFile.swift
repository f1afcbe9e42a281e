// abra's per-app env files (`$ABRA_DIR/servers/<server>/<domain>.env`, docker env_file syntax).
// Read for the deployed version (`TYPE=<recipe>:<version>`), and edited only by whole-file atomic
// replacement that keeps every byte of the original and guarantees the newline before anything
// appended: the seeds once glued `DOMAIN=` onto a last line that had no newline.

public struct EnvFile: Sendable {
    public var lines: [String]
    /// Whether the original ended with a newline (kept as is when nothing is appended).
    public var endsWithNewline: Bool

    public init(text: String) {
        endsWithNewline = text.isEmpty || text.utf8.last == 0x0A
        // Split on the LF scalar, not the Character: "\r\n" is one grapheme, so a CRLF file would
        // be one "line". Each CR stays with its line (every byte is kept); reading trims it.
        var l = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        if text.utf8.last == 0x0A { l.removeLast() }
        if text.isEmpty { l = [] }
        lines = l
    }

    /// The value of the first uncommented `KEY=` line (surrounding quotes removed).
    public func value(_ key: String) -> String? {
        for line in lines {
            let t = line.trimmingCharacters()
            guard t.hasPrefix(key + "=") else { continue }
            var v = String(t.dropFirst(key.count + 1))
            if let hash = v.indices.first(where: { v[$0] == "#" && $0 > v.startIndex && v[v.index(before: $0)] == " " }) {
                v = String(v[..<hash])
            }
            v = v.trimmingCharacters()
            if v.count >= 2, (v.hasPrefix("\"") && v.hasSuffix("\"")) || (v.hasPrefix("'") && v.hasSuffix("'")) {
                v = String(v.dropFirst().dropLast())
            }
            return v
        }
        return nil
    }

    /// Sets `KEY=value`, replacing the first uncommented line for KEY or appending one.
    public mutating func set(_ key: String, _ value: String) {
        if let i = lines.firstIndex(where: { $0.trimmingCharacters().hasPrefix(key + "=") }) {
            lines[i] = "\(key)=\(value)"
        } else {
            lines.append("\(key)=\(value)")
            endsWithNewline = true
        }
    }

    public var text: String {
        lines.isEmpty ? "" : lines.joined(separator: "\n") + (endsWithNewline ? "\n" : "")
    }

    /// `TYPE=<recipe>:<version>` (or `RECIPE=`): the recipe and the pinned version, if any.
    public var recipeAndVersion: (recipe: String, version: String?)? {
        guard let type = value("TYPE") ?? value("RECIPE") else { return nil }
        if let colon = type.firstIndex(of: ":") {
            return (String(type[..<colon]), String(type[type.index(after: colon)...]))
        }
        return (type, nil)
    }
}
