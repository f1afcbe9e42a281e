import Testing
@testable import CCCIArchive
@Test func placeholder() { #expect(Bool(true)) }
