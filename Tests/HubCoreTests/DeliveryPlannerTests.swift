import Foundation
import HubCore
import Testing

@Suite("DeliveryPlanner")
struct DeliveryPlannerTests {
    static func date(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? .distantPast
    }

    static let created = date("2026-01-01T00:00:00Z")

    static func identity(_ channel: Channel, _ address: String) -> Identity {
        Identity(channel: channel, address: address, customerId: "cus_1", verified: true, createdAt: created)
    }

    static let everywhere = [identity(.email, "ana@example.com"), identity(.sms, "+4915112345678"), identity(.webchat, "vis_1")]

    static func consent(_ channel: Channel, _ address: String, _ purpose: ConsentPurpose, _ state: ConsentState, _ source: ConsentSource = .api) -> ConsentRecord {
        ConsentRecord(customerId: "cus_1", channel: channel, address: address, purpose: purpose, state: state, source: source, evidence: nil, createdAt: created)
    }

    static func channels(_ plan: DeliveryPlan) -> [Channel]? {
        if case .send(let deliveries, _) = plan { deliveries.map(\.channel) } else { nil }
    }

    static func notBefore(_ plan: DeliveryPlan) -> Date? {
        if case .send(_, let notBefore) = plan { notBefore } else { nil }
    }

    @Test("a preference for a while outranks the standing one, and only inside its window")
    func validityWindows() {
        let standing = ChannelPreference(scope: .service, channels: [.sms, .email])
        let abroad = ChannelPreference(scope: .service, channels: [.email], validFrom: Self.date("2026-12-01T00:00:00Z"), validUntil: Self.date("2026-12-20T00:00:00Z"))
        let request = DeliveryRequest(purpose: .transactional, identities: Self.everywhere, preferences: [abroad, standing])
        let planner = DeliveryPlanner()
        #expect(Self.channels(planner.plan(request, now: Self.date("2026-11-30T23:59:59Z"))) == [.sms, .email])
        #expect(Self.channels(planner.plan(request, now: Self.date("2026-12-10T12:00:00Z"))) == [.email])
        #expect(Self.channels(planner.plan(request, now: Self.date("2026-12-20T00:00:00Z"))) == [.sms, .email])
    }

    @Test("a reply goes to the conversation's channel first, then falls back; a failed channel is skipped")
    func replyAndFallback() {
        let planner = DeliveryPlanner()
        var request = DeliveryRequest(purpose: .reply, identities: Self.everywhere, conversationChannel: .sms)
        let now = Self.date("2026-06-01T12:00:00Z")
        #expect(Self.channels(planner.plan(request, now: now)) == [.sms, .email])
        // The SMS came back undelivered: the same message goes by email, once.
        request.failedChannels = [.sms]
        #expect(Self.channels(planner.plan(request, now: now)) == [.email])
        // The customer's current preference says otherwise: email only, even for a chat.
        request = DeliveryRequest(purpose: .reply, identities: Self.everywhere, preferences: [ChannelPreference(scope: .service, channels: [.email])],
                                  conversationChannel: .webchat)
        #expect(Self.channels(planner.plan(request, now: now)) == [.email])
        // A preference that allows the conversation's channel keeps the reply where the customer wrote.
        request.preferences = [ChannelPreference(scope: .service, channels: [.email, .sms])]
        request.conversationChannel = .sms
        #expect(Self.channels(planner.plan(request, now: now)) == [.sms, .email])
    }

    @Test("quiet hours defer marketing to the end of the customer's night, in their time zone; transactional goes now")
    func quietHoursAcrossZones() {
        let consents = [Self.consent(.email, "ana@example.com", .marketing, .optedIn)]
        let tokyo = TimeZone(identifier: "Asia/Tokyo")
        let planner = DeliveryPlanner()
        // 13:00 UTC is 22:00 in Tokyo: marketing waits until 08:00 Tokyo, 23:00 UTC.
        let evening = Self.date("2026-06-01T13:00:00Z")
        let marketing = planner.plan(DeliveryRequest(purpose: .marketing, timeZone: tokyo, identities: Self.everywhere, consents: consents), now: evening)
        #expect(Self.channels(marketing) == [.email])
        #expect(Self.notBefore(marketing) == Self.date("2026-06-01T23:00:00Z"))
        let notice = planner.plan(DeliveryRequest(purpose: .transactional, timeZone: tokyo, identities: Self.everywhere), now: evening)
        #expect(Self.notBefore(notice) == nil)
        // The same instant is 15:00 in Paris: no wait.
        let paris = planner.plan(DeliveryRequest(purpose: .marketing, timeZone: TimeZone(identifier: "Europe/Paris"), identities: Self.everywhere,
                                                 consents: consents), now: evening)
        #expect(Self.notBefore(paris) == nil)
        // Just after midnight in Tokyo the end is the same morning.
        let lateNight = planner.plan(DeliveryRequest(purpose: .marketing, timeZone: tokyo, identities: Self.everywhere, consents: consents),
                                     now: Self.date("2026-06-01T15:30:00Z"))
        #expect(Self.notBefore(lateNight) == Self.date("2026-06-01T23:00:00Z"))
    }

