import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func customers(query: String?, _ request: PageRequest) async throws -> Page<Customer> {
        try await read { db in
            var sql = "SELECT * FROM customer WHERE 1 = 1"
            var arguments: StatementArguments = []
            if let query, !query.isEmpty {
                let pattern = "%" + query.replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                sql += """
                     AND (name LIKE ? ESCAPE '\\' OR id IN (SELECT customer_id FROM identity WHERE address LIKE ? ESCAPE '\\'))
                    """
                arguments += [pattern, pattern]
            }
            if let cursor = request.cursor {
                sql += " AND id < ?"
                arguments += [cursor]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments += [request.limit + 1]
            return page(try Customer.fetchAll(db, sql: sql, arguments: arguments), limit: request.limit, id: \.id)
        }
    }

    public func customer(id: String) async throws -> Customer {
        try await read { db in
            guard let customer = try Customer.fetchOne(db, key: id) else { throw HubError.notFound("customer", id) }
            return customer
        }
    }

    public func updateCustomer(id: String, _ patch: CustomerPatch) async throws -> Customer {
        let patch = try patch.validated()
        let now = self.now()
        return try await write { db in
            guard var customer = try Customer.fetchOne(db, key: id) else { throw HubError.notFound("customer", id) }
            if let name = patch.name { customer.name = name.isEmpty ? nil : name }
            if let attributes = patch.attributes { customer.attributes = attributes }
            if let tags = patch.tags { customer.tags = tags }
            if let timeZone = patch.timeZone { customer.timeZone = timeZone }
            if let locale = patch.locale { customer.locale = locale }
            if let tier = patch.tier { customer.tier = tier.rawValue }
            if let manager = patch.accountManagerId {
                if !manager.isEmpty, try !Agent.exists(db, key: manager) {
                    throw HubError.unprocessable("unknown_agent", "No agent with id '\(manager)'.")
                }
                customer.accountManagerId = manager.isEmpty ? nil : manager
            }
            customer.updatedAt = now
            try customer.update(db)
            try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
            return customer
        }
    }

    public func customerActivity(tiers: [CustomerTier], windowDays: Int, now: Date) async throws -> [CustomerActivity] {
        guard !tiers.isEmpty else { return [] }
        let recentStart = now.addingTimeInterval(-Double(windowDays) * 86_400)
        let previousStart = recentStart.addingTimeInterval(-Double(windowDays) * 86_400)
        return try await read { db in
            let marks = Array(repeating: "?", count: tiers.count).joined(separator: ",")
            var arguments = StatementArguments([recentStart, recentStart, previousStart])
            arguments += StatementArguments(tiers.map(\.rawValue))
            return try Row.fetchAll(db, sql: """
                SELECT customer.id, customer.name, customer.tier, MAX(message.created_at) AS last_contact,
                       SUM(CASE WHEN message.created_at >= ? THEN 1 ELSE 0 END) AS recent,
                       SUM(CASE WHEN message.created_at < ? AND message.created_at >= ? THEN 1 ELSE 0 END) AS previous
                FROM customer
                LEFT JOIN conversation ON conversation.customer_id = customer.id
                LEFT JOIN message ON message.conversation_id = conversation.id AND message.direction = 'inbound'
                WHERE customer.tier IN (\(marks))
                GROUP BY customer.id, customer.name, customer.tier
                """, arguments: arguments).map { row in
                CustomerActivity(
                    customerId: row["id"], name: row["name"], tier: CustomerTier(stored: row["tier"]), lastContactAt: row["last_contact"],
                    recentContacts: row["recent"] ?? 0, previousContacts: row["previous"] ?? 0
                )
            }
        }
    }

    public func identities(customerId: String) async throws -> [Identity] {
        try await read { db in
            guard try Customer.exists(db, key: customerId) else { throw HubError.notFound("customer", customerId) }
            return try Identity.filter(Column("customer_id") == customerId).order(Column("created_at")).fetchAll(db)
        }
    }

    public func addIdentity(customerId: String, channel: Channel, address: String) async throws -> Identity {
        let address = try Address.normalize(address, on: channel, field: "address")
        let now = self.now()
        return try await write { db in
            guard var customer = try Customer.fetchOne(db, key: customerId) else { throw HubError.notFound("customer", customerId) }
            if let existing = try Identity.fetchOne(db, key: ["channel": channel.rawValue, "address": address]) {
                guard existing.customerId == customerId else {
                    throw HubError.conflict("identity_taken", "The \(channel.rawValue) address \(address) belongs to another customer.")
                }
                return existing
            }
            let identity = Identity(channel: channel, address: address, customerId: customerId, verified: false, createdAt: now)
            try identity.insert(db)
            customer.updatedAt = now
            try customer.update(db, columns: ["updated_at"])
            try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
            return identity
        }
    }

    public func mergeCustomers(survivorId: String, mergedId: String) async throws -> CustomerMerge {
        guard survivorId != mergedId else { throw HubError.unprocessable("same_customer", "A customer cannot be merged into itself.") }
        let now = self.now()
        return try await write { db in try Self.merge(mergedId, into: survivorId, reason: .manual, db: db, now: now) }
    }

    /// Moves everything of `mergedId` to `survivorId` and removes it; the one way customers become one.
    static func merge(_ mergedId: String, into survivorId: String, reason: MergeReason, evidence: String? = nil,
                      db: Database, now: Date) throws -> CustomerMerge {
        guard let survivor = try Customer.fetchOne(db, key: survivorId) else { throw HubError.notFound("customer", survivorId) }
        guard let merged = try Customer.fetchOne(db, key: mergedId) else { throw HubError.notFound("customer", mergedId) }
        var customer = survivor.merging(merged)
        customer.updatedAt = now
        for table in ["identity", "conversation", "consent", "webchat_visitor"] {
            try db.execute(sql: "UPDATE \(table) SET customer_id = ? WHERE customer_id = ?", arguments: [survivorId, mergedId])
        }
        try db.execute(sql: "UPDATE message SET author_id = ? WHERE author_kind = 'customer' AND author_id = ?", arguments: [survivorId, mergedId])
        // A campaign both were in keeps one line: the survivor is not planned again for it.
        try db.execute(sql: "UPDATE OR IGNORE campaign_recipient SET customer_id = ? WHERE customer_id = ?", arguments: [survivorId, mergedId])
        // The survivor's stated preferences win; the merged customer's are kept only when it has none.
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM channel_preference WHERE customer_id = ?", arguments: [survivorId]) == 0 {
            try db.execute(sql: "UPDATE channel_preference SET customer_id = ? WHERE customer_id = ?", arguments: [survivorId, mergedId])
        } else {
            try db.execute(sql: "DELETE FROM channel_preference WHERE customer_id = ?", arguments: [mergedId])
        }
        try db.execute(sql: "DELETE FROM customer WHERE id = ?", arguments: [mergedId])
        // The external id moves with the profile; the unique index allows it only once the merged row is gone.
        try customer.update(db)
        let result = CustomerMerge(customer: customer, mergedId: mergedId, reason: reason, evidence: evidence)
        try appendEvent(db, .customerMerged, data: result, customerId: survivorId, at: now)
        return result
    }

    /// Whether nothing but a web chat session vouches for who the customer is: no verified identity
    /// of its own. Only such a customer is merged automatically into one a verified identity names.
    static func isAnonymous(_ customerId: String, db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM identity WHERE customer_id = ? AND verified
            AND NOT (channel = 'webchat' AND address IN (SELECT id FROM webchat_visitor))
            """, arguments: [customerId]) == 0
    }
}
