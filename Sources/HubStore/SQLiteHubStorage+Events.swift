import Foundation
import GRDB
import HubCore
import Synchronization

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

    /// Answered from memory: the signal advances after each commit, before its writers resume,
    /// so every event up to this id is committed and visible to readers.
    public func latestEventId() async throws -> Int64 {
        signal.latest
    }
}

/// The event log's encoder, made once: making one per event costs more than the encoding.
private let eventEncoder = JSONEncoder.hub()

/// Appends one event in the caller's transaction, carrying the conversation's visibility.
func appendEvent(
    _ db: Database, _ type: EventType, data: some Encodable, conversation: Conversation? = nil,
    customerId: String? = nil, agentId: String? = nil, at now: Date
) throws {
    try appendEvent(
        db, type, data: data, conversation: conversation.map { ConversationRef(id: $0.id, customerId: $0.customerId, teamId: $0.teamId, assigneeId: $0.assigneeId) },
        customerId: customerId, agentId: agentId, at: now
    )
}

/// Appends one event for a conversation known by its reference only (the ingestion hot path).
func appendEvent(
    _ db: Database, _ type: EventType, data: some Encodable, conversation: ConversationRef?,
    customerId: String? = nil, agentId: String? = nil, at now: Date
) throws {
    let json = String(decoding: try eventEncoder.encode(data), as: UTF8.self)
    try db.cachedStatement(sql: """
        INSERT INTO event (type, conversation_id, customer_id, agent_id, team_id, assignee_id, data, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """).execute(
        arguments: [type.rawValue, conversation?.id, customerId ?? conversation?.customerId, agentId,
                    conversation?.teamId, conversation?.assigneeId, json, storedDate(now)]
    )
}

/// What an event needs of its conversation: who it belongs to and who may see it.
struct ConversationRef {
    let id: String
    let customerId: String
    let teamId: String?
    let assigneeId: String?
}

/// The last date converted to its stored form: a write uses one `now` for all its columns, and
/// GRDB's conversion goes through `DateFormatter`, the costliest step of a small insert.
private let lastStoredDate = Mutex<(date: Date, value: DatabaseValue)?>(nil)

/// `date` as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC).
func storedDate(_ date: Date) -> DatabaseValue {
    if let last = lastStoredDate.withLock({ $0 }), last.date == date { return last.value }
    let value = date.databaseValue
    lastStoredDate.withLock { $0 = (date, value) }
    return value
}

/// Turns a fetched `limit + 1` rows into a page whose cursor is the last item's id.
func page<Item: Codable & Sendable>(_ rows: [Item], limit: Int, id: (Item) -> String) -> Page<Item> {
    guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
    let items = Array(rows.prefix(limit))
    return Page(items: items, nextCursor: items.last.map(id))
}
