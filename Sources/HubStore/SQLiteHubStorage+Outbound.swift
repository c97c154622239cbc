import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func send(_ draft: OutboundDraft) async throws -> Message {
        let draft = try draft.validated()
        let now = self.now()
        return try await write { db in
            if let key = draft.idempotencyKey, let earlier = try Message.fetchOne(db, sql: """
                SELECT * FROM message WHERE channel = ? AND direction = 'outbound' AND external_id = ?
                """, arguments: [draft.channel.rawValue, key]) {
                return earlier
            }
            guard try Customer.exists(db, key: draft.customerId) else { throw HubError.notFound("customer", draft.customerId) }
            var conversation: Conversation
            if let id = draft.conversationId {
                conversation = try Self.fetchConversation(id, db: db)
                guard conversation.customerId == draft.customerId, conversation.channel == draft.channel else {
                    throw HubError.unprocessable("conversation_mismatch", "The conversation is not this customer's on \(draft.channel.rawValue).")
                }
            } else if let latest = try Conversation.fetchOne(db, sql: """
                SELECT * FROM conversation WHERE customer_id = ? AND channel = ? AND status <> ? ORDER BY id DESC LIMIT 1
                """, arguments: [draft.customerId, draft.channel.rawValue, ConversationStatus.resolved.rawValue]) {
                conversation = latest
            } else {
                // The center spoke first: the conversation waits for the customer, not for an agent, until they write back.
                conversation = Conversation(id: HubID.make("conv", now: now), customerId: draft.customerId, channel: draft.channel,
                                            status: .pending, createdAt: now, updatedAt: now, lastActivityAt: now)
                try conversation.insert(db)
                try appendEvent(db, .conversationCreated, data: conversation, conversation: conversation, at: now)
            }
            var message = Message(
                id: HubID.make("msg", now: now), conversationId: conversation.id, direction: .outbound,
                authorKind: draft.purpose == .marketing ? .campaign : .system, channel: draft.channel, text: draft.text,
                deliveryState: .queued, externalId: draft.idempotencyKey, createdAt: now, updatedAt: now
            )
            try Self.queue(&message, in: &conversation, purpose: draft.purpose, checkConsent: true, db: db, now: now)
            return message
        }
    }

    public func recordConsent(_ record: ConsentRecord) async throws {
        try await write { db in
            // The same evidence (a retried STOP webhook) is recorded once.
            if let evidence = record.evidence, try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM consent WHERE channel = ? AND address = ? AND purpose = ? AND state = ? AND evidence = ?)
                """, arguments: [record.channel.rawValue, record.address, record.purpose.rawValue, record.state.rawValue, evidence]) == true {
                return
            }
            try db.execute(sql: """
                INSERT INTO consent (customer_id, channel, address, purpose, state, source, evidence, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.customerId, record.channel.rawValue, record.address, record.purpose.rawValue,
                                 record.state.rawValue, record.source.rawValue, record.evidence, record.createdAt])
            try appendEvent(db, .consentRecorded, data: record, customerId: record.customerId, at: record.createdAt)
        }
    }

    public func consents(customerId: String) async throws -> [ConsentRecord] {
        try await read { db in
            try ConsentRecord.fetchAll(db, sql: "SELECT * FROM consent WHERE customer_id = ? ORDER BY id DESC", arguments: [customerId])
        }
    }

    public func latestConsents(channel: Channel, address: String) async throws -> [ConsentRecord] {
        try await read { db in try Self.latestConsents(channel, address, db: db) }
    }

    static func latestConsents(_ channel: Channel, _ address: String, db: Database) throws -> [ConsentRecord] {
        try ConsentRecord.fetchAll(db, sql: """
            SELECT * FROM consent WHERE id IN (
                SELECT MAX(id) FROM consent WHERE channel = ? AND address = ? GROUP BY purpose)
            """, arguments: [channel.rawValue, address])
    }

    public func receive(part: InboundPart) async throws -> IngestResult? {
        let part = try part.validated()
        let message = try part.message.validated()
        let now = self.now()
        return try await write { db in
            // Already assembled (a part retried after the whole was stored): answer as the first time.
            if let row = try Row.fetchOne(db, sql: """
                SELECT message.id, message.conversation_id, conversation.customer_id FROM message
                JOIN conversation ON conversation.id = message.conversation_id
                WHERE message.channel = ? AND message.direction = 'inbound' AND message.external_id = ?
                """, arguments: [message.channel.rawValue, part.groupKey]) {
                return IngestResult(messageId: row[0], conversationId: row[1], customerId: row[2], duplicate: true)
            }
            try db.execute(sql: """
                INSERT INTO inbound_part (group_key, part, total, text, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [part.groupKey, part.index, part.total, message.text, now])
            let texts = try String.fetchAll(db, sql: "SELECT text FROM inbound_part WHERE group_key = ? ORDER BY part",
                                            arguments: [part.groupKey])
            guard texts.count == part.total else { return nil }
            var whole = message
            whole.text = texts.joined()
            whole.externalId = part.groupKey
            let result = try Self.ingest(whole.validated(), db: db, now: now)
            try db.execute(sql: "DELETE FROM inbound_part WHERE group_key = ?", arguments: [part.groupKey])
            return result
        }
    }

    public func applyReceipt(messageId: String, providerMessageId: String?, state: DeliveryState, error: String?) async throws -> Message? {
        let now = self.now()
        return try await write { db in
            guard var message = try Message.fetchOne(db, key: messageId), message.direction == .outbound else { return nil }
            let next = message.deliveryState.advanced(to: state)
            guard next != message.deliveryState else { return message }
            message.deliveryState = next
            if let error { message.error = error }
            if message.providerMessageId == nil { message.providerMessageId = providerMessageId }
            message.updatedAt = now
            try message.update(db, columns: ["delivery_state", "error", "provider_message_id", "updated_at"])
            let conversation = try Self.fetchConversation(message.conversationId, db: db)
            try appendEvent(db, .messageUpdated, data: message, conversation: conversation, at: now)
            return message
        }
    }

    public func storeMedia(_ bytes: [UInt8], contentType: String) async throws -> String {
        let now = self.now()
        return try await write { db in
            let id = HubID.make("med", now: now)
            try db.execute(sql: "INSERT INTO media (id, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, contentType, bytes.count, Data(bytes), now])
            return id
        }
    }

    public func media(id: String) async throws -> (bytes: [UInt8], contentType: String)? {
        try await read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT content_type, data FROM media WHERE id = ?", arguments: [id]) else { return nil }
            let data: Data = row["data"]
            return (Array(data), row["content_type"])
        }
    }
}
