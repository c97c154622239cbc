import Foundation

/// One customer of a campaign's audience, with what the delivery planner needs to know of them.
public struct CampaignCandidate: Sendable {
    public var customer: Customer
    /// For marketing: identities, the ledger, preferences and what was sent lately.
    public var request: DeliveryRequest

    public init(customer: Customer, request: DeliveryRequest) {
        self.customer = customer
        self.request = request
    }
}

/// A recipient as planned: why they are skipped, or their rendered message with channel, address and send time.
public struct PlannedRecipient: Sendable {
    public var customer: Customer
    public var outcome: RecipientOutcome
    public var reason: SkipReason?
    public var delivery: PlannedDelivery?
    public var messageId: String?
    public var message: RenderedMessage?
    public var sendAt: Date?
    /// Held back by the customer's quiet hours.
    public var deferred: Bool
    /// For an automation, the occurrence it is for (the year); "" for a one-off campaign.
    public var occurrence = ""

    static func skipped(_ customer: Customer, _ reason: SkipReason) -> PlannedRecipient {
        PlannedRecipient(customer: customer, outcome: .skipped, reason: reason, deferred: false)
    }

    /// With its copy; a message the template cannot render (no variant) makes the recipient skipped.
    public func rendered(_ render: (Customer, Channel, String) -> RenderedMessage?) -> PlannedRecipient {
        guard outcome == .queued, let delivery, let messageId else { return self }
        guard let message = render(customer, delivery.channel, messageId) else { return .skipped(customer, .noVariant) }
        var copy = self
        copy.message = message
        return copy
    }
}

/// Plans each recipient of a campaign: the customer's delivery plan for marketing (preferences, consent,
/// the cap) within the campaign's channels and the template's variants; the send time from the schedule,
/// the customer's quiet hours and the campaign's pace. Pure: the store feeds it, the runner writes its output.
public struct CampaignPlanner: Sendable {
    public var campaign: Campaign
    public var planner: DeliveryPlanner
    /// The channels the template has a variant for.
    public var variants: Set<Channel>
    /// For customers without a time zone.
    public var defaultTimeZone: TimeZone
    /// When the campaign began planning (its launch, or its scheduled time).
    public var start: Date

    public init(campaign: Campaign, planner: DeliveryPlanner, variants: Set<Channel>, defaultTimeZone: TimeZone = .gmt, start: Date) {
        self.campaign = campaign
        self.planner = planner
        self.variants = variants
        self.defaultTimeZone = defaultTimeZone
        self.start = start
    }

    /// Plans one recipient: skipped with the reason, or queued with channel, address, message id (its unsubscribe
    /// link needs the id before rendering) and send time. The copy is rendered afterwards (`message`), many at once.
    public func plan(_ candidate: CampaignCandidate, pace: inout CampaignPace, makeId: () -> String) -> PlannedRecipient {
        let customer = candidate.customer
        let timeZone = candidate.request.timeZone ?? defaultTimeZone
        let scheduled = campaign.schedule.sendTime(in: timeZone, start: start)
        var request = candidate.request
        request.timeZone = timeZone
        // The customer's own marketing preference decides among the campaign's channels; without one, the campaign's order.
        if let channels = campaign.channels,
           !request.preferences.contains(where: { $0.scope == .marketing && $0.holds(at: scheduled) }) {
            request.preferences.append(ChannelPreference(scope: .marketing, channels: channels))
        }
        let deliveries: [PlannedDelivery]
        let notBefore: Date?
        switch planner.plan(request, now: scheduled) {
        case .refused(let refusal):
            switch refusal.reason {
            case .frequencyCap: return .skipped(customer, .frequencyCap)
            case .consent: return .skipped(customer, .noConsent)
            case .unreachable: return .skipped(customer, .noIdentity)
            }
        case .send(let planned, let quietEnd):
            deliveries = planned
            notBefore = quietEnd
        }
        let allowed = deliveries.filter { campaign.channels?.contains($0.channel) ?? true }
        guard !allowed.isEmpty else { return .skipped(customer, .noIdentity) }
        guard let delivery = allowed.first(where: { variants.contains($0.channel) }) else { return .skipped(customer, .noVariant) }
        var sendAt = max(notBefore ?? scheduled, scheduled)
        // Recipients at their own local time are paced by the dispatcher's per-channel limit alone.
        if campaign.schedule.localTime == nil {
            sendAt = pace.slot(delivery.channel, earliest: sendAt, start: scheduled, perSecond: campaign.throttle.perSecond[delivery.channel])
        }
        return PlannedRecipient(customer: customer, outcome: .queued, delivery: delivery, messageId: makeId(),
                                sendAt: sendAt, deferred: notBefore.map { $0 > scheduled } ?? false)
    }
}

/// The next free send slot per channel at a campaign's rate. Kept with the campaign, so a restart keeps the pace.
public struct CampaignPace: Codable, Sendable, Equatable {
    public var next: [Channel: Date]

    public init(next: [Channel: Date] = [:]) {
        self.next = next
    }

    /// The send time for a message that may go from `earliest`: the channel's next slot at `perSecond` (the
    /// first is `start`, when the campaign's sending begins), which then moves on by one interval. A message held
    /// later than the slot (quiet hours) goes at its own time and takes no slot; without a rate, at `earliest`.
    public mutating func slot(_ channel: Channel, earliest: Date, start: Date, perSecond: Double?) -> Date {
        guard let perSecond, perSecond > 0 else { return earliest }
        let slot = max(next[channel] ?? start, start)
        if earliest > slot { return earliest }
        next[channel] = slot.addingTimeInterval(1 / perSecond)
        return slot
    }

    public init(from decoder: any Decoder) throws {
        let raw = try [String: Date](from: decoder)
        next = Dictionary(uniqueKeysWithValues: raw.compactMap { key, value in Channel(rawValue: key).map { ($0, value) } })
    }

    public func encode(to encoder: any Encoder) throws {
        try Dictionary(uniqueKeysWithValues: next.map { ($0.key.rawValue, $0.value) }).encode(to: encoder)
    }
}
