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

    static func ingest(_ inbound: InboundMessage, db: Database, now: Date) throws -> IngestResult {
        if let externalId = inbound.externalId,
           let existing = try Message.fetchOne(db, sql: "SELECT * FROM message WHERE channel = ? AND direction = 'inbound' AND external_id = ?",
                                               arguments: [inbound.channel.rawValue, externalId]) {
            let customerId = try String.fetchOne(db, sql: "SELECT customer_id FROM conversation WHERE id = ?", arguments: [existing.conversationId]) ?? ""
            return IngestResult(messageId: existing.id, conversationId: existing.conversationId, customerId: customerId, duplicate: true)
        }

        let customer = try resolveCustomer(inbound, db: db, now: now)
        var conversation = try findOrOpenConversation(for: customer, inbound, db: db, now: now)

        let message = Message(
            id: HubID.make("msg", now: now), conversationId: conversation.id, direction: .inbound, authorKind: .customer,
            authorId: customer.id, channel: inbound.channel, text: inbound.text, html: inbound.html,
            attachments: inbound.attachments, deliveryState: .received, externalId: inbound.externalId,
            createdAt: now, updatedAt: now
        )
        try message.insert(db)
        conversation.lastActivityAt = now
        conversation.updatedAt = now
        try conversation.update(db, columns: ["last_activity_at", "updated_at"])
        try appendEvent(db, .messageCreated, data: message, conversation: conversation, at: now)
        return IngestResult(messageId: message.id, conversationId: conversation.id, customerId: customer.id, duplicate: false)
    }

    /// The customer behind the sender's identity, created with that identity when new.
    private static func resolveCustomer(_ inbound: InboundMessage, db: Database, now: Date) throws -> Customer {
        if let identity = try Identity.fetchOne(db, key: ["channel": inbound.channel.rawValue, "address": inbound.from]),
           var customer = try Customer.fetchOne(db, key: identity.customerId) {
            if customer.name == nil, let name = inbound.name, !name.isEmpty {
                customer.name = name
                customer.updatedAt = now
                try customer.update(db, columns: ["name", "updated_at"])
                try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
            }
            return customer
        }
        let name = inbound.name.flatMap { $0.isEmpty ? nil : $0 }
        let customer = Customer(id: HubID.make("cus", now: now), name: name, createdAt: now, updatedAt: now)
        try customer.insert(db)
        try Identity(channel: inbound.channel, address: inbound.from, customerId: customer.id, verified: false, createdAt: now).insert(db)
        try appendEvent(db, .customerCreated, data: customer, customerId: customer.id, at: now)
        return customer
    }

    /// The conversation a message continues — a hinted one of the same customer, else the
    /// customer's latest unresolved one on the channel — or a new one.
    private static func findOrOpenConversation(for customer: Customer, _ inbound: InboundMessage, db: Database, now: Date) throws -> Conversation {
        var found: Conversation?
        for hint in inbound.threadHints {
            if let hinted = try Conversation.fetchOne(db, key: hint), hinted.customerId == customer.id {
                found = hinted
                break
            }
        }
        if found == nil {
            found = try Conversation.fetchOne(db, sql: """
                SELECT * FROM conversation WHERE customer_id = ? AND channel = ? AND status <> 'resolved'
                ORDER BY id DESC LIMIT 1
                """, arguments: [customer.id, inbound.channel.rawValue])
        }
        if var conversation = found {
            if conversation.status != .open {
                // A customer writing again brings the conversation back to the agents.
                conversation.status = .open
                conversation.snoozedUntil = nil
                conversation.resolvedAt = nil
                conversation.updatedAt = now
                try conversation.update(db)
                try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
            }
            return conversation
        }
        let conversation = Conversation(
            id: HubID.make("conv", now: now), customerId: customer.id, channel: inbound.channel,
            createdAt: now, updatedAt: now, lastActivityAt: now
        )
        try conversation.insert(db)
        try appendEvent(db, .conversationCreated, data: conversation, conversation: conversation, at: now)
        return conversation
    }
}
