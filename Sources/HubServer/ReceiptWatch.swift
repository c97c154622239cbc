import Foundation
import HubCore
import Logging
import ServiceLifecycle

/// Gives up on messages whose channel reports delivery (SMS) but which got no report within `timeout`:
/// the store sends each once on the customer's next channel.
struct ReceiptWatch: Service {
    let storage: any HubStorage
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        let seconds = Double(timeout.components.seconds)
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        let expired = try await storage.expireUnreported(sentBefore: Date().addingTimeInterval(-seconds))
                        if !expired.isEmpty {
                            logger.info("no delivery report in time: sent on the next channel", metadata: ["sb.count": "\(expired.count)"])
                        }
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.warning("could not check delivery reports", metadata: ["sb.error": "\(error)"])
                    }
                    // A quarter of the timeout (at most a minute) between checks.
                    try await Task.sleep(for: .milliseconds(Int64(min(60, max(0.25, seconds / 4)) * 1_000)))
                }
            }
        } catch is CancellationError {
        }
    }
}
