import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func claimOutbox(now: Date, owner: String, lease: Duration, limit: Int) async throws -> [OutboxItem] {
        let leaseUntil = now.addingTimeInterval(Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18)
        return try await write { db in
            let rows = try Row.fetchAll(db, sql: """
                UPDATE outbox SET reclaimed = reclaimed + (state = 'sending'), state = 'sending', lease_owner = ?, lease_until = ?,
                    attempts = attempts + 1, updated_at = ?
                WHERE id IN (
                    SELECT id FROM outbox
                    WHERE (state = 'queued' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until <= ?)
                    ORDER BY next_attempt_at LIMIT ?)
                RETURNING id, payload, attempts
                """, arguments: [owner, leaseUntil, now, now, now, limit])
            let decoder = JSONDecoder.hub()
            var items = try rows.map { row in
                let payload: String = row["payload"]
                return OutboxItem(id: row["id"], delivery: try decoder.decode(OutboundDelivery.self, from: Data(payload.utf8)), attempt: row["attempts"])
            }.sorted { $0.id < $1.id }
            // A campaign's payload leaves the body to its message row, so a million copies are not stored twice.
            let bodiless = items.indices.filter { items[$0].delivery.text.isEmpty }
            if !bodiless.isEmpty {
                var bodies: [String: (String, String?)] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT id, text, html FROM message WHERE id IN (SELECT value FROM json_each(?))",
                                            arguments: [String(decoding: try JSONEncoder().encode(bodiless.map { items[$0].delivery.messageId }), as: UTF8.self)]) {
                    bodies[row[0]] = (row[1], row[2])
                }
                for index in bodiless {
                    guard let (text, html) = bodies[items[index].delivery.messageId] else { continue }
                    items[index].delivery.text = text
                    items[index].delivery.html = html
                }
            }
            return items
        }
    }

    public func outboxSent(_ item: OutboxItem, receipt: SendReceipt) async throws {
        let now = self.now()
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'sent', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = ? WHERE \(Self.leaseHeld)",
                           arguments: [now, item.id, item.attempt])
            guard db.changesCount > 0 else { return }
            try Self.updateMessage(item.delivery.messageId, db: db, now: now) { message in
                // A provider's receipt may have come first: `delivered` stays.
                message.deliveryState = message.deliveryState.advanced(to: .sent)
                message.providerMessageId = receipt.providerMessageId
                message.error = nil
            }
        }
    }

    public func outboxRetry(_ item: OutboxItem, at retryAt: Date, reason: String) async throws {
        let now = self.now()
        try await write { db in
            try db.execute(sql: """
                UPDATE outbox SET state = 'queued', lease_owner = NULL, lease_until = NULL, next_attempt_at = ?, last_error = ?, updated_at = ?
                WHERE \(Self.leaseHeld)
                """, arguments: [retryAt, reason, now, item.id, item.attempt])
            guard db.changesCount > 0 else { return }
            try Self.updateMessage(item.delivery.messageId, db: db, now: now) { message in
                message.deliveryState = .queued
                message.error = reason
            }
        }
    }

    public func outboxFailed(_ item: OutboxItem, reason: String) async throws {
        let now = self.now()
        let planner = self.planner
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'dead', lease_owner = NULL, lease_until = NULL, last_error = ?, updated_at = ? WHERE \(Self.leaseHeld)",
                           arguments: [reason, now, item.id, item.attempt])
            guard db.changesCount > 0 else { return }
            let failed = try Self.updateMessage(item.delivery.messageId, db: db, now: now) { message in
                message.deliveryState = .failed
                message.error = reason
            }
            if let failed { try Self.fallBack(from: failed, planner: planner, db: db, now: now) }
        }
    }

    public func nextOutboxDue() async throws -> Date? {
        try await read { db in
            try Date.fetchOne(db.cachedStatement(sql: """
                SELECT MIN(due) FROM (
                    SELECT MIN(next_attempt_at) AS due FROM outbox WHERE state = 'queued'
                    UNION ALL SELECT MIN(lease_until) FROM outbox WHERE state = 'sending') AS dues
                """))
        }
    }

    /// The row is still this claim's: not taken over since (a later claim raises `attempts`).
    private static let leaseHeld = "id = ? AND state = 'sending' AND attempts = ?"

    @discardableResult
    private static func updateMessage(_ id: String, db: Database, now: Date, _ change: (inout Message) -> Void) throws -> Message? {
        guard var message = try Message.fetchOne(db, key: id) else { return nil }
        change(&message)
        message.updatedAt = now
        try message.update(db)
        let conversation = try Conversation.fetchOne(db, key: message.conversationId)
        try appendEvent(db, .messageUpdated, data: message, conversation: conversation, at: now)
        return message
    }
}
