import Foundation
import HubCore
import Logging
import ServiceLifecycle

/// Plans launched campaigns into the outbox, batch by batch: the next customers of the audience, each one's
/// delivery plan and rendered copy, written with their recipient lines in one transaction that also moves the
/// campaign's cursor. A crash loses at most the batch being planned, which is planned again on restart; nobody
/// is planned twice, since the cursor and the (campaign, customer) key move with the batch.
public struct CampaignRunner: Service {
    let storage: any HubStorage
    public let catalog: TemplateCatalog
    let planner: DeliveryPlanner
    public let links: CampaignLinks
    let preferencesLink: PreferencesLink?
    let centerName: String
    let defaultTimeZone: TimeZone
    let batchSize: Int
    let logger: Logger
    let now: @Sendable () -> Date

    public init(storage: any HubStorage, catalog: TemplateCatalog, planner: DeliveryPlanner, links: CampaignLinks,
                preferencesLink: PreferencesLink?, centerName: String, defaultTimeZone: TimeZone = .gmt, batchSize: Int = 500,
                logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.storage = storage
        self.catalog = catalog
        self.planner = planner
        self.links = links
        self.preferencesLink = preferencesLink
        self.centerName = centerName
        self.defaultTimeZone = defaultTimeZone
        self.batchSize = batchSize
        self.logger = logger
        self.now = now
    }

