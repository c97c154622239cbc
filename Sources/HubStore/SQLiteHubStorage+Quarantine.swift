import Foundation
import GRDB
import HubCore

extension SQLiteHubStorage {
    public func quarantine(channel: Channel, reason: String, raw: [UInt8]) async throws -> QuarantinedMessage {
        let now = self.now()
        let item = QuarantinedMessage(id: HubID.make("qua", now: now), channel: channel, reason: String(reason.prefix(1_000)),
                                      size: raw.count, receivedAt: now)
        return try await write { db in
            try db.execute(sql: "INSERT INTO quarantine (id, channel, reason, raw, size, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [item.id, item.channel.rawValue, item.reason, Data(raw), item.size, now])
            try appendEvent(db, .messageQuarantined, data: item, at: now)
            return item
        }
    }

    public func quarantined(_ request: PageRequest) async throws -> Page<QuarantinedMessage> {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, channel, reason, size, received_at FROM quarantine WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?
                """, arguments: [request.cursor, request.cursor, request.limit + 1])
            let items = rows.compactMap { row -> QuarantinedMessage? in
                guard let channel = Channel(rawValue: row["channel"]) else { return nil }
                return QuarantinedMessage(id: row["id"], channel: channel, reason: row["reason"], size: row["size"], receivedAt: row["received_at"])
            }
            return page(items, limit: request.limit, id: \.id)
        }
    }

    public func quarantinedRaw(id: String) async throws -> [UInt8]? {
        try await read { db in
            try Data.fetchOne(db, sql: "SELECT raw FROM quarantine WHERE id = ?", arguments: [id]).map { [UInt8]($0) }
        }
    }

    public func pollCursor(_ key: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM poll_cursor WHERE key = ?", arguments: [key]) }
    }

    public func setPollCursor(_ key: String, _ value: String) async throws {
        let now = self.now()
        try await write { db in
            try db.execute(sql: """
                INSERT INTO poll_cursor (key, value, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, arguments: [key, value, now])
        }
    }
}
