import Foundation
import HubCore
import HubStore
import Synchronization

/// A clock the test moves by hand. The store reads it from its own tasks, so it is behind a lock.
final class TestClock: Sendable {
    /// 2026-01-01T00:00:00Z: whole seconds, so dates survive the store's millisecond precision exactly.
    static let start = Date(timeIntervalSince1970: 1_767_225_600)

    private let current: Mutex<Date>

    init(_ start: Date = TestClock.start) {
        current = Mutex(start)
    }

    func now() -> Date {
        current.withLock { $0 }
    }

    func advance(by seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

/// A fresh database file that no other test uses.
func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(UUID().uuidString).sqlite").path
}

/// A store on its own temporary file, reading time from `clock`. Close it with `await store.close()`.
func makeStore(at path: String = temporaryDatabasePath(), now clock: TestClock = TestClock()) throws -> SQLiteHubStorage {
    try SQLiteHubStorage(path: path, now: { clock.now() })
}

/// An inbound message as an adapter would hand it over.
func inbound(
    from: String, text: String = "Hello", channel: Channel = .email, name: String? = nil, externalId: String? = nil,
    threadHints: [String] = [], at receivedAt: Date = TestClock.start
) -> InboundMessage {
    InboundMessage(channel: channel, from: from, name: name, text: text, externalId: externalId, threadHints: threadHints,
                   receivedAt: receivedAt)
}

/// Every message of a conversation, walking all pages.
func allMessages(of conversationId: String, in store: SQLiteHubStorage) async throws -> [Message] {
    var messages: [Message] = []
    var cursor: String?
    repeat {
        let page = try await store.messages(conversationId: conversationId, PageRequest(cursor: cursor, limit: PageRequest.maxLimit))
        messages += page.items
        cursor = page.nextCursor
    } while cursor != nil
    return messages
}

/// Every conversation visible in `scope`, walking all pages (newest first).
func allConversations(in store: SQLiteHubStorage, scope: AccessScope = .all) async throws -> [Conversation] {
    var conversations: [Conversation] = []
    var cursor: String?
    repeat {
        let page = try await store.conversations(ConversationFilter(), scope: scope, PageRequest(cursor: cursor, limit: PageRequest.maxLimit))
        conversations += page.items
        cursor = page.nextCursor
    } while cursor != nil
    return conversations
}

/// Whether every value is greater than the one before it.
func isStrictlyIncreasing<T: Comparable>(_ values: [T]) -> Bool {
    zip(values, values.dropFirst()).allSatisfy { $0 < $1 }
}

/// Decodes an event's `data` as the store encodes it (ISO 8601 dates).
func decodeEventData<T: Decodable>(_ type: T.Type, from event: HubEvent) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(type, from: Data(event.data.utf8))
}
