import Foundation

/// Where a conversation stands in the agents' work.
public enum ConversationStatus: String, Codable, Sendable, CaseIterable {
    case open, pending, snoozed, resolved
}

/// One thread of messages between a customer and the center.
public struct Conversation: Codable, Sendable, Equatable {
    public var id: String
    public var customerId: String
    public var channel: Channel
    public var status: ConversationStatus
    public var priority: Int
    public var assigneeId: String?
    public var teamId: String?
    public var tags: [String]
    public var subject: String?
    public var snoozedUntil: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var lastActivityAt: Date
    public var firstResponseAt: Date?
    public var resolvedAt: Date?
    /// When the customer left (a web chat visitor closing the chat) before any agent answered.
    public var abandonedAt: Date?
    /// The center's address the customer wrote to (the SMS number of several): answers leave from it.
    public var via: String?
    /// Since when it waits for an agent; a conversation returned to the queue keeps its place by keeping this.
    public var waitingSince: Date?
    /// When its current agent got it.
    public var assignedAt: Date?
    /// The routing queue it was placed in.
    public var queueId: String?
    /// The customer's tier when it was placed.
    public var tier: CustomerTier?
    /// When the first response is due under the queue's service level.
    public var slaDueAt: Date?
    /// The agent who had it last: the router prefers them when it comes back.
    public var lastAssigneeId: String?
    /// The queue a transfer chose; rules do not move it elsewhere.
    public var pinnedQueueId: String?
    /// The agent the conversation is offered to, in a queue that offers before it assigns.
    public var offeredTo: String?
    /// When the offer runs out.
    public var offerExpiresAt: Date?
    /// The campaign whose message began it: the customer's reply brings it to the agents, tagged `campaign:ID`.
    public var campaignId: String?

    public init(
        id: String, customerId: String, channel: Channel, status: ConversationStatus = .open, priority: Int = 0,
        assigneeId: String? = nil, teamId: String? = nil, tags: [String] = [], subject: String? = nil,
        snoozedUntil: Date? = nil, createdAt: Date, updatedAt: Date, lastActivityAt: Date,
        firstResponseAt: Date? = nil, resolvedAt: Date? = nil, abandonedAt: Date? = nil, via: String? = nil, waitingSince: Date? = nil
    ) {
        self.id = id
        self.customerId = customerId
        self.channel = channel
        self.status = status
        self.priority = priority
        self.assigneeId = assigneeId
        self.teamId = teamId
        self.tags = tags
        self.subject = subject
        self.snoozedUntil = snoozedUntil
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastActivityAt = lastActivityAt
        self.firstResponseAt = firstResponseAt
        self.resolvedAt = resolvedAt
        self.abandonedAt = abandonedAt
        self.via = via
        self.waitingSince = waitingSince
    }
}

/// Filters of the conversation list; nil means any.
public struct ConversationFilter: Sendable, Equatable {
    public var status: ConversationStatus?
    public var assigneeId: String?
    public var teamId: String?
    public var channel: Channel?
    public var tag: String?
    public var customerId: String?

    public init(status: ConversationStatus? = nil, assigneeId: String? = nil, teamId: String? = nil, channel: Channel? = nil, tag: String? = nil, customerId: String? = nil) {
        self.status = status
        self.assigneeId = assigneeId
        self.teamId = teamId
        self.channel = channel
        self.tag = tag
        self.customerId = customerId
    }
}

/// A partial update of a conversation; nil fields stay as they are.
public struct ConversationPatch: Codable, Sendable {
    public var tags: [String]?
    public var priority: Int?
    public var subject: String?

    public init(tags: [String]? = nil, priority: Int? = nil, subject: String? = nil) {
        self.tags = tags
        self.priority = priority
        self.subject = subject
    }

    /// Checks the patch against the domain's limits.
    public func validated() throws(ValidationError) -> ConversationPatch {
        if let tags { try Tags.validate(tags) }
        if let priority, !(0...100).contains(priority) { throw ValidationError("priority", "must be between 0 and 100") }
        if let subject, subject.count > 500 { throw ValidationError("subject", "must be at most 500 characters") }
        try requireNoNUL(subject, "subject")
        return self
    }
}
