import Foundation
import HubCore
import HubStore
import Testing

@Suite("Conversations")
struct ConversationTests {
    @Test("a second message joins the open conversation; after resolving, a new one opens")
    func threadingByOpenConversation() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)

        let first = try await store.receive(inbound(from: "+15551230001", text: "one", channel: .sms))
        clock.advance(by: 60)
        // The same number written another way. (Email threads by reference instead: EmailStoreTests.)
        let second = try await store.receive(inbound(from: "+1 555 123 0001", text: "two", channel: .sms))
        #expect(second.customerId == first.customerId)
        #expect(second.conversationId == first.conversationId)
        let joined = try await store.conversation(id: first.conversationId)
        #expect(joined.lastActivityAt == clock.now())

        clock.advance(by: 60)
        let resolved = try await store.setStatus(conversationId: first.conversationId, .resolved, snoozedUntil: nil)
        #expect(resolved.status == .resolved)
        #expect(resolved.resolvedAt == clock.now())

        clock.advance(by: 60)
        let third = try await store.receive(inbound(from: "+15551230001", text: "three", channel: .sms))
        #expect(third.customerId == first.customerId)
        #expect(third.conversationId != first.conversationId)

        let old = try await store.conversation(id: first.conversationId)
        #expect(old.status == .resolved)
        let oldMessages = try await allMessages(of: first.conversationId, in: store)
        #expect(oldMessages.map(\.text) == ["one", "two"])
        let newMessages = try await allMessages(of: third.conversationId, in: store)
        #expect(newMessages.map(\.text) == ["three"])
        let fresh = try await store.conversation(id: third.conversationId)
        #expect(fresh.status == .open)

        await store.close()
    }

    @Test("a customer writing again reopens a pending conversation instead of starting another")
    func pendingConversationReopens() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let first = try await store.receive(inbound(from: "+15551230002", channel: .sms))
        _ = try await store.setStatus(conversationId: first.conversationId, .pending, snoozedUntil: nil)

        let before = try await store.latestEventId()
        let second = try await store.receive(inbound(from: "+15551230002", text: "any news?", channel: .sms))
        #expect(second.conversationId == first.conversationId)
        let reopened = try await store.conversation(id: first.conversationId)
        #expect(reopened.status == .open)
        let events = try await store.events(after: before, scope: .all, limit: 10)
        #expect(events.map(\.type) == [.conversationUpdated, .messageCreated])

        await store.close()
    }

    @Test("a thread hint naming another customer's conversation is ignored")
    func foreignThreadHintIgnored() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let victim = try await store.receive(inbound(from: "victim@example.com", text: "my private order"))

        let intruder = try await store.receive(
            inbound(from: "intruder@example.com", text: "let me in", threadHints: ["<unknown@mail>", victim.conversationId]))
        #expect(intruder.customerId != victim.customerId)
        #expect(intruder.conversationId != victim.conversationId)
        let victimMessages = try await allMessages(of: victim.conversationId, in: store)
        #expect(victimMessages.map(\.text) == ["my private order"])
        let intruderConversation = try await store.conversation(id: intruder.conversationId)
        #expect(intruderConversation.customerId == intruder.customerId)

        await store.close()
    }

    @Test("a thread hint naming the customer's own resolved conversation continues it")
    func ownThreadHintReopens() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let first = try await store.receive(inbound(from: "erin@example.com", text: "refund?"))
        _ = try await store.setStatus(conversationId: first.conversationId, .resolved, snoozedUntil: nil)

        let reply = try await store.receive(inbound(from: "erin@example.com", text: "still waiting", threadHints: [first.conversationId]))
        #expect(reply.conversationId == first.conversationId)
        let conversation = try await store.conversation(id: first.conversationId)
        #expect(conversation.status == .open)
        #expect(conversation.resolvedAt == nil)

        await store.close()
    }

    @Test("pages of two walk all five conversations, newest first, without repeats")
    func pagination() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        var created: [String] = []
        for index in 0..<5 {
            clock.advance(by: 1)
            let result = try await store.receive(inbound(from: "page\(index)@example.com"))
            created.append(result.conversationId)
        }

        var seen: [String] = []
        var pageSizes: [Int] = []
        var cursor: String?
        repeat {
            let page = try await store.conversations(ConversationFilter(), scope: .all, PageRequest(cursor: cursor, limit: 2))
            seen += page.items.map(\.id)
            pageSizes.append(page.items.count)
            cursor = page.nextCursor
        } while cursor != nil && pageSizes.count < 10

        #expect(pageSizes == [2, 2, 1])
        #expect(cursor == nil)
        #expect(Set(seen).count == seen.count)
        #expect(seen == Array(created.reversed()))

        // Filters narrow the list.
        _ = try await store.setStatus(conversationId: created[1], .resolved, snoozedUntil: nil)
        let resolved = try await store.conversations(ConversationFilter(status: .resolved), scope: .all, PageRequest())
        #expect(resolved.items.map(\.id) == [created[1]])
        let open = try await store.conversations(ConversationFilter(status: .open, channel: .email), scope: .all, PageRequest())
        #expect(open.items.count == 4)
        #expect(open.nextCursor == nil)

        await store.close()
    }

    @Test("a snoozed conversation wakes once, only when the clock reaches snoozedUntil")
    func snoozeAndWake() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let result = try await store.receive(inbound(from: "fay@example.com"))

        let until = clock.now().addingTimeInterval(3_600)
        let snoozed = try await store.setStatus(conversationId: result.conversationId, .snoozed, snoozedUntil: until)
        #expect(snoozed.status == .snoozed)
        #expect(snoozed.snoozedUntil == until)
        let due = try await store.nextSnoozeDue()
        #expect(due == until)

        let tooEarly = try await store.wakeSnoozed(now: clock.now())
        #expect(tooEarly.isEmpty)
        clock.advance(by: 3_599)
        let stillEarly = try await store.wakeSnoozed(now: clock.now())
        #expect(stillEarly.isEmpty)
        let stillSnoozed = try await store.conversation(id: result.conversationId)
        #expect(stillSnoozed.status == .snoozed)

        clock.advance(by: 1)
        let woken = try await store.wakeSnoozed(now: clock.now())
        #expect(woken.map(\.id) == [result.conversationId])
        #expect(woken.first?.status == .open)
        #expect(woken.first?.snoozedUntil == nil)
        let awake = try await store.conversation(id: result.conversationId)
        #expect(awake.status == .open)
        #expect(awake.snoozedUntil == nil)

        clock.advance(by: 60)
        let again = try await store.wakeSnoozed(now: clock.now())
        #expect(again.isEmpty)
        let nothingDue = try await store.nextSnoozeDue()
        #expect(nothingDue == nil)

        await store.close()
    }

    @Test("snoozing needs a time in the future")
    func snoozeInThePast() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let result = try await store.receive(inbound(from: "gus@example.com"))
        await #expect(throws: ValidationError.self) {
            try await store.setStatus(conversationId: result.conversationId, .snoozed, snoozedUntil: clock.now())
        }
        await #expect(throws: ValidationError.self) {
            try await store.setStatus(conversationId: result.conversationId, .snoozed, snoozedUntil: nil)
        }
        let unchanged = try await store.conversation(id: result.conversationId)
        #expect(unchanged.status == .open)
        await store.close()
    }

    @Test("missing things are HubError.notFound")
    func notFound() async throws {
        let store = try makeStore()
        await #expect(throws: HubError.notFound("conversation", "conv_missing")) {
            try await store.conversation(id: "conv_missing")
        }
        await #expect(throws: HubError.notFound("conversation", "conv_missing")) {
            try await store.messages(conversationId: "conv_missing", PageRequest())
        }
        await #expect(throws: HubError.notFound("conversation", "conv_missing")) {
            try await store.setStatus(conversationId: "conv_missing", .resolved, snoozedUntil: nil)
        }
        await #expect(throws: HubError.notFound("conversation", "conv_missing")) {
            try await store.assign(conversationId: "conv_missing", agentId: nil, teamId: nil)
        }
        await #expect(throws: HubError.notFound("conversation", "conv_missing")) {
            try await store.reply(conversationId: "conv_missing", ReplyDraft(text: "hi"), authorId: nil, idempotencyKey: nil)
        }
        await #expect(throws: HubError.notFound("message", "msg_missing")) {
            try await store.message(id: "msg_missing")
        }
        await #expect(throws: HubError.notFound("customer", "cus_missing")) {
            try await store.customer(id: "cus_missing")
        }
        let error = await #expect(throws: HubError.self) { try await store.agent(id: "agt_missing") }
        #expect(error?.category == .notFound)
        #expect(error?.code == "agent_not_found")
        await store.close()
    }

    @Test("assigning to an unknown agent or team is refused")
    func assignUnknown() async throws {
        let store = try makeStore()
        let result = try await store.receive(inbound(from: "hal@example.com"))
        let agentError = await #expect(throws: HubError.self) {
            try await store.assign(conversationId: result.conversationId, agentId: "agt_nobody", teamId: nil)
        }
        #expect(agentError?.code == "unknown_agent")
        let teamError = await #expect(throws: HubError.self) {
            try await store.assign(conversationId: result.conversationId, agentId: nil, teamId: "team_nobody")
        }
        #expect(teamError?.code == "unknown_team")
        let unchanged = try await store.conversation(id: result.conversationId)
        #expect(unchanged.assigneeId == nil)
        #expect(unchanged.teamId == nil)
        await store.close()
    }
}
