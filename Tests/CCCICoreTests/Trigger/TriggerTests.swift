import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct CommentGrammar {
    @Test(arguments: ["!testme", "  !testme  ", "\n!testme\r\n", "\t!testme"])
    func cold(_ body: String) { #expect(Trigger.mode(of: Array(body.utf8)) == .cold) }

    @Test(arguments: ["!testme --quick", " !testme --quick\n"])
    func quick(_ body: String) { #expect(Trigger.mode(of: Array(body.utf8)) == .quick) }

    @Test(arguments: [
        "", "   ", "!testmexyz", "!testme foo", "!testme  --quick", "!testme --quickx", "please !testme",
        "!testme --quick extra", "`!testme`", "```\n!testme\n```", "> !testme", "\"!testme\"", "!TESTME",
        "!testme\n!testme", "!testme\u{00A0}", "\u{00A0}!testme", "!testme --quick --quick", "! testme",
        "!testme\t--quick", "!testme -q",
    ])
    func notATrigger(_ body: String) { #expect(Trigger.mode(of: Array(body.utf8)) == nil) }
}

@Suite struct CommentEvents {
    static let fixtures = String(#filePath).split(separator: "/").dropLast(3).joined(separator: "/")

    func load(_ name: String) throws -> JSON {
        try JSON.parse(AtomicFile.read("/\(Self.fixtures)/fixtures/webhooks/\(name).json"))
    }

    func decide(_ name: String, ignoring: Set<String> = [], seen: FileDescriptor? = nil) throws -> Trigger.Decision {
        let event = try #require(try Trigger.event(from: load(name)))
        return try Trigger.decide(event, ignoring: ignoring, seen: seen)
    }

    @Test func githubPullRequestComment() throws {
        let d = try decide("github-created-pr")
        #expect(d.mode == .quick)
        #expect(d.json["comment_id"] == .number("2503417765"))
        #expect(d.json["pr"]?.int == 42)
        #expect(d.json["author"]?.string == "bob")
        #expect(d.json["forge"]?.string == "github")
    }

    @Test func giteaPullRequestComment() throws {
        let d = try decide("gitea-created-pr")
        #expect(d.mode == .cold)
        #expect(d.json["pr"]?.int == 17)
        #expect(d.json["forge"]?.string == "gitea")
    }

    @Test(arguments: [
        ("github-edited", "edited"), ("github-bot", "bot-author"), ("github-issue-not-pr", "not-a-pull-request"),
        ("github-quoted", "not-a-command"), ("gitea-issue-not-pr", "not-a-pull-request"),
    ])
    func refused(_ fixture: String, _ reason: String) throws {
        let d = try decide(fixture)
        #expect(d.mode == nil)
        #expect(d.reason == reason)
    }

    @Test func ignoredAuthorIgnoresCase() throws {
        #expect(try decide("gitea-ci-bot", ignoring: Trigger.logins(" CCCI-Bot ,,")).reason == "ignored-author")
        #expect(Trigger.logins(",") == [])
        #expect(Trigger.reason(forAction: "deleted") == "deleted")
        #expect(Trigger.reason(forAction: "x;y") == "not-created")
    }

    @Test func ignoredAuthor() throws {
        #expect(try decide("gitea-ci-bot", ignoring: ["ccci-bot"]).reason == "ignored-author")
        #expect(try decide("gitea-ci-bot").mode == .cold)
    }

    @Test func redeliveryIsADuplicate() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let seen = try dir.open()
        defer { seen.closeQuietly() }
        #expect(try decide("github-created-pr", seen: seen).mode == .quick)
        #expect(try decide("github-created-pr", seen: seen).reason == "duplicate")
        // Another forge's comment with its own id is not confused with it.
        #expect(try decide("gitea-created-pr", seen: seen).mode == .cold)
    }

    @Test func notACommentEvent() throws {
        #expect(try Trigger.event(from: JSON.parse(#"{"action":"opened","pull_request":{"number":1}}"#)) == nil)
        #expect(try Trigger.event(from: JSON.parse("[]")) == nil)
    }

    @Test func malformedCommentEventIsBadData() {
        #expect { try Trigger.event(from: JSON.parse(#"{"action":"created","issue":{},"comment":{"id":"x","body":"!testme"}}"#)) }
            throws: { ($0 as? Failure)?.exit == .badData }
    }
}
