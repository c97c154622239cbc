import Foundation
import HubCore
import Logging
import ServiceLifecycle

/// Reopens snoozed conversations when their time comes: sleeps until the earliest wake-up,
/// and is woken early by a commit that changed a snooze (a new one may be earlier).
struct SnoozeTimer: Service {
    let storage: any HubStorage
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    let head = storage.latestChange(of: .snoozes)
                    var due = try await storage.nextSnoozeDue()
                    if let next = due, next <= Date() {
                        let woken = try await storage.wakeSnoozed(now: Date())
                        logger.info("reopened snoozed conversations", metadata: ["sb.count": "\(woken.count)"])
                        due = try await storage.nextSnoozeDue()
                    }
                    let wait = min(due.map { max(0, $0.timeIntervalSinceNow) } ?? 3600, 3600)
                    _ = await storage.waitForChange(of: .snoozes, after: head, timeout: .milliseconds(Int64(wait * 1000) + 5))
                }
            }
        } catch is CancellationError {
            // Shutdown interrupted a store call; the next start picks up where this one stopped.
        }
    }
}
