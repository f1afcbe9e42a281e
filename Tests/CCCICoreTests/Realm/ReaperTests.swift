import Testing
@testable import CCCICore

@Suite struct ReapDecisions {
    static let now = Timestamp(rfc3339: "2026-11-23T12:00:00.000Z")!
    static let rules = ReapRules(live: ["aaa111"], graceSeconds: 3600)

    static func realm(_ name: String, run: String? = nil, created: String? = "2026-11-23T09:00:00.000Z") -> RunRealm {
        RunRealm(realm: name, enabled: true, run: run ?? RealmName.parse(name)?.hex, created: created)
    }

    @Test func anOldRealmOfADeadRunIsAnOrphan() {
        #expect(Self.rules.decide(Self.realm("docs-bbb222"), now: Self.now) == (true, "orphan"))
    }

    @Test func aLiveRunKeepsItsRealmWhateverItsAge() {
        #expect(Self.rules.decide(Self.realm("docs-aaa111"), now: Self.now) == (false, "live"))
        #expect(Self.rules.decide(Self.realm("docs-aaa111", created: nil), now: Self.now) == (false, "live"))
        // a realm created with --run naming a live run
        #expect(Self.rules.decide(Self.realm("docs-ccc333", run: "aaa111"), now: Self.now) == (false, "live"))
    }

    @Test func aYoungRealmIsSparedTheGracePeriod() {
        #expect(Self.rules.decide(Self.realm("docs-bbb222", created: "2026-11-23T11:30:00.000Z"), now: Self.now) == (false, "young"))
        #expect(Self.rules.decide(Self.realm("docs-bbb222", created: "2026-11-23T11:00:00.001Z"), now: Self.now) == (false, "young"))
        #expect(Self.rules.decide(Self.realm("docs-bbb222", created: "2026-11-23T11:00:00.000Z"), now: Self.now) == (true, "orphan"))
        // a clock ahead of ours: young, not orphaned
        #expect(Self.rules.decide(Self.realm("docs-bbb222", created: "2026-11-24T00:00:00.000Z"), now: Self.now) == (false, "young"))
    }

    @Test func untaggedOrBadlyTaggedRealmsAreKeptUnlessForced() {
        let untagged = RunRealm(realm: "docs-bbb222", enabled: true)
        let badTag = Self.realm("docs-bbb222", created: "yesterday")
        #expect(Self.rules.decide(untagged, now: Self.now) == (false, "untagged"))
        #expect(Self.rules.decide(badTag, now: Self.now) == (false, "bad-tag"))
        let forced = ReapRules(live: ["aaa111"], graceSeconds: 3600, forceUntagged: true)
        #expect(forced.decide(untagged, now: Self.now) == (true, "untagged-forced"))
        #expect(forced.decide(badTag, now: Self.now) == (true, "bad-tag-forced"))
        // forcing never reaches a live run's realm
        #expect(forced.decide(RunRealm(realm: "docs-aaa111"), now: Self.now) == (false, "live"))
    }

    @Test func masterAndForeignRealmsAreNeverDeleted() {
        let all = ReapRules(live: [], graceSeconds: 0, forceUntagged: true)
        for name in ["master", "company", "Docs-bbb222", "docs_bbb222", "docs-bbb22"] {
            #expect(all.decide(RunRealm(realm: name, enabled: true, run: "bbb222", created: "2000-01-01T00:00:00Z"), now: Self.now) == (false, "not-ours"))
        }
    }

    @Test func tagsComeFromRealmAttributes() throws {
        let rep = try JSON.parse(#"{"id":"x","realm":"docs-bbb222","enabled":false,"attributes":{"frontendUrl":"","ccci.run":"bbb222","ccci.created":"2026-11-23T09:00:00.000Z"}}"#)
        let r = try #require(RunRealm(representation: rep))
        #expect(r.run == "bbb222" && r.createdText == "2026-11-23T09:00:00.000Z" && r.enabled == false && r.isTagged)
        #expect(r.age(at: Self.now).map { Int($0) } == 3 * 3600)
        let j = r.json(at: Self.now)
        #expect(j["hex"] == "bbb222" && j["age_minutes"]?.double == 180)
        #expect(RunRealm(representation: ["id": "x"]) == nil)
    }
}
