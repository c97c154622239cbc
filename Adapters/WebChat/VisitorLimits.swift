import HubCore
import Synchronization

/// The rate limits of the visitor API, shared by every request and socket: per visitor and per IP address.
final class VisitorLimits: Sendable {
    private let visitors: Mutex<RateLimiter>
    private let addresses: Mutex<RateLimiter>
    private let start = ContinuousClock.now

    init(_ configuration: WebChatConfiguration) {
        visitors = Mutex(RateLimiter(perMinute: configuration.visitorMessagesPerMinute))
        addresses = Mutex(RateLimiter(perMinute: configuration.ipRequestsPerMinute))
    }

    /// Counts one message of `visitorId`; throws `rate_limited` when over the limit.
    func message(from visitorId: String) throws(HubError) {
        try check(visitors, visitorId)
    }

    /// Counts one request from `address` (nil when unknown, as behind a Unix socket: not limited).
    func request(from address: String?) throws(HubError) {
        guard let address else { return }
        try check(addresses, address)
    }

    private func check(_ limiter: borrowing Mutex<RateLimiter>, _ key: String) throws(HubError) {
        let now = (ContinuousClock.now - start) / .seconds(1)
        if case .limited(let seconds) = limiter.withLock({ $0.take(key, now: now) }) {
            throw HubError.rateLimited(retryAfter: seconds)
        }
    }
}
