import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func routingSubjects(_ filter: RoutingSubjectFilter) async throws -> [RoutingSubject] {
        try await read { db in
            let select = """
                SELECT conversation.*, customer.tier AS customer_tier, customer.locale AS customer_locale,
                       customer.account_manager_id AS customer_manager,
                       COALESCE(conversation.last_assignee_id,
                                (SELECT other.assignee_id FROM conversation AS other
                                 WHERE other.customer_id = conversation.customer_id AND other.id <> conversation.id
                                   AND other.assignee_id IS NOT NULL
                                 ORDER BY other.assigned_at DESC LIMIT 1)) AS last_agent,
                       (SELECT text FROM message WHERE message.conversation_id = conversation.id AND message.direction = 'inbound'
                        ORDER BY message.id LIMIT 1) AS first_text
                FROM conversation JOIN customer ON customer.id = conversation.customer_id
                """
            let rows: [Row]
            switch filter {
            case .ids(let ids):
                var found: [Row] = []
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    found += try Row.fetchAll(db, sql: "\(select) WHERE conversation.id IN (\(marks))", arguments: StatementArguments(chunk))
                }
                rows = found
            case .assignedTo(let agentId):
                rows = try Row.fetchAll(db, sql: """
                    \(select) WHERE (conversation.assignee_id = ? OR conversation.offered_to = ?) AND conversation.status <> 'resolved'
                    """, arguments: [agentId, agentId])
            case .customer(let customerId):
                rows = try Row.fetchAll(db, sql: "\(select) WHERE conversation.customer_id = ? AND conversation.status <> 'resolved'", arguments: [customerId])
            case .unresolved:
                rows = try Row.fetchAll(db, sql: "\(select) WHERE conversation.status <> 'resolved'")
            }
            return try rows.map { row in
                RoutingSubject(
                    conversation: try Conversation(row: row), tier: CustomerTier(stored: row["customer_tier"]),
                    language: row["customer_locale"], accountManagerId: row["customer_manager"], lastAgentId: row["last_agent"],
                    firstText: row["first_text"] ?? ""
                )
            }
        }
    }

    public func routingAgents(ids: [String]?) async throws -> [RoutingAgent] {
        try await read { db in
            let select = """
                SELECT agent.*, (SELECT MAX(assigned_at) FROM conversation WHERE conversation.assignee_id = agent.id) AS last_assigned_at
                FROM agent
                """
            let rows: [Row]
            if let ids {
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                rows = ids.isEmpty ? [] : try Row.fetchAll(db, sql: "\(select) WHERE agent.id IN (\(marks))", arguments: StatementArguments(ids))
            } else {
                rows = try Row.fetchAll(db, sql: select)
            }
            return try rows.map { row in RoutingAgent(try Agent(row: row), lastAssignedAt: row["last_assigned_at"]) }
        }
    }

    public func applyRouting(_ actions: [RoutingAction]) async throws -> [RoutingOutcome] {
        guard !actions.isEmpty else { return [] }
        let now = self.now()
        return try await write { db in
            try actions.map { action in
                switch action {
                case .placed(let placement):
                    return try Self.place(placement, db: db, now: now)
                case .escalated(let conversationId, let queueId, let step):
                    try Self.record(db, conversationId: conversationId, kind: "escalated", queueId: queueId, step: step,
                                    reason: "escalation step \(step) reached", now: now)
                    return .applied
                case .assign(let decision):
                    return try Self.assign(decision, offerExpiresAt: nil, db: db, now: now)
                case .offer(let decision, let expiresAt):
                    return try Self.assign(decision, offerExpiresAt: expiresAt, db: db, now: now)
                case .withdrawOffer(let conversationId, let agentId):
                    return try Self.endOffer(conversationId, of: agentId, kind: "withdrawn", reason: "the offer ran out unaccepted", db: db, now: now)
                case .requeue(let conversationId, let agentId, let reason):
                    return try Self.requeue(conversationId, from: agentId, reason: reason, db: db, now: now)
                }
            }
        }
    }

    private static func place(_ placement: QueuePlacement, db: Database, now: Date) throws -> RoutingOutcome {
        try db.execute(sql: """
            UPDATE conversation SET queue_id = ?, tier = ?, sla_due_at = ?
            WHERE id = ? AND (queue_id IS NOT ? OR tier IS NOT ? OR sla_due_at IS NOT ?)
            """, arguments: [placement.queueId, placement.tier.rawValue, placement.slaDueAt, placement.conversationId,
                             placement.queueId, placement.tier.rawValue, placement.slaDueAt])
        guard db.changesCount > 0 else { return .applied }
        try record(db, conversationId: placement.conversationId, kind: "queued", queueId: placement.queueId, ruleId: placement.ruleId,
                   reason: placement.ruleId.map { "rule '\($0)' matched" } ?? "no rule matched: the default queue or the transfer's queue",
                   now: now)
        return .applied
    }

    /// The conditional write: the conversation still open, unassigned and not offered, the agent still available with room.
    /// With `offerExpiresAt` the conversation is offered (the agent's room held) instead of assigned.
    private static func assign(_ decision: RoutingDecision, offerExpiresAt: Date?, db: Database, now: Date) throws -> RoutingOutcome {
        guard var conversation = try Conversation.fetchOne(db, key: decision.conversationId) else { return .rejected("conversation gone") }
        guard conversation.assigneeId == nil, conversation.offeredTo == nil, conversation.status == .open else { return .rejected("no longer waiting") }
        guard let agent = try Agent.fetchOne(db, key: decision.agentId), agent.presence == .available else { return .rejected("agent not available") }
        guard try load(of: agent.id, on: conversation.channel, db: db) < agent.capacity[conversation.channel] ?? 0 else {
            return .rejected("agent at capacity")
        }
        if let offerExpiresAt {
            conversation.offeredTo = agent.id
            conversation.offerExpiresAt = offerExpiresAt
        } else {
            conversation.assigneeId = agent.id
            conversation.assignedAt = now
        }
        conversation.queueId = decision.queueId
        conversation.tier = decision.tier
        conversation.slaDueAt = decision.slaDueAt
        conversation.updatedAt = now
        try conversation.update(db, columns: ["assignee_id", "assigned_at", "offered_to", "offer_expires_at", "queue_id", "tier", "sla_due_at", "updated_at"])
        try record(db, conversationId: conversation.id, kind: offerExpiresAt == nil ? "assigned" : "offered", queueId: decision.queueId,
                   ruleId: decision.ruleId, agentId: agent.id, step: decision.step, reason: decision.reason, candidates: decision.candidates,
                   eligibleCount: decision.eligibleCount, now: now)
        try appendEvent(db, .conversationUpdated, data: conversation, conversation: offerRef(conversation), agentId: agent.id, at: now)
        return .applied
    }

    /// An offered conversation's event belongs to the agent it is offered to, so their event stream shows the offer.
    private static func offerRef(_ conversation: Conversation) -> ConversationRef {
        ConversationRef(id: conversation.id, customerId: conversation.customerId, teamId: conversation.teamId,
                        assigneeId: conversation.assigneeId ?? conversation.offeredTo)
    }

    /// Ends an offer that still stands for `agentId`; the conversation waits again at its place.
    private static func endOffer(_ conversationId: String, of agentId: String, kind: String, reason: String, db: Database, now: Date) throws -> RoutingOutcome {
        guard var conversation = try Conversation.fetchOne(db, key: conversationId) else { return .rejected("conversation gone") }
        guard conversation.offeredTo == agentId, conversation.assigneeId == nil else { return .rejected("no longer offered to the agent") }
        conversation.offeredTo = nil
        conversation.offerExpiresAt = nil
        conversation.updatedAt = now
        try conversation.update(db, columns: ["offered_to", "offer_expires_at", "updated_at"])
        try record(db, conversationId: conversationId, kind: kind, queueId: conversation.queueId, agentId: agentId, reason: reason, now: now)
        try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, agentId: agentId, at: now)
        return .applied
    }

    public func accept(conversationId: String, agentId: String) async throws -> Conversation {
        let now = self.now()
        return try await write { db in
            var conversation = try Self.fetchConversation(conversationId, db: db)
            guard conversation.offeredTo == agentId, conversation.assigneeId == nil else {
                throw HubError.conflict("not_offered", "The conversation is not offered to this agent.")
            }
            guard let expiresAt = conversation.offerExpiresAt, expiresAt > now else {
                throw HubError.conflict("offer_expired", "The offer ran out; the conversation went back to the queue.")
            }
            conversation.assigneeId = agentId
            conversation.assignedAt = now
            conversation.offeredTo = nil
            conversation.offerExpiresAt = nil
            conversation.updatedAt = now
            try conversation.update(db, columns: ["assignee_id", "assigned_at", "offered_to", "offer_expires_at", "updated_at"])
            try Self.record(db, conversationId: conversationId, kind: "accepted", queueId: conversation.queueId, agentId: agentId,
                            reason: "the agent accepted the offer", now: now)
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, agentId: agentId, at: now)
            return conversation
        }
    }

    public func decline(conversationId: String, agentId: String) async throws -> Conversation {
        let now = self.now()
        return try await write { db in
            guard case .applied = try Self.endOffer(conversationId, of: agentId, kind: "declined", reason: "the agent declined the offer", db: db, now: now) else {
                _ = try Self.fetchConversation(conversationId, db: db)
                throw HubError.conflict("not_offered", "The conversation is not offered to this agent.")
            }
            return try Self.fetchConversation(conversationId, db: db)
        }
    }

    private static func requeue(_ conversationId: String, from agentId: String, reason: RequeueReason, db: Database, now: Date) throws -> RoutingOutcome {
        guard var conversation = try Conversation.fetchOne(db, key: conversationId) else { return .rejected("conversation gone") }
        guard conversation.assigneeId == agentId, conversation.status != .resolved else { return .rejected("no longer with the agent") }
        if reason == .missedFirstReply && conversation.firstResponseAt != nil { return .rejected("answered in time") }
        conversation.assigneeId = nil
        conversation.assignedAt = nil
        conversation.lastAssigneeId = reason == .agentOffline ? agentId : conversation.lastAssigneeId
        conversation.updatedAt = now
        // waiting_since stays: the conversation goes back to its place in line.
        try conversation.update(db, columns: ["assignee_id", "assigned_at", "last_assignee_id", "updated_at"])
        try record(db, conversationId: conversationId, kind: "requeued", queueId: conversation.queueId, agentId: agentId,
                   reason: reason == .agentOffline ? "the agent went offline" : "the agent did not answer in time", now: now)
        try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, agentId: agentId, at: now)
        return .applied
    }

    /// Open work of an agent on a channel: every unresolved conversation they have or are offered.
    static func load(of agentId: String, on channel: Channel, db: Database) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM conversation WHERE (assignee_id = ? OR offered_to = ?) AND channel = ? AND status <> 'resolved'
            """, arguments: [agentId, agentId, channel.rawValue]) ?? 0
    }

    static func record(
        _ db: Database, conversationId: String, kind: String, queueId: String?, ruleId: String? = nil, agentId: String? = nil,
        step: Int = 0, reason: String, candidates: [RoutingCandidate] = [], eligibleCount: Int = 0, now: Date
    ) throws {
        try db.execute(sql: """
            INSERT INTO routing_decision (conversation_id, kind, queue_id, rule_id, agent_id, step, reason, candidates, eligible_count, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [conversationId, kind, queueId, ruleId, agentId, step, reason,
                             String(decoding: try JSONEncoder.hub().encode(candidates), as: UTF8.self), eligibleCount, now])
    }

    public func transfer(conversationId: String, to target: TransferTarget, note: String?, authorId: String?) async throws -> Conversation {
        if let note {
            if note.count > 10_000 { throw ValidationError("note", "must be at most 10000 characters") }
            try requireNoNUL(note, "note")
        }
        let now = self.now()
        return try await write { db in
            var conversation = try Self.fetchConversation(conversationId, db: db)
            if conversation.status == .resolved { throw HubError.conflict("conversation_resolved", "A resolved conversation cannot be transferred.") }
            let previous = conversation.assigneeId
            let description: String
            switch target {
            case .agent(let agentId):
                guard let agent = try Agent.fetchOne(db, key: agentId) else { throw HubError.unprocessable("unknown_agent", "No agent with id '\(agentId)'.") }
                if agentId == previous { return conversation }
                guard agent.presence == .available else { throw HubError.conflict("agent_unavailable", "The agent is \(agent.presence.rawValue).") }
                guard try Self.load(of: agentId, on: conversation.channel, db: db) < agent.capacity[conversation.channel] ?? 0 else {
                    throw HubError.conflict("agent_at_capacity", "The agent has no room for another \(conversation.channel.rawValue) conversation.")
                }
                conversation.assigneeId = agentId
                conversation.assignedAt = now
                description = "to agent \(agentId)"
            case .team(let teamId):
                guard try Team.exists(db, key: teamId) else { throw HubError.unprocessable("unknown_team", "No team with id '\(teamId)'.") }
                conversation.assigneeId = nil
                conversation.assignedAt = nil
                conversation.teamId = teamId
                conversation.pinnedQueueId = nil
                description = "to team \(teamId)"
            case .queue(let queueId):
                conversation.assigneeId = nil
                conversation.assignedAt = nil
                conversation.teamId = nil
                conversation.pinnedQueueId = queueId
                description = "to queue \(queueId)"
            }
            if let previous, previous != conversation.assigneeId { conversation.lastAssigneeId = previous }
            // A transfer ends any offer.
            conversation.offeredTo = nil
            conversation.offerExpiresAt = nil
            conversation.updatedAt = now
            try conversation.update(db)
            if let note, !note.isEmpty {
                let message = Message(
                    id: HubID.make("msg", now: now), conversationId: conversationId, direction: .outbound, authorKind: .agent, authorId: authorId,
                    kind: .note, channel: conversation.channel, text: note, deliveryState: .none, createdAt: now, updatedAt: now
                )
                try message.insert(db)
                try appendEvent(db, .messageCreated, data: message, conversation: conversation, at: now)
            }
            try Self.record(db, conversationId: conversationId, kind: "transferred", queueId: conversation.pinnedQueueId ?? conversation.queueId,
                            agentId: conversation.assigneeId, reason: "transferred \(description)" + (authorId.map { " by \($0)" } ?? ""), now: now)
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, agentId: conversation.assigneeId, at: now)
            return conversation
        }
    }

    public func routingDecisions(conversationId: String) async throws -> [RoutingRecord] {
        try await read { db in
            _ = try Self.fetchConversation(conversationId, db: db)
            let decoder = JSONDecoder.hub()
            return try Row.fetchAll(db, sql: "SELECT * FROM routing_decision WHERE conversation_id = ? ORDER BY id", arguments: [conversationId]).map { row in
                RoutingRecord(
                    id: row["id"], conversationId: row["conversation_id"], kind: row["kind"], queueId: row["queue_id"], ruleId: row["rule_id"],
                    agentId: row["agent_id"], step: row["step"], reason: row["reason"],
                    candidates: try decoder.decode([RoutingCandidate].self, from: Data((row["candidates"] as String).utf8)),
                    eligibleCount: row["eligible_count"], createdAt: row["created_at"]
                )
            }
        }
    }

    public func routingConfiguration() async throws -> RoutingConfiguration? {
        try await read { db in
            guard let data = try String.fetchOne(db, sql: "SELECT data FROM routing_configuration WHERE id = 1") else { return nil }
            return try JSONDecoder.hub().decode(RoutingConfiguration.self, from: Data(data.utf8))
        }
    }

    public func setRoutingConfiguration(_ configuration: RoutingConfiguration) async throws {
        let configuration = try configuration.validated()
        let now = self.now()
        try await write { db in
            let data = String(decoding: try JSONEncoder.hub().encode(configuration), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO routing_configuration (id, data, updated_at) VALUES (1, ?, ?)
                ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
                """, arguments: [data, now])
            try appendEvent(db, .routingConfigured, data: configuration, at: now)
        }
    }

    public func routedConversations(since: Date, until: Date) async throws -> [RoutedConversation] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT queue_id, tier, channel, waiting_since, assigned_at, first_response_at, sla_due_at, abandoned_at FROM conversation
                WHERE sla_due_at IS NOT NULL AND queue_id IS NOT NULL AND waiting_since >= ? AND waiting_since < ?
                """, arguments: [since, until]).compactMap { row in
                guard let channel = Channel(rawValue: row["channel"]) else { return nil }
                return RoutedConversation(
                    queueId: row["queue_id"], tier: CustomerTier(stored: row["tier"]), channel: channel, waitingSince: row["waiting_since"],
                    assignedAt: row["assigned_at"], firstResponseAt: row["first_response_at"], slaDueAt: row["sla_due_at"],
                    abandonedAt: row["abandoned_at"]
                )
            }
        }
    }
}
