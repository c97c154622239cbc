import Foundation

/// A marketing send: one template to an audience, each recipient on a channel they consented to,
/// at a decent local hour, at a pace the providers accept. One `CampaignRecipient` per customer.
public struct Campaign: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// The template's name (shipped in `Templates/campaigns/` or stored through the API).
    public var template: String
    /// The audience filter's source text (`AudienceFilter`); empty for every customer.
    public var audience: String
    /// The channels it may use, best first; nil for each customer's marketing preference.
    public var channels: [Channel]?
    /// Campaign-wide template values (`data.*`), such as an offer code.
    public var data: [String: String]
    public var schedule: CampaignSchedule
    /// Set for an automation: each customer gets the message on a date of their own, every year, until cancelled.
    public var trigger: CampaignTrigger?
    public var throttle: CampaignThrottle
    public var state: CampaignState
    /// How many customers the audience had when the campaign was launched.
    public var audienceSize: Int?
    /// Recipients planned so far (queued or skipped).
    public var planned: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var launchedAt: Date?
    public var completedAt: Date?

    public init(id: String, draft: CampaignDraft, createdAt: Date) {
        self.id = id
        self.name = draft.name
        self.template = draft.template
        self.audience = draft.audience ?? ""
        self.channels = draft.channels
        self.data = draft.data ?? [:]
        self.schedule = draft.schedule ?? CampaignSchedule()
        self.trigger = draft.trigger
        self.throttle = draft.throttle ?? CampaignThrottle()
        self.state = .draft
        self.planned = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// How long after a campaign message a customer's SMS or web chat message counts as a reply to it.
    public static let replyWindow: TimeInterval = 3 * 86_400
}

/// Where a campaign is in its life. Only a draft can be launched; only sending or scheduled ones paused.
/// `completed` means everyone was planned and no message of it waits to be sent any more.
public enum CampaignState: String, Codable, Sendable, CaseIterable {
    case draft, scheduled, sending, paused, completed, cancelled

    /// Whether the campaign will do nothing more.
    public var isFinal: Bool { self == .completed || self == .cancelled }
}

/// When a campaign's messages go: now, at a time, or at a local time of day in each recipient's time zone.
public struct CampaignSchedule: Codable, Sendable, Equatable {
    /// Not before this instant; nil for the launch.
    public var at: Date?
    /// "HH:mm": each recipient gets the message at this time of their own day, the first at or after `at`.
    public var localTime: String?

    public init(at: Date? = nil, localTime: String? = nil) {
        self.at = at
        self.localTime = localTime
    }

    /// When a recipient in `timeZone` gets the message, given the campaign began planning at `start`.
    public func sendTime(in timeZone: TimeZone, start: Date) -> Date {
        let earliest = max(at ?? start, start)
        guard let localTime, let minutes = CalendarText.minutes(fromClock: localTime) else { return earliest }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let day = calendar.startOfDay(for: earliest)
        for offset in 0...2 {
            guard let date = calendar.date(byAdding: .day, value: offset, to: day) else { continue }
            var parts = calendar.dateComponents([.year, .month, .day], from: date)
            parts.hour = minutes / 60
            parts.minute = minutes % 60
            // A local time skipped by a DST change resolves forward, as quiet hours do.
            if let candidate = calendar.date(from: parts), candidate >= earliest { return candidate }
        }
        return earliest
    }
}

/// What starts an automation's message for one customer: a date among their attributes (`birthday`,
/// `memberSince`) as `YYYY-MM-DD` or `MM-DD`, every year on that day at `localTime` in their time zone.
public struct CampaignTrigger: Codable, Sendable, Equatable {
    public var attribute: String
    /// "HH:mm"; 09:00 when nil.
    public var localTime: String?

    public init(attribute: String, localTime: String? = nil) {
        self.attribute = attribute
        self.localTime = localTime
    }

    /// How far ahead an occurrence is planned. One whose time has passed is still planned that same local day (a
    /// hub that was down at nine sends it later that day), never the day after.
    public static let window: TimeInterval = 86_400

    /// This year's message for a customer whose attribute holds `value`: when it goes (that month and day in
    /// `timeZone`, at the local time; 29 February on the 28th in other years) and the year it is for, when that
    /// is within a day ahead of `now` or earlier the same local day; nil otherwise, or when `value` holds no date.
    public func occurrence(of value: String, in timeZone: TimeZone, around now: Date) -> (year: Int, sendAt: Date)? {
        let parts = value.trimmingCharacters(in: .whitespaces).split(separator: "-").suffix(2).compactMap { Int($0) }
        guard parts.count == 2, (1...12).contains(parts[0]), (1...31).contains(parts[1]),
              let minutes = CalendarText.minutes(fromClock: localTime ?? "09:00") else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let thisYear = calendar.component(.year, from: now)
        for year in [thisYear - 1, thisYear, thisYear + 1] {
            var day = DateComponents(year: year, month: parts[0], day: parts[1], hour: minutes / 60, minute: minutes % 60)
            if parts[0] == 2, parts[1] == 29, calendar.range(of: .day, in: .month, for: calendar.date(from: DateComponents(year: year, month: 2)) ?? now)?.count == 28 {
                day.day = 28
            }
            guard let sendAt = calendar.date(from: day), calendar.component(.day, from: sendAt) == day.day else { continue }
            let due = sendAt >= now ? sendAt.timeIntervalSince(now) <= Self.window : calendar.isDate(sendAt, inSameDayAs: now)
            if due { return (year, sendAt) }
        }
        return nil
    }
}

