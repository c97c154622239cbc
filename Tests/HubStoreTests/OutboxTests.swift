import Foundation
import HubCore
import HubStore
import Testing

@Suite("Replies and the outbox")
struct OutboxTests {
    /// A conversation with a customer reachable by email at alice@example.com.
    private func openConversation(in store: SQLiteHubStorage, from address: String = "alice@example.com") async throws -> IngestResult {
        try await store.receive(inbound(from: address, text: "Where is my parcel?"))
    }

    @Test("a reply is queued with an outbox row; a lease hides it until it expires, then attempt 2")
    func replyClaimAndLease() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)

        let message = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "It left today."),
                                            authorId: nil, idempotencyKey: nil)
        #expect(message.conversationId == thread.conversationId)
        #expect(message.direction == .outbound)
        #expect(message.authorKind == .agent)
        #expect(message.kind == .message)
        #expect(message.channel == .email)
        #expect(message.deliveryState == .queued)
        let stored = try await store.message(id: message.id)
        #expect(stored.deliveryState == .queued)
        let conversation = try await store.conversation(id: thread.conversationId)
        #expect(conversation.firstResponseAt == clock.now())
        let due = try await store.nextOutboxDue()
        #expect(due == clock.now())

        let claimed = try await store.claimOutbox(now: clock.now(), owner: "worker-1", lease: .seconds(30), limit: 10)
        #expect(claimed.count == 1)
        let first = try #require(claimed.first)
        #expect(first.attempt == 1)
        #expect(first.delivery.messageId == message.id)
        #expect(first.delivery.conversationId == thread.conversationId)
        #expect(first.delivery.customerId == thread.customerId)
        #expect(first.delivery.channel == .email)
        #expect(first.delivery.to == "alice@example.com")
        #expect(first.delivery.text == "It left today.")
        #expect(!first.delivery.idempotencyKey.isEmpty)

        // Leased: nobody else gets it, not even just before the lease ends.
        let whileLeased = try await store.claimOutbox(now: clock.now(), owner: "worker-2", lease: .seconds(30), limit: 10)
        #expect(whileLeased.isEmpty)
        clock.advance(by: 29)
        let almostExpired = try await store.claimOutbox(now: clock.now(), owner: "worker-2", lease: .seconds(30), limit: 10)
        #expect(almostExpired.isEmpty)
        let leaseEnds = try await store.nextOutboxDue()
        #expect(leaseEnds == TestClock.start.addingTimeInterval(30))

        // The worker died: once the lease is over the row is claimed again, as attempt 2, unchanged.
        clock.advance(by: 2)
        let reclaimed = try await store.claimOutbox(now: clock.now(), owner: "worker-2", lease: .seconds(30), limit: 10)
        #expect(reclaimed.count == 1)
        let second = try #require(reclaimed.first)
        #expect(second.id == first.id)
        #expect(second.attempt == 2)
        #expect(second.delivery == first.delivery)

        await store.close()
    }

    @Test("a reply on SMS goes to the customer's E.164 number")
    func smsReplyAddress() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await store.receive(inbound(from: "+44 20 7946 0958", text: "hi", channel: .sms))
        _ = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Hello!"), authorId: nil, idempotencyKey: nil)
        let claimed = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 10)
        #expect(claimed.map(\.delivery.to) == ["+442079460958"])
        #expect(claimed.map(\.delivery.channel) == [.sms])
        await store.close()
    }

    @Test("outboxSent marks the message sent with the provider's id, and the row is done")
    func sent() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        let message = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Done."), authorId: nil, idempotencyKey: nil)
        let itemClaim = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 10)
        let item = try #require(itemClaim.first)

        let before = try await store.latestEventId()
        clock.advance(by: 1)
        try await store.outboxSent(item, receipt: SendReceipt(providerMessageId: "provider-abc"))

        let sent = try await store.message(id: message.id)
        #expect(sent.deliveryState == .sent)
        #expect(sent.providerMessageId == "provider-abc")
        #expect(sent.error == nil)
        #expect(sent.updatedAt == clock.now())
        let events = try await store.events(after: before, scope: .all, limit: 10)
        #expect(events.map(\.type) == [.messageUpdated])
        #expect(events.first?.conversationId == thread.conversationId)

        let later = try await store.claimOutbox(now: clock.now().addingTimeInterval(86_400), owner: "w", lease: .seconds(30), limit: 10)
        #expect(later.isEmpty)
        let due = try await store.nextOutboxDue()
        #expect(due == nil)

        await store.close()
    }

    @Test("outboxRetry requeues the row for a later time: not claimable before it, claimable at it")
    func retry() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        let message = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Retry me."), authorId: nil, idempotencyKey: nil)
        let itemClaim = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 10)
        let item = try #require(itemClaim.first)

        let retryAt = clock.now().addingTimeInterval(120)
        try await store.outboxRetry(item, at: retryAt, reason: "provider timed out")

        let queued = try await store.message(id: message.id)
        #expect(queued.deliveryState == .queued)
        #expect(queued.error == "provider timed out")
        let due = try await store.nextOutboxDue()
        #expect(due == retryAt)

        let early = try await store.claimOutbox(now: retryAt.addingTimeInterval(-1), owner: "w", lease: .seconds(30), limit: 10)
        #expect(early.isEmpty)
        let onTime = try await store.claimOutbox(now: retryAt, owner: "w", lease: .seconds(30), limit: 10)
        #expect(onTime.count == 1)
        #expect(onTime.first?.id == item.id)
        #expect(onTime.first?.attempt == 2)

        await store.close()
    }

    @Test("outboxFailed marks the message failed with the reason and dead-letters the row")
    func failed() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        let message = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Bounce me."), authorId: nil, idempotencyKey: nil)
        let itemClaim = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 10)
        let item = try #require(itemClaim.first)

        try await store.outboxFailed(item, reason: "550 mailbox unavailable")

        let failed = try await store.message(id: message.id)
        #expect(failed.deliveryState == .failed)
        #expect(failed.error == "550 mailbox unavailable")
        let later = try await store.claimOutbox(now: clock.now().addingTimeInterval(86_400), owner: "w", lease: .seconds(30), limit: 10)
        #expect(later.isEmpty)
        let due = try await store.nextOutboxDue()
        #expect(due == nil)

        await store.close()
    }

    @Test("the same idempotency key twice stores one reply and one outbox row")
    func idempotentReply() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)

        let first = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Once."), authorId: nil, idempotencyKey: "key-1")
        clock.advance(by: 3)
        let second = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "Once."), authorId: nil, idempotencyKey: "key-1")
        #expect(second.id == first.id)
        #expect(second.createdAt == first.createdAt)

        let claimed = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 10)
        #expect(claimed.map(\.delivery.messageId) == [first.id])
        let outbound = try await allMessages(of: thread.conversationId, in: store).filter { $0.direction == .outbound }
        #expect(outbound.map(\.id) == [first.id])

        // The key belongs to that conversation: reusing it on another one is a conflict.
        let other = try await openConversation(in: store, from: "bert@example.com")
        let error = await #expect(throws: HubError.self) {
            try await store.reply(conversationId: other.conversationId, ReplyDraft(text: "Once."), authorId: nil, idempotencyKey: "key-1")
        }
        #expect(error?.category == .conflict)
        #expect(error?.code == "idempotency_key_reused")

        await store.close()
    }

    @Test("concurrent replies with one idempotency key still store one reply")
    func concurrentIdempotentReplies() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        let conversationId = thread.conversationId

        let ids = try await withThrowingTaskGroup(of: String.self, returning: Set<String>.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await store.reply(conversationId: conversationId, ReplyDraft(text: "Once."), authorId: nil, idempotencyKey: "double-click").id
                }
            }
            var collected = Set<String>()
            for try await id in group { collected.insert(id) }
            return collected
        }
        #expect(ids.count == 1)
        let claimed = try await store.claimOutbox(now: clock.now(), owner: "w", lease: .seconds(30), limit: 100)
        #expect(claimed.count == 1)

        await store.close()
    }

    @Test("a private note is stored as a note, never queued, and is not a first response")
    func privateNote() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)

        let note = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "VIP, be nice", private: true),
                                         authorId: nil, idempotencyKey: nil)
        #expect(note.kind == .note)
        #expect(note.deliveryState == DeliveryState.none)
        #expect(note.direction == .outbound)
        let stored = try await store.message(id: note.id)
        #expect(stored.kind == .note)
        #expect(stored.deliveryState == DeliveryState.none)

        let claimed = try await store.claimOutbox(now: clock.now().addingTimeInterval(3_600), owner: "w", lease: .seconds(30), limit: 10)
        #expect(claimed.isEmpty)
        let due = try await store.nextOutboxDue()
        #expect(due == nil)
        let conversation = try await store.conversation(id: thread.conversationId)
        #expect(conversation.firstResponseAt == nil)

        await store.close()
    }

    @Test("an empty reply is refused")
    func emptyReply() async throws {
        let store = try makeStore()
        let thread = try await openConversation(in: store)
        await #expect(throws: ValidationError.self) {
            try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "  "), authorId: nil, idempotencyKey: nil)
        }
        let messages = try await allMessages(of: thread.conversationId, in: store)
        #expect(messages.count == 1)
        await store.close()
    }

    @Test("a lease shorter than whole seconds is honoured")
    func subSecondLease() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        _ = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "x"), authorId: nil, idempotencyKey: nil)
        let start = clock.now()
        let claimed = try await store.claimOutbox(now: start, owner: "w1", lease: .milliseconds(1_500), limit: 10)
        #expect(claimed.count == 1)

        let afterOneSecond = try await store.claimOutbox(now: start.addingTimeInterval(1), owner: "w2", lease: .seconds(30), limit: 10)
        #expect(afterOneSecond.isEmpty)
        await store.close()
    }

    @Test("a worker whose lease was taken over cannot requeue the row under the new holder")
    func staleWorkerIsFenced() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let thread = try await openConversation(in: store)
        _ = try await store.reply(conversationId: thread.conversationId, ReplyDraft(text: "x"), authorId: nil, idempotencyKey: nil)
        let start = clock.now()

        let staleClaim = try await store.claimOutbox(now: start, owner: "worker-a", lease: .seconds(30), limit: 10)
        let stale = try #require(staleClaim.first)
        let currentClaim = try await store.claimOutbox(now: start.addingTimeInterval(31), owner: "worker-b", lease: .seconds(30), limit: 10)
        let current = try #require(currentClaim.first)
        #expect(current.attempt == 2)

        // Worker A comes back late and reports its (stale) attempt as failed-but-retryable.
        try await store.outboxRetry(stale, at: start.addingTimeInterval(32), reason: "timeout")
        let third = try await store.claimOutbox(now: start.addingTimeInterval(32), owner: "worker-c", lease: .seconds(30), limit: 10)
        #expect(third.isEmpty)
        await store.close()
    }
}
