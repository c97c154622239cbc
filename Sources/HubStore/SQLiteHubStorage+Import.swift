import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func importCustomers(_ rows: [CustomerImportRow], dryRun: Bool) async throws -> CustomerImportReport {
        let now = self.now()
        return try await write { db in
            var report = CustomerImportReport()
            // A dry run does all the work, then rolls it back: its report is exactly what an import would do.
            try db.inSavepoint {
                for row in rows { try Self.importRow(row, into: &report, db: db, now: now) }
                return dryRun ? .rollback : .commit
            }
            return report
        }
    }

    private static func importRow(_ row: CustomerImportRow, into report: inout CustomerImportReport, db: Database, now: Date) throws {
        let existing = try Customer.fetchOne(db.cachedStatement(sql: "SELECT * FROM customer WHERE external_id = ?"), arguments: [row.externalId])
        let addresses = [(Channel.email, row.email), (Channel.sms, row.phone)].compactMap { pair in pair.1.map { (pair.0, $0) } }
        for (channel, address) in addresses {
            if let owner = try String.fetchOne(db.cachedStatement(sql: "SELECT customer_id FROM identity WHERE channel = ? AND address = ?"),
                                               arguments: [channel.rawValue, address]), owner != existing?.id {
                report.rejected.append(ImportProblem(line: row.line, field: channel == .email ? "email" : "phone",
                                                     message: "\(address) belongs to another customer (\(owner))"))
                return
            }
        }
        var customer = existing ?? Customer(id: HubID.make("cus", now: now), externalId: row.externalId, createdAt: now, updatedAt: now)
        let before = customer
        if let name = row.name { customer.name = name }
        if let timeZone = row.timeZone { customer.timeZone = timeZone }
        if let locale = row.locale { customer.locale = locale }
        if !row.tags.isEmpty { customer.tags = row.tags }
        if let tier = row.tier {
            customer.tier = tier.rawValue
            // A tier someone set is theirs: the value tiers leave it alone.
            customer.attributes["valueSegment"] = nil
        }
        customer.attributes.merge(row.attributes) { _, new in new }
        // Written with prepared statements: encoding records through Codable costs more than the rest of an import.
        if existing == nil {
            try db.cachedStatement(sql: """
                INSERT INTO customer (id, name, attributes, tags, tier, time_zone, locale, external_id, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [customer.id, customer.name, try json(customer.attributes), try json(customer.tags), customer.tier,
                                         customer.timeZone, customer.locale, customer.externalId, storedDate(now), storedDate(now)])
            try appendEvent(db, .customerCreated, data: customer, customerId: customer.id, at: now)
            report.created += 1
        } else if customer != before {
            customer.updatedAt = now
            try db.cachedStatement(sql: """
                UPDATE customer SET name = ?, attributes = ?, tags = ?, tier = ?, time_zone = ?, locale = ?, updated_at = ? WHERE id = ?
                """).execute(arguments: [customer.name, try json(customer.attributes), try json(customer.tags), customer.tier,
                                         customer.timeZone, customer.locale, storedDate(now), customer.id])
            try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
            report.updated += 1
        } else {
            report.unchanged += 1
        }
        for (channel, address) in addresses {
            try db.cachedStatement(sql: """
                INSERT INTO identity (channel, address, customer_id, verified, created_at) VALUES (?, ?, ?, 0, ?)
                ON CONFLICT (channel, address) DO NOTHING
                """).execute(arguments: [channel.rawValue, address, customer.id, storedDate(now)])
        }
        for consent in row.consents {
            guard let address = consent.channel == .email ? row.email : row.phone else { continue }
            // Re-importing the same file records nothing new: only a change of state is an entry.
            let latest = try latestConsents(consent.channel, address, db: db).first { $0.purpose == consent.purpose }
            guard latest?.state != consent.state else { continue }
            let record = ConsentRecord(customerId: customer.id, channel: consent.channel, address: address, purpose: consent.purpose,
                                       state: consent.state, source: .import, evidence: "import, line \(row.line)", createdAt: now)
            try insertConsent(record, db: db)
        }
    }

    public func recomputeValueTiers(now: Date) async throws -> Int {
        try await write { db in
            var customers: [String: Customer] = [:]
            var purchases: [ValueTiers.Purchases] = []
            let cursor = try Customer.fetchCursor(db, sql: """
                SELECT * FROM customer WHERE attributes LIKE '%"revenue"%' OR attributes LIKE '%"orders"%' OR attributes LIKE '%"lastOrderAt"%'
                """)
            while let customer = try cursor.next() {
                guard let bought = ValueTiers.Purchases(customer) else { continue }
                customers[customer.id] = customer
                purchases.append(bought)
            }
            var changed = 0
            for (id, assessment) in ValueTiers.assess(purchases, now: now) {
                guard var customer = customers[id], ValueTiers.isComputed(customer) else { continue }
                let before = customer
                customer.tier = assessment.tier.rawValue
                customer.attributes["valueSegment"] = assessment.segment
                customer.attributes["rfm"] = assessment.rfm
                guard customer != before else { continue }
                customer.updatedAt = now
                try db.cachedStatement(sql: "UPDATE customer SET tier = ?, attributes = ?, updated_at = ? WHERE id = ?")
                    .execute(arguments: [customer.tier, try json(customer.attributes), storedDate(now), customer.id])
                try appendEvent(db, .customerUpdated, data: customer, customerId: customer.id, at: now)
                changed += 1
            }
            return changed
        }
    }

    public func exportCustomers(after cursor: String?, limit: Int) async throws -> [CustomerExport] {
        try await read { db in
            let customers = try Customer.fetchAll(db, sql: "SELECT * FROM customer WHERE id > ? ORDER BY id LIMIT ?", arguments: [cursor ?? "", limit])
            guard let first = customers.first?.id, let last = customers.last?.id else { return [] }
            let identities = Dictionary(grouping: try Identity.fetchAll(db, sql: """
                SELECT * FROM identity WHERE customer_id BETWEEN ? AND ? ORDER BY created_at
                """, arguments: [first, last]), by: \.customerId)
            let consents = Dictionary(grouping: try ConsentRecord.fetchAll(db, sql: """
                SELECT * FROM consent WHERE id IN (
                    SELECT MAX(id) FROM consent WHERE customer_id BETWEEN ? AND ? GROUP BY channel, address, purpose)
                """, arguments: [first, last]), by: \.customerId)
            return customers.map { CustomerExport(customer: $0, identities: identities[$0.id] ?? [], consents: consents[$0.id] ?? []) }
        }
    }
}

/// Nested values as the store keeps them: JSON with sorted keys, as GRDB writes a record's.
private let columnEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return encoder
}()

private func json(_ value: some Encodable) throws -> String {
    String(decoding: try columnEncoder.encode(value), as: UTF8.self)
}