/// How fast a campaign may go: messages per second per channel. The dispatcher's per-channel
/// limits (`outbox.perSecond`) cap every sender's traffic on top of this.
public struct CampaignThrottle: Codable, Sendable, Equatable {
    public var perSecond: [Channel: Double]

    public init(perSecond: [Channel: Double] = [:]) {
        self.perSecond = perSecond
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let raw = try container.decodeIfPresent([String: Double].self, forKey: .perSecond) ?? [:]
        var rates: [Channel: Double] = [:]
        for (key, value) in raw {
            guard let channel = Channel(rawValue: key) else {
                throw DecodingError.dataCorruptedError(forKey: .perSecond, in: container, debugDescription: "unknown channel '\(key)'")
            }
            rates[channel] = value
        }
        perSecond = rates
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Dictionary(uniqueKeysWithValues: perSecond.map { ($0.key.rawValue, $0.value) }), forKey: .perSecond)
    }

    private enum CodingKeys: String, CodingKey { case perSecond }
}

/// What a marketer asks for; `Campaign(id:draft:createdAt:)` makes it a campaign.
public struct CampaignDraft: Codable, Sendable, Equatable {
    public var name: String
    public var template: String
    public var audience: String?
    public var channels: [Channel]?
    public var data: [String: String]?
    public var schedule: CampaignSchedule?
    public var throttle: CampaignThrottle?
    public var trigger: CampaignTrigger?

    public init(name: String, template: String, audience: String? = nil, channels: [Channel]? = nil, data: [String: String]? = nil,
                schedule: CampaignSchedule? = nil, throttle: CampaignThrottle? = nil, trigger: CampaignTrigger? = nil) {
        self.name = name
        self.template = template
        self.audience = audience
        self.channels = channels
        self.data = data
        self.schedule = schedule
        self.throttle = throttle
        self.trigger = trigger
    }

    /// Checks the draft: the audience parses, channels are outbound ones, values and rates are bounded.
    public func validated() throws(ValidationError) -> CampaignDraft {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 { throw ValidationError("name", "must be 1–200 characters") }
        try requireNoNUL(name, "name")
        if template.isEmpty || template.count > 100 { throw ValidationError("template", "must name a template") }
        _ = try AudienceFilter.parse(audience ?? "")
        if let channels {
            if channels.isEmpty || Set(channels).count != channels.count { throw ValidationError("channels", "1 or more different channels") }
            if channels.contains(.api) { throw ValidationError("channels", "campaigns go by email, sms or webchat") }
        }
        if let data {
            if data.count > 50 { throw ValidationError("data", "at most 50 values") }
            for (key, value) in data {
                if key.isEmpty || key.count > 64 || key.contains(".") { throw ValidationError("data", "keys are 1–64 characters without dots") }
                if value.utf8.count > 2_000 { throw ValidationError("data", "values are at most 2,000 bytes") }
                try requireNoNUL(value, "data")
            }
        }
        if let localTime = schedule?.localTime, CalendarText.minutes(fromClock: localTime).map({ $0 < 1440 }) != true {
            throw ValidationError("schedule.localTime", "must be HH:mm")
        }
        if let trigger {
            if trigger.attribute.isEmpty || trigger.attribute.count > 64 { throw ValidationError("trigger.attribute", "must name an attribute (1–64 characters)") }
            if let localTime = trigger.localTime, CalendarText.minutes(fromClock: localTime).map({ $0 < 1440 }) != true {
                throw ValidationError("trigger.localTime", "must be HH:mm")
            }
        }
        for rate in (throttle?.perSecond ?? [:]).values where !(rate > 0 && rate <= 10_000) {
            throw ValidationError("throttle.perSecond", "rates are more than 0 and at most 10,000 per second")
        }
        var copy = self
        copy.name = name
        return copy
    }
}

/// A campaign being planned: where planning got to, its pace, and when it began.
public struct CampaignWork: Sendable {
    public var campaign: Campaign
    /// The last customer id planned ("" before the first batch).
    public var cursor: String
    public var pace: CampaignPace
    public var start: Date
    /// When the campaign was last paused: a batch planned before a pause (and a resume) is not written.
    public var pausedAt: Date?

    public init(campaign: Campaign, cursor: String, pace: CampaignPace, start: Date, pausedAt: Date? = nil) {
        self.campaign = campaign
        self.cursor = cursor
        self.pace = pace
        self.start = start
        self.pausedAt = pausedAt
    }
}

/// What a marketer may do to a running campaign.
public enum CampaignCommand: String, Sendable, CaseIterable {
    case pause, resume, cancel
}

