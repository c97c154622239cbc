import Foundation
import HubCore
import HubStore
import Testing

/// Merging two customers: everything of the merged one moves to the survivor, whose values win; the merge is an event.
@Suite struct MergeStoreTests {
    @Test func aMergeMovesEverythingAndKeepsTheSurvivorsValues() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let byMail = try await store.receive(inbound(from: "ana@example.com", name: "Ana"))
        let bySMS = try await store.receive(inbound(from: "+15551230001", text: "hi", channel: .sms, name: "Ana Lima", externalId: "s1"))
        _ = try await store.updateCustomer(id: bySMS.customerId, CustomerPatch(attributes: ["plan": "gold", "city": "Recife"], tags: ["sms"], timeZone: "America/Recife"))
        _ = try await store.updateCustomer(id: byMail.customerId, CustomerPatch(attributes: ["plan": "silver"], tags: ["mail"]))
        try await store.recordConsent(ConsentRecord(customerId: bySMS.customerId, channel: .sms, address: "+15551230001", purpose: .marketing,
                                                    state: .optedOut, source: .keyword, evidence: "STOP", createdAt: clock.now()))
        _ = try await store.setPreferences(customerId: bySMS.customerId, [ChannelPreference(scope: .service, channels: [.sms])])
        let head = try await store.latestEventId()

        let merge = try await store.mergeCustomers(survivorId: byMail.customerId, mergedId: bySMS.customerId)
        let customer = merge.customer
        #expect(customer.name == "Ana" && customer.timeZone == "America/Recife")
        #expect(customer.attributes == ["plan": "silver", "city": "Recife"] && customer.tags == ["mail", "sms"])
        #expect(Set(try await store.identities(customerId: customer.id).map(\.channel)) == [.email, .sms])
        #expect(try await store.conversation(id: bySMS.conversationId).customerId == customer.id)
        #expect(try await store.consents(customerId: customer.id).map(\.state) == [.optedOut])
        #expect(try await store.preferences(customerId: customer.id).map(\.channels) == [[.sms]], "the survivor stated none")
        await #expect(throws: HubError.self) { _ = try await store.customer(id: bySMS.customerId) }
        #expect(try await store.events(after: head, scope: .all, limit: 10).map(\.type) == [.customerMerged])
        // The next SMS from that number is the survivor's.
        #expect(try await store.receive(inbound(from: "+15551230001", text: "again", channel: .sms, externalId: "s2")).customerId == customer.id)

