// The health gate: poll an endpoint until it answers an expected status on N consecutive tries
// (one lucky answer during a crash loop is not health), or until a deadline. Failures back off
// exponentially up to a cap; successes are re-checked at the base interval.

public struct HealthCheck: Sendable {
    public var request: HTTPRequest
    public var expect: Set<Int> = [200]
    public var successes: Int = 3
    public var timeout: Double = 300
    public var interval: Double = 1
    public var maxInterval: Double = 10
    /// A JSON field of the body that must equal a value, e.g. (["status"], "UP").
    public var jsonField: (path: [String], value: String)? = nil

    public init(request: HTTPRequest) { self.request = request }

    public struct Report: Sendable {
        public var healthy = false
        public var attempts = 0
        public var consecutive = 0
        public var lastStatus: Int? = nil
        public var lastError: String? = nil
        /// Whether any attempt got an HTTP answer at all.
        public var reachable = false
        public var firstSuccessAfter: Double? = nil
        public var elapsed: Double = 0
    }

    /// Parses `a.b.c=VALUE`.
    public static func parseJSONField(_ text: String) -> (path: [String], value: String)? {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        var path = String(text[..<eq])
        if path.hasPrefix(".") { path.removeFirst() }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else { return nil }
        return (parts, String(text[text.index(after: eq)...]))
    }

    func fieldMatches(_ body: [UInt8]) -> (Bool, String?) {
        guard let (path, want) = jsonField else { return (true, nil) }
        guard var v = try? JSON.parse(body) else { return (false, "body is not JSON") }
        for p in path {
            guard let next = v[p] else { return (false, "body has no field '\(path.joined(separator: "."))'") }
            v = next
        }
        let got: String
        switch v {
        case .string(let s): got = s
        case .number(let n): got = n
        case .bool(let b): got = b ? "true" : "false"
        case .null: got = "null"
        default: got = v.text
        }
        return got == want ? (true, nil) : (false, "'\(path.joined(separator: "."))' is '\(got)', not '\(want)'")
    }

    public func run(progress: (String) -> Void = { _ in }) -> Report {
        var report = Report()
        let start = Kernel.monotonicNanoseconds()
        let deadline = start + UInt64(timeout * 1e9)
        var backoff = interval
        func now() -> UInt64 { Kernel.monotonicNanoseconds() }
        while true {
            var req = request
            let remaining = Double(deadline > now() ? deadline - now() : 0) / 1e9
            req.timeout = max(0.5, min(request.timeout, remaining))
            report.attempts += 1
            var ok = false
            do {
                let response = try HTTP.send(req)
                report.reachable = true
                report.lastStatus = response.status
                if expect.contains(response.status) {
                    let (match, why) = fieldMatches(response.body)
                    ok = match
                    report.lastError = why
                } else {
                    report.lastError = "status \(response.status)"
                }
            } catch {
                report.lastStatus = nil
                report.lastError = "\(error.kind.rawValue): \(error.message)"
            }
            if ok {
                report.consecutive += 1
                if report.firstSuccessAfter == nil { report.firstSuccessAfter = Double(now() - start) / 1e9 }
                backoff = interval
                if report.consecutive >= successes {
                    report.healthy = true
                    report.lastError = nil
                    break
                }
            } else {
                report.consecutive = 0
                progress("attempt \(report.attempts): \(report.lastError ?? "failed")")
            }
            let wait = ok ? interval : backoff
            if !ok { backoff = min(backoff * 2, maxInterval) }
            if now() + UInt64(wait * 1e9) >= deadline { break }
            Kernel.sleep(milliseconds: Int(wait * 1000))
        }
        report.elapsed = Double(now() - start) / 1e9
        return report
    }
}

extension HealthCheck.Report {
    public func json(url: String, successesNeeded: Int) -> JSON {
        func seconds(_ v: Double?) -> JSON { v.map { JSON(($0 * 1000).rounded() / 1000) } ?? .null }
        return [
            "url": .string(url), "healthy": .bool(healthy), "attempts": JSON(attempts),
            "consecutive": JSON(consecutive), "successes_needed": JSON(successesNeeded),
            "last_status": lastStatus.map { JSON($0) } ?? .null, "last_error": JSON(lastError),
            "reachable": .bool(reachable), "first_success_after": seconds(firstSuccessAfter), "elapsed": seconds(elapsed),
        ]
    }
}
