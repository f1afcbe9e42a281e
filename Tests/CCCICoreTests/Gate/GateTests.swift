import Glibc
import TestSupport
import Testing
@testable import CCCICore

@Suite struct GateDecisions {
    func decide(_ current: String, _ versions: [String], notes: [String: String] = [:], policy: Gate.Policy = .minor) throws -> Verdict {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("releaseNotes")
        for (v, text) in notes { try d.write("releaseNotes/\(v).md", text) }
        return Gate.decide(current: current, candidates: versions, notes: ReleaseNotes(directory: d.path), markers: .standard, policy: policy)
    }

    func reasons(_ v: Verdict, _ version: String) -> [String] {
        v.held.first { $0.version == version }?.reasons.map(\.reason) ?? []
    }

    @Test func takesTheNewestMinorAndHoldsTheMajor() throws {
        let v = try decide("10.7.1+26.6.2", ["10.7.1+26.6.2", "10.7.9+26.6.2", "10.8.0+26.7.0", "11.0.0+27.0.0"])
        #expect(v.decision == .apply)
        #expect(v.target == "10.8.0+26.7.0")
        #expect(v.latest == "11.0.0+27.0.0")
        #expect(reasons(v, "11.0.0+27.0.0") == ["major-recipe", "major-upstream"])
        #expect(v.alertKind == "held-major")
    }

    @Test func onlyMajorsAvailableIsAHold() throws {
        let v = try decide("10.7.1+26.6.2", ["11.0.0+26.6.2"])
        #expect(v.decision == .hold)
        #expect(v.target == "10.7.1+26.6.2")
    }

    @Test func upstreamMajorInsideARecipeMinorIsHeld() throws {
        let v = try decide("10.7.1+26.6.2", ["10.8.0+27.0.0"])
        #expect(v.decision == .hold)
        #expect(reasons(v, "10.8.0+27.0.0") == ["major-upstream"])
    }

    @Test func stopsBeforeTheFirstManualMigrationEvenIfLaterOnesAreClean() throws {
        let v = try decide(
            "1.0.0+1.0.0", ["1.0.1+1.0.0", "1.1.0+1.1.0", "1.2.0+1.2.0", "1.3.0+1.3.0"],
            notes: ["1.1.0+1.1.0": "Nothing special.", "1.2.0+1.2.0": "# 1.2.0\n\nBefore upgrading you MUST\nexport the database.", "1.3.0+1.3.0": "clean"])
        #expect(v.decision == .apply)
        #expect(v.target == "1.1.0+1.1.0")
        let held = try #require(v.held.first { $0.version == "1.2.0+1.2.0" }?.reasons.first)
        #expect(held.reason == "manual-migration")
        #expect(held.phrase == "before upgrading you must")
        #expect(held.file == "releaseNotes/1.2.0+1.2.0.md")
        #expect(held.line == 3)
        #expect(reasons(v, "1.3.0+1.3.0") == ["behind-manual-migration"])
        #expect(v.alertKind == "held-manual-migration")
        #expect(v.notesRead == 3)
    }

    @Test func manualMigrationInTheVeryNextVersionHolds() throws {
        let v = try decide("1.0.0+1.0.0", ["1.0.1+1.0.0"], notes: ["1.0.1+1.0.0": "Breaking change: config moved"])
        #expect(v.decision == .hold)
        #expect(v.alertKind == "held-manual-migration")
    }

