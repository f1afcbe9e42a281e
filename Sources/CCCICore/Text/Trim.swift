extension Substring {
    /// Without leading and trailing ASCII whitespace.
    public func trimmingCharacters() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    /// Without leading and trailing ASCII whitespace.
    public func trimmingCharacters() -> String { self[...].trimmingCharacters() }
}
