import Foundation

/// A provider's pace: at most `perSecond[key]` sends a second under a key (a channel, an SMS profile), spaced
/// evenly, whatever sends them. A send waits for its slot; keys without a rate never wait.
public actor SendPacer {
    private let interval: [String: Duration]
    private var next: [String: ContinuousClock.Instant] = [:]

    public init(perSecond: [String: Double]) {
        interval = perSecond.filter { $0.value > 0 }.mapValues { .nanoseconds(Int64(1e9 / $0)) }
    }

    /// Returns at the key's next free slot, which it takes.
    public func acquire(_ key: String) async {
        guard let interval = interval[key] else { return }
        let now = ContinuousClock.now
        let slot = max(now, next[key] ?? now)
        next[key] = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
