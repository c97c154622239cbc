import Foundation
import HubCore
import HubStore
import Testing

/// The dispatcher and the snooze timer wake for commits that changed their part of the store, and
/// sleep through the rest (a customer's next message changes neither).
@Suite struct ChangeWatchTests {
    @Test func onlyCommitsThatChangeAPartWakeItsService() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await store.receive(inbound(from: "alice@example.com", text: "Where is my parcel?"))
        let outbox = store.latestChange(of: .outbox)
        let snoozes = store.latestChange(of: .snoozes)

        _ = try await store.receive(inbound(from: "alice@example.com", text: "Any news?"))
        #expect(store.latestChange(of: .outbox) == outbox)
        #expect(store.latestChange(of: .snoozes) == snoozes)

        _ = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "It left today."), authorId: nil, idempotencyKey: nil)
        #expect(store.latestChange(of: .outbox) == outbox + 1)
        #expect(store.latestChange(of: .snoozes) == snoozes)
        // A waiter that saw the old version returns at once.
        await store.waitForChange(of: .outbox, after: outbox)

        _ = try await store.setStatus(conversationId: thread.conversationId, .snoozed, snoozedUntil: clock.now().addingTimeInterval(3600))
        #expect(store.latestChange(of: .snoozes) == snoozes + 1)
        #expect(store.latestChange(of: .outbox) == outbox + 1)

        // A waiter is woken by the next change, not before.
        let woken = Task { await store.waitForChange(of: .outbox, after: outbox + 1, timeout: .seconds(30)) }
        _ = try await store.receive(inbound(from: "alice@example.com", text: "Thanks!"))
        _ = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "You are welcome."), authorId: nil, idempotencyKey: nil)
        #expect(await woken.value)
        #expect(store.latestChange(of: .outbox) == outbox + 2)
        await store.close()
    }
}
