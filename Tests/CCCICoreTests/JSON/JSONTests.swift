import Testing
@testable import CCCICore

@Suite struct JSONParsing {
    @Test func roundTripKeepsOrderAndNumberText() throws {
        let text = #"{"z":1,"a":[1,2.50,-3e+2,"x\n\"q\""],"b":null,"c":true,"big":12345678901234567890}"#
        #expect(try JSON.parse(text).text == text)
    }

    @Test func unicodeEscapesAndSurrogates() throws {
        let v = try JSON.parse(#""\u00e9\ud83d\ude00\/""#)
        #expect(v.string == "é😀/")
        #expect(JSON.string("é\u{01}").text == "\"é\\u0001\"")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"\\x\"", "\"a", "{\"a\" 1}", "[1] 2",
        "\"\\ud800\"", "{\"a\":1,\"a\":2}", "\"tab\there\"", "nul", "[\"\u{0}\"]",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        #expect(throws: JSONError.self) { try JSON.parse(deep) }
        let ok = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: Never.self) { try JSON.parse(ok) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONError.self) { try JSON.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func jsonLines() throws {
        let values = try JSON.parseLines(Array("{\"a\":1}\n\n{\"a\":2}\n".utf8))
        #expect(values.count == 2)
        #expect(values[1]["a"]?.int == 2)
        #expect(throws: JSONError.self) { try JSON.parseLines(Array("{\"a\":1}\n{oops}\n".utf8)) }
    }

    @Test func accessors() throws {
        let v = try JSON.parse(#"{"n":-42,"d":1.5,"s":"x","o":{"k":[true]}}"#)
        #expect(v["n"]?.int == -42)
        #expect(v["d"]?.double == 1.5)
        #expect(v["d"]?.int == nil)
        #expect(v["o"]?["k"]?.array?.first?.bool == true)
        #expect(v["missing"] == nil)
        #expect(JSON(3.0).text == "3")
        #expect(JSON(Double.nan) == .null)
    }
}
