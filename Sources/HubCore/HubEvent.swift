import Foundation

/// What changed; every state change of the hub appends one event in the same transaction.
public enum EventType: String, Codable, Sendable, CaseIterable {
    case customerCreated = "customer.created"
    case customerUpdated = "customer.updated"
    case conversationCreated = "conversation.created"
    case conversationUpdated = "conversation.updated"
    case messageCreated = "message.created"
    case messageUpdated = "message.updated"
    case agentCreated = "agent.created"
    case agentUpdated = "agent.updated"
    case teamCreated = "team.created"
    case consentRecorded = "consent.recorded"
    case routingConfigured = "routing.configured"
    case messageQuarantined = "message.quarantined"
    case customerMerged = "customer.merged"
    /// A campaign was created, launched, paused, resumed, cancelled or completed (data: the Campaign).
    case campaignUpdated = "campaign.updated"
}

/// One entry of the event log, with a monotonic id clients resume from.
public struct HubEvent: Codable, Sendable, Equatable {
    public var id: Int64
    public var type: EventType
    public var conversationId: String?
    public var customerId: String?
    public var agentId: String?
    /// The conversation's team and assignee when the event happened: who may see it.
    public var teamId: String?
    public var assigneeId: String?
    /// The changed object as JSON (a conversation, a message, a customer or an agent).
    public var data: String
    public var createdAt: Date

    public init(id: Int64, type: EventType, conversationId: String? = nil, customerId: String? = nil, agentId: String? = nil,
                teamId: String? = nil, assigneeId: String? = nil, data: String, createdAt: Date) {
        self.id = id
        self.type = type
        self.conversationId = conversationId
        self.customerId = customerId
        self.agentId = agentId
        self.teamId = teamId
        self.assigneeId = assigneeId
        self.data = data
        self.createdAt = createdAt
    }

    /// Whether a reader with `scope` may see this event.
    public func isVisible(in scope: AccessScope) -> Bool {
        conversationId == nil || scope.allows(assigneeId: assigneeId, teamId: teamId)
    }
}
