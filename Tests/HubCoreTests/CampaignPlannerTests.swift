import Foundation
import HubCore
import Testing
import TestSupport

@Suite("CampaignPlanner")
struct CampaignPlannerTests {
    static func date(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? .distantPast
    }

    static let start = date("2026-06-01T10:00:00Z")

    static func customer(_ id: String, timeZone: String? = nil) -> Customer {
        Customer(id: id, name: "Ana", timeZone: timeZone, createdAt: start, updatedAt: start)
    }

    /// A customer with an email address and an SMS number, opted in to marketing on `optedIn`.
    static func candidate(_ id: String, optedIn: [Channel] = [.email, .sms], timeZone: String? = nil, preferences: [ChannelPreference] = [],
                          recent: [Date] = []) -> CampaignCandidate {
        let identities = [
            Identity(channel: .email, address: "\(id)@example.com", customerId: id, verified: false, createdAt: start),
            Identity(channel: .sms, address: "+1555\(id.count)", customerId: id, verified: false, createdAt: start),
        ]
        let consents = identities.filter { optedIn.contains($0.channel) }.map {
            ConsentRecord(customerId: id, channel: $0.channel, address: $0.address, purpose: .marketing, state: .optedIn, source: .import,
                          evidence: nil, createdAt: start)
        }
        return CampaignCandidate(customer: customer(id, timeZone: timeZone), request: DeliveryRequest(
            purpose: .marketing, timeZone: timeZone.flatMap(TimeZone.init(identifier:)), identities: identities, consents: consents,
            preferences: preferences, recentMarketing: recent
        ))
    }

    static func planner(_ draft: CampaignDraft = CampaignDraft(name: "Spring", template: "spring-sale"),
                        variants: Set<Channel> = [.email, .sms]) -> CampaignPlanner {
        CampaignPlanner(campaign: Campaign(id: "cmp_1", draft: draft, createdAt: start), planner: DeliveryPlanner(),
                        variants: variants, start: start)
    }

    static func plan(_ planner: CampaignPlanner, _ candidate: CampaignCandidate, pace: inout CampaignPace) -> PlannedRecipient {
        planner.plan(candidate, pace: &pace, makeId: { "msg_\(candidate.customer.id)" }).rendered { customer, channel, id in
            RenderedMessage(subject: channel == .email ? "Hi" : nil, text: "\(customer.id) \(channel.rawValue) \(id)")
        }
    }

    static func plan(_ planner: CampaignPlanner, _ candidate: CampaignCandidate) -> PlannedRecipient {
        var pace = CampaignPace()
        return plan(planner, candidate, pace: &pace)
    }

    @Test("each customer gets the first channel of their marketing plan the template can render")
    func channelChoice() {
        let recipient = Self.plan(Self.planner(), Self.candidate("a"))
        #expect(recipient.outcome == .queued && recipient.delivery?.channel == .email && recipient.messageId == "msg_a")
        #expect(recipient.message?.text == "a email msg_a" && recipient.sendAt == Self.start && !recipient.deferred)
        // A customer who prefers SMS for marketing gets SMS.
        let sms = Self.candidate("b", preferences: [ChannelPreference(scope: .marketing, channels: [.sms, .email])])
        #expect(Self.plan(Self.planner(), sms).delivery?.channel == .sms)
        // A template without an email variant reaches the email-first customer by SMS.
        #expect(Self.plan(Self.planner(variants: [.sms]), Self.candidate("c")).delivery?.channel == .sms)
        // The campaign's channels bound the choice; without a preference they are the order.
        let smsOnly = Self.planner(CampaignDraft(name: "Texts", template: "t", channels: [.sms]))
        #expect(Self.plan(smsOnly, Self.candidate("d")).delivery?.channel == .sms)
    }

    @Test("skips say why: no consent, the cap, no address, no variant")
    func skips() {
        #expect(Self.plan(Self.planner(), Self.candidate("a", optedIn: [])).reason == .noConsent)
        let recent = [Self.start.addingTimeInterval(-86_400), Self.start.addingTimeInterval(-2 * 86_400)]
        #expect(Self.plan(Self.planner(), Self.candidate("b", recent: recent)).reason == .frequencyCap)
        let webchatOnly = Self.planner(CampaignDraft(name: "Chat", template: "t", channels: [.webchat]), variants: [.webchat])
        #expect(Self.plan(webchatOnly, Self.candidate("c")).reason == .noIdentity)
        #expect(Self.plan(Self.planner(variants: [.webchat]), Self.candidate("d")).reason == .noVariant)
        // Opted in on SMS only: the email-first plan lands on SMS.
        #expect(Self.plan(Self.planner(), Self.candidate("e", optedIn: [.sms])).delivery?.channel == .sms)
    }

