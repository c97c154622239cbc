import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func createToken(digest: String, role: Role, agentId: String?, name: String?) async throws -> TokenRecord {
        let now = self.now()
        return try await write { db in
            if let agentId, try !Agent.exists(db, key: agentId) { throw HubError.notFound("agent", agentId) }
            let record = TokenRecord(id: HubID.make("tok", now: now), role: role, agentId: agentId, name: name, createdAt: now)
            try db.execute(
                sql: "INSERT INTO api_token (id, digest, role, agent_id, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [record.id, digest, role.rawValue, agentId, name, now]
            )
            return record
        }
    }

    public func principal(forTokenDigest digest: String) async throws -> Principal? {
        try await read { db in
            guard let token = try TokenRecord.fetchOne(db, sql: "SELECT * FROM api_token WHERE digest = ?", arguments: [digest]) else {
                return nil
            }
            let agent = try token.agentId.flatMap { try Agent.fetchOne(db, key: $0) }
            return Principal(tokenId: token.id, role: token.role, agentId: token.agentId, teamIds: agent?.teamIds ?? [])
        }
    }

    public func createTeam(name: String) async throws -> Team {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 100 else { throw ValidationError("name", "must be 1–100 characters") }
        try requireNoNUL(trimmed, "name")
        let now = self.now()
        return try await write { db in
            if try Team.filter(Column("name") == trimmed).fetchCount(db) > 0 {
                throw HubError.conflict("team_exists", "A team named '\(trimmed)' exists already.")
            }
            let team = Team(id: HubID.make("team", now: now), name: trimmed, createdAt: now)
            try team.insert(db)
            try appendEvent(db, .teamCreated, data: team, at: now)
            return team
        }
    }

    public func teams() async throws -> [Team] {
        try await read { db in try Team.order(Column("name")).fetchAll(db) }
    }

    public func createAgent(_ draft: AgentDraft) async throws -> Agent {
        let draft = try draft.validated(creating: true)
        let now = self.now()
        return try await write { db in
            try Self.checkTeams(draft.teamIds ?? [], db: db)
            let agent = Agent(
                id: HubID.make("agt", now: now), name: draft.name ?? "", email: draft.email, role: draft.role ?? .agent,
                teamIds: draft.teamIds ?? [], skills: draft.skills ?? [], capacity: draft.capacity ?? Agent.defaultCapacity,
                createdAt: now, updatedAt: now
            )
            try agent.insert(db)
            try appendEvent(db, .agentCreated, data: agent, agentId: agent.id, at: now)
            return agent
        }
    }

    public func agent(id: String) async throws -> Agent {
        try await read { db in
            guard let agent = try Agent.fetchOne(db, key: id) else { throw HubError.notFound("agent", id) }
            return agent
        }
    }

    public func agents(_ request: PageRequest) async throws -> Page<Agent> {
        try await read { db in
            var query = Agent.order(Column("id"))
            if let cursor = request.cursor { query = query.filter(Column("id") > cursor) }
            return page(try query.limit(request.limit + 1).fetchAll(db), limit: request.limit, id: \.id)
        }
    }

    public func updateAgent(id: String, _ draft: AgentDraft) async throws -> Agent {
        let draft = try draft.validated(creating: false)
        let now = self.now()
        return try await write { db in
            guard var agent = try Agent.fetchOne(db, key: id) else { throw HubError.notFound("agent", id) }
            if let name = draft.name { agent.name = name }
            if let email = draft.email { agent.email = email }
            if let role = draft.role { agent.role = role }
            if let teamIds = draft.teamIds {
                try Self.checkTeams(teamIds, db: db)
                agent.teamIds = teamIds
            }
            if let skills = draft.skills { agent.skills = skills }
            if let capacity = draft.capacity { agent.capacity = capacity }
            agent.updatedAt = now
            try agent.update(db)
            try appendEvent(db, .agentUpdated, data: agent, agentId: agent.id, at: now)
            return agent
        }
    }

    public func setPresence(agentId: String, _ presence: Presence) async throws -> Agent {
        let now = self.now()
        return try await write { db in
            guard var agent = try Agent.fetchOne(db, key: agentId) else { throw HubError.notFound("agent", agentId) }
            guard agent.presence != presence else { return agent }
            agent.presence = presence
            agent.updatedAt = now
            try agent.update(db, columns: ["presence", "updated_at"])
            try appendEvent(db, .agentUpdated, data: agent, agentId: agent.id, at: now)
            return agent
        }
    }

    private static func checkTeams(_ teamIds: [String], db: Database) throws {
        for teamId in teamIds where try !Team.exists(db, key: teamId) {
            throw HubError.unprocessable("unknown_team", "No team with id '\(teamId)'.")
        }
    }
}