    @Test func unreadableNotesHoldFailClosed() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("releaseNotes")
        try d.makeDirectory("releaseNotes/1.0.1+1.0.0.md")  // a directory where a file should be
        let v = Gate.decide(current: "1.0.0+1.0.0", candidates: ["1.0.1+1.0.0"], notes: ReleaseNotes(directory: d.path), markers: .standard, policy: .minor)
        #expect(v.decision == .hold)
        #expect(reasons(v, "1.0.1+1.0.0") == ["notes-unreadable"])
    }

    @Test func fallsBackToReleaseDirectory() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("release")
        try d.write("release/1.0.1+1.0.0", "manual intervention needed")
        let v = Gate.decide(current: "1.0.0+1.0.0", candidates: ["1.0.1+1.0.0"], notes: ReleaseNotes(directory: d.path), markers: .standard, policy: .minor)
        #expect(v.held.first?.reasons.first?.file == "release/1.0.1+1.0.0")
    }

    @Test func policyPatchHoldsMinors() throws {
        let v = try decide("1.0.0+1.0.0", ["1.0.1+1.0.0", "1.1.0+1.0.0"], policy: .patch)
        #expect(v.target == "1.0.1+1.0.0")
        #expect(reasons(v, "1.1.0+1.0.0") == ["policy"])
        #expect(v.alertKind == "held-policy")
    }

    @Test func policyAllTakesMajorsButNotManualMigrations() throws {
        let v = try decide("1.0.0+1.0.0", ["2.0.0+2.0.0", "3.0.0+3.0.0"], notes: ["3.0.0+3.0.0": "manual migration"], policy: .all)
        #expect(v.target == "2.0.0+2.0.0")
    }

    @Test func unparsableCurrentHoldsEverything() throws {
        let v = try decide("garbage", ["1.0.0+1.0.0"])
        #expect(v.decision == .hold)
        #expect(v.alertKind == "held-unparsable")
    }

    @Test func unparsableCandidatesAndDowngradesAreReportedNotTaken() throws {
        let v = try decide("1.1.0+1.0.0", ["latest", "1.0.0+1.0.0", "1.1.0+1.0.0"])
        #expect(v.decision == .noop)
        #expect(reasons(v, "latest") == ["unparsable"])
        #expect(reasons(v, "1.0.0+1.0.0") == ["downgrade"])
    }

    @Test func noopWhenCurrentIsLatest() throws {
        let v = try decide("1.0.0+1.0.0", ["1.0.0+1.0.0"])
        #expect(v.decision == .noop)
        #expect(v.held.isEmpty)
        #expect(v.alertKind == nil)
    }

    @Test func variantChangeIsHeld() throws {
        let v = try decide("5.0.3+27.0.1-fpm", ["5.0.4+27.0.1-apache"])
        #expect(v.decision == .hold)
    }
}

