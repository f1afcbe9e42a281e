// Reaping realms that crashed runs left behind. A realm is deleted only when every one of these
// holds, and kept (with the reason) otherwise:
//   - its name is of our pattern (`<parent>-<6hex>`; never master, never a foreign realm);
//   - its run is not live: neither its hex nor its `ccci.run` tag is among the live runs;
//   - it carries both tags (untagged realms of our pattern are kept unless forced: we cannot tell
//     a realm someone made by hand from ours, nor how old it is);
//   - it is older than the grace period (a run creates its realm before it deploys, so for a
//     while a live run has no stack to show for itself).
// Deletions are serial (Keycloak fails concurrent realm deletes) and each is retried on 5xx.

public struct ReapRules: Sendable {
    public var live: Set<String>
    public var graceSeconds: Double
    public var forceUntagged = false

    public init(live: Set<String>, graceSeconds: Double, forceUntagged: Bool = false) {
        self.live = live
        self.graceSeconds = graceSeconds
        self.forceUntagged = forceUntagged
    }

    /// Whether to delete the realm, and why.
    public func decide(_ r: RunRealm, now: Timestamp) -> (delete: Bool, reason: String) {
        guard let name = r.name else { return (false, "not-ours") }
        if live.contains(name.hex) { return (false, "live") }
        if let run = r.run, live.contains(run) { return (false, "live") }
        guard r.isTagged else { return forceUntagged ? (true, "untagged-forced") : (false, "untagged") }
        guard let age = r.age(at: now) else { return forceUntagged ? (true, "bad-tag-forced") : (false, "bad-tag") }
        if age < graceSeconds { return (false, "young") }
        return (true, "orphan")
    }
}

public struct ReapOutcome: Sendable {
    public var entries: [JSON] = []
    public var deleted = 0
    public var kept = 0
    public var wouldDelete = 0
    public var failed = 0
}

extension KeycloakAdmin {
    /// Looks at every realm of our pattern (optionally of some parents) and deletes the orphans,
    /// one at a time; `dryRun` only reports what it would delete. A failed delete is reported and
    /// the sweep goes on.
    public func reap(
        rules: ReapRules, parents: Set<String> = [], dryRun: Bool, policy: RetryPolicy, progress: (String) -> Void = { _ in }
    ) throws(Failure) -> ReapOutcome {
        var outcome = ReapOutcome()
        for r in try runRealms(oursOnly: true, parents: parents) {
            let now = Timestamp.now()
            let (delete, reason) = rules.decide(r, now: now)
            var entry = JSONObject(literal: ["realm": .string(r.realm), "action": .null, "reason": .string(reason)])
            for (k, v) in r.json(at: now).object! where entry[k] == nil { entry[k] = v }
            if !delete {
                entry["action"] = "kept"
                outcome.kept += 1
            } else if dryRun {
                entry["action"] = "would-delete"
                outcome.wouldDelete += 1
            } else {
                do throws(Failure) {
                    let d = try self.delete(r.name!, policy: policy, progress: progress)
                    entry["action"] = "deleted"
                    entry["attempts"] = JSON(d.attempts)
                    entry["server_errors"] = JSON(d.serverErrors)
                    outcome.deleted += 1
                    progress("deleted realm '\(r.realm)' (\(reason))")
                } catch {
                    if error.exit == .permission { throw error }
                    entry["action"] = "failed"
                    entry["error"] = .string(error.message)
                    outcome.failed += 1
                    progress("could not delete realm '\(r.realm)': \(error.message)")
                }
            }
            outcome.entries.append(.object(entry))
        }
        return outcome
    }
}

extension ReapOutcome {
    /// The report: the sweep's settings, counts, then every realm looked at.
    public func json(rules: ReapRules, dryRun: Bool, stacks: [String]?) -> JSON {
        var o = JSONObject(literal: [
            "dry_run": .bool(dryRun), "grace_minutes": JSON(rules.graceSeconds / 60),
            "live": .array(rules.live.sorted().map { .string($0) }),
        ])
        if let stacks { o["live_stacks"] = .array(stacks.map { .string($0) }) }
        o["deleted"] = JSON(deleted)
        o["kept"] = JSON(kept)
        o["would_delete"] = JSON(wouldDelete)
        o["failed"] = JSON(failed)
        o["realms"] = .array(entries)
        return .object(o)
    }
}
