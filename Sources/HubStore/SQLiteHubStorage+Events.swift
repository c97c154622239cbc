import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func events(after id: Int64, scope: AccessScope, limit: Int) async throws -> [HubEvent] {
        try await read { db in
            switch scope {
            case .all:
                return try HubEvent.fetchAll(db, sql: "SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, limit])
            case .own(let agentId, let teamIds):
                let teams = teamIds.isEmpty ? "" : " OR team_id IN (\(databaseQuestionMarks(count: teamIds.count)))"
                var arguments: StatementArguments = [id, agentId]
                arguments += StatementArguments(teamIds)
                arguments += [limit]
                return try HubEvent.fetchAll(db, sql: """
                    SELECT * FROM event WHERE id > ? AND (conversation_id IS NULL OR assignee_id = ?\(teams))
                    ORDER BY id LIMIT ?
                    """, arguments: arguments)
            }
        }
    }

    public func latestEventId() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM event") ?? 0 }
    }
}

/// The event log's encoder, made once: making one per event costs more than the encoding.
private let eventEncoder = JSONEncoder.hub()

/// Appends one event in the caller's transaction, carrying the conversation's visibility.
func appendEvent(
    _ db: Database, _ type: EventType, data: some Encodable, conversation: Conversation? = nil,
    customerId: String? = nil, agentId: String? = nil, at now: Date
) throws {
    let json = String(decoding: try eventEncoder.encode(data), as: UTF8.self)
    try db.cachedStatement(sql: """
        INSERT INTO event (type, conversation_id, customer_id, agent_id, team_id, assignee_id, data, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """).execute(
        arguments: [type.rawValue, conversation?.id, customerId ?? conversation?.customerId, agentId,
                    conversation?.teamId, conversation?.assigneeId, json, now]
    )
}

/// Turns a fetched `limit + 1` rows into a page whose cursor is the last item's id.
func page<Item: Codable & Sendable>(_ rows: [Item], limit: Int, id: (Item) -> String) -> Page<Item> {
    guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
    let items = Array(rows.prefix(limit))
    return Page(items: items, nextCursor: items.last.map(id))
}
