import Foundation

/// An agent's answer as the API takes it.
public struct ReplyDraft: Codable, Sendable {
    public var text: String
    public var html: String?
    /// An internal note: stored and shown to agents, never sent.
    public var `private`: Bool?
    public var attachments: [Attachment]?

    public init(text: String, html: String? = nil, private isPrivate: Bool? = nil, attachments: [Attachment]? = nil) {
        self.text = text
        self.html = html
        self.private = isPrivate
        self.attachments = attachments
    }

    /// Checks the reply against the same limits as inbound messages.
    public func validated() throws(ValidationError) -> ReplyDraft {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("text", "must not be empty") }
        try requireNoNUL(text, "text")
        try requireNoNUL(html, "html")
        if text.utf8.count > InboundMessage.maxTextBytes { throw ValidationError("text", "must be at most \(InboundMessage.maxTextBytes) bytes") }
        if let html, html.utf8.count > 4 * InboundMessage.maxTextBytes { throw ValidationError("html", "is too large") }
        if let attachments, attachments.count > InboundMessage.maxAttachments { throw ValidationError("attachments", "at most \(InboundMessage.maxAttachments) attachments") }
        return self
    }
}

/// A message ready to leave the hub: final content and destination, fixed when it was queued.
public struct OutboundDelivery: Codable, Sendable, Equatable {
    public var messageId: String
    public var conversationId: String
    public var customerId: String
    public var channel: Channel
    /// The customer's address on `channel`.
    public var to: String
    public var text: String
    public var html: String?
    public var attachments: [Attachment]
    /// Fixed at enqueue time, so a provider can recognise a retry after a crash.
    public var idempotencyKey: String
    /// Which consent the message needs; checked again just before it is sent.
    public var purpose: Purpose
    /// The center's address to send from (the number the customer wrote to), nil for the channel's default.
    public var from: String?
    /// The conversation's subject, for channels that show one (email).
    public var subject: String?
    /// The provider ids of the customer's messages in the conversation on this channel, oldest first
    /// and the one answered last (email threads on them).
    public var thread: [String]
    /// A campaign message's own one-click unsubscribe link (`/u/TOKEN`); other marketing uses the preferences link.
    public var unsubscribeURL: String?
    public var createdAt: Date

    public init(messageId: String, conversationId: String, customerId: String, channel: Channel, to: String, text: String,
                html: String?, attachments: [Attachment], idempotencyKey: String, purpose: Purpose = .reply, from: String? = nil,
                subject: String? = nil, thread: [String] = [], unsubscribeURL: String? = nil, createdAt: Date) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.customerId = customerId
        self.channel = channel
        self.to = to
        self.text = text
        self.html = html
        self.attachments = attachments
        self.idempotencyKey = idempotencyKey
        self.purpose = purpose
        self.from = from
        self.subject = subject
        self.thread = thread
        self.unsubscribeURL = unsubscribeURL
        self.createdAt = createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case messageId, conversationId, customerId, channel, to, text, html, attachments, idempotencyKey, purpose, from, subject, thread, unsubscribeURL, createdAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messageId = try container.decode(String.self, forKey: .messageId)
        conversationId = try container.decode(String.self, forKey: .conversationId)
        customerId = try container.decode(String.self, forKey: .customerId)
        channel = try container.decode(Channel.self, forKey: .channel)
        to = try container.decode(String.self, forKey: .to)
        text = try container.decode(String.self, forKey: .text)
        html = try container.decodeIfPresent(String.self, forKey: .html)
        attachments = try container.decode([Attachment].self, forKey: .attachments)
        idempotencyKey = try container.decode(String.self, forKey: .idempotencyKey)
        // Rows queued before purposes existed were all replies.
        purpose = try container.decodeIfPresent(Purpose.self, forKey: .purpose) ?? .reply
        from = try container.decodeIfPresent(String.self, forKey: .from)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        thread = try container.decodeIfPresent([String].self, forKey: .thread) ?? []
        unsubscribeURL = try container.decodeIfPresent(String.self, forKey: .unsubscribeURL)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }
}

/// A message the center starts (not an answer to an agent's open conversation): a notice, a marketing message.
public struct OutboundDraft: Codable, Sendable {
    public var customerId: String
    /// The channel; nil lets the delivery planner choose by the customer's preferences, consents and addresses.
    public var channel: Channel?
    public var text: String
    public var purpose: Purpose
    /// The conversation to send in; by default the customer's latest unresolved one on the channel, or a new one.
    public var conversationId: String?
    /// A repeat with the same key returns the message the first call queued.
    public var idempotencyKey: String?

    public init(customerId: String, channel: Channel?, text: String, purpose: Purpose, conversationId: String? = nil, idempotencyKey: String? = nil) {
        self.customerId = customerId
        self.channel = channel
        self.text = text
        self.purpose = purpose
        self.conversationId = conversationId
        self.idempotencyKey = idempotencyKey
    }

    /// Checks the draft against the limits of any message.
    public func validated() throws(ValidationError) -> OutboundDraft {
        _ = try ReplyDraft(text: text).validated()
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.count > 255 {
            throw ValidationError("idempotencyKey", "must be 1–255 characters")
        }
        return self
    }
}

/// A claimed outbox row: the delivery and how many attempts it has had, this one included.
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var delivery: OutboundDelivery
    public var attempt: Int

    public init(id: Int64, delivery: OutboundDelivery, attempt: Int) {
        self.id = id
        self.delivery = delivery
        self.attempt = attempt
    }
}

/// What a provider said when it accepted a message.
public struct SendReceipt: Sendable, Equatable {
    public var providerMessageId: String?

    public init(providerMessageId: String?) {
        self.providerMessageId = providerMessageId
    }
}

/// Why a send failed and whether trying again may help.
public struct SendFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var retryable: Bool

    public init(reason: String, retryable: Bool) {
        self.reason = reason
        self.retryable = retryable
    }

    public var description: String { reason }
}

/// A channel's way out: adapters implement it, the dispatcher calls it.
public protocol OutboundSender: Sendable {
    /// The channel this sender delivers on.
    var channel: Channel { get }
    /// Sends one message; throws `SendFailure` when the provider refused or could not be reached.
    func send(_ delivery: OutboundDelivery) async throws -> SendReceipt
}

/// Exponential backoff with full jitter, and when to give up.
public struct RetryPolicy: Sendable, Equatable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var maxAttempts: Int

    public init(baseDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(600), maxAttempts: Int = 8) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The wait before the next attempt after `attempt` failed, or nil when it was the last one.
    public func delay(after attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        let millis = ceiling.components.seconds * 1000 + ceiling.components.attoseconds / 1_000_000_000_000_000
        // Full jitter, but never less than half the ceiling: retries spread out and still back off.
        let jittered = Int64.random(in: (millis / 2)...max(millis / 2, millis), using: &generator)
        return .milliseconds(jittered)
    }
}
