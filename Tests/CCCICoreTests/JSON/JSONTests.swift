import Testing
@testable import CCCICore

@Test func roundTrip() throws {
    let v = try JSON.parse(#"{"a":[1,2.5,"x\n"],"b":null}"#)
    #expect(v.text == #"{"a":[1,2.5,"x\n"],"b":null}"#)
}