    @Test("quiet hours in the customer's time zone defer the message, never drop it")
    func quietHours() {
        // 10:00 UTC is 03:00 in Los Angeles: held until 08:00 there (15:00 UTC).
        let recipient = Self.plan(Self.planner(), Self.candidate("a", timeZone: "America/Los_Angeles"))
        #expect(recipient.outcome == .queued && recipient.deferred)
        #expect(recipient.sendAt == Self.date("2026-06-01T15:00:00Z"))
        // 18:00 in Shanghai: no quiet hours, it goes now.
        let now = Self.plan(Self.planner(), Self.candidate("b", timeZone: "Asia/Shanghai"))
        #expect(!now.deferred && now.sendAt == Self.start)
    }

    @Test("a local send time is each recipient's own, across time zones and a DST change")
    func localTime() {
        let planner = Self.planner(CampaignDraft(name: "Morning", template: "t", schedule: CampaignSchedule(localTime: "09:30")))
        // 10:00 UTC on 1 June: 09:30 in Shanghai (UTC+8) has passed, so the next day's; in New York (UTC−4) it is still ahead.
        #expect(Self.plan(planner, Self.candidate("a", timeZone: "Asia/Shanghai")).sendAt == Self.date("2026-06-02T01:30:00Z"))
        #expect(Self.plan(planner, Self.candidate("b", timeZone: "America/New_York")).sendAt == Self.date("2026-06-01T13:30:00Z"))
        #expect(Self.plan(planner, Self.candidate("c")).sendAt == Self.date("2026-06-02T09:30:00Z"))
        // Europe/Berlin leaves summer time on 25 October 2026: 09:30 is 07:30 UTC before and 08:30 UTC after.
        let schedule = CampaignSchedule(localTime: "09:30")
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        #expect(schedule.sendTime(in: berlin, start: Self.date("2026-10-24T12:00:00Z")) == Self.date("2026-10-25T08:30:00Z"))
        #expect(schedule.sendTime(in: berlin, start: Self.date("2026-10-23T12:00:00Z")) == Self.date("2026-10-24T07:30:00Z"))
        // A time skipped by the spring change (02:30 on 29 March 2026 in Berlin) resolves forward.
        let skipped = CampaignSchedule(localTime: "02:30").sendTime(in: berlin, start: Self.date("2026-03-28T12:00:00Z"))
        #expect(skipped >= Self.date("2026-03-29T01:00:00Z") && skipped <= Self.date("2026-03-29T01:30:00Z"))
    }

    @Test("a rate spaces sends evenly per channel; deferred ones keep their own time and take no slot")
    func pace() {
        let planner = Self.planner(CampaignDraft(name: "Slow", template: "t", throttle: CampaignThrottle(perSecond: [.email: 4])))
        var pace = CampaignPace()
        let times = (0..<5).map { Self.plan(planner, Self.candidate("c\($0)"), pace: &pace).sendAt }
        #expect(times == (0..<5).map { Self.start.addingTimeInterval(Double($0) * 0.25) })
        let held = Self.plan(planner, Self.candidate("late", timeZone: "America/Los_Angeles"), pace: &pace)
        #expect(held.sendAt == Self.date("2026-06-01T15:00:00Z"))
        #expect(Self.plan(planner, Self.candidate("next"), pace: &pace).sendAt == Self.start.addingTimeInterval(1.25))
        // SMS has no rate: it never waits.
        #expect(Self.plan(planner, Self.candidate("t", preferences: [ChannelPreference(scope: .marketing, channels: [.sms])]), pace: &pace).sendAt == Self.start)
    }