        await #expect(throws: HubError.self) { _ = try await store.mergeCustomers(survivorId: customer.id, mergedId: customer.id) }
        await #expect(throws: HubError.self) { _ = try await store.mergeCustomers(survivorId: customer.id, mergedId: "cus_missing") }
        await store.close()
    }

    /// An anonymous chat visitor (a customer with a conversation) and a known customer with the identifier `user-42`.
    private func anonymousVisitorAndKnownCustomer(_ store: SQLiteHubStorage) async throws -> (Visitor, IngestResult, known: Visitor) {
        let known = try await store.createVisitor(VisitorDraft(site: "default", name: "Ana", verifiedIdentifier: "user-42"), tokenDigest: "d-known")
        let visitor = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "d-anon")
        let chat = try await store.receive(inbound(from: visitor.id, text: "is my order late?", channel: .webchat))
        return (visitor, chat, known)
    }

    @Test func anAnonymousVisitorWhoSignsInAsAKnownCustomerIsMergedIntoIt() async throws {
        let store = try makeStore()
        let (visitor, chat, known) = try await anonymousVisitorAndKnownCustomer(store)
        let head = try await store.latestEventId()

        let identified = try await store.identifyVisitor(visitorId: visitor.id, identifier: "user-42")
        #expect(identified.customerId == known.customerId && identified.verified)
        #expect(try await store.conversation(id: chat.conversationId).customerId == known.customerId)
        #expect(try await store.visitor(tokenDigest: "d-anon")?.customerId == known.customerId)
        await #expect(throws: HubError.self) { _ = try await store.customer(id: visitor.customerId) }
        let identities = try await store.identities(customerId: known.customerId)
        #expect(identities.filter(\.verified).map(\.address).sorted() == [known.id, visitor.id, "user:user-42"].sorted())
        let events = try await store.events(after: head, scope: .all, limit: 10)
        #expect(events.map(\.type) == [.customerMerged, .customerUpdated])
        let merge = try decodeEventData(CustomerMerge.self, from: events[0])
        #expect(merge.mergedId == visitor.customerId && merge.reason == .verifiedIdentity && merge.evidence == "webchat:user:user-42")
        // The visitor writes on: the message is the known customer's, in the same conversation.
        #expect(try await store.receive(inbound(from: visitor.id, text: "hello?", channel: .webchat)).conversationId == chat.conversationId)
        // Saying it again changes nothing.
        #expect(try await store.identifyVisitor(visitorId: visitor.id, identifier: "user-42").customerId == known.customerId)
        await store.close()
    }

    @Test func aNewIdentifierJoinsTheVisitorsOwnCustomer() async throws {
        let store = try makeStore()
        let visitor = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "d")
        let identified = try await store.identifyVisitor(visitorId: visitor.id, identifier: "ana@example.com")
        #expect(identified.customerId == visitor.customerId)
        let email = try #require(try await store.identities(customerId: visitor.customerId).first { $0.channel == .email })
        #expect(email.address == "ana@example.com" && email.verified)
        await store.close()
    }

    @Test func aSessionSignedInAsSomeoneElseIsNeverJoinedToAnotherCustomer() async throws {
        let store = try makeStore()
        let (_, _, known) = try await anonymousVisitorAndKnownCustomer(store)
        let other = try await store.createVisitor(VisitorDraft(site: "default", verifiedIdentifier: "user-7"), tokenDigest: "d-other")
        let head = try await store.latestEventId()
        for identifier in ["user-42", "user-8"] {
            await #expect(throws: HubError.conflict("identity_conflict", "This chat session is signed in as someone else; start a new session.")) {
                _ = try await store.identifyVisitor(visitorId: other.id, identifier: identifier)
            }
        }
        #expect(try await store.events(after: head, scope: .all, limit: 10).isEmpty)
        #expect(try await store.customer(id: other.customerId).id != known.customerId)
        await #expect(throws: HubError.self) { _ = try await store.identifyVisitor(visitorId: "vis_missing", identifier: "user-42") }
        await store.close()
    }

    @Test func aReplyFromTheAddressAVisitorLeftMergesTheVisitorIntoItsOwner() async throws {
        let store = try makeStore()
        let owner = try await store.receive(inbound(from: "ana@example.com", text: "order 7?", externalId: "<m1@mail>"))
        let visitor = try await store.createVisitor(VisitorDraft(site: "default"), tokenDigest: "d")
        let chat = try await store.receive(inbound(from: visitor.id, text: "still no answer", channel: .webchat))
        // The address belongs to someone else: not the visitor's identity, yet where they asked to be answered.
        _ = try await store.setVisitorEmail(visitorId: visitor.id, email: "ana@example.com")
        #expect(try await store.identities(customerId: visitor.customerId).allSatisfy { $0.channel == .webchat })
        // "Answer me by email": the agent records it and replies in the chat.
        _ = try await store.setPreferences(customerId: visitor.customerId, [ChannelPreference(scope: .service, channels: [.email])])
        let sent = try await store.reply(conversationId: chat.conversationId, ReplyDraft(text: "It ships today."), authorId: nil, idempotencyKey: nil)
        #expect(sent.channel == .email)
        let head = try await store.latestEventId()

        let reply = try await store.receive(inbound(from: "ana@example.com", text: "thanks!", externalId: "<m2@mail>", threadHints: [sent.id]))
        #expect(reply.customerId == owner.customerId && reply.conversationId == chat.conversationId)
        let merge = try decodeEventData(CustomerMerge.self, from: try #require(try await store.events(after: head, scope: .all, limit: 10).first))
        #expect(merge.reason == .verifiedReply && merge.mergedId == visitor.customerId && merge.evidence == "email:ana@example.com")
        #expect(try await store.identities(customerId: owner.customerId).first { $0.channel == .email }?.verified == true)
        await store.close()
    }

    @Test func aReplyToMailTheHubNeverSentThereMergesNothing() async throws {
        let store = try makeStore()
        let owner = try await store.receive(inbound(from: "ana@example.com", text: "order 7?", externalId: "<m1@mail>"))
        let stranger = try await store.receive(inbound(from: "bob@example.com", text: "hi", externalId: "<m2@mail>"))
        let answer = try await store.reply(conversationId: stranger.conversationId, ReplyDraft(text: "Hello Bob"), authorId: nil, idempotencyKey: nil)
        // Ana quotes a mail that went to Bob (a forward): she joins nothing of his and no one is merged.
        let forwarded = try await store.receive(inbound(from: "ana@example.com", text: "see below", externalId: "<m3@mail>", threadHints: [answer.id]))
        #expect(forwarded.customerId == owner.customerId && forwarded.conversationId != stranger.conversationId)
        #expect(try await store.customer(id: stranger.customerId).id == stranger.customerId)
        #expect(try await store.identities(customerId: owner.customerId).first?.verified == false)
        // Bob's own reply proves his address.
        _ = try await store.receive(inbound(from: "bob@example.com", text: "thanks", externalId: "<m4@mail>", threadHints: [answer.id]))
        #expect(try await store.identities(customerId: stranger.customerId).first?.verified == true)
        await store.close()
    }

    @Test func aBlocklistedProfileStaysBlocklistedAndTheBetterTierWins() {
        let now = Date()
        func customer(_ tier: String?) -> Customer { Customer(id: "cus_\(tier ?? "none")", tier: tier, createdAt: now, updatedAt: now) }
        #expect(customer("low").merging(customer("vip")).tier == "vip")
        #expect(customer("vip").merging(customer("blocklisted")).tier == "blocklisted")
        #expect(customer(nil).merging(customer("normal")).tier == "normal")
        #expect(customer(nil).merging(customer(nil)).tier == nil)
    }
}