    /// The runner `configuration` describes: its templates folder, its unsubscribe links (signed with
    /// `campaigns.linkSecret`, else a secret the hub makes once and keeps), its planning settings.
    public static func configured(_ configuration: HubConfiguration, storage: any HubStorage, logger: Logger) async throws -> CampaignRunner {
        let secret = if let secret = configuration.campaigns.linkSecret { secret } else { try await storage.secret(named: "campaign-links") }
        return CampaignRunner(
            storage: storage, catalog: TemplateCatalog(storage: storage, directory: configuration.templatesDirectory, logger: logger),
            planner: DeliveryPlanner(), links: CampaignLinks(baseURL: configuration.publicBaseURL, secret: secret),
            preferencesLink: configuration.preferencesLink, centerName: configuration.centerName,
            defaultTimeZone: configuration.campaigns.defaultTimeZone, batchSize: configuration.campaigns.batchSize, logger: logger
        )
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    var planned = false
                    for work in try await storage.campaignsToPlan() {
                        do {
                            planned = try await plan(work, batches: 20) > 0 || planned
                        } catch {
                            logger.error("could not plan a campaign", metadata: ["sb.campaign": "\(work.campaign.id)", "sb.error": "\(error)"])
                        }
                    }
                    // Idle, it looks again in two seconds: not at every event, since every sent message is one.
                    if !planned { try await Task.sleep(for: .seconds(2)) }
                }
            }
        } catch is CancellationError {
            // Shutdown between batches: the next start goes on from the cursor.
        }
    }

    /// Plans up to `batches` batches of one campaign and completes it when its audience is done;
    /// returns how many recipients it planned. Reading the next batch, rendering this one (on every core)
    /// and writing the previous one overlap.
    @discardableResult
    public func plan(_ work: CampaignWork, batches: Int = .max) async throws -> Int {
        if let trigger = work.campaign.trigger { return try await planOccurrences(work, trigger: trigger) }
        var work = work
        let campaign = work.campaign
        let audience = try AudienceFilter.parse(campaign.audience)
        let template = try await catalog.compiled(named: campaign.template)
        let recipientPlanner = CampaignPlanner(campaign: campaign, planner: planner, variants: template.channels,
                                               defaultTimeZone: defaultTimeZone, start: work.start)
        var planned = 0
        var candidates = try await storage.campaignCandidates(audience, after: work.cursor, limit: batchSize)
        var writing: Task<Bool, any Error>?
        for _ in 0..<batches {
            guard let last = candidates.last?.customer.id else { break }
            async let next = storage.campaignCandidates(audience, after: last, limit: batchSize)
            var pace = work.pace
            let decided = candidates.map { recipientPlanner.plan($0, pace: &pace, makeId: { HubID.make("msg") }) }
            let recipients = await render(decided, template: template, campaign: campaign)
            // Two batches in flight: this one's rows are made while the one before is written.
            let (batch, batchPace, storage, previous) = (work, pace, storage, writing)
            writing = Task { try await storage.commitCampaignBatch(batch, through: last, recipients, pace: batchPace, after: previous) }
            // A pause or cancel in between: the batch is not written, and planning stops here.
            guard try await previous?.value ?? true else { return planned }
            work.cursor = last
            work.pace = pace
            planned += recipients.count
            candidates = try await next
        }
        guard try await writing?.value ?? true else { return planned }
        if candidates.isEmpty {
            // Everyone is planned; the campaign completes when its last message has gone.
            let done = try await storage.completeCampaign(id: campaign.id)
            if done.state == .completed {
                logger.info("campaign completed", metadata: ["sb.campaign": "\(campaign.id)", "sb.recipients": "\(done.planned)"])
            }
        }
        return planned
    }

    /// An automation, every ten minutes (its cursor holds when it last looked): the customers whose date falls
    /// within a day of now, each planned for this year's occurrence at their local time, once.
    private func planOccurrences(_ work: CampaignWork, trigger: CampaignTrigger) async throws -> Int {
        var work = work
        let now = now()
        if let last = try? Date(work.cursor, strategy: .iso8601), now.timeIntervalSince(last) < 600 { return 0 }
        let campaign = work.campaign
        let audience = try AudienceFilter.parse(campaign.audience)
        let template = try await catalog.compiled(named: campaign.template)
        // Yesterday, today and tomorrow in UTC cover every time zone's today.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = .gmt
        var days = [-1, 0, 1].compactMap { utc.date(byAdding: .day, value: $0, to: now) }.map {
            String(format: "%02d-%02d", utc.component(.month, from: $0), utc.component(.day, from: $0))
        }
        // Born on 29 February: the 28th in other years.
        if days.contains("02-28"), !days.contains("02-29") { days.append("02-29") }
        var planned = 0
        var after = ""
        while true {
            let candidates = try await storage.triggerCandidates(audience, campaignId: campaign.id, trigger: trigger, days: days,
                                                                 after: after, limit: batchSize)
            guard let last = candidates.last?.customer.id else { break }
            after = last
            var pace = work.pace
            var decided: [PlannedRecipient] = []
            for candidate in candidates {
                let timeZone = candidate.request.timeZone ?? defaultTimeZone
                guard let value = candidate.customer.attributes[trigger.attribute],
                      let (year, sendAt) = trigger.occurrence(of: value, in: timeZone, around: now) else { continue }
                var occurrence = campaign
                occurrence.schedule = CampaignSchedule(at: sendAt)
                var recipient = CampaignPlanner(campaign: occurrence, planner: planner, variants: template.channels,
                                                defaultTimeZone: defaultTimeZone, start: now)
                    .plan(candidate, pace: &pace, makeId: { HubID.make("msg") })
                recipient.occurrence = String(year)
                decided.append(recipient)
            }
            let recipients = await render(decided, template: template, campaign: campaign)
            guard try await storage.commitCampaignBatch(work, through: work.cursor, recipients, pace: pace, after: nil) else { return planned }
            work.pace = pace
            planned += recipients.count
        }
        // Looked: the next look is in ten minutes.
        _ = try await storage.commitCampaignBatch(work, through: now.formatted(.iso8601), [], pace: work.pace, after: nil)
        return planned
    }

    /// Each queued recipient's copy, rendered in as many slices as there are cores.
    private func render(_ recipients: [PlannedRecipient], template: CompiledTemplate, campaign: Campaign) async -> [PlannedRecipient] {
        let slices = max(1, min(ProcessInfo.processInfo.activeProcessorCount, recipients.count / 50))
        let size = (recipients.count + slices - 1) / max(slices, 1)
        return await withTaskGroup(of: (Int, [PlannedRecipient]).self) { group in
            for start in stride(from: 0, to: recipients.count, by: max(size, 1)) {
                let slice = Array(recipients[start..<min(start + size, recipients.count)])
                group.addTask {
                    (start, slice.map { recipient in
                        recipient.rendered { customer, channel, messageId in
                            template.render(channel, values: values(customer, campaign: campaign, messageId: messageId))
                        }
                    })
                }
            }
            var rendered = recipients
            for await (start, slice) in group { rendered.replaceSubrange(start..<start + slice.count, with: slice) }
            return rendered
        }
    }

    /// What one customer's copy is rendered from.
    func values(_ customer: Customer, campaign: Campaign, messageId: String) -> TemplateValues {
        TemplateValues(
            customer: customer, data: campaign.data,
            unsubscribe: links.unsubscribe(messageId: messageId),
            preferences: preferencesLink?.url(customerId: customer.id),
            centerName: centerName
        )
    }
}
