import HubCore

/// The web chat channel's way out. A reply is already in the visitor's transcript when it is
/// queued, and `VisitorFanout` pushes it to every open widget of the customer, so sending it
/// only records that it was handed over; a visitor who comes back later reads it in the history.
public struct WebChatSender: OutboundSender {
    public let channel = Channel.webchat

    public init() {}

    public func send(_ delivery: OutboundDelivery) async throws -> SendReceipt {
        SendReceipt(providerMessageId: nil)
    }
}
