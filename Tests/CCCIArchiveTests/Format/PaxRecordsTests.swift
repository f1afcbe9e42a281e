@testable import CCCIArchive
import CCCICore
import Testing

@Suite struct PaxRecordsTests {
    /// The length prefix counts itself, so records whose length crosses 9/10 or 99/100 digits
    /// must still be self-consistent.
    @Test(arguments: [0, 1, 2, 3, 4, 5, 80, 85, 86, 87, 88, 89, 90, 995, 996, 997, 998, 5000])
    func lengthCountsItself(valueLength: Int) throws {
        let record = PaxRecords.encode(Array("path".utf8), [UInt8](repeating: 0x61, count: valueLength))
        let digits = record.prefix(while: { $0 != 0x20 })
        #expect(Int(String(decoding: digits, as: UTF8.self)) == record.count)
        let parsed = try PaxRecords.parse(record)
        #expect(parsed.count == 1)
        #expect(parsed[0].value.count == valueLength)
    }

    @Test func binaryValuesWithNewlinesAndEqualsSurvive() throws {
        let value: [UInt8] = [0, 1, 0x0A, 0x3D, 0xFF, 0x0A]
        let data = PaxRecords.encode(Array("SCHILY.xattr.user.x".utf8), value) + PaxRecords.encode("mtime", "1.5")
        let parsed = try PaxRecords.parse(data)
        #expect(parsed.map { String(decoding: $0.keyword, as: UTF8.self) } == ["SCHILY.xattr.user.x", "mtime"])
        #expect(parsed[0].value == value)
    }

    @Test(arguments: ["12 path=abc", "5 path=abc\n", "x path=a\n", "9 pathabc\n", "99999999999999 a=b\n", "7 =abc\n"])
    func malformedRecordsAreRefused(text: String) {
        #expect(throws: ArchiveError.self) { try PaxRecords.parse(Array(text.utf8)) }
    }

    @Test func timesRoundTrip() {
        let cases: [(Timestamp, String)] = [
            (Timestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789), "1700000000.123456789"),
            (Timestamp(seconds: 5, nanoseconds: 500_000_000), "5.5"),
            (Timestamp(seconds: 7), "7"),
            (Timestamp(seconds: -2, nanoseconds: 500_000_000), "-1.5"),
            (Timestamp(seconds: -3), "-3"),
        ]
        for (t, text) in cases {
            #expect(PaxRecords.formatTime(t) == text)
            let back = PaxRecords.parseTime(Array(text.utf8))
            #expect(back?.seconds == t.seconds && back?.nanoseconds == t.nanoseconds, "\(text)")
        }
        #expect(PaxRecords.parseTime(Array("1.2345678919".utf8))?.nanoseconds == 234_567_891)
        #expect(PaxRecords.parseTime(Array("abc".utf8)) == nil)
        #expect(PaxRecords.parseTime(Array("1.".utf8))?.seconds == 1)
    }

    @Test func numbersAreBounded() {
        #expect(PaxRecords.parseNumber(Array("42".utf8)) == 42)
        #expect(PaxRecords.parseNumber(Array("-1".utf8)) == nil)
        #expect(PaxRecords.parseNumber(Array("99999999999999999999".utf8)) == nil)
        #expect(PaxRecords.parseNumber(Array("2000".utf8), limit: 1000) == nil)
    }
}
