// Deleting a run realm, the way Keycloak's weak spot demands. Concurrent realm deletions fail
// with 500 "Database operation failed" or optimistic-lock errors (open upstream issues; Keycloak's
// own UI tests delete one at a time and its maintainers say retry). So: callers delete serially;
// a 5xx, a timeout or a broken connection is retried with a doubling pause (RetryPolicy), and
// before each retry a GET asks whether the realm is in fact gone (the failed attempt may have
// committed); 404 at any point means done. A 204 is confirmed with a GET too.
//
// Only names of our pattern reach here (RealmName), so `master` (which Keycloak 24.0.x deleted,
// bricking the server) and every realm ci-warm did not name are out of reach by construction.

public struct RealmDeletion: Sendable {
    public var realm: String
    /// False when the realm was already gone at the first try.
    public var existed: Bool
    public var attempts: Int
    /// 5xx answers (and timeouts) survived on the way.
    public var serverErrors: Int

    public var json: JSON {
        ["realm": .string(realm), "deleted": true, "existed": .bool(existed), "attempts": JSON(attempts), "server_errors": JSON(serverErrors)]
    }
}

extension KeycloakAdmin {
    /// Seconds allowed for one DELETE: realm deletion is slow on a busy server.
    public static let deleteTimeout = 120.0

    public func delete(_ name: RealmName, policy: RetryPolicy = RetryPolicy(), progress: (String) -> Void = { _ in }) throws(Failure) -> RealmDeletion {
        let realm = name.value
        let path = Self.realmPath(realm)
        let start = clock()
        var report = RealmDeletion(realm: realm, existed: true, attempts: 0, serverErrors: 0)
        while true {
            report.attempts += 1
            var why: String
            do throws(Failure) {
                let response = try call("DELETE", path, timeout: max(server.timeout, Self.deleteTimeout))
                switch response.status {
                case 200, 202, 204:
                    if try isGone(path) { return report }
                    why = "still present after \(response.status)"
                case 404:
                    if report.attempts == 1 { report.existed = false }
                    return report
                case 500...599:
                    report.serverErrors += 1
                    why = "status \(response.status): \(KeycloakServer.reason(response))"
                default:
                    throw Self.unexpected(response, "deleting realm '\(realm)'")
                }
            } catch {
                guard error.exit == .unavailable else { throw error }
                report.serverErrors += 1
                why = error.message
            }
            let elapsed = Double(clock() &- start) / 1e9
            guard let pause = policy.pause(after: report.attempts, elapsed: elapsed) else {
                throw Failure(.busy, "delete-failed", "realm '\(realm)' is still there after \(report.attempts) tries: \(why)",
                    details: ["realm": .string(realm), "attempts": JSON(report.attempts), "server_errors": JSON(report.serverErrors)])
            }
            progress("deleting realm '\(realm)': \(why); checking and retrying in \(pause) s")
            Kernel.sleep(milliseconds: Int(pause * 1000))
            do throws(Failure) {
                if try isGone(path) { return report }
            } catch {
                guard error.exit == .unavailable else { throw error }
            }
        }
    }

    /// Whether GET answers 404. Anything but 404 or 200 is a failure.
    private func isGone(_ path: String) throws(Failure) -> Bool {
        let response = try call("GET", path)
        switch response.status {
        case 404: return true
        case 200: return false
        default: throw Self.unexpected(response, "checking \(path)")
        }
    }
}
