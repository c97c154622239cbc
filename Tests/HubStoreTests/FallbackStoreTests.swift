import Foundation
import HubCore
import HubStore
import Testing

/// The delivery plan in the store: a reply follows the customer's current preference, and a message that
/// fails for good goes once to the next channel of the plan, never to one it already tried.
@Suite struct FallbackStoreTests {
    /// A customer who wrote by SMS and whose email address an agent added; the SMS conversation.
    func customerOnTwoChannels(_ store: SQLiteHubStorage) async throws -> IngestResult {
        let landed = try await store.receive(inbound(from: "+15551230001", text: "Where is my parcel?", channel: .sms, externalId: "sm-1"))
        _ = try await store.addIdentity(customerId: landed.customerId, channel: .email, address: "ana@Example.com")
        return landed
    }

    func claim(_ store: SQLiteHubStorage, _ clock: TestClock) async throws -> [OutboxItem] {
        try await store.claimOutbox(now: clock.now(), owner: "t", lease: .seconds(30), limit: 10)
    }

    @Test func anUndeliveredSMSGoesOnceByEmailAndNoFurther() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let landed = try await customerOnTwoChannels(store)
        let reply = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "It ships today."), authorId: nil, idempotencyKey: nil)
        #expect(reply.channel == .sms)
        let sms = try #require(try await claim(store, clock).first)
        try await store.outboxSent(sms, receipt: SendReceipt(providerMessageId: "SM1"))

        _ = try await store.applyReceipt(messageId: reply.id, providerMessageId: "SM1", state: .undelivered, error: "30003")
        _ = try await store.applyReceipt(messageId: reply.id, providerMessageId: "SM1", state: .undelivered, error: "30003")
        let items = try await claim(store, clock)
        #expect(items.count == 1, "one fallback, however often the failure is reported")
        let email = try #require(items.first)
        #expect(email.delivery.channel == .email && email.delivery.to == "ana@example.com" && email.delivery.text == "It ships today.")
        let fallback = try await store.message(id: email.delivery.messageId)
        #expect(fallback.fallbackOf == reply.id && fallback.conversationId == landed.conversationId && fallback.channel == .email)

        // The email bounces too: no channel is left, nothing more is queued.
        try await store.outboxSent(email, receipt: SendReceipt(providerMessageId: "<x@y>"))
        _ = try await store.applyReceipt(messageId: fallback.id, providerMessageId: nil, state: .bounced, error: "5.1.1")
        #expect(try await claim(store, clock).isEmpty)
        await store.close()
    }

    @Test func aMessageRefusedByTheProviderFallsBackFromTheOutbox() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let landed = try await customerOnTwoChannels(store)
        _ = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "Tracking: 123"), authorId: nil, idempotencyKey: nil)
        let sms = try #require(try await claim(store, clock).first)
        try await store.outboxFailed(sms, reason: "21211: invalid To")
        #expect(try await claim(store, clock).map(\.delivery.channel) == [.email])
        await store.close()
    }

    @Test func anSMSWithoutADeliveryReportInTimeGoesByEmailOnce() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let landed = try await customerOnTwoChannels(store)
        let reply = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "Your code is 1234."), authorId: nil, idempotencyKey: nil)
        try await store.outboxSent(try #require(try await claim(store, clock).first), receipt: SendReceipt(providerMessageId: "SM1"))
        clock.advance(by: 60)
        #expect(try await store.expireUnreported(sentBefore: clock.now().addingTimeInterval(-120)).isEmpty, "not late yet")
        clock.advance(by: 120)
        #expect(try await store.expireUnreported(sentBefore: clock.now().addingTimeInterval(-120)).map(\.id) == [reply.id])
        #expect(try await claim(store, clock).map(\.delivery.channel) == [.email])
        clock.advance(by: 600)
        #expect(try await store.expireUnreported(sentBefore: clock.now().addingTimeInterval(-120)).isEmpty, "given up on once")
        #expect(try await store.message(id: reply.id).error?.hasPrefix("no delivery report") == true)
        await store.close()
    }

    @Test func aReplyFollowsTheCustomersCurrentPreference() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let landed = try await customerOnTwoChannels(store)
        // "Email me, not SMS, while I am abroad."
        _ = try await store.setPreferences(customerId: landed.customerId, [
            ChannelPreference(scope: .service, channels: [.email], validFrom: clock.now().addingTimeInterval(-60), validUntil: clock.now().addingTimeInterval(86_400)),
        ])
        let abroad = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "Noted."), authorId: nil, idempotencyKey: nil)
        #expect(abroad.channel == .email && abroad.conversationId == landed.conversationId)
        #expect(try await claim(store, clock).map(\.delivery.to) == ["ana@example.com"])

        clock.advance(by: 2 * 86_400)
        let back = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "Welcome back."), authorId: nil, idempotencyKey: nil)
        #expect(back.channel == .sms, "the window is over: the reply goes where the customer wrote")
        await store.close()
    }

    @Test func anIdentityBelongsToOneCustomer() async throws {
        let store = try makeStore()
        let ana = try await store.receive(inbound(from: "ana@example.com"))
        let bob = try await store.receive(inbound(from: "+15551230009", channel: .sms, externalId: "b1"))
        let added = try await store.addIdentity(customerId: bob.customerId, channel: .sms, address: "+1 555 123 0009")
        #expect(added.address == "+15551230009" && added.customerId == bob.customerId)
        await #expect(throws: HubError.self) { _ = try await store.addIdentity(customerId: bob.customerId, channel: .email, address: "ana@example.com") }
        await #expect(throws: ValidationError.self) { _ = try await store.addIdentity(customerId: ana.customerId, channel: .sms, address: "not a number") }
        #expect(try await store.identities(customerId: bob.customerId).count == 1)
        await store.close()
    }
}
