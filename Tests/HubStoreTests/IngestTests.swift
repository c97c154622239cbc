import Foundation
import HubCore
import HubStore
import Testing

@Suite("Ingest")
struct IngestTests {
    @Test("receive creates the customer, identity, conversation, message and their events")
    func receiveStoresEverything() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)

        let result = try await store.receive(
            inbound(from: "  Alice@Example.COM ", text: "Where is my order?", name: "Alice", externalId: "mail-1"))
        #expect(!result.duplicate)
        #expect(result.customerId.hasPrefix("cus_"))
        #expect(result.conversationId.hasPrefix("conv_"))
        #expect(result.messageId.hasPrefix("msg_"))

        let customer = try await store.customer(id: result.customerId)
        #expect(customer.name == "Alice")
        #expect(customer.createdAt == clock.now())

        let identities = try await store.identities(customerId: result.customerId)
        #expect(identities.map(\.channel) == [.email])
        #expect(identities.map(\.address) == ["Alice@example.com"])

        let conversation = try await store.conversation(id: result.conversationId)
        #expect(conversation.customerId == result.customerId)
        #expect(conversation.channel == .email)
        #expect(conversation.status == .open)
        #expect(conversation.lastActivityAt == clock.now())

        let messages = try await allMessages(of: result.conversationId, in: store)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.id == result.messageId)
        #expect(message.text == "Where is my order?")
        #expect(message.direction == .inbound)
        #expect(message.authorKind == .customer)
        #expect(message.authorId == result.customerId)
        #expect(message.kind == .message)
        #expect(message.deliveryState == .received)
        #expect(message.externalId == "mail-1")
        let byId = try await store.message(id: result.messageId)
        #expect(byId == message)

        let events = try await store.events(after: 0, scope: .all, limit: 100)
        #expect(events.map(\.type) == [.customerCreated, .conversationCreated, .messageCreated])
        #expect(isStrictlyIncreasing(events.map(\.id)))
        #expect(events.allSatisfy { $0.customerId == result.customerId })
        #expect(events.map(\.conversationId) == [nil, result.conversationId, result.conversationId])
        let latest = try await store.latestEventId()
        #expect(latest == events.last?.id)
        let messageEvent = try #require(events.last)
        #expect(try decodeEventData(Message.self, from: messageEvent).id == result.messageId)
        let conversationEvent = try #require(events.dropFirst().first)
        #expect(try decodeEventData(Conversation.self, from: conversationEvent).id == result.conversationId)

        await store.close()
    }

    @Test("the same externalId twice is stored once; the repeat reports duplicate with the same ids")
    func duplicateExternalId() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)

        let first = try await store.receive(inbound(from: "bob@example.com", text: "first", externalId: "provider-42"))
        let eventsAfterFirst = try await store.latestEventId()
        clock.advance(by: 5)
        let second = try await store.receive(inbound(from: "bob@example.com", text: "retried", externalId: "provider-42"))

        #expect(!first.duplicate)
        #expect(second.duplicate)
        #expect(second.messageId == first.messageId)
        #expect(second.conversationId == first.conversationId)
        #expect(second.customerId == first.customerId)

        let messages = try await allMessages(of: first.conversationId, in: store)
        #expect(messages.map(\.text) == ["first"])
        let eventsAfterSecond = try await store.latestEventId()
        #expect(eventsAfterSecond == eventsAfterFirst)

        // The id is the provider's: the same id on another channel is another message.
        let sms = try await store.receive(inbound(from: "+1 415 555 2671", text: "sms", channel: .sms, externalId: "provider-42"))
        #expect(!sms.duplicate)
        #expect(sms.messageId != first.messageId)

        await store.close()
    }

    @Test("300 concurrent receives: each message stored once, one customer per sender, events in order")
    func concurrentReceives() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let count = 300
        let senders = 40

        let results = try await withThrowingTaskGroup(of: (Int, IngestResult).self, returning: [Int: IngestResult].self) { group in
            for index in 0..<count {
                let message = inbound(from: "customer\(index % senders)@example.com", text: "message \(index)", channel: .api, externalId: "ext-\(index)")
                group.addTask {
                    let result = try await store.receive(message)
                    return (index, result)
                }
            }
            var collected: [Int: IngestResult] = [:]
            for try await (index, result) in group { collected[index] = result }
            return collected
        }

        #expect(results.count == count)
        #expect(results.values.allSatisfy { !$0.duplicate })
        #expect(Set(results.values.map(\.messageId)).count == count)
        #expect(Set(results.values.map(\.customerId)).count == senders)
        // Every message of one sender landed with one customer in one conversation.
        for sender in 0..<senders {
            let mine = results.filter { $0.key % senders == sender }.map { $0.value }
            #expect(Set(mine.map(\.customerId)).count == 1, "sender \(sender)")
            #expect(Set(mine.map(\.conversationId)).count == 1, "sender \(sender)")
        }

        let customers = try await store.customers(query: nil, PageRequest(limit: PageRequest.maxLimit))
        #expect(customers.items.count == senders)
        #expect(customers.nextCursor == nil)

        let conversations = try await allConversations(in: store)
        #expect(conversations.count == senders)
        var stored: [Message] = []
        for conversation in conversations {
            stored += try await allMessages(of: conversation.id, in: store)
        }
        #expect(stored.count == count)
        #expect(Set(stored.map(\.id)).count == count)
        #expect(Set(stored.compactMap(\.externalId)) == Set((0..<count).map { "ext-\($0)" }))

        let events = try await store.events(after: 0, scope: .all, limit: 10_000)
        #expect(events.count == senders + senders + count)
        #expect(isStrictlyIncreasing(events.map(\.id)))
        #expect(events.filter { $0.type == .customerCreated }.count == senders)
        #expect(events.filter { $0.type == .conversationCreated }.count == senders)
        #expect(events.filter { $0.type == .messageCreated }.count == count)
        // Within each conversation its creation comes before its messages.
        for conversation in conversations {
            let types = events.filter { $0.conversationId == conversation.id }.map(\.type)
            #expect(types.first == .conversationCreated)
            #expect(types.dropFirst().allSatisfy { $0 == .messageCreated })
        }

        // Providers retry: the same ids again, concurrently, change nothing.
        let latest = try await store.latestEventId()
        let retried = try await withThrowingTaskGroup(of: (Int, IngestResult).self, returning: [(Int, IngestResult)].self) { group in
            for index in stride(from: 0, to: count, by: 7) {
                let message = inbound(from: "customer\(index % senders)@example.com", text: "again", channel: .api, externalId: "ext-\(index)")
                group.addTask {
                    let result = try await store.receive(message)
                    return (index, result)
                }
            }
            var collected: [(Int, IngestResult)] = []
            for try await pair in group { collected.append(pair) }
            return collected
        }
        #expect(!retried.isEmpty)
        for (index, result) in retried {
            #expect(result.duplicate)
            #expect(result.messageId == results[index]?.messageId)
        }
        let latestAfterRetries = try await store.latestEventId()
        #expect(latestAfterRetries == latest)

        await store.close()
    }

    @Test("a write that fails in a group commit does not take its neighbours down")
    func failingWriteIsIsolated() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)

        let outcomes = try await withThrowingTaskGroup(of: String.self, returning: [String].self) { group in
            for index in 0..<40 {
                if index.isMultiple(of: 2) {
                    let message = inbound(from: "ok\(index)@example.com", externalId: "ok-\(index)")
                    group.addTask {
                        _ = try await store.receive(message)
                        return "stored"
                    }
                } else {
                    group.addTask {
                        do {
                            _ = try await store.reply(conversationId: "conv_missing\(index)", ReplyDraft(text: "hi"), authorId: nil, idempotencyKey: nil)
                            return "unexpected success"
                        } catch let error as HubError where error.category == .notFound {
                            return "not found"
                        } catch {
                            return "unexpected \(error)"
                        }
                    }
                }
            }
            var collected: [String] = []
            for try await outcome in group { collected.append(outcome) }
            return collected
        }

        #expect(outcomes.filter { $0 == "stored" }.count == 20)
        #expect(outcomes.filter { $0 == "not found" }.count == 20)
        let conversations = try await allConversations(in: store)
        #expect(conversations.count == 20)
        let events = try await store.events(after: 0, scope: .all, limit: 1_000)
        #expect(events.count == 60)

        await store.close()
    }

    @Test("a sender's name fills an unnamed customer later, once")
    func nameArrivesLater() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let first = try await store.receive(inbound(from: "+14155552671", channel: .sms))
        let unnamed = try await store.customer(id: first.customerId)
        #expect(unnamed.name == nil)

        let second = try await store.receive(inbound(from: "+1 415 555 2671", text: "It's Dana", channel: .sms, name: "Dana"))
        #expect(second.customerId == first.customerId)
        let named = try await store.customer(id: first.customerId)
        #expect(named.name == "Dana")

        _ = try await store.receive(inbound(from: "+14155552671", channel: .sms, name: "Someone Else"))
        let kept = try await store.customer(id: first.customerId)
        #expect(kept.name == "Dana")

        await store.close()
    }

    @Test("invalid input is refused before anything is written")
    func invalidInbound() async throws {
        let store = try makeStore()
        await #expect(throws: ValidationError.self) { try await store.receive(inbound(from: "not-a-phone", channel: .sms)) }
        await #expect(throws: ValidationError.self) { try await store.receive(inbound(from: "a@example.com", text: " ")) }
        let latest = try await store.latestEventId()
        #expect(latest == 0)
        await store.close()
    }
}
