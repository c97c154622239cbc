import Foundation
import HubCore
import HubStore
import Testing

/// Web chat visitors in the store: sessions, verified identities, the transcript and abandonment.
@Suite struct VisitorStoreTests {
    @Test func aSessionIsFoundByItsTokenDigestOnly() async throws {
        let store = try makeStore()
        let token = AccessToken.generate(prefix: "vt_")
        let visitor = try await store.createVisitor(VisitorDraft(site: "default", name: "Ana", email: "Ana@Example.COM"),
                                                    tokenDigest: AccessToken.digest(token))
        #expect(visitor.email == "Ana@example.com")
        #expect(try await store.visitor(tokenDigest: AccessToken.digest(token)) == visitor)
        #expect(try await store.visitor(tokenDigest: token) == nil, "the token itself is not stored")
        let identities = try await store.identities(customerId: visitor.customerId)
        #expect(Set(identities.map(\.channel)) == [.webchat, .email])
        await store.close()
    }

    @Test func aVerifiedIdentifierLeadsToTheSameCustomerEveryTime() async throws {
        let store = try makeStore()
        // A customer known from email first.
        let mail = try await store.receive(inbound(from: "li@example.com", text: "order 7?"))
        let fromSite = try await store.createVisitor(VisitorDraft(site: "default", verifiedIdentifier: "li@example.com"),
                                                     tokenDigest: "d1")
        #expect(fromSite.customerId == mail.customerId)
        #expect(fromSite.verified)
        let userA = try await store.createVisitor(VisitorDraft(site: "default", verifiedIdentifier: "user-42"), tokenDigest: "d2")
        let userB = try await store.createVisitor(VisitorDraft(site: "default", verifiedIdentifier: "user-42"), tokenDigest: "d3")
        #expect(userA.customerId == userB.customerId)
        let anonymous = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "d4")
        #expect(anonymous.customerId != userA.customerId)
        // A typed email never moves an address that belongs to someone else.
        _ = try await store.setVisitorEmail(visitorId: anonymous.id, email: "li@example.com")
        #expect(try await store.identities(customerId: anonymous.customerId).allSatisfy { $0.channel != .email })
        await store.close()
    }

    @Test func theTranscriptHoldsMessagesButNoNotes() async throws {
        let store = try makeStore()
        let visitor = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "d")
        let first = try await store.receive(inbound(from: visitor.id, text: "hi", channel: .webchat, externalId: "\(visitor.id):c1"))
        _ = try await store.reply(conversationId: first.conversationId, ReplyDraft(text: "internal", private: true), authorId: nil, idempotencyKey: nil)
        let reply = try await store.reply(conversationId: first.conversationId, ReplyDraft(text: "Hello!"), authorId: nil, idempotencyKey: nil)
        let all = try await store.visitorTranscript(customerId: visitor.customerId, after: nil, limit: 50)
        #expect(all.map(\.text) == ["hi", "Hello!"])
        let later = try await store.visitorTranscript(customerId: visitor.customerId, after: first.messageId, limit: 50)
        #expect(later.map(\.id) == [reply.id])
        await store.close()
    }

    @Test func leavingBeforeAnyAnswerAbandonsTheChat() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let gone = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "a")
        let waiting = try await store.receive(inbound(from: gone.id, text: "anyone?", channel: .webchat))
        clock.advance(by: 30)
        let abandoned = try #require(try await store.visitorLeft(visitorId: gone.id))
        #expect(abandoned.id == waiting.conversationId)
        #expect(abandoned.abandonedAt == clock.now())
        #expect(try await store.visitorLeft(visitorId: gone.id) == nil, "abandoned once")

        let answered = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "b")
        let chat = try await store.receive(inbound(from: answered.id, text: "hello", channel: .webchat))
        _ = try await store.reply(conversationId: chat.conversationId, ReplyDraft(text: "Hi"), authorId: nil, idempotencyKey: nil)
        #expect(try await store.visitorLeft(visitorId: answered.id) == nil)
        #expect(try await store.conversation(id: chat.conversationId).abandonedAt == nil)
        await store.close()
    }
}
