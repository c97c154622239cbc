import Foundation
import HubCore
import Logging
import Metrics
import ServiceLifecycle

/// Sends what the outbox holds: claims due rows with a lease, sends each through its channel's
/// sender, and records sent, a retry with backoff, or a dead letter.
///
/// Woken by commits that changed the outbox (a reply was queued) and by the next due time; after a crash, rows whose
/// lease expired are claimed again, so nothing queued is lost.
public struct OutboxDispatcher: Service {
    let storage: any HubStorage
    let senders: [Channel: any OutboundSender]
    let retry: RetryPolicy
    let lease: Duration
    let batchSize: Int
    let pacer: SendPacer
    let logger: Logger
    let owner = HubID.make("dsp")

    public init(storage: any HubStorage, senders: [any OutboundSender], retry: RetryPolicy = RetryPolicy(),
                lease: Duration = .seconds(60), batchSize: Int = 32, perSecond: [Channel: Double] = [:], logger: Logger) {
        self.storage = storage
        self.senders = Dictionary(senders.map { ($0.channel, $0) }, uniquingKeysWith: { first, _ in first })
        self.retry = retry
        self.lease = lease
        self.batchSize = batchSize
        self.pacer = SendPacer(perSecond: Dictionary(uniqueKeysWithValues: perSecond.map { ($0.key.rawValue, $0.value) }))
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let head = storage.latestChange(of: .outbox)
                    let due = try await storage.nextOutboxDue()
                    if let due, due <= Date() {
                        try await dispatchDue()
                        continue
                    }
                    let wait = min(due.map { $0.timeIntervalSinceNow } ?? 60, 60)
                    _ = await storage.waitForChange(of: .outbox, after: head, timeout: .milliseconds(Int64(wait * 1000) + 5))
                }
            }
        } catch is CancellationError {
            // Shutdown interrupted a store call: rows in flight keep their lease and are retried on restart.
        }
    }

    /// Claims one batch of due rows and sends them concurrently; returns how many were claimed.
    @discardableResult
    public func dispatchDue(now: Date = Date()) async throws -> Int {
        let items = try await storage.claimOutbox(now: now, owner: owner, lease: lease, limit: batchSize)
        await withTaskGroup(of: Void.self) { group in
            for item in items {
                group.addTask { await deliver(item) }
            }
        }
        return items.count
    }

    private func deliver(_ item: OutboxItem) async {
        var logger = logger
        logger[metadataKey: "sb.message"] = .string(item.delivery.messageId)
        logger[metadataKey: "sb.channel"] = .string(item.delivery.channel.rawValue)
        do {
            guard let sender = senders[item.delivery.channel] else {
                throw SendFailure(reason: "no sender is configured for the \(item.delivery.channel.rawValue) channel", retryable: false)
            }
            // Consent may have changed since the message was queued (a STOP in between): ask the ledger now.
            let consents = try await storage.latestConsents(channel: item.delivery.channel, address: item.delivery.to)
            if let refusal = ConsentRecord.refusal(for: item.delivery.purpose, latest: consents) {
                throw SendFailure(reason: "consent_refused: \(refusal)", retryable: false)
            }
            await pacer.acquire(item.delivery.channel.rawValue)
            let receipt = try await sender.send(item.delivery)
            try await storage.outboxSent(item, receipt: receipt)
            Counter(label: "sb_outbound_sent_total", dimensions: [("channel", item.delivery.channel.rawValue)]).increment()
        } catch {
            let failure = error as? SendFailure ?? SendFailure(reason: String(describing: error), retryable: true)
            var generator = SystemRandomNumberGenerator()
            do {
                if failure.retryable, let delay = retry.delay(after: item.attempt, using: &generator) {
                    logger.info("send failed, will retry", metadata: ["sb.attempt": "\(item.attempt)", "sb.reason": "\(failure.reason)"])
                    let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
                    try await storage.outboxRetry(item, at: Date().addingTimeInterval(seconds), reason: failure.reason)
                } else {
                    logger.warning("send failed for good", metadata: ["sb.attempt": "\(item.attempt)", "sb.reason": "\(failure.reason)"])
                    try await storage.outboxFailed(item, reason: failure.reason)
                    Counter(label: "sb_outbound_failed_total", dimensions: [("channel", item.delivery.channel.rawValue)]).increment()
                }
            } catch {
                // The lease expires and the row is claimed again: nothing is lost.
                logger.error("could not record the outcome of a send", metadata: ["sb.error": "\(error)"])
            }
        }
    }
}
