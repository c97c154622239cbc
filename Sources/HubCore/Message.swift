import Foundation

/// Which way a message travels.
public enum MessageDirection: String, Codable, Sendable {
    case inbound, outbound
}

/// Who wrote a message.
public enum AuthorKind: String, Codable, Sendable {
    case customer, agent, system, campaign
}

/// What a message is: shown to the customer, an internal note, or a record of an activity.
public enum MessageKind: String, Codable, Sendable {
    case message, note, activity
}

/// Where a message is on its way; inbound messages are `received`, notes `none`.
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    case none, received, queued, sending, sent, delivered, failed, undelivered, bounced
    /// Never sent: its campaign was cancelled first.
    case cancelled

    /// How far along the way a state is; receipts only ever move a message forward.
    private var stage: Int {
        switch self {
        case .none, .received: 0
        case .queued: 1
        case .sending: 2
        case .sent: 3
        case .delivered, .failed, .undelivered, .bounced, .cancelled: 4
        }
    }

    /// The state after a report of `next`: `next` when it is further along, else this one
    /// (a late `sent` never undoes `delivered`; two final reports keep the first).
    public func advanced(to next: DeliveryState) -> DeliveryState {
        next.stage > stage ? next : self
    }
}

/// A file attached to a message, by reference.
public struct Attachment: Codable, Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var size: Int?
    public var url: String?

    public init(filename: String, contentType: String, size: Int? = nil, url: String? = nil) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.url = url
    }
}

/// One message in a conversation.
public struct Message: Codable, Sendable, Equatable {
    public var id: String
    public var conversationId: String
    public var direction: MessageDirection
    public var authorKind: AuthorKind
    public var authorId: String?
    public var kind: MessageKind
    public var channel: Channel
    public var text: String
    public var html: String?
    public var attachments: [Attachment]
    public var deliveryState: DeliveryState
    public var providerMessageId: String?
    public var externalId: String?
    public var error: String?
    /// For a message sent again on another channel after this one failed: the first message's id.
    public var fallbackOf: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, conversationId: String, direction: MessageDirection, authorKind: AuthorKind, authorId: String? = nil,
        kind: MessageKind = .message, channel: Channel, text: String, html: String? = nil, attachments: [Attachment] = [],
        deliveryState: DeliveryState, providerMessageId: String? = nil, externalId: String? = nil, error: String? = nil,
        fallbackOf: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.conversationId = conversationId
        self.direction = direction
        self.authorKind = authorKind
        self.authorId = authorId
        self.kind = kind
        self.channel = channel
        self.text = text
        self.html = html
        self.attachments = attachments
        self.deliveryState = deliveryState
        self.providerMessageId = providerMessageId
        self.externalId = externalId
        self.error = error
        self.fallbackOf = fallbackOf
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
