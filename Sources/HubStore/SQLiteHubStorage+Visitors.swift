import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func createVisitor(_ draft: VisitorDraft, tokenDigest: String) async throws -> Visitor {
        let draft = try draft.validated()
        let now = self.now()
        return try await write { db in
            var existingCustomer: String?
            var newIdentity: Identity?
            if let identifier = draft.verifiedIdentifier {
                let vouched = Self.vouchedIdentity(identifier, now: now)
                if let existing = try Identity.fetchOne(db, key: ["channel": vouched.channel.rawValue, "address": vouched.address]) {
                    existingCustomer = existing.customerId
                    // The host site vouched for it: from now on it is a verified identity.
                    try db.execute(sql: "UPDATE identity SET verified = ? WHERE channel = ? AND address = ?",
                                   arguments: [true, existing.channel.rawValue, existing.address])
                } else {
                    newIdentity = vouched
                }
            }
            let customer: String
            if let existingCustomer {
                customer = existingCustomer
            } else {
                let created = Customer(id: HubID.make("cus", now: now), name: draft.name, createdAt: now, updatedAt: now)
                try created.insert(db)
                try appendEvent(db, .customerCreated, data: created, customerId: created.id, at: now)
                customer = created.id
            }
            if var newIdentity {
                newIdentity.customerId = customer
                try newIdentity.insert(db)
            }
            let visitor = Visitor(id: HubID.make("vis", now: now), site: draft.site, customerId: customer, name: draft.name,
                                  email: draft.email, verified: draft.verifiedIdentifier != nil, createdAt: now)
            try Identity(channel: .webchat, address: visitor.id, customerId: customer, verified: visitor.verified, createdAt: now).insert(db)
            try db.execute(sql: """
                INSERT INTO webchat_visitor (id, token_digest, site, customer_id, name, email, verified, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [visitor.id, tokenDigest, visitor.site, customer, visitor.name, visitor.email, visitor.verified, now])
            if let email = draft.email { try Self.addEmailIdentity(email, customerId: customer, db: db, now: now) }
            return visitor
        }
    }

    public func visitor(tokenDigest: String) async throws -> Visitor? {
        try await read { db in
            try Visitor.fetchOne(db, sql: "SELECT * FROM webchat_visitor WHERE token_digest = ?", arguments: [tokenDigest])
        }
    }

    public func visitorTranscript(customerId: String, after: String?, limit: Int) async throws -> [Message] {
        try await read { db in
            try Message.fetchAll(db, sql: """
                SELECT message.* FROM message JOIN conversation ON conversation.id = message.conversation_id
                WHERE conversation.customer_id = ? AND conversation.channel = ? AND message.kind = ? AND message.id > ?
                ORDER BY message.id LIMIT ?
                """, arguments: [customerId, Channel.webchat.rawValue, MessageKind.message.rawValue, after ?? "", limit])
        }
    }

    public func identifyVisitor(visitorId: String, identifier: String) async throws -> Visitor {
        let identifier = try VisitorDraft(site: "", verifiedIdentifier: identifier).validated().verifiedIdentifier ?? identifier
        let now = self.now()
        return try await write { db in
            guard var visitor = try Visitor.fetchOne(db, key: visitorId) else { throw HubError.notFound("visitor", visitorId) }
            let vouched = Self.vouchedIdentity(identifier, now: now)
            let owner = try Identity.fetchOne(db, key: ["channel": vouched.channel.rawValue, "address": vouched.address])
            if owner?.customerId != visitor.customerId {
                // A session signed in as someone else is another person on the same browser: never joined.
                guard !visitor.verified else {
                    throw HubError.conflict("identity_conflict", "This chat session is signed in as someone else; start a new session.")
                }
                if let owner {
                    // Someone the hub knows: an anonymous visitor is that customer, signed in.
                    guard try Self.isAnonymous(visitor.customerId, db: db) else {
                        throw HubError.conflict("identity_conflict", "This identifier belongs to another customer; a supervisor can merge the two.")
                    }
                    _ = try Self.merge(visitor.customerId, into: owner.customerId, reason: .verifiedIdentity,
                                       evidence: "\(vouched.channel.rawValue):\(vouched.address)", db: db, now: now)
                    visitor.customerId = owner.customerId
                }
            }
            try db.execute(sql: """
                INSERT INTO identity (channel, address, customer_id, verified, created_at) VALUES (?, ?, ?, 1, ?)
                ON CONFLICT (channel, address) DO UPDATE SET verified = 1
                """, arguments: [vouched.channel.rawValue, vouched.address, visitor.customerId, now])
            try db.execute(sql: "UPDATE identity SET verified = 1 WHERE channel = ? AND address = ?",
                           arguments: [Channel.webchat.rawValue, visitor.id])
            try db.execute(sql: "UPDATE webchat_visitor SET verified = 1 WHERE id = ?", arguments: [visitor.id])
            visitor.verified = true
            if let customer = try Customer.fetchOne(db, key: visitor.customerId) {
                try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
            }
            return visitor
        }
    }

    public func setVisitorEmail(visitorId: String, email: String) async throws -> Visitor {
        let email = try Address.normalize(email, on: .email, field: "email")
        let now = self.now()
        return try await write { db in
            guard var visitor = try Visitor.fetchOne(db, key: visitorId) else { throw HubError.notFound("visitor", visitorId) }
            visitor.email = email
            try db.execute(sql: "UPDATE webchat_visitor SET email = ? WHERE id = ?", arguments: [email, visitorId])
            try Self.addEmailIdentity(email, customerId: visitor.customerId, db: db, now: now)
            return visitor
        }
    }

    public func visitorLeft(visitorId: String) async throws -> Conversation? {
        let now = self.now()
        return try await write { db in
            guard let visitor = try Visitor.fetchOne(db, key: visitorId) else { throw HubError.notFound("visitor", visitorId) }
            try db.execute(sql: "UPDATE webchat_visitor SET left_at = ? WHERE id = ?", arguments: [now, visitorId])
            guard var conversation = try Conversation.fetchOne(db, sql: """
                SELECT * FROM conversation WHERE customer_id = ? AND channel = ? AND status <> ?
                AND first_response_at IS NULL AND abandoned_at IS NULL ORDER BY id DESC LIMIT 1
                """, arguments: [visitor.customerId, Channel.webchat.rawValue, ConversationStatus.resolved.rawValue]) else { return nil }
            conversation.abandonedAt = now
            conversation.updatedAt = now
            try conversation.update(db, columns: ["abandoned_at", "updated_at"])
            try appendEvent(db, .conversationUpdated, data: conversation, conversation: conversation, at: now)
            return conversation
        }
    }

    public func availableAgentCount() async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM agent WHERE presence = ?", arguments: [Presence.available.rawValue]) ?? 0
        }
    }

    /// The identity a host site's identifier stands for: an email address as itself, anything else as a site user id.
    private static func vouchedIdentity(_ identifier: String, now: Date) -> Identity {
        if identifier.contains("@"), let email = try? Address.normalize(identifier, on: .email) {
            return Identity(channel: .email, address: email, customerId: "", verified: true, createdAt: now)
        }
        return Identity(channel: .webchat, address: "user:" + identifier, customerId: "", verified: true, createdAt: now)
    }

    /// Adds `email` to the customer's identities unless it already belongs to someone: an address
    /// typed into a chat form is not proof enough to move it from another customer.
    private static func addEmailIdentity(_ email: String, customerId: String, db: Database, now: Date) throws {
        try db.execute(sql: """
            INSERT INTO identity (channel, address, customer_id, verified, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, arguments: [Channel.email.rawValue, email, customerId, false, now])
        guard db.changesCount > 0, let customer = try Customer.fetchOne(db, key: customerId) else { return }
        try appendEvent(db, .customerUpdated, data: customer, customerId: customerId, at: now)
    }
}
