import Foundation
import HubCore
@testable import HubStore
import Testing

@Suite("Durability")
struct DurabilityTests {
    @Test("the writer commits with synchronous = FULL, so a commit is on disk before it returns")
    func writerIsFullySynchronous() async throws {
        let path = temporaryDatabasePath()
        let store = try makeStore(at: path)
        // 2 is FULL; GRDB's own WAL setup would leave the writer at NORMAL (1).
        let level = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(level == 2)
        await store.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test("a store reopened on the same file has every message, and event ids go on increasing")
    func reopen() async throws {
        let clock = TestClock()
        let path = temporaryDatabasePath()

        let first = try makeStore(at: path, now: clock)
        let results = try await withThrowingTaskGroup(of: IngestResult.self, returning: [IngestResult].self) { group in
            for index in 0..<50 {
                let message = inbound(from: "durable\(index % 5)@example.com", text: "note \(index)", channel: .api, externalId: "durable-\(index)")
                group.addTask { try await first.receive(message) }
            }
            var collected: [IngestResult] = []
            for try await result in group { collected.append(result) }
            return collected
        }
        let latestBefore = try await first.latestEventId()
        await first.close()

        // Closed: writes are refused, nothing half-done.
        await #expect(throws: (any Error).self) {
            try await first.receive(inbound(from: "late@example.com"))
        }

        let second = try makeStore(at: path, now: clock)
        for result in results {
            let message = try await second.message(id: result.messageId)
            #expect(message.conversationId == result.conversationId)
        }
        let conversations = try await allConversations(in: second)
        #expect(conversations.count == 5)
        var total = 0
        for conversation in conversations {
            total += try await allMessages(of: conversation.id, in: second).count
        }
        #expect(total == 50)
        let latestAfter = try await second.latestEventId()
        #expect(latestAfter == latestBefore)

        // Deduplication survives the restart too.
        let repeated = try await second.receive(inbound(from: "durable0@example.com", text: "note 0", channel: .api, externalId: "durable-0"))
        #expect(repeated.duplicate)

        let fresh = try await second.receive(inbound(from: "new@example.com", externalId: "after-reopen"))
        #expect(!fresh.duplicate)
        let newEvents = try await second.events(after: latestBefore, scope: .all, limit: 100)
        #expect(newEvents.count == 3)
        #expect(newEvents.allSatisfy { $0.id > latestBefore })

        await second.close()
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}
