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

    @Test func aBlocklistedProfileStaysBlocklistedAndTheBetterTierWins() {
        let now = Date()
        func customer(_ tier: String?) -> Customer { Customer(id: "cus_\(tier ?? "none")", tier: tier, createdAt: now, updatedAt: now) }
        #expect(customer("low").merging(customer("vip")).tier == "vip")
        #expect(customer("vip").merging(customer("blocklisted")).tier == "blocklisted")
        #expect(customer(nil).merging(customer("normal")).tier == "normal")
        #expect(customer(nil).merging(customer(nil)).tier == nil)
    }
}
