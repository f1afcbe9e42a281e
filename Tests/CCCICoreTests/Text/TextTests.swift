import Testing
@testable import CCCICore

@Suite struct Lines {
    func lines(_ s: String) -> [String] { Text.lines(s).map(String.init) }

    @Test func lfCrlfAndAByteOrderMark() {
        #expect(lines("a\nb\n") == ["a", "b"])
        #expect(lines("a\r\nb\r\n") == ["a", "b"])
        #expect(lines("\u{FEFF}a\r\nb") == ["a", "b"])
        #expect(lines("a\n\nb") == ["a", "", "b"])
        #expect(lines("") == [])
        #expect(lines("\n") == [""])
        #expect(lines("a\rb\n") == ["a\rb"])
    }

    @Test func trimmingHandlesTheCrlfGrapheme() {
        #expect(" a \r\n".trimmingCharacters() == "a")
        #expect("\r\n\t x\r\n".trimmingCharacters() == "x")
        #expect("\u{00A0}a".trimmingCharacters() == "\u{00A0}a")
    }
}
