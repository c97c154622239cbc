import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    /// Stores an inbound message in one transaction: sender to customer, conversation, message, events.
    public func receive(_ message: InboundMessage) async throws -> IngestResult {
        let message = try message.validated()
        let now = self.now()
        return try await write { db in try Self.ingest(message, db: db, now: now) }
    }

    public func storedInbound(channel: Channel, externalId: String) async throws -> IngestResult? {
        try await read { db in try Self.storedInbound(channel: channel, externalId: externalId, db: db) }
    }

    /// Where an inbound message with this provider id landed before, as a duplicate's result.
    static func storedInbound(channel: Channel, externalId: String, db: Database) throws -> IngestResult? {
        try Row.fetchOne(db.cachedStatement(sql: """
            SELECT message.id, message.conversation_id, conversation.customer_id FROM message
            JOIN conversation ON conversation.id = message.conversation_id
            WHERE message.channel = ? AND message.direction = 'inbound' AND message.external_id = ?
            """), arguments: [channel.rawValue, externalId]).map {
            IngestResult(messageId: $0[0], conversationId: $0[1], customerId: $0[2], duplicate: true)
        }
    }

    static func ingest(_ inbound: InboundMessage, db: Database, now: Date) throws -> IngestResult {
        // The hot path of the hub: every statement here is prepared once and cached.
        if let externalId = inbound.externalId, let earlier = try storedInbound(channel: inbound.channel, externalId: externalId, db: db) {
            return earlier
        }

        let customerId = try resolveCustomer(inbound, db: db, now: now)
        let conversation = try findOrOpenConversation(for: customerId, inbound, db: db, now: now)

        let message = Message(
            id: HubID.make("msg", now: now), conversationId: conversation.id, direction: .inbound, authorKind: .customer,
            authorId: customerId, channel: inbound.channel, text: inbound.text, html: inbound.html,
            attachments: inbound.attachments, deliveryState: .received, externalId: inbound.externalId,
            createdAt: now, updatedAt: now
        )
        let stamp = storedDate(now)
        let attachments = message.attachments.isEmpty ? "[]" : String(decoding: try JSONEncoder().encode(message.attachments), as: UTF8.self)
        try db.cachedStatement(sql: """
            INSERT INTO message (id, conversation_id, direction, author_kind, author_id, kind, channel, text, html,
                                 attachments, delivery_state, external_id, created_at, updated_at)
            VALUES (?, ?, 'inbound', 'customer', ?, 'message', ?, ?, ?, ?, 'received', ?, ?, ?)
            """).execute(arguments: [message.id, message.conversationId, customerId, message.channel.rawValue, message.text,
                                     message.html, attachments, message.externalId, stamp, stamp])
        try db.cachedStatement(sql: "UPDATE conversation SET last_activity_at = ?, updated_at = ? WHERE id = ?")
            .execute(arguments: [stamp, stamp, conversation.id])
        try appendEvent(db, .messageCreated, data: message, conversation: conversation, at: now)
        return IngestResult(messageId: message.id, conversationId: conversation.id, customerId: customerId, duplicate: false)
    }

    /// The customer behind the sender's identity, created with that identity when new.
    private static func resolveCustomer(_ inbound: InboundMessage, db: Database, now: Date) throws -> String {
        if let customerId = try String.fetchOne(db.cachedStatement(sql: "SELECT customer_id FROM identity WHERE channel = ? AND address = ?"),
                                                 arguments: [inbound.channel.rawValue, inbound.from]) {
            // A name learnt later fills a profile that had none.
            if let name = inbound.name, !name.isEmpty {
                try db.cachedStatement(sql: "UPDATE customer SET name = ?, updated_at = ? WHERE id = ? AND name IS NULL")
                    .execute(arguments: [name, now, customerId])
                if db.changesCount > 0, let customer = try Customer.fetchOne(db, key: customerId) {
                    try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
                }
            }
            return customerId
        }
        let name = inbound.name.flatMap { $0.isEmpty ? nil : $0 }
        let customer = Customer(id: HubID.make("cus", now: now), name: name, createdAt: now, updatedAt: now)
        try customer.insert(db)
        try Identity(channel: inbound.channel, address: inbound.from, customerId: customer.id, verified: false, createdAt: now).insert(db)
        try appendEvent(db, .customerCreated, data: customer, customerId: customer.id, at: now)
        return customer.id
    }

    /// Whether the hub emailed `address` in the conversation.
    private static func sentMail(in conversationId: String, to address: String, db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT EXISTS (SELECT 1 FROM outbox JOIN message ON message.id = outbox.message_id
            WHERE message.conversation_id = ? AND message.channel = 'email' AND json_extract(outbox.payload, '$.to') = ?)
            """), arguments: [conversationId, address]) ?? false
    }

    /// The conversation a message continues — a hinted one of the same customer, else (on channels
    /// that do not thread by reference) the customer's latest unresolved one on the channel — or a new one.
    /// An automated message joins what it continues as it is, and never opens a conversation.
    private static func findOrOpenConversation(for customerId: String, _ inbound: InboundMessage, db: Database, now: Date) throws -> ConversationRef {
        var found: Conversation?
        for hint in inbound.threadHints.prefix(10) {
            // A conversation id, or the id of a message the hub sent in it.
            var hinted = try Conversation.fetchOne(db, key: hint)
            if hinted == nil, let conversationId = try String.fetchOne(db.cachedStatement(sql: """
                SELECT conversation_id FROM message WHERE id = ? AND direction = 'outbound'
                """), arguments: [hint]) {
                hinted = try Conversation.fetchOne(db, key: conversationId)
            }
            guard var hinted else { continue }
            if inbound.channel == .email, try sentMail(in: hinted.id, to: inbound.from, db: db) {
                // A reply from the address the hub wrote to: that address is proven.
                if hinted.customerId != customerId, try isAnonymous(hinted.customerId, db: db) {
                    // The hub wrote there for an anonymous visitor who left it, and its known owner answered:
                    // visitor and owner are one person.
                    _ = try merge(hinted.customerId, into: customerId, reason: .verifiedReply, evidence: "email:\(inbound.from)", db: db, now: now)
                    hinted.customerId = customerId
                }
                try db.cachedStatement(sql: "UPDATE identity SET verified = 1 WHERE channel = 'email' AND address = ? AND NOT verified")
                    .execute(arguments: [inbound.from])
            }
            if hinted.customerId == customerId {
                found = hinted
                break
            }
        }
        if found == nil, !inbound.channel.threadsByReference, let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, status, team_id, assignee_id FROM conversation
            WHERE customer_id = ? AND channel = ? AND status <> 'resolved' ORDER BY id DESC LIMIT 1
            """), arguments: [customerId, inbound.channel.rawValue]) {
            // The common case, an open conversation, needs no full record.
            if row["status"] == ConversationStatus.open.rawValue || inbound.automated {
                return ConversationRef(id: row["id"], customerId: customerId, teamId: row["team_id"], assigneeId: row["assignee_id"])
            }
            found = try Conversation.fetchOne(db, key: row["id"] as String)
        }
        if found == nil, !inbound.channel.threadsByReference {
            // An SMS or chat message soon after a campaign message on that channel answers it.
            found = try Conversation.fetchOne(db.cachedStatement(sql: """
                SELECT * FROM conversation WHERE customer_id = ? AND channel = ? AND campaign_id IS NOT NULL
                AND last_activity_at > ? AND last_activity_at <= ?
                AND EXISTS (SELECT 1 FROM message WHERE message.conversation_id = conversation.id AND message.author_kind = 'campaign'
                            AND message.delivery_state IN ('sent', 'delivered'))
                ORDER BY last_activity_at DESC LIMIT 1
                """), arguments: [customerId, inbound.channel.rawValue, now.addingTimeInterval(-Campaign.replyWindow), now])
        }
        if inbound.automated {
            guard let conversation = found else {
                throw HubError.unprocessable("automated_without_conversation", "An automated message (an auto-reply) that continues no conversation opens none.")
            }
            return ConversationRef(id: conversation.id, customerId: customerId, teamId: conversation.teamId, assigneeId: conversation.assigneeId)
        }
        if var conversation = found {
            if conversation.status != .open {
                // A customer writing again brings the conversation back to the agents. A resolved one
                // is a new contact: it waits in line again, preferring the agent who had it.
                if conversation.status == .resolved {
                    if let previous = conversation.assigneeId { conversation.lastAssigneeId = previous }
                    conversation.assigneeId = nil
                    conversation.assignedAt = nil
                    conversation.firstResponseAt = nil
                }
                if conversation.assigneeId == nil { conversation.waitingSince = now }
                conversation.status = .open
                conversation.snoozedUntil = nil
                conversation.resolvedAt = nil
                conversation.updatedAt = now
                try conversation.update(db)
                try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
            }
            return ConversationRef(id: conversation.id, customerId: customerId, teamId: conversation.teamId, assigneeId: conversation.assigneeId)
        }
        let conversation = Conversation(
            id: HubID.make("conv", now: now), customerId: customerId, channel: inbound.channel,
            subject: inbound.subject, createdAt: now, updatedAt: now, lastActivityAt: now, via: inbound.to, waitingSince: now
        )
        try conversation.insert(db)
        try appendEvent(db, .conversationCreated, data: conversation, conversation: conversation, at: now)
        return ConversationRef(id: conversation.id, customerId: customerId, teamId: nil, assigneeId: nil)
    }
}
