import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    /// After an outbound message failed for good (refused, undelivered, bounced, out of attempts): the same
    /// content is queued once on the next channel of the customer's plan, skipping every channel this message
    /// already tried, in the caller's transaction. Nothing is queued when the plan has no channel left.
    static func fallBack(from failed: Message, planner: DeliveryPlanner, db: Database, now: Date) throws {
        // A campaign's copy was rendered for its channel and is counted by its campaign: it never falls back.
        guard failed.direction == .outbound, failed.kind == .message, failed.authorKind != .campaign,
              let payload = try String.fetchOne(db, sql: "SELECT payload FROM outbox WHERE message_id = ?", arguments: [failed.id]),
              let delivery = try? JSONDecoder.hub().decode(OutboundDelivery.self, from: Data(payload.utf8)),
              delivery.purpose != .system,
              var conversation = try Conversation.fetchOne(db, key: failed.conversationId),
              let customer = try Customer.fetchOne(db, key: conversation.customerId) else { return }
        let root = failed.fallbackOf ?? failed.id
        // One fallback per failure: a later message of the chain means this failure was already handled.
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM message WHERE fallback_of = ? AND id > ?", arguments: [root, failed.id]) == 0 else { return }
        let tried = Set(try String.fetchAll(db, sql: "SELECT DISTINCT channel FROM message WHERE id = ? OR fallback_of = ?", arguments: [root, root])
            .compactMap(Channel.init(rawValue:)))
        let request = try deliveryRequest(customer: customer, purpose: delivery.purpose, conversationChannel: conversation.channel,
                                          failedChannels: tried, db: db, now: now)
        guard case .send(let deliveries, let notBefore) = planner.plan(request, now: now), let next = deliveries.first else { return }
        var message = Message(
            id: HubID.make("msg", now: now), conversationId: conversation.id, direction: .outbound, authorKind: failed.authorKind,
            authorId: failed.authorId, channel: next.channel, text: failed.text, html: failed.html, attachments: failed.attachments,
            deliveryState: .queued, fallbackOf: root, createdAt: now, updatedAt: now
        )
        try queue(&message, in: &conversation, purpose: delivery.purpose, notBefore: notBefore, to: next, db: db, now: now)
    }

    public func expireUnreported(sentBefore cutoff: Date) async throws -> [Message] {
        let now = self.now()
        let planner = self.planner
        let channels = Channel.allCases.filter(\.reportsDelivery).map(\.rawValue)
        return try await write { db in
            // Still `sent` (no receipt), not given up on before (that sets the error), and not already followed by a fallback.
            let stale = try Message.fetchAll(db, sql: """
                SELECT * FROM message AS m
                WHERE m.direction = 'outbound' AND m.kind = 'message' AND m.delivery_state = 'sent' AND m.error IS NULL AND m.updated_at < ?
                  AND m.channel IN (\(databaseQuestionMarks(count: channels.count)))
                  AND NOT EXISTS (SELECT 1 FROM message AS f WHERE f.fallback_of = COALESCE(m.fallback_of, m.id) AND f.id > m.id)
                ORDER BY m.id LIMIT 500
                """, arguments: StatementArguments([cutoff]) + StatementArguments(channels))
            var expired: [Message] = []
            for var message in stale {
                message.error = "no delivery report within \(Int(now.timeIntervalSince(message.updatedAt))) s"
                message.updatedAt = now
                try message.update(db, columns: ["error", "updated_at"])
                try appendEvent(db, .messageUpdated, data: message, conversation: try Conversation.fetchOne(db, key: message.conversationId), at: now)
                try Self.fallBack(from: message, planner: planner, db: db, now: now)
                expired.append(message)
            }
            return expired
        }
    }
}
