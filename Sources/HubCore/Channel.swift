/// A way customers reach the center. Adapters add a case together with their adapter, never a string.
public enum Channel: String, Codable, Sendable, CaseIterable, CodingKeyRepresentable {
    /// The generic API channel: any system injects messages with `POST /v1/inbound`.
    case api
    case email
    case sms
    case webchat
}

extension Channel {
    /// Whether a message continues a conversation only by reference (email's reply token and
    /// In-Reply-To): a new email is a new conversation, where a new SMS or chat line continues the open one.
    public var threadsByReference: Bool { self == .email }
}

extension Channel {
    /// Whether the provider reports delivery (SMS carriers do); without a report in time, a message counts as
    /// not delivered. An email relay's acceptance is all email says, unless it bounces.
    public var reportsDelivery: Bool { self == .sms }
}
