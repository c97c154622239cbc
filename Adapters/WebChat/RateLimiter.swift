/// Token buckets per key (a visitor, an IP address): `perMinute` requests in a burst, refilled evenly.
///
/// Pure: the caller passes the time, so tests drive it with a fake clock.
public struct RateLimiter: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused; the next token arrives in this many seconds (at least 1).
        case limited(retryAfter: Int)
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let perMinute: Int
    private var buckets: [String: Bucket] = [:]
    /// Above this many keys, full buckets are forgotten (they would be full again anyway).
    private let maxKeys: Int

    public init(perMinute: Int, maxKeys: Int = 100_000) {
        self.perMinute = max(1, perMinute)
        self.maxKeys = maxKeys
    }

    /// Takes one token for `key` at time `now` (seconds on any monotonic clock).
    public mutating func take(_ key: String, now: Double) -> Decision {
        let rate = Double(perMinute) / 60
        let capacity = Double(perMinute)
        var bucket = buckets[key] ?? Bucket(tokens: capacity, updated: now)
        bucket.tokens = min(capacity, bucket.tokens + max(0, now - bucket.updated) * rate)
        bucket.updated = now
        defer {
            buckets[key] = bucket
            if buckets.count > maxKeys { prune(now: now) }
        }
        guard bucket.tokens >= 1 else {
            return .limited(retryAfter: max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))))
        }
        bucket.tokens -= 1
        return .allowed
    }

    /// How many keys are tracked.
    public var count: Int { buckets.count }

    private mutating func prune(now: Double) {
        let rate = Double(perMinute) / 60
        buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * rate < Double(perMinute) }
    }
}
