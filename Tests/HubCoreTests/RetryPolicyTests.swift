import HubCore
import TestSupport
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
    /// The upper bound of the wait after `attempt`: base × 2^(attempt−1), capped at maxDelay.
    private static func ceiling(_ policy: RetryPolicy, after attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        return min(policy.baseDelay * (1 << exponent), policy.maxDelay)
    }

    @Test("no delay once maxAttempts is reached: the caller gives up")
    func givesUpAtMaxAttempts() {
        let policy = RetryPolicy(baseDelay: .seconds(2), maxDelay: .seconds(600), maxAttempts: 8)
        var rng = SplitMix64(seed: 1)
        let beforeLast = policy.delay(after: 7, using: &rng)
        let last = policy.delay(after: 8, using: &rng)
        let beyond = policy.delay(after: 9, using: &rng)
        let single = RetryPolicy(maxAttempts: 1).delay(after: 1, using: &rng)
        #expect(beforeLast != nil)
        #expect(last == nil)
        #expect(beyond == nil)
        #expect(single == nil)
    }

    @Test("each delay lies within [ceiling/2, ceiling]")
    func delayWithinJitterBounds() throws {
        let policy = RetryPolicy(baseDelay: .seconds(2), maxDelay: .seconds(600), maxAttempts: 12)
        for seed in UInt64(0)..<300 {
            var rng = SplitMix64(seed: seed)
            for attempt in 1..<policy.maxAttempts {
                let next = policy.delay(after: attempt, using: &rng)
                let delay = try #require(next)
                let ceiling = Self.ceiling(policy, after: attempt)
                #expect(delay >= ceiling / 2, "seed \(seed), attempt \(attempt)")
                #expect(delay <= ceiling, "seed \(seed), attempt \(attempt)")
            }
        }
    }

    @Test("the first retry waits between half the base delay and the base delay; attempt 0 counts as 1")
    func firstDelay() throws {
        let policy = RetryPolicy(baseDelay: .seconds(2), maxDelay: .seconds(600), maxAttempts: 8)
        var rng = SplitMix64(seed: 99)
        for attempt in [0, 1] {
            let next = policy.delay(after: attempt, using: &rng)
            let delay = try #require(next)
            #expect(delay >= .seconds(1))
            #expect(delay <= .seconds(2))
        }
    }

    @Test("delays grow: each one is at least the previous one until the cap")
    func delaysGrow() throws {
        let policy = RetryPolicy(baseDelay: .milliseconds(500), maxDelay: .seconds(3600), maxAttempts: 10)
        for seed in UInt64(0)..<200 {
            var rng = SplitMix64(seed: seed)
            var previous = Duration.zero
            for attempt in 1..<policy.maxAttempts {
                let next = policy.delay(after: attempt, using: &rng)
                let delay = try #require(next)
                // The floor of attempt n+1 (ceiling/2) equals the ceiling of attempt n.
                #expect(delay >= previous, "seed \(seed), attempt \(attempt)")
                previous = delay
            }
        }
        // And on average they double: compare the means of attempts 3 and 6 over many seeds.
        var rng = SplitMix64(seed: 12_345)
        var third = Duration.zero
        var sixth = Duration.zero
        for _ in 0..<500 {
            let atThree = policy.delay(after: 3, using: &rng)
            let atSix = policy.delay(after: 6, using: &rng)
            third += try #require(atThree)
            sixth += try #require(atSix)
        }
        #expect(sixth > third * 6)
    }

    @Test("delays are capped by maxDelay, even for huge attempt numbers")
    func cappedByMaxDelay() throws {
        let policy = RetryPolicy(baseDelay: .seconds(2), maxDelay: .seconds(60), maxAttempts: 1_000)
        var rng = SplitMix64(seed: 2024)
        for attempt in [6, 7, 10, 31, 32, 64, 999] {
            let next = policy.delay(after: attempt, using: &rng)
            let delay = try #require(next)
            #expect(delay <= .seconds(60), "attempt \(attempt)")
            #expect(delay >= .seconds(30), "attempt \(attempt)")
        }
    }

    @Test("jitter spreads retries out, and the same seed gives the same delays")
    func jitterIsSeededAndSpread() {
        let policy = RetryPolicy()
        var distinct = Set<Duration>()
        for seed in UInt64(0)..<100 {
            var a = SplitMix64(seed: seed)
            var b = SplitMix64(seed: seed)
            let first = policy.delay(after: 4, using: &a)
            let second = policy.delay(after: 4, using: &b)
            #expect(first == second)
            if let first { distinct.insert(first) }
        }
        #expect(distinct.count > 50)
    }

    @Test("a zero base delay retries at once")
    func zeroBase() {
        let policy = RetryPolicy(baseDelay: .zero, maxDelay: .seconds(10), maxAttempts: 3)
        var rng = SplitMix64(seed: 5)
        let first = policy.delay(after: 1, using: &rng)
        let second = policy.delay(after: 2, using: &rng)
        #expect(first == Duration.zero)
        #expect(second == Duration.zero)
    }
}
