@testable import CCCIArchive
import CCCICore
import Glibc
import Testing

@Suite struct ManifestTests {
    static let volume = #"{"name":"db","archive":"volumes/db.tar","bytes":10240,"entries":1,"sha256":"\#(String(repeating: "a", count: 64))","tree_digest":"\#(String(repeating: "b", count: 64))"}"#

    func manifest(_ volumes: String) -> [UInt8] {
        Array(#"{"format":"ccci-snapshot/1","app":"app1","version":null,"commit":null,"taken_at":"t","tool_version":"x","volumes":[\#(volumes)]}"#.utf8) + [0x0A]
    }

    @Test func theDigestIsTheSHA256OfTheFileAsRead() throws {
        let bytes = manifest(Self.volume)
        let m = try Manifest(parsing: bytes)
        #expect(m.digest == SHA256.hash(bytes))
        // the same content laid out otherwise is another file, so another digest
        let spaced = bytes.flatMap { $0 == 0x2C ? [0x2C, 0x20] : [$0] }
        #expect(try Manifest(parsing: spaced).digest == SHA256.hash(spaced))
        #expect(try Manifest(parsing: spaced).digest != m.digest)
        // a manifest made in memory has the digest of the bytes it writes
        #expect(Manifest(app: m.app, version: nil, commit: nil, takenAt: "t", toolVersion: "x", volumes: m.volumes).digest == SHA256.hash(m.bytes))
    }

    @Test func anEmptyVolumeListIsRefused() {
        #expect { try Manifest(parsing: manifest("")) } throws: { ($0 as? Failure)?.exit == .badData }
    }
}

@Suite struct JournalTests {
    func journal(_ staging: String, token: String = "0123456789ab") -> [UInt8] {
        Array(#"{"op":"restore","phase":"staging","token":"\#(token)","volumes":[{"name":"db","live":"/v/db/_data","staging":"\#(staging)"}]}"#.utf8)
    }

    @Test func onlyTheStagingNameThisToolkitMakesIsAccepted() throws {
        #expect(try Journal(parsing: journal("/v/db/.ccci-staging-0123456789ab-db")).volumes.count == 1)
        for bad in ["/v/db/precious", "/v/db/.ccci-staging-0123456789ab-other", "/elsewhere/.ccci-staging-0123456789ab-db",
                    "/v/db/.ccci-staging-0123456789ab", "/v/db/.ccci-staging-0123456789ab-db/../x"] {
            #expect(throws: Failure.self, "\(bad)") { try Journal(parsing: journal(bad)) }
        }
        #expect(throws: Failure.self) { try Journal(parsing: journal("/v/db/.ccci-staging-../x-db", token: "../x")) }
    }
}

@Suite struct LiveTreeTests {
    @Test func removalTakesNamesAsBytes() throws {
        let f = try Fixture()
        defer { f.remove() }
        try f.dir("t")
        let root = try f.open("t")
        defer { root.closeQuietly() }
        let odd: [UInt8] = [0x62, 0xFF, 0xFE]
        try Path.makeDirectory(odd, in: root, mode: 0o755)
        let sub = try FileDescriptor.open(odd, relativeTo: root, O_RDONLY | O_DIRECTORY)
        try FileDescriptor.open([0xC0, 0x78], relativeTo: sub, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600).close()
        sub.closeQuietly()
        let parent = try f.open("")
        defer { parent.closeQuietly() }
        try LiveTree.remove(Array("t".utf8), in: parent)
        #expect(try Path.statusIfExists(f.path("t")) == nil)
    }
}
