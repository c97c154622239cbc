import Foundation
import HubCore
import HubStore
import Testing

/// What the email channel needs of the store: threading by reference within one customer, auto-replies
/// that never reopen or open a conversation, threading data on outbound deliveries, quarantine and poll cursors.
@Suite struct EmailStoreTests {
    func mail(from: String, _ text: String, id: String, hints: [String] = [], subject: String? = nil, automated: Bool = false) -> InboundMessage {
        InboundMessage(channel: .email, from: from, text: text, externalId: id, threadHints: hints, subject: subject,
                       automated: automated, receivedAt: TestClock.start)
    }

    @Test func aNewMailIsANewConversationUnlessItNamesOneOfTheSendersOwn() async throws {
        let store = try makeStore()
        let first = try await store.receive(mail(from: "ann@example.org", "Order late", id: "<a1@x>", subject: "Order 17"))
        #expect(try await store.conversation(id: first.conversationId).subject == "Order 17")
        let reply = try await store.reply(conversationId: first.conversationId, ReplyDraft(text: "On it"), authorId: nil, idempotencyKey: nil)

        let unrelated = try await store.receive(mail(from: "ann@example.org", "Another topic", id: "<a2@x>"))
        #expect(unrelated.conversationId != first.conversationId, "email threads by reference, not by the open conversation")
        let byMessage = try await store.receive(mail(from: "ann@example.org", "Thanks", id: "<a3@x>", hints: [reply.id]))
        #expect(byMessage.conversationId == first.conversationId, "a hint naming a message the hub sent joins its conversation")
        let stranger = try await store.receive(mail(from: "eve@example.net", "Me too", id: "<e1@x>", hints: [reply.id, first.conversationId]))
        #expect(stranger.conversationId != first.conversationId, "another sender never joins someone else's conversation")

        let sms = try await store.receive(inbound(from: "+15551230001", text: "hi", channel: .sms, externalId: "s1"))
        let smsAgain = try await store.receive(inbound(from: "+15551230001", text: "again", channel: .sms, externalId: "s2"))
        #expect(sms.conversationId == smsAgain.conversationId, "SMS continues the open conversation")
        await store.close()
    }

    @Test func anAutoReplyJoinsWithoutReopeningAndOpensNothing() async throws {
        let store = try makeStore()
        let first = try await store.receive(mail(from: "ann@example.org", "Help", id: "<a1@x>"))
        _ = try await store.setStatus(conversationId: first.conversationId, .resolved, snoozedUntil: nil)
        let auto = try await store.receive(mail(from: "ann@example.org", "I am away", id: "<ooo@x>", hints: [first.conversationId], automated: true))
        #expect(auto.conversationId == first.conversationId)
        #expect(try await store.conversation(id: first.conversationId).status == .resolved, "an auto-reply does not reopen")

        let customersBefore = try await store.customers(query: nil, PageRequest()).items.count
        await #expect(throws: HubError.self) {
            _ = try await store.receive(mail(from: "bot@example.net", "Auto", id: "<b1@x>", automated: true))
        }
        #expect(try await store.customers(query: nil, PageRequest()).items.count == customersBefore, "nothing is written")
        await store.close()
    }

    @Test func aReplyCarriesTheSubjectAndTheCustomersMessageIds() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let first = try await store.receive(mail(from: "ann@example.org", "One", id: "<a1@x>", subject: "Invoice"))
        clock.advance(by: 1)
        _ = try await store.receive(mail(from: "ann@example.org", "Two", id: "<a2@x>", hints: [first.conversationId]))
        _ = try await store.reply(conversationId: first.conversationId, ReplyDraft(text: "Answer"), authorId: nil, idempotencyKey: nil)
        let item = try #require(try await store.claimOutbox(now: clock.now(), owner: "t", lease: .seconds(30), limit: 10).first)
        #expect(item.delivery.subject == "Invoice")
        #expect(item.delivery.thread == ["<a1@x>", "<a2@x>"], "oldest first, the message answered last")
        await store.close()
    }

    @Test func quarantineKeepsTheBytesAndPollCursorsSurviveARestart() async throws {
        let path = temporaryDatabasePath()
        var store = try makeStore(at: path)
        let head = try await store.latestEventId()
        let first = try await store.quarantine(channel: .email, reason: "no header block", raw: Array("garbage".utf8))
        let second = try await store.quarantine(channel: .email, reason: "too large", raw: [0, 1, 2])
        #expect(try await store.quarantinedRaw(id: first.id) == Array("garbage".utf8))
        #expect(try await store.quarantinedRaw(id: "qua_missing") == nil)
        let page = try await store.quarantined(PageRequest(limit: 1))
        #expect(page.items.map(\.id) == [second.id])
        #expect(try await store.quarantined(PageRequest(cursor: page.nextCursor, limit: 1)).items.map(\.id) == [first.id])
        #expect(try await store.events(after: head, scope: .all, limit: 10).map(\.type) == [.messageQuarantined, .messageQuarantined])

        #expect(try await store.pollCursor("imap:a") == nil)
        try await store.setPollCursor("imap:a", "7:12")
        try await store.setPollCursor("imap:a", "7:13")
        await store.close()
        store = try makeStore(at: path)
        #expect(try await store.pollCursor("imap:a") == "7:13")
        await store.close()
    }
}