    @Test("a message held by a campaign's pause moves on by the pause, but out of the customer's quiet hours")
    func resumedAfterAPause() throws {
        let planner = DeliveryPlanner()
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        // Planned for 11:00 UTC, 20:00 in Tokyo.
        let planned = Self.date("2026-06-01T11:00:00Z")
        // Paused for half an hour: 20:30 in Tokyo, still before quiet.
        #expect(planner.resumed(planned, pausedFor: 1_800, in: tokyo) == Self.date("2026-06-01T11:30:00Z"))
        // Paused for three hours: 23:00 in Tokyo is quiet, so 08:00 Tokyo the next morning.
        #expect(planner.resumed(planned, pausedFor: 10_800, in: tokyo) == Self.date("2026-06-01T23:00:00Z"))
        // The same move in Paris (13:00 → 16:00) is daytime: as moved.
        #expect(planner.resumed(planned, pausedFor: 10_800, in: try #require(TimeZone(identifier: "Europe/Paris")))
                == Self.date("2026-06-01T14:00:00Z"))
    }

    @Test("quiet hours over a daylight saving change end at the local hour, and a skipped hour resolves forward")
    func quietHoursAcrossDST() {
        let newYork = TimeZone(identifier: "America/New_York")!
        // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT. 01:30 EST is 06:30 UTC; 08:00 EDT is 12:00 UTC.
        let night = QuietHours(start: "21:00", end: "08:00")
        #expect(night.end(ofQuietAt: Self.date("2026-03-08T06:30:00Z"), in: newYork) == Self.date("2026-03-08T12:00:00Z"))
        // Quiet until 02:30, a time that does not exist that night: it ends at 03:30 EDT (07:30 UTC).
        let short = QuietHours(start: "22:00", end: "02:30")
        #expect(short.end(ofQuietAt: Self.date("2026-03-08T06:30:00Z"), in: newYork) == Self.date("2026-03-08T07:30:00Z"))
        // 2026-11-01: back from EDT to EST; 08:00 EST is 13:00 UTC.
        #expect(night.end(ofQuietAt: Self.date("2026-11-01T05:30:00Z"), in: newYork) == Self.date("2026-11-01T13:00:00Z"))
        // Outside quiet hours, or malformed ones: no wait.
        #expect(night.end(ofQuietAt: Self.date("2026-03-08T17:00:00Z"), in: newYork) == nil)
        #expect(QuietHours(start: "9pm", end: "08:00").end(ofQuietAt: Self.date("2026-03-08T06:30:00Z"), in: newYork) == nil)
    }

    @Test("the marketing cap counts across channels over its window")
    func frequencyCap() {
        let consents = [Self.consent(.email, "ana@example.com", .marketing, .optedIn)]
        let now = Self.date("2026-06-10T12:00:00Z")
        let planner = DeliveryPlanner(quietHours: [:])
        let twoThisWeek = DeliveryRequest(purpose: .marketing, identities: Self.everywhere, consents: consents,
                                          recentMarketing: [Self.date("2026-06-05T12:00:00Z"), Self.date("2026-06-09T12:00:00Z")])
        guard case .refused(let refusal) = planner.plan(twoThisWeek, now: now) else {
            Issue.record("two marketing messages this week must stop a third")
            return
        }
        #expect(refusal.reason == .frequencyCap)
        #expect(refusal.message.contains("2 marketing messages in the last 7 days"))
        let oneOld = DeliveryRequest(purpose: .marketing, identities: Self.everywhere, consents: consents,
                                     recentMarketing: [Self.date("2026-06-01T12:00:00Z"), Self.date("2026-06-09T12:00:00Z")])
        #expect(Self.channels(planner.plan(oneOld, now: now)) == [.email])
        // Transactional messages are not capped.
        #expect(Self.channels(planner.plan(DeliveryRequest(purpose: .transactional, identities: Self.everywhere,
                                                           recentMarketing: twoThisWeek.recentMarketing), now: now)) == [.email, .sms])
    }

    @Test("after STOP by SMS no marketing SMS, but marketing email where email consent exists; no consent anywhere is a refusal with reasons")
    func optOuts() {
        let stop = [Self.consent(.sms, "+4915112345678", .marketing, .optedOut, .keyword), Self.consent(.sms, "+4915112345678", .transactional, .optedOut, .keyword)]
        let planner = DeliveryPlanner(quietHours: [:])
        let now = Self.date("2026-06-10T12:00:00Z")
        let withEmail = DeliveryRequest(purpose: .marketing, identities: Self.everywhere,
                                        consents: stop + [Self.consent(.email, "ana@example.com", .marketing, .optedIn)])
        #expect(Self.channels(planner.plan(withEmail, now: now)) == [.email])
        guard case .refused(let refusal) = planner.plan(DeliveryRequest(purpose: .marketing, identities: Self.everywhere, consents: stop), now: now) else {
            Issue.record("marketing without any consent must be refused")
            return
        }
        #expect(refusal.reason == .consent)
        #expect(refusal.message.contains("email: no marketing consent"))
        #expect(refusal.message.contains("sms: opted out of marketing messages"))
        // Transactional after STOP (carrier policy "all"): by email only.
        #expect(Self.channels(planner.plan(DeliveryRequest(purpose: .transactional, identities: Self.everywhere, consents: stop), now: now)) == [.email])
        // No address at all.
        #expect(planner.plan(DeliveryRequest(purpose: .transactional, identities: []), now: now)
                == .refused(DeliveryRefusal(.unreachable, "no email address; no sms address")))
    }
}
