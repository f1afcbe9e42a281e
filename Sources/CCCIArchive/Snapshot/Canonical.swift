// Questions about a data-warm canonical that need its snapshot: is it usable, and pruning the
// warm data of apps that are no longer enrolled.
import CCCICore
import Glibc

public enum Canonical {
    /// `has`: the record exists, the snapshot is the one the record names, its volumes exist on
    /// docker (unless `docker` is nil) and every archive verifies: answered from the verification
    /// stamp when it vouches for the snapshot as it is now (VerificationStamp.swift), else (and
    /// always with `full`) by re-reading every archive, which stamps it again. The caller holds
    /// the lock.
    public static func check(_ app: Name, state: StateRoot, docker: Docker?, full: Bool = false) throws(Failure) -> JSON {
        func no(_ reason: String, _ detail: String? = nil) -> JSON {
            ["app": .string(app.value), "has": false, "reason": .string(reason), "detail": JSON(detail)]
        }
        // The previous system's files are not ours to read: a clean no, so callers run cold.
        let legacy = try LegacyState.markers(app, state: state)
        if !legacy.isEmpty { return no(LegacyState.code, legacy.joined(separator: ", ")) }
        // Resolve an interrupted promotion first: it may rewrite the record. An interrupted
        // restore is not this command's to finish (it needs the volumes): the answer is no.
        let store = SnapshotStore(state: state, app: app)
        do { try store.recover(volumes: nil) } catch {
            if error.code == "restore-interrupted" { return no("restore-interrupted", error.message) }
            throw error
        }
        guard let record = try Registry(state).record(app) else { return no("no-record") }
        let read: Manifest?
        do { read = try store.manifest() } catch {
            if error.exit == .badData { return no("snapshot-corrupt", error.message) }
            throw error
        }
        guard let manifest = read else { return no("no-snapshot") }
        guard manifest.digest.hex == record.manifestDigest else {
            return no("snapshot-mismatch", "the record names manifest \(record.manifestDigest), the snapshot is \(manifest.digest.hex)")
        }
        if let docker {
            let stack = AppIdentity.stackName(for: record.domain)
            let present = Set(try docker.volumes(stack: stack).map(\.name))
            let missing = manifest.volumes.map(\.name.value).filter { !present.contains($0) }
            if !missing.isEmpty { return no("volumes-missing", missing.joined(separator: ", ")) }
        }
        let root = try state.open(create: false)
        defer { root.closeQuietly() }
        let appDir = try state.app(app, create: false)
        defer { appDir.closeQuietly() }
        let snap = try state.open([app.value, "snapshot"], create: false)
        defer { snap.closeQuietly() }
        func yes(_ verified: String, at: String, stamp: VerificationStamp.Finding, stamped: Bool) -> JSON {
            ["app": .string(app.value), "has": true, "reason": nil, "detail": nil, "volumes_checked": .bool(docker != nil),
             "verified": .string(verified), "verified_at": .string(at), "stamp": .string(stamp.rawValue), "stamped": .bool(stamped),
             "record": record.json]
        }
        var finding = VerificationStamp.Finding.missing
        if !full {
            let (found, at) = VerificationStamp.check(manifest, appDir: appDir, snap: snap, root: root)
            if found == .valid, let at { return yes("stamp", at: at, stamp: found, stamped: false) }
            finding = found
        }
        let (seconds, nanoseconds) = Kernel.wallClock()
        let takenAt = seconds * 1_000_000_000 + Int64(nanoseconds)
        let before = VerificationStamp.identities(of: manifest, in: snap)
        do { try SnapshotStore.check(manifest, in: snap) } catch {
            if error.exit == .badData {
                VerificationStamp.remove(in: appDir)
                return no("snapshot-corrupt", error.message)
            }
            throw error
        }
        let at = Timestamp(seconds: seconds, nanoseconds: nanoseconds).rfc3339
        let stamped = before.map {
            VerificationStamp.write(manifest, before: $0, takenAt: takenAt, verifiedAt: at, appDir: appDir, snap: snap, root: root)
        } ?? false
        return yes("full", at: at, stamp: full ? .ignored : finding, stamped: stamped)
    }

    /// Removes the warm data of every app that has a canonical record and is not enrolled: its
    /// volumes (through abra, or by name with docker; never `docker volume prune`) and its state
    /// directory. Infra (a `last_good`), deployed apps and locked apps are kept.
    public static func prune(
        state: StateRoot, enrolled: [Name], abra: Abra?, docker: Docker?, baseDomain: String?, dryRun: Bool,
        report: (JSON) throws -> Void
    ) throws {
        let registry = Registry(state)
        for app in try registry.apps() where !enrolled.contains(app) {
            func line(_ action: String, _ reason: String?, _ extra: [(String, JSON)] = []) throws {
                var o = JSONObject([("app", .string(app.value)), ("action", .string(action)), ("reason", JSON(reason))])
                for (k, v) in extra { o[k] = v }
                try report(.object(o))
            }
            if try registry.lastGood(app) != nil { try line("kept", "infra"); continue }
            if try !LegacyState.markers(app, state: state).isEmpty { try line("kept", LegacyState.code); continue }
            guard let record = try registry.record(app) else { continue }
            let who = try AppIdentity(app: app, recipe: (try? Name(record.recipe)) ?? app, domain: record.domain)
            let dir = try state.app(app, create: false)
            let lock: HeldLock
            do { lock = try Lock.acquire("lock", in: dir, wait: .none, what: "app '\(app)'") } catch {
                dir.closeQuietly()
                try line("kept", "busy")
                continue
            }
            defer {
                lock.release()
                dir.closeQuietly()
            }
            var volumes: [String] = []
            if let docker {
                if !(try docker.services(stack: who.stack)).isEmpty { try line("kept", "deployed"); continue }
                volumes = try docker.volumes(stack: who.stack).map(\.name)
            }
            if dryRun { try line("would-remove", "not-enrolled", [("volumes", .array(volumes.map { .string($0) }))]); continue }
            if let abra, try abra.envFile(who.domain) != nil {
                try abra.require(try abra.run(["app", "remove", who.domain, "-f", "-n"], timeout: 300), "removing '\(who.domain)'")
                let left = try docker?.volumes(stack: who.stack).map(\.name) ?? []
                try docker?.removeVolumes(left)
            } else {
                try docker?.removeVolumes(volumes)
            }
            let root = try state.open(create: false)
            defer { root.closeQuietly() }
            do { try Path.removeTree(app.value, in: root) } catch { throw Failure(error, doing: "removing the state of '\(app)'") }
            try line("removed", "not-enrolled", [("volumes", .array(volumes.map { .string($0) }))])
        }
    }
}
