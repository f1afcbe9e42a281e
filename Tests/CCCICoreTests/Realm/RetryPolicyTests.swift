import Testing
@testable import CCCICore

@Suite struct RetryPolicies {
    @Test func doublesUpToTheCapWithinTheBudget() {
        let p = RetryPolicy(attempts: 100, interval: 1, maxInterval: 30, budget: 300)
        #expect(p.schedule == [1, 2, 4, 8, 16, 30, 30, 30, 30, 30, 30, 30, 30])  // 271 s; one more would end at 301
        #expect(p.schedule.reduce(0, +) <= 300)
    }

    @Test func attemptsBoundTheTries() {
        let p = RetryPolicy(attempts: 4, interval: 0.5, maxInterval: 30, budget: 1000)
        #expect(p.schedule == [0.5, 1, 2])  // 4 tries, 3 pauses
        #expect(p.pause(after: 4, elapsed: 0) == nil)
        #expect(p.pause(after: 0, elapsed: 0) == nil)
    }

    @Test func theBudgetCountsTimeSpentTrying() {
        let p = RetryPolicy(attempts: 100, interval: 1, maxInterval: 30, budget: 10)
        #expect(p.pause(after: 1, elapsed: 0) == 1)
        #expect(p.pause(after: 3, elapsed: 5) == 4)    // ends at 9
        #expect(p.pause(after: 3, elapsed: 6.5) == nil) // would end at 10.5
        #expect(p.schedule == [1, 2, 4])
    }

    @Test func theFirstPauseIsNeverAboveTheCap() {
        #expect(RetryPolicy(attempts: 3, interval: 50, maxInterval: 30, budget: 1000).schedule == [30, 30])
    }
}
