import Foundation

/// A customer's message as an adapter hands it to the hub, whatever its wire format was.
public struct InboundMessage: Sendable, Equatable {
    public var channel: Channel
    /// The sender's address on the channel, as received (the hub normalizes it).
    public var from: String
    /// The center's address the message was sent to, when the channel has one.
    public var to: String?
    /// The sender's display name, when the wire carries one.
    public var name: String?
    public var text: String
    public var html: String?
    public var attachments: [Attachment]
    /// The provider's or integration's id of this message; a repeat with the same id is stored once.
    public var externalId: String?
    /// Hints that this message continues a conversation: conversation ids, or ids of messages the hub sent.
    public var threadHints: [String]
    /// The subject a new conversation takes (an email's).
    public var subject: String?
    /// Sent by a machine (an auto-reply): it joins the conversation it continues without reopening it,
    /// and never opens one.
    public var automated: Bool
    public var receivedAt: Date

    public init(
        channel: Channel, from: String, to: String? = nil, name: String? = nil, text: String, html: String? = nil,
        attachments: [Attachment] = [], externalId: String? = nil, threadHints: [String] = [], subject: String? = nil,
        automated: Bool = false, receivedAt: Date
    ) {
        self.channel = channel
        self.from = from
        self.to = to
        self.name = name
        self.text = text
        self.html = html
        self.attachments = attachments
        self.externalId = externalId
        self.threadHints = threadHints
        self.subject = subject
        self.automated = automated
        self.receivedAt = receivedAt
    }

    /// Limits every inbound message must keep.
    public static let maxTextBytes = 64 * 1024
    public static let maxAttachments = 20

    /// Checks the message and returns it with its sender address normalized.
    public func validated() throws(ValidationError) -> InboundMessage {
        var copy = self
        copy.from = try Address.normalize(from, on: channel)
        for (value, field) in [(text, "text"), (html, "html"), (name, "name"), (externalId, "externalId"), (to, "to")] {
            try requireNoNUL(value, field)
        }
        if text.utf8.count > Self.maxTextBytes { throw ValidationError("text", "must be at most \(Self.maxTextBytes) bytes") }
        if let html, html.utf8.count > 4 * Self.maxTextBytes { throw ValidationError("html", "must be at most \(4 * Self.maxTextBytes) bytes") }
        if text.allSatisfy(\.isWhitespace) && (html ?? "").isEmpty && attachments.isEmpty {
            throw ValidationError("text", "a message needs text, html or an attachment")
        }
        if attachments.count > Self.maxAttachments { throw ValidationError("attachments", "at most \(Self.maxAttachments) attachments") }
        for attachment in attachments where attachment.filename.isEmpty || attachment.filename.count > 255 || attachment.contentType.isEmpty {
            throw ValidationError("attachments", "each attachment has a filename of 1–255 characters and a content type")
        }
        if let externalId, externalId.isEmpty || externalId.count > 255 {
            throw ValidationError("externalId", "must be 1–255 characters")
        }
        if let name, name.count > 200 { throw ValidationError("name", "must be at most 200 characters") }
        if let subject {
            try requireNoNUL(subject, "subject")
            if subject.count > 998 { copy.subject = String(subject.prefix(998)) }
        }
        return copy
    }
}

/// What the hub did with an inbound message: where it landed.
public struct IngestResult: Codable, Sendable, Equatable {
    public var messageId: String
    public var conversationId: String
    public var customerId: String
    /// True when the message had been stored before (a provider's retry); nothing new was written.
    public var duplicate: Bool

    public init(messageId: String, conversationId: String, customerId: String, duplicate: Bool) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.customerId = customerId
        self.duplicate = duplicate
    }
}

/// Where adapters deliver inbound messages; it returns only after the message is durable.
public protocol InboundSink: Sendable {
    /// Stores the message (once per external id) and returns where it landed.
    func receive(_ message: InboundMessage) async throws -> IngestResult
}

/// One part of a message the provider delivers in pieces (concatenated SMS): the hub keeps each
/// part durably and stores the message once, when the last part has arrived.
public struct InboundPart: Sendable, Equatable {
    /// Identifies the whole message across its parts (provider, sender and the provider's reference).
    public var groupKey: String
    /// 1-based position of this part.
    public var index: Int
    public var total: Int
    /// This part as a message; its text is the part's text, its other fields those of the whole.
    public var message: InboundMessage

    public init(groupKey: String, index: Int, total: Int, message: InboundMessage) {
        self.groupKey = groupKey
        self.index = index
        self.total = total
        self.message = message
    }

    /// Checks the part's numbering (a provider splits into at most 255 parts).
    public func validated() throws(ValidationError) -> InboundPart {
        guard (1...255).contains(total), (1...total).contains(index) else {
            throw ValidationError("concat-part", "must be a part number from 1 to its total (at most 255)")
        }
        if groupKey.isEmpty || groupKey.count > 255 { throw ValidationError("concat-ref", "must be 1–255 characters") }
        return self
    }
}
