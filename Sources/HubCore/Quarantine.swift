import Foundation

/// Inbound input the hub could not take as a message (malformed, over a limit, an auto-reply to
/// nothing): kept with the reason, so nothing acknowledged is silently dropped.
public struct QuarantinedMessage: Codable, Sendable, Equatable {
    public var id: String
    public var channel: Channel
    public var reason: String
    /// The size of the original bytes, which `quarantinedRaw(id:)` returns.
    public var size: Int
    public var receivedAt: Date

    public init(id: String, channel: Channel, reason: String, size: Int, receivedAt: Date) {
        self.id = id
        self.channel = channel
        self.reason = reason
        self.size = size
        self.receivedAt = receivedAt
    }
}
