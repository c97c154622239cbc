import Foundation

/// Whether an agent can take work now.
public enum Presence: String, Codable, Sendable, CaseIterable {
    case available, away, offline
}

/// A skill an agent has, with a level from 1 (novice) to 10 (expert).
public struct Skill: Codable, Sendable, Equatable {
    public var name: String
    public var level: Int

    public init(name: String, level: Int) {
        self.name = name
        self.level = level
    }
}

/// A person who answers customers.
public struct Agent: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var email: String?
    public var role: Role
    public var teamIds: [String]
    public var skills: [Skill]
    /// How many open conversations of each channel the agent takes at once.
    public var capacity: [Channel: Int]
    public var presence: Presence
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, name: String, email: String? = nil, role: Role = .agent, teamIds: [String] = [], skills: [Skill] = [],
        capacity: [Channel: Int] = Agent.defaultCapacity, presence: Presence = .offline, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.role = role
        self.teamIds = teamIds
        self.skills = skills
        self.capacity = capacity
        self.presence = presence
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The capacity a new agent gets: a few chats, more of the slower channels.
    public static let defaultCapacity: [Channel: Int] = [.webchat: 3, .email: 8, .sms: 5, .api: 5]
}

/// What creating or updating an agent may set; on update nil fields stay as they are.
public struct AgentDraft: Codable, Sendable {
    public var name: String?
    public var email: String?
    public var role: Role?
    public var teamIds: [String]?
    public var skills: [Skill]?
    public var capacity: [Channel: Int]?

    public init(name: String? = nil, email: String? = nil, role: Role? = nil, teamIds: [String]? = nil, skills: [Skill]? = nil, capacity: [Channel: Int]? = nil) {
        self.name = name
        self.email = email
        self.role = role
        self.teamIds = teamIds
        self.skills = skills
        self.capacity = capacity
    }

    /// Checks the draft; `creating` requires a name.
    public func validated(creating: Bool) throws(ValidationError) -> AgentDraft {
        if creating && (name ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("name", "is required")
        }
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 200 {
            throw ValidationError("name", "must be 1–200 characters")
        }
        try requireNoNUL(name, "name")
        var copy = self
        if let email {
            do { copy.email = try Address.normalize(email, on: .email) } catch { throw ValidationError("email", error.reason) }
        }
        if let role, role == .integration { throw ValidationError("role", "an agent cannot have the integration role") }
        if let teamIds, teamIds.count > 50 { throw ValidationError("teamIds", "at most 50 teams") }
        if let skills {
            if skills.count > 100 { throw ValidationError("skills", "at most 100 skills") }
            for skill in skills where skill.name.isEmpty || skill.name.count > 64 || !(1...10).contains(skill.level) {
                throw ValidationError("skills", "a skill has a name of 1–64 characters and a level from 1 to 10")
            }
        }
        if let capacity, capacity.values.contains(where: { !(0...1000).contains($0) }) {
            throw ValidationError("capacity", "each capacity is between 0 and 1000")
        }
        return copy
    }
}

/// A group of agents that shares a queue.
public struct Team: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var createdAt: Date

    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}
