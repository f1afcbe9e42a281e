/// How often, and how patiently, to retry an operation that fails in a way worth retrying
/// (Keycloak's 500 on concurrent realm deletion). The pause doubles from `interval` up to
/// `maxInterval`; retrying stops after `attempts` tries or once the next pause would end beyond
/// `budget` seconds since the first try, whichever comes first.
public struct RetryPolicy: Sendable, Equatable {
    public var attempts: Int
    public var interval: Double
    public var maxInterval: Double
    public var budget: Double

    public init(attempts: Int = 8, interval: Double = 1, maxInterval: Double = 30, budget: Double = 300) {
        self.attempts = attempts
        self.interval = interval
        self.maxInterval = maxInterval
        self.budget = budget
    }

    /// The pause before try number `attempt + 1`, after `attempt` failed tries (1-based), or nil
    /// when there is to be no further try. `elapsed` is the time since the first try began.
    public func pause(after attempt: Int, elapsed: Double) -> Double? {
        guard attempt >= 1, attempt < attempts else { return nil }
        var pause = interval
        for _ in 1..<attempt { pause = min(pause * 2, maxInterval) }
        pause = min(pause, maxInterval)
        return elapsed + pause <= budget ? pause : nil
    }

    /// Every pause the policy allows when each try itself takes no time.
    public var schedule: [Double] {
        var out: [Double] = []
        var elapsed = 0.0
        while let p = pause(after: out.count + 1, elapsed: elapsed) {
            out.append(p)
            elapsed += p
        }
        return out
    }
}
