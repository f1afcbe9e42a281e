// Text as the toolkit reads it from files and pipes. Lines end at LF; a CR before the LF (a file
// written on Windows, or by a forge) is part of the line end, never of the line. Swift's
// `Character` treats "\r\n" as one grapheme, so splitting a `String` on "\n" or trimming
// "\n"/"\r" Characters misses CRLF: every line reader goes through `Text.lines` instead.

public enum Text {
    /// The lines of `bytes`: split at LF, a trailing CR dropped from each, a UTF-8 byte order
    /// mark dropped from the first. A final line without LF counts; the empty piece after a final
    /// LF does not.
    public static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var result = body.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
        if body.last == 0x0A || body.isEmpty { result.removeLast() }
        return result
    }

    /// The lines of `text`, as `lines(_:)` splits bytes.
    public static func lines(_ text: String) -> [Substring] {
        lines(Array(text.utf8)).map { Substring(decoding: $0, as: UTF8.self) }
    }

    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\n" || s == "\r"
    }
}

extension Substring {
    /// Without leading and trailing ASCII whitespace (CR and LF included, also as a CRLF pair).
    public func trimmingCharacters() -> String {
        var s = unicodeScalars[...]
        while let f = s.first, Text.isSpace(f) { s = s.dropFirst() }
        while let l = s.last, Text.isSpace(l) { s = s.dropLast() }
        return String(Substring(s))
    }
}

extension String {
    /// Without leading and trailing ASCII whitespace.
    public func trimmingCharacters() -> String { self[...].trimmingCharacters() }
}
