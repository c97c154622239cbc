import Foundation
import GRDB
import HubCore

// The domain's values are stored as they are: columns in snake_case, nested values as JSON.

extension Customer: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "customer" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension Identity: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "identity" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension Team: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "team" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension Agent: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "agent" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension Conversation: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "conversation" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension Message: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "message" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension HubEvent: FetchableRecord, TableRecord {
    public static var databaseTableName: String { "event" }

    /// Read column by column: every event passes through the router and each open stream, and decoding rows
    /// through Codable (with its key conversion) cost more than the query.
    public init(row: Row) throws {
        guard let type = EventType(rawValue: row["type"]) else {
            throw DatabaseError(message: "event \(row["id"] as Int64? ?? 0) has an unknown type")
        }
        self.init(id: row["id"], type: type, conversationId: row["conversation_id"], customerId: row["customer_id"],
                  agentId: row["agent_id"], teamId: row["team_id"], assigneeId: row["assignee_id"], data: row["data"],
                  createdAt: row["created_at"])
    }
}

extension TokenRecord: FetchableRecord, TableRecord {
    public static var databaseTableName: String { "api_token" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}

extension Visitor: FetchableRecord, PersistableRecord, TableRecord {
    public static var databaseTableName: String { "webchat_visitor" }
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}

extension ConsentRecord: FetchableRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
}
