import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    /// The router, the web chat fan-out and every stream read here after each commit: the statements
    /// are prepared once per connection.
    public func events(after id: Int64, scope: AccessScope, limit: Int) async throws -> [HubEvent] {
        try await read { db in
            switch scope {
            case .all:
                return try HubEvent.fetchAll(db.cachedStatement(sql: "SELECT * FROM event WHERE id > ? ORDER BY id LIMIT ?"), arguments: [id, limit])
            case .own(let agentId, let teamIds):
                let teams = teamIds.isEmpty ? "" : " OR team_id IN (\(databaseQuestionMarks(count: teamIds.count)))"
                var arguments: StatementArguments = [id, agentId]
                arguments += StatementArguments(teamIds)
                arguments += [limit]
                return try HubEvent.fetchAll(db.cachedStatement(sql: """
                    SELECT * FROM event WHERE id > ? AND (conversation_id IS NULL OR assignee_id = ?\(teams))
                    ORDER BY id LIMIT ?
                    """), arguments: arguments)
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

/// `date` as GRDB stores it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC), written digit by digit: GRDB's own
/// conversion goes through `DateFormatter` (ICU), which cost more than the rest of a small insert.
/// Rounded to the millisecond as that formatter rounds (a test compares the two).
func storedDate(_ date: Date) -> DatabaseValue {
    let millis = Int64(((date.timeIntervalSinceReferenceDate + Date.timeIntervalBetween1970AndReferenceDate) * 1000 + 0.5).rounded(.down))
    let day = millis >= 0 ? millis / 86_400_000 : (millis - 86_399_999) / 86_400_000
    let msOfDay = millis - day * 86_400_000
    // Days since 1970 to the civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = day + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let shiftedMonth = (5 * dayOfYear + 2) / 153
    let dayOfMonth = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
    let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)

    var text = [UInt8](repeating: 0, count: 23)
    func put(_ value: Int64, at start: Int, width: Int) {
        var value = value
        for index in stride(from: start + width - 1, through: start, by: -1) {
            text[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
    }
    put(year, at: 0, width: 4)
    put(month, at: 5, width: 2)
    put(dayOfMonth, at: 8, width: 2)
    put(msOfDay / 3_600_000, at: 11, width: 2)
    put(msOfDay / 60_000 % 60, at: 14, width: 2)
    put(msOfDay / 1000 % 60, at: 17, width: 2)
    put(msOfDay % 1000, at: 20, width: 3)
    for (index, separator) in [(4, "-"), (7, "-"), (10, " "), (13, ":"), (16, ":"), (19, ".")] as [(Int, Unicode.Scalar)] {
        text[index] = UInt8(ascii: separator)
    }
    return String(decoding: text, as: UTF8.self).databaseValue
}

/// Turns a fetched `limit + 1` rows into a page whose cursor is the last item's id.
func page<Item: Codable & Sendable>(_ rows: [Item], limit: Int, id: (Item) -> String) -> Page<Item> {
    guard rows.count > limit else { return Page(items: rows, nextCursor: nil) }
    let items = Array(rows.prefix(limit))
    return Page(items: items, nextCursor: items.last.map(id))
}
