// The pre-deploy safety gate: given the deployed version, the versions on offer and their
// release notes, decide apply / hold / noop and the furthest safe target.
//
// Rules (docs/commands/ccci-gate.md):
// - a major bump on either side (or a variant change, or a legacy-to-semver jump) is never taken
//   unless the policy is `all`; a bump beyond the policy (`patch` < `minor`) is not taken either;
// - the notes of every newer version are read in version order, and the walk stops before the
//   first version whose notes ask for a manual migration (or cannot be read): nothing at or past
//   it is taken, since a later release includes the earlier one's changes;
// - the target is the newest version taken; versions older than the current are downgrades;
// - fail closed: an unparsable current version holds everything, and so does an offer in which
//   no version can be parsed (no way to tell whether something is newer);
//   notes that cannot be read (from git or the directory) block like a manual migration.

public struct Verdict: Sendable {
    public enum Decision: String, Sendable { case apply, hold, noop }

    public struct Reason: Sendable {
        public var reason: String
        public var phrase: String? = nil
        public var file: String? = nil
        public var line: Int? = nil
        public var detail: String? = nil
        /// The git ref the notes were read from (nil for a plain directory).
        public var rev: String? = nil

        var json: JSON {
            var o = JSONObject()
            o["reason"] = .string(reason)
            if let phrase { o["phrase"] = .string(phrase) }
            if let file { o["file"] = .string(file) }
            if let line { o["line"] = JSON(line) }
            if let detail { o["detail"] = .string(detail) }
            if let rev { o["rev"] = .string(rev) }
            return .object(o)
        }
    }

    public var decision: Decision
    public var current: String
    public var target: String
    public var latest: String?
    public var policy: Gate.Policy
    public var bump: (recipe: Bump, upstream: Bump)
    public var latestBump: (recipe: Bump, upstream: Bump)?
    public var held: [(version: String, reasons: [Reason])]
    public var notesRead: Int
    /// The deployed version itself could not be parsed, so nothing could be judged.
    public var currentUnparsable = false

    /// The alert the porcelain should raise for what was held beyond the target, if anything.
    /// No candidate at all could be parsed.
    public var nothingReadable = false

    public var alertKind: String? {
        if currentUnparsable || nothingReadable { return "held-unparsable" }
        let newer = held.filter { !$0.reasons.contains { $0.reason == "downgrade" || $0.reason == "unparsable" } }
        if newer.isEmpty { return nil }
        if newer.contains(where: { $0.reasons.contains { $0.reason == "manual-migration" || $0.reason == "notes-unreadable" } }) {
            return "held-manual-migration"
        }
        if newer.contains(where: { $0.reasons.contains { $0.reason.hasPrefix("major") } }) { return "held-major" }
        return "held-policy"
    }

    public var json: JSON {
        var o = JSONObject()
        o["decision"] = .string(decision.rawValue)
        o["current"] = .string(current)
        o["target"] = .string(target)
        o["latest"] = JSON(latest)
        o["policy"] = .string(policy.rawValue)
        o["bump"] = ["recipe": .string(bump.recipe.rawValue), "upstream": .string(bump.upstream.rawValue)]
        o["latest_bump"] = latestBump.map { ["recipe": .string($0.recipe.rawValue), "upstream": .string($0.upstream.rawValue)] } ?? .null
        o["held"] = .array(held.map { h in ["version": .string(h.version), "reasons": .array(h.reasons.map(\.json))] })
        o["alert"] = JSON(alertKind)
        o["notes_read"] = JSON(notesRead)
        return .object(o)
    }
}

public enum Gate {
    public enum Policy: String, Sendable, CaseIterable {
        case patch, minor, all
        var ceiling: Bump {
            switch self {
            case .patch: .patch
            case .minor: .minor
            case .all: .major
            }
        }
    }

