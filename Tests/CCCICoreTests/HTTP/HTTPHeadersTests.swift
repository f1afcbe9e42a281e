import TestSupport
import Testing
@testable import CCCICore

@Suite struct HeadersFiles {
    @Test func crlfLinesAreSeparateHeaders() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("h", "X-One: 1\r\n# c\r\nX-Two: 2\r\n")
        let headers = try HTTPHeaders.load(d.file("h"))
        #expect(headers.map(\.0) == ["X-One", "X-Two"])
        #expect(headers.map(\.1) == ["1", "2"])
    }

    @Test func aBareCarriageReturnInsideALineIsRefused() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.write("h", "X-One: 1\rX-Two: 2\n")
        #expect { try HTTPHeaders.load(d.file("h")) } throws: { ($0 as? Failure)?.exit == .badData }
    }
}
