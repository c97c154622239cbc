import Foundation
import HubCore
import HubStore
import Testing

/// What the SMS channel needs of the store: parts kept until whole, the consent ledger, receipts, notices.
@Suite struct SMSStoreTests {
    func part(_ index: Int, of total: Int, _ text: String, id: String) -> InboundPart {
        InboundPart(groupKey: "vonage:+447700900001:ref-1", index: index, total: total,
                    message: inbound(from: "+447700900001", text: text, channel: .sms, externalId: id))
    }

    @Test func partsAreStoredOnceWhenTheLastArrivesInAnyOrder() async throws {
        let store = try makeStore()
        #expect(try await store.receive(part: part(3, of: 3, "end.", id: "p3")) == nil)
        #expect(try await store.receive(part: part(1, of: 3, "Hello ", id: "p1")) == nil)
        #expect(try await store.receive(part: part(1, of: 3, "Hello ", id: "p1")) == nil, "a retried part changes nothing")
        let whole = try #require(try await store.receive(part: part(2, of: 3, "there, ", id: "p2")))
        #expect(!whole.duplicate)
        #expect(try await store.message(id: whole.messageId).text == "Hello there, end.")
        let again = try #require(try await store.receive(part: part(2, of: 3, "there, ", id: "p2")))
        #expect(again.duplicate && again.messageId == whole.messageId)
        await #expect(throws: ValidationError.self) { _ = try await store.receive(part: part(4, of: 3, "x", id: "p4")) }
        await store.close()
    }

    @Test func theLedgerKeepsEveryEntryAndTheNewestCounts() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let landed = try await store.receive(inbound(from: "+15005550006", text: "STOP", channel: .sms))
        func record(_ state: ConsentState, _ evidence: String) async throws {
            try await store.recordConsent(ConsentRecord(customerId: landed.customerId, channel: .sms, address: "+15005550006",
                                                        purpose: .marketing, state: state, source: .keyword, evidence: evidence, createdAt: clock.now()))
        }
        try await record(.optedOut, "m1: STOP")
        try await record(.optedOut, "m1: STOP")
        clock.advance(by: 60)
        try await record(.optedIn, "m2: START")
        #expect(try await store.consents(customerId: landed.customerId).map(\.state) == [.optedIn, .optedOut], "a retried webhook is recorded once")
        #expect(try await store.latestConsents(channel: .sms, address: "+15005550006").map(\.state) == [.optedIn])
        await store.close()
    }

    @Test func aNoticeTheLedgerForbidsIsRefusedAndNothingIsQueued() async throws {
        let store = try makeStore()
        let landed = try await store.receive(inbound(from: "+15005550006", text: "hi", channel: .sms))
        let draft = OutboundDraft(customerId: landed.customerId, channel: .sms, text: "Sale!", purpose: .marketing)
        await #expect(throws: HubError.self) { _ = try await store.send(draft) }
        let notice = try await store.send(OutboundDraft(customerId: landed.customerId, channel: .sms, text: "Your order shipped",
                                                        purpose: .transactional, idempotencyKey: "order-7"))
        #expect(notice.conversationId == landed.conversationId)
        #expect(notice.authorKind == .system)
        let repeated = try await store.send(OutboundDraft(customerId: landed.customerId, channel: .sms, text: "Your order shipped",
                                                          purpose: .transactional, idempotencyKey: "order-7"))
        #expect(repeated.id == notice.id)
        let claimed = try await store.claimOutbox(now: Date.distantFuture, owner: "t", lease: .seconds(30), limit: 10)
        #expect(claimed.map(\.delivery.purpose) == [.transactional])
        await store.close()
    }

    @Test func receiptsMoveAMessageForwardOnly() async throws {
        let store = try makeStore()
        let landed = try await store.receive(inbound(from: "+15005550006", text: "hi", channel: .sms))
        let reply = try await store.reply(conversationId: landed.conversationId, ReplyDraft(text: "Hello"), authorId: nil, idempotencyKey: nil)
        let delivered = try await store.applyReceipt(messageId: reply.id, providerMessageId: "SM1", state: .delivered, error: nil)
        #expect(delivered?.deliveryState == .delivered)
        let late = try await store.applyReceipt(messageId: reply.id, providerMessageId: "SM1", state: .sent, error: nil)
        #expect(late?.deliveryState == .delivered)
        // The outbox learning of the send after the receipt does not move it back either.
        let item = try #require(try await store.claimOutbox(now: Date.distantFuture, owner: "t", lease: .seconds(30), limit: 1).first)
        try await store.outboxSent(item, receipt: SendReceipt(providerMessageId: "SM1"))
        #expect(try await store.message(id: reply.id).deliveryState == .delivered)
        #expect(try await store.applyReceipt(messageId: "msg_unknown", providerMessageId: nil, state: .sent, error: nil) == nil)
        await store.close()
    }
}
