import HubCore

/// The providers' pace: at most `perSecond[channel]` sends a second on a channel, spaced evenly, whatever
/// sends them (campaigns, replies). A send waits for its slot; channels without a rate never wait.
actor ChannelRateLimiter {
    private let interval: [Channel: Duration]
    private var next: [Channel: ContinuousClock.Instant] = [:]

    init(perSecond: [Channel: Double]) {
        interval = perSecond.filter { $0.value > 0 }.mapValues { .nanoseconds(Int64(1e9 / $0)) }
    }

    /// Returns at the channel's next free slot, which it takes.
    func acquire(_ channel: Channel) async {
        guard let interval = interval[channel] else { return }
        let now = ContinuousClock.now
        let slot = max(now, next[channel] ?? now)
        next[channel] = slot + interval
        if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
    }
}