@Suite struct ManualMigrationMarkers {
    @Test(arguments: [
        "This release needs a MANUAL MIGRATION.", "**Manual\nmigration** required", "manual-migration", "Migration required!",
        "_breaking change_: the port moved", "Before upgrading, you must run", "requires manual intervention",
    ])
    func matches(_ text: String) { #expect(Markers.standard.firstMatch(in: text) != nil) }

    @Test(arguments: [
        "Manual migrations ahead", "manual\u{00A0}migration", "manual\u{202F}migration", "MANUAL\u{200B}MIGRATION",
        "man\u{00AD}ual migration", "Breaking\u{3000}changes", "requires manual interventions", "not backwards-compatible",
        "No manual migrations are needed", "manual&nbsp;migration", "Manual&#160;Migration", "man&shy;ual migration",
    ])
    func unicodeSpacesAndPluralsMatch(_ text: String) { #expect(Markers.standard.firstMatch(in: text) != nil) }

    @Test func otherEntitiesStayText() {
        #expect(Markers.standard.firstMatch(in: "manual&amp;migration") == nil)
        #expect(Markers.standard.firstMatch(in: "a & b; manual migration")?.line == 1)
    }

    @Test func singularIsSimple() {
        #expect(Markers.singular("migrations") == "migration")
        #expect(Markers.singular("dependencies") == "dependency")
        #expect(Markers.singular("processes") == "process")
        #expect(Markers.singular("status") == "status")
        #expect(Markers.singular("is") == "is")
    }

    @Test func crlfMarkersFile() {
        let m = Markers.parse("\u{FEFF}run the script\r\n# c\r\n")
        #expect(m.phrases == ["run the script"])
        #expect(m.firstMatch(in: "a\r\nrun the\r\nscript")?.line == 2)
    }

    @Test func candidatesAcceptCRLF() throws {
        #expect(try Gate.parseCandidates(Array("1.0.0+1\r\n1.1.0+1\r\n".utf8)) == ["1.0.0+1", "1.1.0+1"])
        #expect(try Gate.parseCandidates(Array("\r\n".utf8)) == [])
        #expect(throws: Failure.self) { try Gate.requireCandidates([]) }
    }

    @Test func onlyUnparsableCandidatesHoldWithAnAlert() {
        let v = Gate.decide(current: "1.0.0+1", candidates: ["latest", "1.0.0+1\r"], notes: nil, markers: .standard, policy: .minor)
        #expect(v.decision == .hold)
        #expect(v.alertKind == "held-unparsable")
        // The current version read beside an odd tag: the list was read, nothing is newer.
        let w = Gate.decide(current: "1.0.0+1", candidates: ["latest", "1.0.0+1"], notes: nil, markers: .standard, policy: .minor)
        #expect(w.decision == .noop)
    }

    @Test(arguments: ["Updated images.", "migrations run automatically", "manually tested", "breaking news"])
    func doesNotMatch(_ text: String) { #expect(Markers.standard.firstMatch(in: text) == nil) }

    @Test func customMarkersReplaceDefaults() {
        let m = Markers.parse("# ours\n\nrun the upgrade script\n")
        #expect(m.phrases == ["run the upgrade script"])
        #expect(m.firstMatch(in: "Please run the\nupgrade script.")?.line == 1)
        #expect(m.firstMatch(in: "manual migration") == nil)
    }
}

@Suite struct ReleaseNotesFromGit {
    func git(_ dir: String, _ args: String...) throws {
        var p = Subprocess(["git", "-C", dir] + args)
        p.environment = [("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@x"), ("GIT_COMMITTER_NAME", "t"), ("GIT_COMMITTER_EMAIL", "t@x")]
        let r = try p.run()
        #expect(r.succeeded, "git \(args): \(r.stderrText)")
    }

    @Test func notesOfLaterReleasesAreReadFromGitNotTheCheckedOutTree() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try git(d.path, "init", "-q", "-b", "main")
        try d.makeDirectory("releaseNotes")
        try d.write("compose.yml", "v1")
        try git(d.path, "add", "-A")
        try git(d.path, "commit", "-qm", "one")
        try git(d.path, "tag", "-a", "-m", "1.0.0+1", "1.0.0+1")
        try d.write("releaseNotes/1.1.0+1.md", "A manual migration is needed.")
        try git(d.path, "add", "-A")
        try git(d.path, "commit", "-qm", "two")
        try git(d.path, "tag", "-a", "-m", "1.1.0+1", "1.1.0+1")
        try git(d.path, "checkout", "-q", "1.0.0+1")  // as abra leaves it after deploying 1.0.0
        #expect(try Path.statusIfExists(d.file("releaseNotes/1.1.0+1.md")) == nil)
        let v = Gate.decide(current: "1.0.0+1", candidates: ["1.0.0+1", "1.1.0+1"], notes: ReleaseNotes(directory: d.path), markers: .standard, policy: .minor)
        #expect(v.decision == .hold)
        #expect(v.held.first?.reasons.first?.reason == "manual-migration")
        #expect(v.held.first?.reasons.first?.file == "releaseNotes/1.1.0+1.md")
    }

    @Test func aCloneGitCannotReadHoldsInsteadOfFallingBackToTheWorkTree() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        try d.makeDirectory("releaseNotes")
        try d.write("releaseNotes/1.1.0+1.md", "Images updated.")
        try d.write(".git", "gitdir: \(d.path)/nowhere\n")
        let v = Gate.decide(current: "1.0.0+1", candidates: ["1.1.0+1"], notes: ReleaseNotes(directory: d.path), markers: .standard, policy: .minor)
        #expect(v.decision == .hold)
        #expect(v.held.first?.reasons.first?.reason == "notes-unreadable")
        #expect(v.held.first?.reasons.first?.detail?.hasPrefix("git:") == true)
    }
}
