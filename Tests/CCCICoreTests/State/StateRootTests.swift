import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct StateRoots {
    @Test func createsNestedRootAndAppDirectoriesPrivate() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let root = StateRoot(path: d.file("a/b/state"))
        let app = try root.app(try Name("keycloak"), create: true)
        app.closeQuietly()
        #expect(try Path.status(d.file("a/b/state")).st_mode & 0o777 == 0o700)
        #expect(try Path.status(d.file("a/b/state/keycloak")).st_mode & 0o777 == 0o700)
    }

    @Test func refusesSymlinkedAppDirectory() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("state")
        try d.makeDirectory("elsewhere")
        try Path.symlink(d.file("elsewhere"), at: d.file("state/app"))
        let root = StateRoot(path: d.file("state"))
        #expect(throws: Failure.self) { try root.app(try Name("app"), create: true) }
    }

    @Test func missingRootWithoutCreateIsMissingInput() throws {
        let root = StateRoot(path: "/nonexistent/ccci-state")
        #expect { try root.open(create: false) } throws: { ($0 as? Failure)?.exit == .noInput }
    }
}