    public static func decide(
        current currentText: String, candidates: [String], notes notesSource: ReleaseNotes?, markers: Markers, policy: Policy
    ) -> Verdict {
        var verdict = Verdict(
            decision: .noop, current: currentText, target: currentText, latest: nil, policy: policy,
            bump: (.none, .none), latestBump: nil, held: [], notesRead: 0)
        var seen = Set<String>()
        var parsed: [RecipeVersion] = []
        var unparsable: [String] = []
        for c in candidates where seen.insert(c).inserted {
            if let v = RecipeVersion(c) { parsed.append(v) } else { unparsable.append(c) }
        }
        parsed.sort { RecipeVersion.compare($0, $1) < 0 }
        verdict.latest = parsed.last?.text

        guard let current = RecipeVersion(currentText) else {
            // Fail closed: without a current version nothing can be judged safe.
            verdict.decision = .hold
            verdict.currentUnparsable = true
            verdict.held = parsed.map { ($0.text, [Verdict.Reason(reason: "unparsable", detail: "current version '\(currentText)' is unparsable")]) }
                + unparsable.map { ($0, [Verdict.Reason(reason: "unparsable")]) }
            if verdict.held.isEmpty { verdict.held = [(currentText, [Verdict.Reason(reason: "unparsable", detail: "current version")])] }
            return verdict
        }
        if let latest = parsed.last, RecipeVersion.compare(latest, current) > 0 {
            verdict.latestBump = (current.recipeBump(to: latest), current.upstreamBump(to: latest))
        }

        var notes = notesSource
        notes?.prefetch(parsed.filter { RecipeVersion.compare($0, current) > 0 }.map(\.text))
        var target = current
        var blockedBy: String? = nil
        for v in parsed {
            let order = RecipeVersion.compare(v, current)
            if order == 0 { continue }
            if order < 0 {
                verdict.held.append((v.text, [Verdict.Reason(reason: "downgrade")]))
                continue
            }
            var reasons: [Verdict.Reason] = []
            let r = current.recipeBump(to: v)
            let u = current.upstreamBump(to: v)
            if r == .major { reasons.append(.init(reason: "major-recipe")) }
            if r == .unknown { reasons.append(.init(reason: "major-recipe", detail: "version scheme changed")) }
            if u == .major { reasons.append(.init(reason: "major-upstream")) }
            if u == .variant { reasons.append(.init(reason: "major-upstream", detail: "image variant changed")) }
            if u == .unknown { reasons.append(.init(reason: "major-upstream", detail: "upstream scheme changed")) }
            if policy == .all {
                reasons.removeAll { $0.reason.hasPrefix("major") }
            } else if reasons.isEmpty, max(r, u) > policy.ceiling {
                reasons.append(.init(reason: "policy", detail: "\(max(r, u).rawValue) bump exceeds policy '\(policy.rawValue)'"))
            }
            // Every newer version's notes are read, in order; the first that demands a person
            // blocks it and everything after it.
            // Every copy of the notes counts (in git: the tag's and the branch heads'); the first
            // that asks for a person is reported.
            if let notes {
                var read = false
                var matched = false
                for copy in notes.lookup(v) {
                    switch copy {
                    case .text(let file, let content, let rev):
                        read = true
                        if !matched, let m = markers.firstMatch(in: content) {
                            matched = true
                            reasons.append(.init(reason: "manual-migration", phrase: m.phrase, file: file, line: m.line, rev: rev))
                        }
                    case .unreadable(let file, let why):
                        reasons.append(.init(reason: "notes-unreadable", file: file, detail: why))
                    }
                }
                if read { verdict.notesRead += 1 }
            }
            if let blockedBy {
                reasons.append(.init(reason: "behind-manual-migration", detail: blockedBy))
            } else if reasons.contains(where: { $0.reason == "manual-migration" || $0.reason == "notes-unreadable" }) {
                blockedBy = v.text
            }
            if reasons.isEmpty {
                target = v
            } else {
                verdict.held.append((v.text, reasons))
            }
        }
        verdict.held += unparsable.map { ($0, [Verdict.Reason(reason: "unparsable")]) }
        // Nothing on offer could be read: whether something newer exists cannot be told, so it
        // is a hold with an alert, never a quiet noop. (When the current version itself is on
        // offer and parses, the list was read; odd tags beside it are reported, not alerted.)
        if !unparsable.isEmpty, parsed.isEmpty {
            verdict.nothingReadable = true
        }
        verdict.target = target.text
        verdict.bump = (current.recipeBump(to: target), current.upstreamBump(to: target))
        if target.text != current.text {
            verdict.decision = .apply
        } else {
            verdict.decision = verdict.alertKind == nil ? .noop : .hold
        }
        return verdict
    }
}