    @Test("property: at any rate, no send is before its earliest time and no two paced sends are closer than the interval")
    func paceProperty() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let rate = Double(Int.random(in: 1...50, using: &random))
            var pace = CampaignPace()
            var paced: [Date] = []
            for _ in 0..<50 {
                let deferred = Int.random(in: 0...4, using: &random) == 0
                let earliest = deferred ? Self.start.addingTimeInterval(Double(Int.random(in: 3_600...7_200, using: &random))) : Self.start
                let slot = pace.slot(.email, earliest: earliest, start: Self.start, perSecond: rate)
                #expect(slot >= earliest)
                if deferred { #expect(slot == earliest) } else { paced.append(slot) }
            }
            #expect(zip(paced, paced.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= 1 / rate - 1e-5 })
        }
    }

    @Test("drafts are checked: the audience parses, rates and data are bounded, local times are clock times")
    func draftValidation() {
        let good = CampaignDraft(name: " Spring ", template: "spring-sale", audience: #"tags has "vip""#, data: ["code": "X1"])
        #expect((try? good.validated())?.name == "Spring")
        for bad in [
            CampaignDraft(name: "", template: "t"),
            CampaignDraft(name: "x", template: "t", audience: "tier ="),
            CampaignDraft(name: "x", template: "t", channels: [.api]),
            CampaignDraft(name: "x", template: "t", channels: [.sms, .sms]),
            CampaignDraft(name: "x", template: "t", data: ["a.b": "1"]),
            CampaignDraft(name: "x", template: "t", schedule: CampaignSchedule(localTime: "25:00")),
            CampaignDraft(name: "x", template: "t", throttle: CampaignThrottle(perSecond: [.email: 0])),
        ] {
            #expect(throws: ValidationError.self) { try bad.validated() }
        }
    }
}

@Suite("CampaignTrigger")
struct CampaignTriggerTests {
    static func date(_ text: String) -> Date { CampaignPlannerTests.date(text) }
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    @Test("this year's date at the local time, in the customer's time zone, within a day of now")
    func occurrence() {
        let trigger = CampaignTrigger(attribute: "birthday")
        // Born 1990-06-02, in Shanghai: 09:00 there on 2 June is 01:00 UTC.
        let due = trigger.occurrence(of: "1990-06-02", in: Self.shanghai, around: Self.date("2026-06-01T20:00:00Z"))
        #expect(due?.year == 2026 && due?.sendAt == Self.date("2026-06-02T01:00:00Z"))
        #expect(trigger.occurrence(of: "06-02", in: Self.shanghai, around: Self.date("2026-06-02T12:00:00Z"))?.sendAt == Self.date("2026-06-02T01:00:00Z"))
        // Passed locally and now the next day there (01:00 on 3 June in Shanghai): not the day after.
        #expect(trigger.occurrence(of: "1990-06-02", in: Self.shanghai, around: Self.date("2026-06-02T17:00:00Z")) == nil)
        // More than a day away either way: not now.
        #expect(trigger.occurrence(of: "1990-06-02", in: Self.shanghai, around: Self.date("2026-05-30T00:00:00Z")) == nil)
        #expect(trigger.occurrence(of: "1990-06-02", in: Self.shanghai, around: Self.date("2026-06-04T00:00:00Z")) == nil)
        // At a chosen local time; across New Year the occurrence belongs to its own year.
        let evening = CampaignTrigger(attribute: "memberSince", localTime: "18:30")
        let newYear = evening.occurrence(of: "2020-01-01", in: .gmt, around: Self.date("2026-12-31T20:00:00Z"))
        #expect(newYear?.year == 2027 && newYear?.sendAt == Self.date("2027-01-01T18:30:00Z"))
        // 29 February falls on the 28th in other years.
        #expect(trigger.occurrence(of: "2000-02-29", in: .gmt, around: Self.date("2027-02-28T08:00:00Z"))?.sendAt == Self.date("2027-02-28T09:00:00Z"))
        #expect(trigger.occurrence(of: "2000-02-29", in: .gmt, around: Self.date("2028-02-29T08:00:00Z"))?.sendAt == Self.date("2028-02-29T09:00:00Z"))
        // Not a date.
        for value in ["", "soon", "13-01", "1990-06", "06-32"] {
            #expect(trigger.occurrence(of: value, in: .gmt, around: Self.date("2026-06-01T00:00:00Z")) == nil, "\(value)")
        }
    }
}
