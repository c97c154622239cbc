import Foundation

/// A stored conversation with what the router needs of its customer.
public struct RoutingSubject: Sendable, Equatable {
    public var conversation: Conversation
    public var tier: CustomerTier
    /// The customer's locale.
    public var language: String?
    public var accountManagerId: String?
    /// The agent who last had this conversation, or else the customer's latest other one.
    public var lastAgentId: String?
    /// The first message the customer wrote in the conversation.
    public var firstText: String

    public init(
        conversation: Conversation, tier: CustomerTier, language: String? = nil, accountManagerId: String? = nil, lastAgentId: String? = nil,
        firstText: String = ""
    ) {
        self.conversation = conversation
        self.tier = tier
        self.language = language
        self.accountManagerId = accountManagerId
        self.lastAgentId = lastAgentId
        self.firstText = firstText
    }

    /// The request the conversation makes while it waits.
    public var request: RoutingRequest {
        var preferred: [String] = []
        for id in [accountManagerId, lastAgentId].compactMap(\.self) where !preferred.contains(id) { preferred.append(id) }
        return RoutingRequest(
            conversationId: conversation.id, channel: conversation.channel, tier: tier, tags: conversation.tags, language: language,
            firstText: firstText, priority: conversation.priority, waitingSince: conversation.waitingSince ?? conversation.createdAt,
            preferredAgentIds: preferred, queueId: conversation.pinnedQueueId, teamId: conversation.teamId
        )
    }
}

/// Which stored conversations the router reads.
public enum RoutingSubjectFilter: Sendable, Equatable {
    /// These conversations.
    case ids([String])
    /// The unresolved conversations of an agent: what counts against their capacity.
    case assignedTo(String)
    /// The unresolved conversations of a customer: a new tier or account manager changes their place.
    case customer(String)
    /// Every unresolved conversation: what the router starts from.
    case unresolved
}

/// What the store did with a routing action.
public enum RoutingOutcome: Sendable, Equatable {
    case applied
    /// The conditional write found the world changed (taken, full, away); nothing was written.
    case rejected(String)
}

/// Where a transfer sends a conversation.
public enum TransferTarget: Sendable, Equatable {
    case agent(String)
    case team(String)
    case queue(String)
}

/// One stored routing decision, as the API shows it.
public struct RoutingRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var conversationId: String
    /// queued, escalated, assigned, requeued or transferred.
    public var kind: String
    public var queueId: String?
    public var ruleId: String?
    public var agentId: String?
    public var step: Int
    public var reason: String
    public var candidates: [RoutingCandidate]
    public var eligibleCount: Int
    public var createdAt: Date

    public init(
        id: Int64, conversationId: String, kind: String, queueId: String?, ruleId: String?, agentId: String?, step: Int,
        reason: String, candidates: [RoutingCandidate], eligibleCount: Int, createdAt: Date
    ) {
        self.id = id
        self.conversationId = conversationId
        self.kind = kind
        self.queueId = queueId
        self.ruleId = ruleId
        self.agentId = agentId
        self.step = step
        self.reason = reason
        self.candidates = candidates
        self.eligibleCount = eligibleCount
        self.createdAt = createdAt
    }
}

extension RoutingEngine {
    /// Brings the engine in line with a stored conversation: waiting, with an agent, or neither.
    public mutating func apply(_ subject: RoutingSubject, now: Date) -> [RoutingAction] {
        let conversation = subject.conversation
        if conversation.status == .resolved { return finished(conversationId: conversation.id, now: now) }
        if let agentId = conversation.assigneeId {
            return assigned(
                conversationId: conversation.id, agentId: agentId, channel: conversation.channel, queueId: conversation.queueId,
                assignedAt: conversation.assignedAt ?? conversation.updatedAt, responded: conversation.firstResponseAt != nil, now: now
            )
        }
        if let agentId = conversation.offeredTo, conversation.status == .open {
            return offered(conversationId: conversation.id, agentId: agentId, channel: conversation.channel,
                           expiresAt: conversation.offerExpiresAt ?? now, now: now)
        }
        if conversation.status == .open { return enqueue(subject.request, now: now) }
        // Pending or snoozed without an agent: nobody needs to answer now.
        return finished(conversationId: conversation.id, now: now)
    }
}
