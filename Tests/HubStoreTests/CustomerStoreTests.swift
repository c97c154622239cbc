import Foundation
import HubCore
import HubStore
import Testing

/// The delivery planner deciding the messages the center starts, with the store's data.
@Suite("Planned sends")
struct PlannedSendTests {
    @Test("without a channel the customer's preference decides; marketing waits out quiet hours and stops at the cap")
    func plannedSends() async throws {
        // 22:00 UTC: quiet for marketing in the customer's zone (UTC by default).
        let clock = TestClock(TestClock.start.addingTimeInterval(22 * 3600))
        let store = try makeStore(now: clock)
        let viaSMS = try await store.receive(inbound(from: "+15005550006", text: "hi", channel: .sms))
        let customerId = viaSMS.customerId
        _ = try await store.setPreferences(customerId: customerId, [ChannelPreference(scope: .service, channels: [.sms])])
        let notice = try await store.send(OutboundDraft(customerId: customerId, channel: nil, text: "Your order shipped", purpose: .transactional))
        #expect(notice.channel == .sms)
        #expect(try await store.nextOutboxDue() == clock.now())

        // Marketing by SMS with consent: queued now, due at 08:00 the next morning.
        try await store.recordConsent(ConsentRecord(customerId: customerId, channel: .sms, address: "+15005550006", purpose: .marketing,
                                                    state: .optedIn, source: .api, evidence: nil, createdAt: clock.now()))
        let sale = try await store.send(OutboundDraft(customerId: customerId, channel: nil, text: "Sale!", purpose: .marketing))
        #expect(sale.channel == .sms)
        let dueNow = try await store.claimOutbox(now: clock.now(), owner: "t", lease: .seconds(86_400), limit: 10)
        #expect(dueNow.map(\.delivery.messageId) == [notice.id])
        let morning = TestClock.start.addingTimeInterval(32 * 3600)
        #expect(try await store.claimOutbox(now: morning.addingTimeInterval(-1), owner: "t", lease: .seconds(3600), limit: 10).isEmpty)
        #expect(try await store.claimOutbox(now: morning, owner: "t", lease: .seconds(3600), limit: 10).map(\.delivery.messageId) == [sale.id])

        // A second marketing message is fine; a third within 7 days is refused, and nothing is stored.
        _ = try await store.send(OutboundDraft(customerId: customerId, channel: .sms, text: "Sale, part 2", purpose: .marketing))
        do {
            _ = try await store.send(OutboundDraft(customerId: customerId, channel: .sms, text: "Sale, part 3", purpose: .marketing))
            Issue.record("the cap must refuse a third marketing message in a week")
        } catch let error as HubError {
            #expect(error.code == "frequency_capped")
        }
        #expect(try await store.preferences(customerId: customerId) == [ChannelPreference(scope: .service, channels: [.sms])])
        await #expect(throws: ValidationError.self) {
            try await store.setPreferences(customerId: customerId, [ChannelPreference(scope: .marketing, channels: [])])
        }
        await store.close()
    }
}

@Suite("Customer activity")
struct CustomerActivityTests {
    @Test("a VIP's messages are counted per window; forty days of silence is an early warning")
    func quietVIP() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let vip = try await store.receive(inbound(from: "vip@example.com", text: "one"))
        _ = try await store.receive(inbound(from: "vip@example.com", text: "two"))
        _ = try await store.receive(inbound(from: "normal@example.com", text: "hi"))
        _ = try await store.updateCustomer(id: vip.customerId, CustomerPatch(tier: .vip))
        let later = TestClock.start.addingTimeInterval(40 * 86_400)
        let activity = try await store.customerActivity(tiers: [.vip], windowDays: 30, now: later)
        #expect(activity == [CustomerActivity(customerId: vip.customerId, name: nil, tier: .vip, lastContactAt: TestClock.start,
                                              recentContacts: 0, previousContacts: 2)])
        let warnings = EarlyWarning.report(activity, now: later, quietDays: 30)
        #expect(warnings.map(\.reason) == [.noContact])
        #expect(warnings.first?.daysSinceContact == 40)
        await store.close()
    }
}
