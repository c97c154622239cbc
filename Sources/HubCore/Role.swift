/// What a token holder is to the center; each role grants a fixed set of permissions.
public enum Role: String, Codable, Sendable, CaseIterable {
    case admin, supervisor, agent, marketer, integration

    /// Everything this role may do.
    public var permissions: Set<Permission> {
        switch self {
        case .admin:
            return Set(Permission.allCases)
        case .supervisor:
            return Set(Permission.allCases).subtracting([.manageTokens])
        case .agent:
            return [.readAgents, .readCustomers, .writeCustomers, .readConversations, .writeConversations, .readEvents]
        case .marketer:
            return [.readCustomers, .writeCustomers, .manageCampaigns]
        case .integration:
            return [.ingest]
        }
    }

    /// Whether this role sees only the conversations of its agent and the agent's teams.
    public var isScopedToOwnWork: Bool { self == .agent }
}

/// One thing a token may do.
public enum Permission: String, Sendable, CaseIterable {
    case manageTokens, manageAgents, readAgents, readCustomers, writeCustomers
    case readConversations, writeConversations, readEvents, ingest
    /// Inbound input set aside as unreadable (supervisors and admins).
    case readQuarantine
    /// Merging two customers into one (supervisors and admins).
    case mergeCustomers
    /// Templates, audiences and campaigns (marketers, supervisors and admins).
    case manageCampaigns
}

/// Who made a request: the token's role and, for staff, the agent behind it.
public struct Principal: Sendable, Equatable {
    public var tokenId: String
    public var role: Role
    public var agentId: String?
    public var teamIds: [String]

    public init(tokenId: String, role: Role, agentId: String? = nil, teamIds: [String] = []) {
        self.tokenId = tokenId
        self.role = role
        self.agentId = agentId
        self.teamIds = teamIds
    }

    /// Whether the principal holds `permission`.
    public func can(_ permission: Permission) -> Bool { role.permissions.contains(permission) }

    /// The conversations this principal may see.
    public var scope: AccessScope {
        role.isScopedToOwnWork ? .own(agentId: agentId ?? "", teamIds: teamIds) : .all
    }
}

/// Which conversations (and their events) a reader may see.
public enum AccessScope: Sendable, Equatable {
    case all
    /// Conversations assigned to the agent or to one of the agent's teams.
    case own(agentId: String, teamIds: [String])

    /// Whether a conversation with this assignee and team is visible.
    public func allows(assigneeId: String?, teamId: String?) -> Bool {
        switch self {
        case .all:
            return true
        case .own(let agentId, let teamIds):
            if let assigneeId, assigneeId == agentId { return true }
            if let teamId, teamIds.contains(teamId) { return true }
            return false
        }
    }
}
