import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func send(_ draft: OutboundDraft) async throws -> Message {
        let draft = try draft.validated()
        let now = self.now()
        let planner = self.planner
        return try await write { db in
            if let key = draft.idempotencyKey, let earlier = try Message.fetchOne(db, sql: """
                SELECT * FROM message WHERE direction = 'outbound' AND external_id = ? AND (? IS NULL OR channel = ?)
                """, arguments: [key, draft.channel?.rawValue, draft.channel?.rawValue]) {
                return earlier
            }
            guard let customer = try Customer.fetchOne(db, key: draft.customerId) else { throw HubError.notFound("customer", draft.customerId) }
            // The planner decides the channel (the one asked for, or the customer's preference) and when: consent, quiet hours, the cap.
            let (channel, notBefore) = try Self.planned(draft, for: customer, planner: planner, db: db, now: now)
            var conversation: Conversation
            if let id = draft.conversationId {
                conversation = try Self.fetchConversation(id, db: db)
                guard conversation.customerId == draft.customerId, conversation.channel == channel else {
                    throw HubError.unprocessable("conversation_mismatch", "The conversation is not this customer's on \(channel.rawValue).")
                }
            } else if let latest = try Conversation.fetchOne(db, sql: """
                SELECT * FROM conversation WHERE customer_id = ? AND channel = ? AND status <> ? ORDER BY id DESC LIMIT 1
                """, arguments: [draft.customerId, channel.rawValue, ConversationStatus.resolved.rawValue]) {
                conversation = latest
            } else {
                // The center spoke first: the conversation waits for the customer, not for an agent, until they write back.
                conversation = Conversation(id: HubID.make("conv", now: now), customerId: draft.customerId, channel: channel,
                                            status: .pending, createdAt: now, updatedAt: now, lastActivityAt: now)
                try conversation.insert(db)
                try appendEvent(db, .conversationCreated, data: conversation, conversation: conversation, at: now)
            }
            var message = Message(
                id: HubID.make("msg", now: now), conversationId: conversation.id, direction: .outbound,
                authorKind: draft.purpose == .marketing ? .campaign : .system, channel: channel, text: draft.text,
                deliveryState: .queued, externalId: draft.idempotencyKey, createdAt: now, updatedAt: now
            )
            try Self.queue(&message, in: &conversation, purpose: draft.purpose, checkConsent: true, notBefore: notBefore, db: db, now: now)
            return message
        }
    }

    /// The channel and earliest send time the delivery planner gives a message, or the refusal as an error.
    private static func planned(_ draft: OutboundDraft, for customer: Customer, planner: DeliveryPlanner, db: Database, now: Date) throws -> (Channel, Date?) {
        let forced = draft.channel.map { [ChannelPreference(scope: PreferenceScope(draft.purpose), channels: [$0])] }
        let request = try deliveryRequest(customer: customer, purpose: draft.purpose, preferences: forced, db: db, now: now)
        switch planner.plan(request, now: now) {
        case .send(let deliveries, let notBefore):
            // The plan is never empty; its first channel is where the message goes now.
            return (deliveries.first?.channel ?? draft.channel ?? .email, notBefore)
        case .refused(let refusal):
            switch refusal.reason {
            case .frequencyCap: throw HubError.unprocessable("frequency_capped", "Not sent: \(refusal.message).")
            case .consent: throw HubError.unprocessable("consent_refused", "Not sent: \(refusal.message).")
            case .unreachable: throw HubError.unprocessable("no_reachable_identity", "Not sent: \(refusal.message).")
            }
        }
    }

    /// What the planner needs to know of a customer for one message: identities, the ledger, preferences
    /// (`preferences` replaces the stored ones), and for marketing what was sent lately (`marketingRequests`).
    static func deliveryRequest(customer: Customer, purpose: Purpose, preferences: [ChannelPreference]? = nil, conversationChannel: Channel? = nil,
                                failedChannels: Set<Channel> = [], db: Database, now: Date) throws -> DeliveryRequest {
        if purpose == .marketing {
            // Campaigns read this for a whole batch at once; one customer reads it the same way, so the
            // marketing rules (identities, consents, what was sent lately) are stated once.
            var request = try marketingRequests(for: [customer], db: db, now: now)[0].request
            if let preferences { request.preferences = preferences }
            request.conversationChannel = conversationChannel
            request.failedChannels = failedChannels
            return request
        }
        var identities = try Identity.fetchAll(db, sql: "SELECT * FROM identity WHERE customer_id = ? ORDER BY created_at DESC", arguments: [customer.id])
        // An address a chat visitor left that belongs to someone else is not theirs, yet it is where they asked
        // to be answered (never marketed to); a reply from it later proves who they are (see `ingest`).
        for row in try Row.fetchAll(db, sql: """
            SELECT email, created_at FROM webchat_visitor WHERE customer_id = ? AND email IS NOT NULL ORDER BY created_at DESC
            """, arguments: [customer.id]) where !identities.contains(where: { $0.channel == .email && $0.address == row["email"] }) {
            identities.append(Identity(channel: .email, address: row["email"], customerId: customer.id, verified: false, createdAt: row["created_at"]))
        }
        var consents: [ConsentRecord] = []
        for identity in identities { consents += try latestConsents(identity.channel, identity.address, db: db) }
        return DeliveryRequest(
            purpose: purpose, timeZone: customer.timeZone.flatMap(TimeZone.init(identifier:)), identities: identities,
            consents: consents, preferences: try preferences ?? Self.preferences(of: customer.id, db: db),
            conversationChannel: conversationChannel, failedChannels: failedChannels, recentMarketing: []
        )
    }

    static func preferences(of customerId: String, db: Database) throws -> [ChannelPreference] {
        try Row.fetchAll(db, sql: "SELECT * FROM channel_preference WHERE customer_id = ? ORDER BY id", arguments: [customerId]).compactMap(preference(from:))
    }

    /// A stored preference row, nil when it does not decode.
    static func preference(from row: Row) -> ChannelPreference? {
        guard let scope = PreferenceScope(rawValue: row["scope"]),
              let channels = try? JSONDecoder().decode([Channel].self, from: Data((row["channels"] as String).utf8)) else { return nil }
        return ChannelPreference(scope: scope, channels: channels, validFrom: row["valid_from"], validUntil: row["valid_until"])
    }

    public func preferences(customerId: String) async throws -> [ChannelPreference] {
        try await read { db in
            guard try Customer.exists(db, key: customerId) else { throw HubError.notFound("customer", customerId) }
            return try Self.preferences(of: customerId, db: db)
        }
    }

    public func setPreferences(customerId: String, _ preferences: [ChannelPreference]) async throws -> [ChannelPreference] {
        try ChannelPreference.validate(preferences)
        let now = self.now()
        return try await write { db in
            guard var customer = try Customer.fetchOne(db, key: customerId) else { throw HubError.notFound("customer", customerId) }
            try db.execute(sql: "DELETE FROM channel_preference WHERE customer_id = ?", arguments: [customerId])
            for preference in preferences {
                try db.execute(sql: """
                    INSERT INTO channel_preference (customer_id, scope, channels, valid_from, valid_until) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [customerId, preference.scope.rawValue, String(decoding: try JSONEncoder().encode(preference.channels), as: UTF8.self),
                                     preference.validFrom, preference.validUntil])
            }
            customer.updatedAt = now
            try customer.update(db, columns: ["updated_at"])
            try appendEvent(db, .customerUpdated, data: customer, customerId: customerId, at: now)
            return preferences
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
            try Self.insertConsent(record, db: db)
        }
    }

    /// Appends one entry to the ledger, and its event, in the caller's transaction.
    static func insertConsent(_ record: ConsentRecord, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO consent (customer_id, channel, address, purpose, state, source, evidence, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [record.customerId, record.channel.rawValue, record.address, record.purpose.rawValue,
                                     record.state.rawValue, record.source.rawValue, record.evidence, record.createdAt])
        try appendEvent(db, .consentRecorded, data: record, customerId: record.customerId, at: record.createdAt)
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
        let planner = self.planner
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
            // Undelivered or bounced: the customer gets it on their next channel, once.
            if [.failed, .undelivered, .bounced].contains(next) { try Self.fallBack(from: message, planner: planner, db: db, now: now) }
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
