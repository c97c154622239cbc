import Foundation
import HubCore
import HubServer
import HubStore
import Logging
import Synchronization
import Testing

/// Campaigns against a real store: launch checks, planning in batches (each customer once, across restarts),
/// pause, resume and cancel on the outbox, unsubscribes in the ledger, replies back into the inbox.
@Suite struct CampaignTests {
    /// A store whose clock the test moves.
    final class Clock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_780_000_000))  // 2026-05-28T20:26:40Z
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    struct Hub {
        let storage: SQLiteHubStorage
        let catalog: TemplateCatalog
        let clock: Clock
        let path: String
        let links = CampaignLinks(baseURL: "https://hub.example", secret: "s3cret")

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("campaign-\(UUID().uuidString).sqlite").path
            let clock = Clock()
            self.clock = clock
            storage = try SQLiteHubStorage(path: path, now: { clock.now.withLock { $0 } })
            catalog = TemplateCatalog(storage: storage, directory: nil, logger: Logger(label: "test"))
        }

        func runner(batchSize: Int = 3) -> CampaignRunner {
            CampaignRunner(storage: storage, catalog: catalog, planner: DeliveryPlanner(), links: links, preferencesLink: nil,
                           centerName: "Acme", batchSize: batchSize, logger: Logger(label: "test"), now: { [clock] in clock.now.withLock { $0 } })
        }

        /// A customer with an email address (opted in to marketing unless `optedIn` is false) and attributes.
        @discardableResult
        func customer(_ email: String, attributes: [String: String] = [:], tags: [String] = [], optedIn: Bool = true,
                      sms: String? = nil) async throws -> String {
            let id = try await storage.receive(InboundMessage(channel: .email, from: email, name: "Ana", text: "hello",
                                                              externalId: "<\(email)>", receivedAt: Date())).customerId
            _ = try await storage.updateCustomer(id: id, CustomerPatch(attributes: attributes, tags: tags))
            if optedIn {
                try await storage.recordConsent(ConsentRecord(customerId: id, channel: .email, address: email, purpose: .marketing,
                                                              state: .optedIn, source: .import, evidence: nil, createdAt: Date()))
            }
            if let sms {
                _ = try await storage.addIdentity(customerId: id, channel: .sms, address: sms)
                try await storage.recordConsent(ConsentRecord(customerId: id, channel: .sms, address: sms, purpose: .marketing,
                                                              state: .optedIn, source: .import, evidence: nil, createdAt: Date()))
            }
            return id
        }

        func template(_ text: String = "{{center.name}}: code {{data.code}}. Stop: {{links.unsubscribe}}",
                      variables: [String] = ["data.code"]) async throws {
            try await catalog.store(MessageTemplate(
                name: "offer", variables: variables, defaultLocale: "en",
                locales: ["en": TemplateContent(emailSubject: "An offer", emailText: text, sms: "{{center.name}}: code {{data.code}}. Reply STOP to opt out")]
            ))
        }

        func launched(audience: String = "", data: [String: String] = ["code": "X1"], channels: [Channel]? = nil) async throws -> Campaign {
            let draft = try await storage.createCampaign(CampaignDraft(name: "Spring", template: "offer", audience: audience, channels: channels, data: data))
            return try await CampaignLaunch(storage: storage, catalog: catalog).launch(id: draft.id)
        }

        func work(_ id: String) async throws -> CampaignWork? {
            try await storage.campaignsToPlan().first { $0.campaign.id == id }
        }

        /// When the outbox next has something to send; nil when nothing is queued.
        func due() async throws -> TimeInterval? {
            try await storage.nextOutboxDue().map { $0.timeIntervalSince(clock.now.withLock { $0 }).rounded() }
        }

        func close() async {
            await storage.close()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    @Test func aLaunchedCampaignPlansEveryoneOnceInBatchesAndSaysWhoWasSkipped() async throws {
        let hub = try Hub()
        try await hub.template()
        var ids: [String] = []
        for index in 0..<7 { ids.append(try await hub.customer("c\(index)@example.com", tags: index == 3 ? [] : ["vip"])) }
        try await hub.customer("no-consent@example.com", tags: ["vip"], optedIn: false)
        let campaign = try await hub.launched(audience: #"tags has "vip""#)
        #expect(campaign.state == .scheduled && campaign.audienceSize == 7)

        let work = try #require(try await hub.work(campaign.id))
        #expect(try await hub.runner().plan(work) == 7)
        let stats = try await hub.storage.campaignStats(id: campaign.id)
        // Planned, but not completed while its messages wait in the outbox.
        #expect(stats.state == .sending && stats.planned == 7)
        #expect(stats.total.targeted == 6 && stats.skipped[.noConsent] == 1 && stats.channels[.email]?.pending == 6)
        let recipients = try await hub.storage.campaignRecipients(id: campaign.id, outcome: .queued, PageRequest(limit: 50)).items
        #expect(Set(recipients.map(\.customerId)) == Set(ids.enumerated().filter { $0.offset != 3 }.map(\.element)))
        // Each message says its own unsubscribe link.
        let message = try await hub.storage.message(id: try #require(recipients.first?.messageId))
        #expect(message.text == "Acme: code X1. Stop: \(hub.links.unsubscribe(messageId: message.id))" && message.authorKind == .campaign)
        #expect(try await hub.due() == 0)
        // Nothing is left to plan.
        #expect(try await hub.runner().plan(try #require(try await hub.work(campaign.id))) == 0)
        await hub.close()
    }

    @Test func aRestartGoesOnFromTheCursorAndAStaleBatchWritesNothing() async throws {
        let hub = try Hub()
        try await hub.template()
        for index in 0..<10 { try await hub.customer("r\(index)@example.com") }
        let campaign = try await hub.launched()
        // Two batches, then "a crash": a new runner picks up where the cursor is.
        let first = try #require(try await hub.work(campaign.id))
        #expect(try await hub.runner().plan(first, batches: 2) == 6)
        // The first runner's view of the work is stale: its batch would repeat customers, so nothing is written.
        #expect(try await hub.storage.commitCampaignBatch(first, through: "zzz", [], pace: CampaignPace(), after: nil) == false)
        let resumed = try #require(try await hub.work(campaign.id))
        // A batch behind one that was not written is not written either, though its own view is current.
        let refused = Task<Bool, any Error> { false }
        #expect(try await hub.storage.commitCampaignBatch(resumed, through: "zzz", [], pace: CampaignPace(), after: refused) == false)
        #expect(try await hub.work(campaign.id)?.cursor == resumed.cursor)
        #expect(try await hub.runner(batchSize: 4).plan(resumed) == 4)
        let recipients = try await hub.storage.campaignRecipients(id: campaign.id, outcome: nil, PageRequest(limit: 50)).items
        #expect(recipients.count == 10 && Set(recipients.map(\.customerId)).count == 10)
        await hub.close()
    }

    @Test func pauseHoldsResumeShiftsCancelStops() async throws {
        let hub = try Hub()
        try await hub.template()
        for index in 0..<4 { try await hub.customer("p\(index)@example.com") }
        let campaign = try await hub.launched()
        try await hub.runner(batchSize: 2).plan(try #require(try await hub.work(campaign.id)), batches: 1)
        #expect(try await hub.storage.controlCampaign(id: campaign.id, .pause, defaultTimeZone: .gmt).state == .paused)
        #expect(try await hub.due() == nil, "held messages are not due")
        #expect(try await hub.work(campaign.id) == nil, "a paused campaign plans nothing")
        hub.clock.advance(600)
        #expect(try await hub.storage.controlCampaign(id: campaign.id, .resume, defaultTimeZone: .gmt).state == .sending)
        // Held messages moved on by the length of the pause: due now, ten minutes later than planned.
        #expect(try await hub.due() == 0)
        try await hub.runner(batchSize: 2).plan(try #require(try await hub.work(campaign.id)), batches: 1)
        let cancelled = try await hub.storage.controlCampaign(id: campaign.id, .cancel, defaultTimeZone: .gmt)
        #expect(cancelled.state == .cancelled)
        #expect(try await hub.due() == nil)
        await #expect(throws: HubError.self) { _ = try await hub.storage.controlCampaign(id: campaign.id, .resume, defaultTimeZone: .gmt) }
        let recipients = try await hub.storage.campaignRecipients(id: campaign.id, outcome: nil, PageRequest(limit: 10)).items
        #expect(recipients.count == 4 && recipients.allSatisfy { $0.deliveryState == .cancelled })
        await hub.close()
    }

    @Test func aResumeDoesNotMoveHeldMessagesIntoQuietHours() async throws {
        let hub = try Hub()
        try await hub.template()
        for index in 0..<2 { try await hub.customer("q\(index)@example.com") }
        let campaign = try await hub.launched()
        // Planned for 20:26:40 UTC (the clock's start), paused for an hour: 21:26:40 is in the 21:00–08:00 quiet hours.
        try await hub.runner().plan(try #require(try await hub.work(campaign.id)))
        _ = try await hub.storage.controlCampaign(id: campaign.id, .pause, defaultTimeZone: .gmt)
        hub.clock.advance(3_600)
        _ = try await hub.storage.controlCampaign(id: campaign.id, .resume, defaultTimeZone: .gmt)
        // They go when quiet ends, 08:00 the next morning: 10 h 33 min 20 s from now.
        #expect(try await hub.due() == 38_000)
        await hub.close()
    }

    @Test func aBatchPlannedBeforeAPauseAndResumeIsNotWritten() async throws {
        let hub = try Hub()
        try await hub.template()
        for index in 0..<4 { try await hub.customer("s\(index)@example.com") }
        let campaign = try await hub.launched()
        let stale = try #require(try await hub.work(campaign.id))
        _ = try await hub.storage.controlCampaign(id: campaign.id, .pause, defaultTimeZone: .gmt)
        hub.clock.advance(600)
        _ = try await hub.storage.controlCampaign(id: campaign.id, .resume, defaultTimeZone: .gmt)
        // Same cursor, sending again, but its send times and pace are from before the pause.
        #expect(try await hub.storage.commitCampaignBatch(stale, through: "zzz", [], pace: CampaignPace(), after: nil) == false)
        try await hub.runner().plan(stale)
        #expect(try await hub.storage.campaignRecipients(id: campaign.id, outcome: nil, PageRequest(limit: 10)).items.isEmpty)
        // The current view plans everyone.
        #expect(try await hub.runner().plan(try #require(try await hub.work(campaign.id))) == 4)
        await hub.close()
    }

    @Test func theLaunchIsBlockedByWhatRecipientsOrTheCampaignLack() async throws {
        let hub = try Hub()
        try await hub.template("Hello from {{attributes.city}}: {{data.code}}\n{{#attributes.store}}Store {{attributes.store}}{{/attributes.store}}",
                               variables: ["attributes.city", "attributes.store", "data.code"])
        try await hub.customer("a@example.com", attributes: ["city": "Shenzhen"])
        try await hub.customer("b@example.com")
        let draft = try await hub.storage.createCampaign(CampaignDraft(name: "x", template: "offer"))
        let launch = CampaignLaunch(storage: hub.storage, catalog: hub.catalog)
        let (size, problems) = try await launch.check(try await hub.storage.campaign(id: draft.id))
        #expect(size == 2)
        // The guarded attribute is fine; the unguarded one is named with its file and line, and so is the missing data.
        #expect(problems == [
            "attributes.city (en/email.text:1) is missing for 1 of 2 recipients; guard it with {{#attributes.city}}…{{/attributes.city}} or narrow the audience",
            "data.code (en/email.text:1) has no value in the campaign's data",
        ])
        await #expect(throws: HubError.self) { _ = try await launch.launch(id: draft.id) }
        #expect(try await hub.storage.campaign(id: draft.id).state == .draft)
        let empty = try await hub.storage.createCampaign(CampaignDraft(name: "y", template: "offer", audience: #"tags has "nobody""#, data: ["code": "1"]))
        #expect(try await launch.check(try await hub.storage.campaign(id: empty.id)).problems.contains("the audience is empty"))
        await hub.close()
    }

    @Test func anUnsubscribeLandsInTheLedgerOnceAndCounts() async throws {
        let hub = try Hub()
        try await hub.template()
        let customer = try await hub.customer("u@example.com")
        let campaign = try await hub.launched()
        try await hub.runner().plan(try #require(try await hub.work(campaign.id)))
        let messageId = try #require(try await hub.storage.campaignRecipients(id: campaign.id, outcome: .queued, PageRequest(limit: 1)).items.first?.messageId)
        #expect(hub.links.messageId(token: String(hub.links.unsubscribe(messageId: messageId).split(separator: "/").last!)) == messageId)
        _ = try await hub.storage.unsubscribe(messageId: messageId)
        _ = try await hub.storage.unsubscribe(messageId: messageId)
        let ledger = try await hub.storage.consents(customerId: customer)
        #expect(ledger.filter { $0.source == .unsubscribe }.map(\.state) == [.optedOut])
        #expect(try await hub.storage.campaignStats(id: campaign.id).total.unsubscribed == 1)
        // The next campaign skips the address.
        let next = try await hub.storage.createCampaign(CampaignDraft(name: "Again", template: "offer", data: ["code": "X2"]))
        _ = try await CampaignLaunch(storage: hub.storage, catalog: hub.catalog).launch(id: next.id)
        try await hub.runner().plan(try #require(try await hub.work(next.id)))
        #expect(try await hub.storage.campaignStats(id: next.id).skipped[.noConsent] == 1)
        await hub.close()
    }

    @Test func anAutomationSendsEachCustomerOnTheirDateOncePerYear() async throws {
        let hub = try Hub()
        try await hub.template("Happy birthday, {{customer.firstName}}! {{data.code}}", variables: ["data.code"])
        let today = hub.clock.now.withLock { $0 }
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = .gmt
        let monthDay = String(format: "%02d-%02d", utc.component(.month, from: today), utc.component(.day, from: today))
        let birthday = try await hub.customer("b@example.com", attributes: ["birthday": "1990-" + monthDay])
        try await hub.customer("other@example.com", attributes: ["birthday": "1990-01-01" == "1990-" + monthDay ? "1990-07-01" : "1990-01-01"])
        let draft = try await hub.storage.createCampaign(CampaignDraft(
            name: "Birthday", template: "offer", data: ["code": "GIFT"], trigger: CampaignTrigger(attribute: "birthday", localTime: "00:00")
        ))
        _ = try await CampaignLaunch(storage: hub.storage, catalog: hub.catalog).launch(id: draft.id)
        let runner = hub.runner()
        #expect(try await runner.plan(try #require(try await hub.work(draft.id))) == 1)
        // Looked a moment ago: nothing again now, nor later the same day; an automation never completes.
        #expect(try await runner.plan(try #require(try await hub.work(draft.id))) == 0)
        let lines = try await hub.storage.campaignRecipients(id: draft.id, outcome: nil, PageRequest(limit: 10)).items
        #expect(lines.map(\.customerId) == [birthday] && lines.first?.occurrence == String(utc.component(.year, from: today)))
        let message = try await hub.storage.message(id: try #require(lines.first?.messageId))
        #expect(message.text == "Happy birthday, Ana! GIFT")
        #expect(try await hub.storage.campaign(id: draft.id).state == .sending)
        await hub.close()
    }

    @Test func anSMSReplyWithinTheWindowReturnsToTheCampaignConversation() async throws {
        let hub = try Hub()
        try await hub.template()
        let customer = try await hub.customer("s@example.com", sms: "+15551230009")
        let campaign = try await hub.launched(channels: [.sms])
        try await hub.runner().plan(try #require(try await hub.work(campaign.id)))
        let recipient = try #require(try await hub.storage.campaignRecipients(id: campaign.id, outcome: .queued, PageRequest(limit: 1)).items.first)
        #expect(recipient.channel == .sms && recipient.address == "+15551230009")
        // Before it went out, a text from the customer is a new contact; once sent, an answer to it.
        hub.clock.advance(60)
        let early = try await hub.storage.receive(InboundMessage(channel: .sms, from: "+15551230009", text: "hi", externalId: "SM0", receivedAt: Date()))
        #expect(try await hub.storage.conversation(id: early.conversationId).campaignId == nil)
        _ = try await hub.storage.setStatus(conversationId: early.conversationId, .resolved, snoozedUntil: nil)
        for item in try await hub.storage.claimOutbox(now: hub.clock.now.withLock { $0 }, owner: "test", lease: .seconds(60), limit: 10) {
            try await hub.storage.outboxSent(item, receipt: SendReceipt(providerMessageId: "SMX"))
        }
        hub.clock.advance(3_540)
        let reply = try await hub.storage.receive(InboundMessage(channel: .sms, from: "+15551230009", text: "Is it valid online?",
                                                                 externalId: "SM1", receivedAt: Date()))
        let conversation = try await hub.storage.conversation(id: reply.conversationId)
        #expect(reply.customerId == customer && conversation.campaignId == campaign.id && conversation.status == .open)
        #expect(conversation.tags == ["campaign:\(campaign.id)"])
        #expect(try await hub.storage.campaignStats(id: campaign.id).total.replied == 1)
        // Days later a message is a new contact, not a reply to the campaign.
        _ = try await hub.storage.setStatus(conversationId: conversation.id, .resolved, snoozedUntil: nil)
        hub.clock.advance(4 * 86_400)
        let later = try await hub.storage.receive(InboundMessage(channel: .sms, from: "+15551230009", text: "hello", externalId: "SM2", receivedAt: Date()))
        #expect(later.conversationId != conversation.id)
        await hub.close()
    }
}