/// What became of one customer of a campaign.
public enum RecipientOutcome: String, Codable, Sendable, CaseIterable {
    /// A message is in the outbox (perhaps waiting for quiet hours or the local send time to pass).
    case queued
    /// No message: `SkipReason` says why.
    case skipped
}

/// Why a customer of the audience gets no message.
public enum SkipReason: String, Codable, Sendable, CaseIterable {
    /// Every channel with an address is closed by the consent ledger.
    case noConsent = "no_consent"
    /// The marketing frequency cap is reached.
    case frequencyCap = "frequency_cap"
    /// No address on any channel the campaign may use.
    case noIdentity = "no_identity"
    /// The template has no variant for any channel the customer can be reached on.
    case noVariant = "no_variant"
}

/// One customer's line in a campaign: the outcome, the channel and message, when it goes.
public struct CampaignRecipient: Codable, Sendable, Equatable {
    public var campaignId: String
    public var customerId: String
    /// For an automation, the year this message is for.
    public var occurrence: String?
    public var outcome: RecipientOutcome
    public var reason: SkipReason?
    public var channel: Channel?
    public var address: String?
    public var messageId: String?
    /// When the message may go; later than planning when quiet hours or the local send time hold it.
    public var sendAt: Date?
    /// Held back by the customer's quiet hours.
    public var deferred: Bool
    public var deliveryState: DeliveryState?
    public var unsubscribedAt: Date?
    public var createdAt: Date

    public init(campaignId: String, customerId: String, occurrence: String? = nil, outcome: RecipientOutcome, reason: SkipReason? = nil, channel: Channel? = nil,
                address: String? = nil, messageId: String? = nil, sendAt: Date? = nil, deferred: Bool = false,
                deliveryState: DeliveryState? = nil, unsubscribedAt: Date? = nil, createdAt: Date) {
        self.campaignId = campaignId
        self.customerId = customerId
        self.occurrence = occurrence
        self.outcome = outcome
        self.reason = reason
        self.channel = channel
        self.address = address
        self.messageId = messageId
        self.sendAt = sendAt
        self.deferred = deferred
        self.deliveryState = deliveryState
        self.unsubscribedAt = unsubscribedAt
        self.createdAt = createdAt
    }
}

/// A campaign's numbers, overall and per channel.
public struct CampaignStats: Codable, Sendable, Equatable {
    public struct Counts: Codable, Sendable, Equatable {
        /// Queued for this channel.
        public var targeted = 0
        /// Of those, held back by quiet hours.
        public var deferred = 0
        /// Not sent yet: waiting for their time, their pace, or a retry.
        public var pending = 0
        public var sent = 0
        public var delivered = 0
        public var failed = 0
        public var bounced = 0
        public var unsubscribed = 0
        public var replied = 0
        /// Claimed by a dispatcher that stopped before recording the outcome (a crash): sent again,
        /// so the customer may have it twice.
        public var resentAfterCrash = 0

        public init() {}
    }

    public var campaignId: String
    public var state: CampaignState
    public var audienceSize: Int?
    /// Recipients planned: queued plus skipped.
    public var planned: Int
    public var skipped: [SkipReason: Int]
    public var total: Counts
    public var channels: [Channel: Counts]

    public init(campaignId: String, state: CampaignState, audienceSize: Int?, planned: Int, skipped: [SkipReason: Int],
                total: Counts, channels: [Channel: Counts]) {
        self.campaignId = campaignId
        self.state = state
        self.audienceSize = audienceSize
        self.planned = planned
        self.skipped = skipped
        self.total = total
        self.channels = channels
    }

    private enum CodingKeys: String, CodingKey { case campaignId, state, audienceSize, planned, skipped, total, channels }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        campaignId = try container.decode(String.self, forKey: .campaignId)
        state = try container.decode(CampaignState.self, forKey: .state)
        audienceSize = try container.decodeIfPresent(Int.self, forKey: .audienceSize)
        planned = try container.decode(Int.self, forKey: .planned)
        let skipped = try container.decode([String: Int].self, forKey: .skipped)
        self.skipped = Dictionary(uniqueKeysWithValues: skipped.compactMap { key, value in SkipReason(rawValue: key).map { ($0, value) } })
        total = try container.decode(Counts.self, forKey: .total)
        let channels = try container.decode([String: Counts].self, forKey: .channels)
        self.channels = Dictionary(uniqueKeysWithValues: channels.compactMap { key, value in Channel(rawValue: key).map { ($0, value) } })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(campaignId, forKey: .campaignId)
        try container.encode(state, forKey: .state)
        try container.encodeIfPresent(audienceSize, forKey: .audienceSize)
        try container.encode(planned, forKey: .planned)
        // Every reason is listed, zeros included, so a report has fixed columns.
        try container.encode(Dictionary(uniqueKeysWithValues: SkipReason.allCases.map { ($0.rawValue, skipped[$0] ?? 0) }), forKey: .skipped)
        try container.encode(total, forKey: .total)
        try container.encode(Dictionary(uniqueKeysWithValues: channels.map { ($0.key.rawValue, $0.value) }), forKey: .channels)
    }
}
