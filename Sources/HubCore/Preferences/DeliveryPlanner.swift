import Foundation

/// The channels a customer wants to be reached on for a kind of message, in order, perhaps only for a while
/// ("email, not SMS, from 1 to 20 December").
public struct ChannelPreference: Codable, Sendable, Equatable {
    /// Which messages it is for.
    public var scope: PreferenceScope
    /// Best first.
    public var channels: [Channel]
    /// From when it holds; nil since always.
    public var validFrom: Date?
    /// Until when it holds (exclusive); nil for ever.
    public var validUntil: Date?

    public init(scope: PreferenceScope, channels: [Channel], validFrom: Date? = nil, validUntil: Date? = nil) {
        self.scope = scope
        self.channels = channels
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Checks a customer's list: at most 20, each with 1–4 distinct channels and a window that ends after it starts.
    public static func validate(_ preferences: [ChannelPreference]) throws(ValidationError) {
        if preferences.count > 20 { throw ValidationError("items", "at most 20 preferences") }
        for preference in preferences {
            if preference.channels.isEmpty || preference.channels.count > 4 || Set(preference.channels).count != preference.channels.count {
                throw ValidationError("channels", "1–4 different channels, best first")
            }
            if let from = preference.validFrom, let until = preference.validUntil, from >= until {
                throw ValidationError("validUntil", "must be after validFrom")
            }
        }
    }

    /// Whether it holds at `date`.
    public func holds(at date: Date) -> Bool {
        (validFrom.map { $0 <= date } ?? true) && (validUntil.map { date < $0 } ?? true)
    }
}

/// The kinds of messages a preference is for: service (replies and transactional) or marketing.
public enum PreferenceScope: String, Codable, Sendable {
    case service, marketing

    /// The scope a purpose falls under.
    public init(_ purpose: Purpose) {
        self = purpose == .marketing ? .marketing : .service
    }
}

extension DeliveryPlanner {
    /// A marketing message held by a campaign's pause, once the campaign resumes: moved on by the pause's length,
    /// so the campaign's pace holds, and to the end of the customer's quiet hours if that is where the move lands.
    public func resumed(_ sendAt: Date, pausedFor shift: TimeInterval, in timeZone: TimeZone) -> Date {
        let moved = sendAt.addingTimeInterval(shift)
        return quietHours[.marketing]?.end(ofQuietAt: moved, in: timeZone) ?? moved
    }
}

/// Hours of the customer's local day when a kind of message is held back, e.g. 21:00–08:00.
public struct QuietHours: Codable, Sendable, Equatable {
    /// Local "HH:mm" when quiet begins.
    public var start: String
    /// Local "HH:mm" when quiet ends; before `start` means the next morning.
    public var end: String

    public init(start: String, end: String) {
        self.start = start
        self.end = end
    }

    /// When the quiet period containing `date` ends in `timeZone`, or nil when `date` is not in one.
    public func end(ofQuietAt date: Date, in timeZone: TimeZone) -> Date? {
        // "24:00" is midnight, the same as "00:00".
        guard let start = CalendarText.minutes(fromClock: start).map({ $0 % 1440 }),
              let end = CalendarText.minutes(fromClock: end).map({ $0 % 1440 }), start != end else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let quiet = start < end ? (now >= start && now < end) : (now >= start || now < end)
        guard quiet else { return nil }
        // The end is today when it is still ahead on the local clock, else tomorrow.
        let day = calendar.startOfDay(for: date)
        let endDay = now < end ? day : calendar.date(byAdding: .day, value: 1, to: day) ?? day
        var components = calendar.dateComponents([.year, .month, .day], from: endDay)
        components.hour = end / 60
        components.minute = end % 60
        // A local time skipped by a DST change resolves forward (02:30 → 03:30), never back into quiet.
        return calendar.date(from: components).map { max($0, date) }
    }
}

/// At most `messages` marketing messages per `days`, across all channels.
public struct FrequencyCap: Codable, Sendable, Equatable {
    public var messages: Int
    public var days: Int

    public init(messages: Int, days: Int) {
        self.messages = messages
        self.days = days
    }
}

/// One way to reach the customer: a channel and the address on it.
public struct PlannedDelivery: Sendable, Equatable {
    public var channel: Channel
    public var address: String

    public init(channel: Channel, address: String) {
        self.channel = channel
        self.address = address
    }
}

/// What the planner decided: where to send, in order of fallback, and from when; or why not at all.
public enum DeliveryPlan: Sendable, Equatable {
    /// Try the first; on failure, undelivered, bounced or no receipt in time, the next. `notBefore` defers it past quiet hours.
    case send([PlannedDelivery], notBefore: Date?)
    case refused(DeliveryRefusal)
}

/// Why a message may not go out at all.
public struct DeliveryRefusal: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// The marketing cap is reached.
        case frequencyCap
        /// Every channel with an address is closed by the consent ledger.
        case consent
        /// The customer has no address on any channel the plan may use.
        case unreachable
    }

    public var reason: Reason
    /// Every reason, in words.
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// What the planner knows of the customer and of this message.
public struct DeliveryRequest: Sendable {
    public var purpose: Purpose
    /// The customer's time zone; nil means UTC.
    public var timeZone: TimeZone?
    /// The customer's identities, newest first.
    public var identities: [Identity]
    /// The newest consent entries of the customer's addresses.
    public var consents: [ConsentRecord]
    public var preferences: [ChannelPreference]
    /// For a reply: the conversation's channel.
    public var conversationChannel: Channel?
    /// Channels already tried for this message that failed: the plan starts after them.
    public var failedChannels: Set<Channel>
    /// When the customer was sent marketing lately, for the frequency cap.
    public var recentMarketing: [Date]

