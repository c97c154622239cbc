import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func conversations(_ filter: ConversationFilter, scope: AccessScope, _ request: PageRequest) async throws -> Page<Conversation> {
        try await read { db in
            var query = Conversation.all()
            if let status = filter.status { query = query.filter(Column("status") == status.rawValue) }
            if let assigneeId = filter.assigneeId { query = query.filter(Column("assignee_id") == assigneeId) }
            if let teamId = filter.teamId { query = query.filter(Column("team_id") == teamId) }
            if let channel = filter.channel { query = query.filter(Column("channel") == channel.rawValue) }
            if let customerId = filter.customerId { query = query.filter(Column("customer_id") == customerId) }
            if let tag = filter.tag {
                query = query.filter(sql: "EXISTS (SELECT 1 FROM json_each(conversation.tags) WHERE json_each.value = ?)", arguments: [tag])
            }
            if case .own(let agentId, let teamIds) = scope {
                query = query.filter(Column("assignee_id") == agentId || teamIds.contains(Column("team_id")))
            }
            if let cursor = request.cursor { query = query.filter(Column("id") < cursor) }
            let rows = try query.order(Column("id").desc).limit(request.limit + 1).fetchAll(db)
            return page(rows, limit: request.limit, id: \.id)
        }
    }

    public func conversation(id: String) async throws -> Conversation {
        try await read { db in try Self.fetchConversation(id, db: db) }
    }

    public func messages(conversationId: String, _ request: PageRequest) async throws -> Page<Message> {
        try await read { db in
            _ = try Self.fetchConversation(conversationId, db: db)
            var query = Message.filter(Column("conversation_id") == conversationId)
            if let cursor = request.cursor { query = query.filter(Column("id") > cursor) }
            return page(try query.order(Column("id")).limit(request.limit + 1).fetchAll(db), limit: request.limit, id: \.id)
        }
    }

    public func message(id: String) async throws -> Message {
        try await read { db in
            guard let message = try Message.fetchOne(db, key: id) else { throw HubError.notFound("message", id) }
            return message
        }
    }

    public func reply(conversationId: String, _ draft: ReplyDraft, authorId: String?, idempotencyKey: String?) async throws -> Message {
        let draft = try draft.validated()
        let now = self.now()
        let planner = self.planner
        return try await write { db in
            var conversation = try Self.fetchConversation(conversationId, db: db)
            if let idempotencyKey {
                if let earlier = try Message.fetchOne(db, sql: """
                    SELECT * FROM message WHERE conversation_id = ? AND direction = 'outbound' AND external_id = ?
                    """, arguments: [conversationId, idempotencyKey]) {
                    return earlier
                }
                if try Message.filter(Column("channel") == conversation.channel.rawValue && Column("direction") == "outbound"
                                      && Column("external_id") == idempotencyKey).fetchCount(db) > 0 {
                    throw HubError.conflict("idempotency_key_reused", "This Idempotency-Key was used for another conversation.")
                }
            }
            let isNote = draft.private ?? false
            var message = Message(
                id: HubID.make("msg", now: now), conversationId: conversationId, direction: .outbound, authorKind: .agent,
                authorId: authorId, kind: isNote ? .note : .message, channel: conversation.channel, text: draft.text,
                html: draft.html, attachments: draft.attachments ?? [], deliveryState: isNote ? .none : .queued,
                externalId: idempotencyKey, createdAt: now, updatedAt: now
            )
            if isNote {
                try message.insert(db)
                try appendEvent(db, .messageCreated, data: message, conversation: conversation, at: now)
                return message
            }
            // The conversation's channel, unless the customer's current preference says otherwise.
            let destination = try Self.replyDestination(conversation, planner: planner, db: db, now: now)
            try Self.queue(&message, in: &conversation, purpose: .reply, to: destination, db: db, now: now)
            return message
        }
    }

    /// Inserts an outbound message with its outbox row, in the caller's transaction: by default to the
    /// customer's newest identity on the conversation's channel, else to `destination`; fixed now with the content.
    /// With `checkConsent`, a message the ledger forbids is refused here and nothing is written.
    static func queue(_ message: inout Message, in conversation: inout Conversation, purpose: Purpose, checkConsent: Bool = false,
                      notBefore: Date? = nil, to destination: PlannedDelivery? = nil, db: Database, now: Date) throws {
        let channel = destination?.channel ?? conversation.channel
        guard let address = try destination?.address ?? String.fetchOne(db, sql: """
            SELECT address FROM identity WHERE customer_id = ? AND channel = ? ORDER BY created_at DESC LIMIT 1
            """, arguments: [conversation.customerId, channel.rawValue]) else {
            throw HubError.unprocessable("no_reachable_identity", "The customer has no \(channel.rawValue) address to reply to.")
        }
        if checkConsent, let refusal = ConsentRecord.refusal(for: purpose, latest: try latestConsents(channel, address, db: db)) {
            throw HubError.unprocessable("consent_refused", "Not sent: \(refusal).")
        }
        message.channel = channel
        message.deliveryState = .queued
        try message.insert(db)
        // Email threads on the provider ids of the customer's messages, the one answered last.
        let thread = !channel.threadsByReference ? [] : try String.fetchAll(db, sql: """
            SELECT external_id FROM message WHERE conversation_id = ? AND direction = 'inbound' AND channel = ? AND external_id IS NOT NULL
            ORDER BY id DESC LIMIT 20
            """, arguments: [conversation.id, channel.rawValue]).reversed()
        let delivery = OutboundDelivery(
            messageId: message.id, conversationId: conversation.id, customerId: conversation.customerId,
            channel: channel, to: address, text: message.text, html: message.html,
            attachments: message.attachments, idempotencyKey: message.id, purpose: purpose,
            // The number or address the customer wrote to, when the answer goes back the same way.
            from: channel == conversation.channel ? conversation.via : nil,
            subject: conversation.subject, thread: Array(thread), createdAt: now
        )
        try db.execute(sql: """
            INSERT INTO outbox (message_id, idempotency_key, payload, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)
            """, arguments: [message.id, delivery.idempotencyKey, String(decoding: try JSONEncoder.hub().encode(delivery), as: UTF8.self),
                             notBefore ?? now, now, now])
        conversation.lastActivityAt = now
        conversation.updatedAt = now
        if conversation.firstResponseAt == nil && message.authorKind == .agent { conversation.firstResponseAt = now }
        try conversation.update(db, columns: ["last_activity_at", "updated_at", "first_response_at"])
        try appendEvent(db, .messageCreated, data: message, conversation: conversation, at: now)
    }

    /// Where an agent's reply goes: the first channel of the customer's plan for replies, which is the
    /// conversation's unless a preference that holds now excludes it; nil (the conversation's) when the plan
    /// refuses, so the dispatcher records why.
    static func replyDestination(_ conversation: Conversation, planner: DeliveryPlanner, db: Database, now: Date) throws -> PlannedDelivery? {
        guard let customer = try Customer.fetchOne(db, key: conversation.customerId) else { return nil }
        let request = try deliveryRequest(customer: customer, purpose: .reply, conversationChannel: conversation.channel, db: db, now: now)
        guard case .send(let deliveries, _) = planner.plan(request, now: now), let first = deliveries.first,
              first.channel != conversation.channel else { return nil }
        return first
    }

    public func assign(conversationId: String, agentId: String?, teamId: String?) async throws -> Conversation {
        let now = self.now()
        return try await write { db in
            var conversation = try Self.fetchConversation(conversationId, db: db)
            if let agentId, try !Agent.exists(db, key: agentId) { throw HubError.unprocessable("unknown_agent", "No agent with id '\(agentId)'.") }
            if let teamId, try !Team.exists(db, key: teamId) { throw HubError.unprocessable("unknown_team", "No team with id '\(teamId)'.") }
            let previous = conversation.assigneeId
            if agentId != previous {
                if let previous { conversation.lastAssigneeId = previous }
                conversation.assignedAt = agentId == nil ? nil : now
                // Unassigned, it waits in line again from now.
                if agentId == nil { conversation.waitingSince = now }
            }
            conversation.assigneeId = agentId
            conversation.teamId = teamId ?? (agentId == nil ? nil : conversation.teamId)
            // Assigning by hand ends any offer.
            conversation.offeredTo = nil
            conversation.offerExpiresAt = nil
            conversation.updatedAt = now
            try conversation.update(db, columns: ["assignee_id", "team_id", "updated_at", "assigned_at", "last_assignee_id", "waiting_since",
                                                  "offered_to", "offer_expires_at"])
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, agentId: agentId, at: now)
            return conversation
        }
    }

    public func setStatus(conversationId: String, _ status: ConversationStatus, snoozedUntil: Date?) async throws -> Conversation {
        let now = self.now()
        if status == .snoozed {
            guard let snoozedUntil, snoozedUntil > now else { throw ValidationError("until", "must be a time in the future") }
        }
        return try await write { db in
            var conversation = try Self.fetchConversation(conversationId, db: db)
            if conversation.status == status && conversation.snoozedUntil == snoozedUntil { return conversation }
            if status == .open && conversation.status != .open && conversation.assigneeId == nil { conversation.waitingSince = now }
            conversation.status = status
            conversation.snoozedUntil = status == .snoozed ? snoozedUntil : nil
            conversation.resolvedAt = status == .resolved ? now : nil
            conversation.updatedAt = now
            try conversation.update(db)
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
            return conversation
        }
    }

    public func updateConversation(id: String, _ patch: ConversationPatch) async throws -> Conversation {
        let patch = try patch.validated()
        let now = self.now()
        return try await write { db in
            var conversation = try Self.fetchConversation(id, db: db)
            if let tags = patch.tags { conversation.tags = tags }
            if let priority = patch.priority { conversation.priority = priority }
            if let subject = patch.subject { conversation.subject = subject }
            conversation.updatedAt = now
            try conversation.update(db)
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
            return conversation
        }
    }

    public func wakeSnoozed(now: Date) async throws -> [Conversation] {
        try await write { db in
            let due = try Conversation.fetchAll(db, sql: "SELECT * FROM conversation WHERE status = 'snoozed' AND snoozed_until <= ?", arguments: [now])
            return try due.map { conversation in
                var conversation = conversation
                conversation.status = .open
                conversation.snoozedUntil = nil
                conversation.updatedAt = now
                try conversation.update(db)
                try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
                return conversation
            }
        }
    }

    public func nextSnoozeDue() async throws -> Date? {
        try await read { db in
            try Date.fetchOne(db.cachedStatement(sql: "SELECT MIN(snoozed_until) FROM conversation WHERE status = 'snoozed'"))
        }
    }

    static func fetchConversation(_ id: String, db: Database) throws -> Conversation {
        guard let conversation = try Conversation.fetchOne(db, key: id) else { throw HubError.notFound("conversation", id) }
        return conversation
    }
}
