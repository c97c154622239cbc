import Foundation

/// A conversation waiting for an agent, as the router sees it.
public struct RoutingRequest: Sendable, Equatable {
    public var conversationId: String
    public var channel: Channel
    public var tier: CustomerTier
    public var tags: [String]
    /// The customer's locale, for language rules.
    public var language: String?
    /// The first message, for keyword rules.
    public var firstText: String
    /// The conversation's own priority, set by an agent.
    public var priority: Int
    /// Since when it waits; a conversation returned to the queue keeps its place by keeping this.
    public var waitingSince: Date
    /// The agents it should stay with if they free up soon: the account manager, then the last agent.
    public var preferredAgentIds: [String]
    /// Set when a transfer chose the queue.
    public var queueId: String?
    /// Set when a transfer chose the team: only its agents are candidates.
    public var teamId: String?

    public init(
        conversationId: String, channel: Channel, tier: CustomerTier = .normal, tags: [String] = [], language: String? = nil,
        firstText: String = "", priority: Int = 0, waitingSince: Date, preferredAgentIds: [String] = [],
        queueId: String? = nil, teamId: String? = nil
    ) {
        self.conversationId = conversationId
        self.channel = channel
        self.tier = tier
        self.tags = tags
        self.language = language
        self.firstText = firstText
        self.priority = priority
        self.waitingSince = waitingSince
        self.preferredAgentIds = preferredAgentIds
        self.queueId = queueId
        self.teamId = teamId
    }
}

/// An agent as the router sees it: who they are, what they can take, whether they are there.
public struct RoutingAgent: Sendable, Equatable {
    public var id: String
    public var role: Role
    public var teamIds: Set<String>
    /// Skill levels by name.
    public var skills: [String: Int]
    public var capacity: [Channel: Int]
    public var presence: Presence
    /// When the agent last got a conversation; nil is longest idle.
    public var lastAssignedAt: Date?

    public init(
        id: String, role: Role = .agent, teamIds: Set<String> = [], skills: [String: Int] = [:], capacity: [Channel: Int],
        presence: Presence, lastAssignedAt: Date? = nil
    ) {
        self.id = id
        self.role = role
        self.teamIds = teamIds
        self.skills = skills
        self.capacity = capacity
        self.presence = presence
        self.lastAssignedAt = lastAssignedAt
    }

    /// The router's view of a stored agent.
    public init(_ agent: Agent, lastAssignedAt: Date?) {
        self.init(
            id: agent.id, role: agent.role, teamIds: Set(agent.teamIds),
            skills: Dictionary(agent.skills.map { ($0.name, $0.level) }, uniquingKeysWith: max),
            capacity: agent.capacity, presence: agent.presence, lastAssignedAt: lastAssignedAt
        )
    }
}

/// Where a conversation was placed in line, and why.
public struct QueuePlacement: Codable, Sendable, Equatable {
    public var conversationId: String
    public var queueId: String
    /// The rule that chose the queue; nil for the default queue or a transfer.
    public var ruleId: String?
    public var tier: CustomerTier
    /// When the first response is due.
    public var slaDueAt: Date

    public init(conversationId: String, queueId: String, ruleId: String?, tier: CustomerTier, slaDueAt: Date) {
        self.conversationId = conversationId
        self.queueId = queueId
        self.ruleId = ruleId
        self.tier = tier
        self.slaDueAt = slaDueAt
    }
}

/// One agent the router considered, with what it compared.
public struct RoutingCandidate: Codable, Sendable, Equatable {
    public var agentId: String
    public var sticky: Bool
    /// The sum of the agent's levels in the required skills.
    public var skillScore: Int
    public var load: Int
    public var capacity: Int
    public var lastAssignedAt: Date?

    public init(agentId: String, sticky: Bool, skillScore: Int, load: Int, capacity: Int, lastAssignedAt: Date?) {
        self.agentId = agentId
        self.sticky = sticky
        self.skillScore = skillScore
        self.load = load
        self.capacity = capacity
        self.lastAssignedAt = lastAssignedAt
    }
}

/// An assignment the router made: the winner, the candidates, and why the winner won.
public struct RoutingDecision: Codable, Sendable, Equatable {
    public var conversationId: String
    public var agentId: String
    public var channel: Channel
    public var queueId: String
    public var ruleId: String?
    public var tier: CustomerTier
    /// How many escalation steps had been reached.
    public var step: Int
    public var waitingSince: Date
    public var slaDueAt: Date
    public var decidedAt: Date
    /// The best candidates in order (the winner first), at most five.
    public var candidates: [RoutingCandidate]
    /// How many agents were eligible.
    public var eligibleCount: Int
    /// Why the winner won, in words.
    public var reason: String

    public init(
        conversationId: String, agentId: String, channel: Channel, queueId: String, ruleId: String?, tier: CustomerTier, step: Int,
        waitingSince: Date, slaDueAt: Date, decidedAt: Date, candidates: [RoutingCandidate], eligibleCount: Int, reason: String
    ) {
        self.conversationId = conversationId
        self.agentId = agentId
        self.channel = channel
        self.queueId = queueId
        self.ruleId = ruleId
        self.tier = tier
        self.step = step
        self.waitingSince = waitingSince
        self.slaDueAt = slaDueAt
        self.decidedAt = decidedAt
        self.candidates = candidates
        self.eligibleCount = eligibleCount
        self.reason = reason
    }
}

/// Why a conversation goes back to the queue.
public enum RequeueReason: String, Codable, Sendable {
    case agentOffline = "agent_offline"
    case missedFirstReply = "missed_first_reply"
}

/// What the router asks the store to do; the store applies each with a conditional write.
public enum RoutingAction: Sendable, Equatable {
    /// A conversation entered a queue.
    case placed(QueuePlacement)
    /// A waiting conversation reached an escalation step.
    case escalated(conversationId: String, queueId: String, step: Int)
    /// A conversation goes to an agent, if the agent is still available and under capacity.
    case assign(RoutingDecision)
    /// A conversation is offered to an agent, who accepts it before `expiresAt` or it moves on; their room is held meanwhile.
    case offer(RoutingDecision, expiresAt: Date)
    /// An offer ran out unaccepted; the conversation goes back to its place in line.
    case withdrawOffer(conversationId: String, agentId: String)
    /// An assigned conversation goes back to the queue at its place.
    case requeue(conversationId: String, agentId: String, reason: RequeueReason)
}