    public init(
        purpose: Purpose, timeZone: TimeZone? = nil, identities: [Identity], consents: [ConsentRecord] = [],
        preferences: [ChannelPreference] = [], conversationChannel: Channel? = nil, failedChannels: Set<Channel> = [],
        recentMarketing: [Date] = []
    ) {
        self.purpose = purpose
        self.timeZone = timeZone
        self.identities = identities
        self.consents = consents
        self.preferences = preferences
        self.conversationChannel = conversationChannel
        self.failedChannels = failedChannels
        self.recentMarketing = recentMarketing
    }
}

/// Resolves (customer, purpose, now, context) into an ordered plan of channels and addresses, or a refusal
/// with its reason: preferences with their validity windows, the consent ledger, quiet hours, frequency caps.
public struct DeliveryPlanner: Sendable {
    /// Quiet hours per scope; by default marketing waits from 21:00 to 08:00 local time.
    public var quietHours: [PreferenceScope: QuietHours]
    /// The marketing cap across channels; by default 2 per 7 days.
    public var marketingCap: FrequencyCap?
    /// The channels tried, in order, when the customer states no preference.
    public var defaultOrder: [Channel]

    public init(
        quietHours: [PreferenceScope: QuietHours] = [.marketing: QuietHours(start: "21:00", end: "08:00")],
        marketingCap: FrequencyCap? = FrequencyCap(messages: 2, days: 7), defaultOrder: [Channel] = [.email, .sms]
    ) {
        self.quietHours = quietHours
        self.marketingCap = marketingCap
        self.defaultOrder = defaultOrder
    }

    /// The plan for one message at `now`.
    public func plan(_ request: DeliveryRequest, now: Date) -> DeliveryPlan {
        let scope = PreferenceScope(request.purpose)
        if request.purpose == .marketing, let cap = marketingCap {
            let since = now.addingTimeInterval(-Double(cap.days) * 86_400)
            let sent = request.recentMarketing.filter { $0 > since && $0 <= now }.count
            if sent >= cap.messages {
                return .refused(DeliveryRefusal(.frequencyCap, "frequency cap: \(sent) marketing messages in the last \(cap.days) days"))
            }
        }
        var deliveries: [PlannedDelivery] = []
        var skipped: [String] = []
        var consentRefused = false
        for channel in order(for: request, scope: scope, now: now) where !request.failedChannels.contains(channel) {
            guard let address = request.identities.first(where: { $0.channel == channel })?.address else {
                skipped.append("no \(channel.rawValue) address")
                continue
            }
            let latest = request.consents.filter { $0.channel == channel && $0.address == address }
            if let refusal = ConsentRecord.refusal(for: request.purpose, latest: latest) {
                skipped.append("\(channel.rawValue): \(refusal)")
                consentRefused = true
                continue
            }
            deliveries.append(PlannedDelivery(channel: channel, address: address))
        }
        guard !deliveries.isEmpty else {
            let message = skipped.isEmpty ? "no channel to reach the customer on" : skipped.joined(separator: "; ")
            return .refused(DeliveryRefusal(consentRefused ? .consent : .unreachable, message))
        }
        let quietEnd = quietHours[scope]?.end(ofQuietAt: now, in: request.timeZone ?? .gmt)
        return .send(deliveries, notBefore: quietEnd)
    }

    /// The channels to try, best first: the preference that holds now, else the default order; a reply
    /// goes first to the conversation's channel when the preference allows it (the customer wrote there).
    private func order(for request: DeliveryRequest, scope: PreferenceScope, now: Date) -> [Channel] {
        // A preference for a while ("email, not SMS, while abroad") outranks a standing one; among equals the later given.
        var chosen: ChannelPreference?
        for preference in request.preferences where preference.scope == scope && preference.holds(at: now) {
            if (preference.validFrom ?? .distantPast) >= (chosen?.validFrom ?? .distantPast) { chosen = preference }
        }
        let conversation = request.purpose == .reply ? request.conversationChannel.map { [$0] } ?? [] : []
        guard let chosen else { return unique(conversation + defaultOrder) }
        return unique(conversation.filter(chosen.channels.contains) + chosen.channels)
    }

    private func unique(_ channels: [Channel]) -> [Channel] {
        var seen = Set<Channel>()
        return channels.filter { seen.insert($0).inserted }
    }
}
