import Foundation

/// How conversations are routed: rules pick a queue; a queue says who may answer, how fast, and how it escalates.
public struct RoutingConfiguration: Codable, Sendable, Equatable {
    /// The queues; a rule names one of them.
    public var queues: [RoutingQueue]
    /// Tried in order; the first that matches picks the queue.
    public var rules: [RoutingRule]
    /// Where a conversation no rule matches goes.
    public var defaultQueueId: String
    /// Opening hours queues may count their SLA clock in.
    public var calendars: [BusinessCalendar]
    /// How long a conversation waits for its account manager or last agent before others may take it.
    public var stickyWaitSeconds: Double
    /// How much earlier in line each tier class stands: a lower class that has waited this much longer goes first, so it never starves.
    public var agingSeconds: Double
    /// How much earlier in line one point of priority (queue, conversation or escalation) puts a conversation.
    public var secondsPerPriority: Double

    public init(
        queues: [RoutingQueue], rules: [RoutingRule] = [], defaultQueueId: String, calendars: [BusinessCalendar] = [],
        stickyWaitSeconds: Double = 30, agingSeconds: Double = 300, secondsPerPriority: Double = 10
    ) {
        self.queues = queues
        self.rules = rules
        self.defaultQueueId = defaultQueueId
        self.calendars = calendars
        self.stickyWaitSeconds = stickyWaitSeconds
        self.agingSeconds = agingSeconds
        self.secondsPerPriority = secondsPerPriority
    }

    /// One queue for everyone, with the call-center service levels: VIP chat answered within 20 s 90% of the time, others 85%.
    public static let standard = RoutingConfiguration(
        queues: [
            RoutingQueue(
                id: "general", name: "General",
                sla: [
                    SLATarget(tier: .vip, channel: .webchat, seconds: 20, goalPercent: 90),
                    SLATarget(channel: .webchat, seconds: 60, goalPercent: 85),
                    SLATarget(tier: .vip, channel: .sms, seconds: 120, goalPercent: 90),
                    SLATarget(channel: .sms, seconds: 600, goalPercent: 85),
                    SLATarget(tier: .vip, channel: .email, seconds: 3600, goalPercent: 90),
                    SLATarget(channel: .email, seconds: 4 * 3600, goalPercent: 85),
                    SLATarget(tier: .vip, seconds: 300, goalPercent: 90),
                    SLATarget(seconds: 3600, goalPercent: 85),
                ],
                escalation: [EscalationStep(afterSeconds: 120, includeSupervisors: true, raisePriorityBy: 5)]
            ),
        ],
        defaultQueueId: "general"
    )

    /// The queue with this id.
    public func queue(id: String) -> RoutingQueue? {
        queues.first { $0.id == id }
    }

    /// The calendar with this id.
    public func calendar(id: String) -> BusinessCalendar? {
        calendars.first { $0.id == id }
    }

    /// The opening hours of the default queue, which web chat shows; nil when it never closes.
    public var defaultOpeningHours: BusinessCalendar? {
        queue(id: defaultQueueId)?.calendarId.flatMap(calendar(id:))
    }

    /// The first rule that matches the request, or nil when the default queue applies.
    public func rule(for request: RoutingRequest) -> RoutingRule? {
        rules.first { $0.match.matches(request) }
    }

    /// Checks ids, references and ranges; returns the configuration with its queues' steps in time order.
    public func validated() throws(ValidationError) -> RoutingConfiguration {
        if queues.isEmpty { throw ValidationError("queues", "at least one queue is required") }
        if queues.count > 200 || rules.count > 500 || calendars.count > 50 {
            throw ValidationError("queues", "at most 200 queues, 500 rules and 50 calendars")
        }
        let queueIds = Set(queues.map(\.id))
        if queueIds.count != queues.count { throw ValidationError("queues", "queue ids must be unique") }
        if !queueIds.contains(defaultQueueId) { throw ValidationError("defaultQueueId", "names no queue") }
        var checkedCalendars: [BusinessCalendar] = []
        for calendar in calendars { checkedCalendars.append(try calendar.validated()) }
        let calendarIds = Set(calendars.map(\.id))
        if calendarIds.count != calendars.count { throw ValidationError("calendars", "calendar ids must be unique") }
        for rule in rules {
            try Self.checkId(rule.id, "rules")
            if !queueIds.contains(rule.queueId) { throw ValidationError("rules", "rule '\(rule.id)' names no queue '\(rule.queueId)'") }
        }
        if Set(rules.map(\.id)).count != rules.count { throw ValidationError("rules", "rule ids must be unique") }
        var copy = self
        copy.calendars = checkedCalendars
        copy.queues = try queues.map { queue throws(ValidationError) in
            try Self.checkId(queue.id, "queues")
            if let calendarId = queue.calendarId, !calendarIds.contains(calendarId) {
                throw ValidationError("queues", "queue '\(queue.id)' names no calendar '\(calendarId)'")
            }
            if queue.businessTimeOnly && queue.calendarId == nil {
                throw ValidationError("queues", "queue '\(queue.id)' counts business time only but has no calendar")
            }
            if queue.requiredSkills.count > 50 || queue.sla.count > 100 || queue.escalation.count > 20 {
                throw ValidationError("queues", "a queue has at most 50 required skills, 100 SLA targets and 20 escalation steps")
            }
            if !(-1000...1000).contains(queue.priority) { throw ValidationError("queues", "a queue's priority is between -1000 and 1000") }
            for requirement in queue.requiredSkills where requirement.name.isEmpty || !(1...10).contains(requirement.minLevel) {
                throw ValidationError("queues", "a required skill has a name and a level from 1 to 10")
            }
            for target in queue.sla where !(target.seconds > 0 && target.seconds <= Self.longestWait) || !(0...100).contains(target.goalPercent) {
                throw ValidationError("queues", "an SLA target has seconds above 0 and at most a year, and a goal from 0 to 100 percent")
            }
            if let reply = queue.replyWithinSeconds, !(reply > 0 && reply <= Self.longestWait) {
                throw ValidationError("queues", "replyWithinSeconds is above 0 and at most a year")
            }
            if let offer = queue.offerSeconds, !(offer >= 1 && offer <= 3600) {
                throw ValidationError("queues", "offerSeconds is from 1 to 3600")
            }
            for step in queue.escalation where !(step.afterSeconds >= 0 && step.afterSeconds <= Self.longestWait)
                || !(0...10).contains(step.lowerSkillLevelsBy) || !(0...1000).contains(step.raisePriorityBy) {
                throw ValidationError("queues", "an escalation step waits 0 seconds to a year, lowers skill levels by 0 to 10 and raises priority by 0 to 1000")
            }
            var queue = queue
            queue.escalation.sort { $0.afterSeconds < $1.afterSeconds }
            return queue
        }
        for value in [stickyWaitSeconds, agingSeconds, secondsPerPriority] where !(0...86_400).contains(value) {
            throw ValidationError("routing", "stickyWaitSeconds, agingSeconds and secondsPerPriority are between 0 and 86400")
        }
        return copy
    }

    /// The longest time any target or step may name: a year.
    static let longestWait: Double = 365 * 86_400

    private static func checkId(_ id: String, _ field: String) throws(ValidationError) {
        if id.isEmpty || id.count > 64 || id.contains(where: { $0.isWhitespace || $0.isNewline }) || id.utf8.contains(0) {
            throw ValidationError(field, "ids are 1–64 characters without spaces")
        }
    }
}

/// A line of waiting conversations with the same requirements and service level.
public struct RoutingQueue: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Agents of these teams answer; empty means any agent.
    public var teamIds: [String]
    /// Skills an agent needs, each at a minimum level.
    public var requiredSkills: [SkillRequirement]
    /// Moves the queue's conversations earlier in line (see `secondsPerPriority`).
    public var priority: Int
    /// First-response targets; the first that matches the tier and channel applies.
    public var sla: [SLATarget]
    /// Steps that widen the candidates and raise the priority the longer a conversation waits.
    public var escalation: [EscalationStep]
    /// The opening hours of the queue.
    public var calendarId: String?
    /// Whether the SLA clock runs only while the calendar is open.
    public var businessTimeOnly: Bool
    /// Returns a conversation to the queue when its agent has not answered within this time.
    public var replyWithinSeconds: Double?
    /// Offers each conversation to the chosen agent, who accepts within this time or it moves on; nil assigns at once.
    public var offerSeconds: Double?

    public init(
        id: String, name: String, teamIds: [String] = [], requiredSkills: [SkillRequirement] = [], priority: Int = 0,
        sla: [SLATarget] = [], escalation: [EscalationStep] = [], calendarId: String? = nil, businessTimeOnly: Bool = false,
        replyWithinSeconds: Double? = nil, offerSeconds: Double? = nil
    ) {
        self.id = id
        self.name = name
        self.teamIds = teamIds
        self.requiredSkills = requiredSkills
        self.priority = priority
        self.sla = sla
        self.escalation = escalation
        self.calendarId = calendarId
        self.businessTimeOnly = businessTimeOnly
        self.replyWithinSeconds = replyWithinSeconds
        self.offerSeconds = offerSeconds
    }

    /// The target that applies to a tier on a channel; one hour at 80% when none is configured.
    public func target(tier: CustomerTier, channel: Channel) -> SLATarget {
        sla.first { ($0.tier == nil || $0.tier == tier) && ($0.channel == nil || $0.channel == channel) }
            ?? SLATarget(seconds: 3600, goalPercent: 80)
    }

    /// The escalation steps reached after waiting `seconds` (0 when none).
    public func stepsReached(after seconds: Double) -> Int {
        escalation.prefix { $0.afterSeconds <= seconds }.count
    }
}

/// A skill a queue needs, at least at this level.
public struct SkillRequirement: Codable, Sendable, Equatable {
    public var name: String
    public var minLevel: Int

    public init(name: String, minLevel: Int) {
        self.name = name
        self.minLevel = minLevel
    }
}

/// A first-response target: `goalPercent` of conversations answered within `seconds`.
public struct SLATarget: Codable, Sendable, Equatable {
    /// The tier this target is for; nil means any.
    public var tier: CustomerTier?
    /// The channel this target is for; nil means any.
    public var channel: Channel?
    public var seconds: Double
    public var goalPercent: Double

    public init(tier: CustomerTier? = nil, channel: Channel? = nil, seconds: Double, goalPercent: Double) {
        self.tier = tier
        self.channel = channel
        self.seconds = seconds
        self.goalPercent = goalPercent
    }
}

/// After waiting `afterSeconds`, more agents may answer and the conversation moves up in line.
public struct EscalationStep: Codable, Sendable, Equatable {
    public var afterSeconds: Double
    /// Lowers each required skill level; a requirement that reaches 0 is dropped.
    public var lowerSkillLevelsBy: Int
    /// Overflow teams whose agents become candidates too.
    public var addTeamIds: [String]
    /// Whether supervisors and admins become candidates, whatever their teams and skills.
    public var includeSupervisors: Bool
    public var raisePriorityBy: Int

    public init(afterSeconds: Double, lowerSkillLevelsBy: Int = 0, addTeamIds: [String] = [], includeSupervisors: Bool = false, raisePriorityBy: Int = 0) {
        self.afterSeconds = afterSeconds
        self.lowerSkillLevelsBy = lowerSkillLevelsBy
        self.addTeamIds = addTeamIds
        self.includeSupervisors = includeSupervisors
        self.raisePriorityBy = raisePriorityBy
    }
}

/// Sends the conversations it matches to a queue.
public struct RoutingRule: Codable, Sendable, Equatable {
    public var id: String
    public var match: RuleMatch
    public var queueId: String

    public init(id: String, match: RuleMatch, queueId: String) {
        self.id = id
        self.match = match
        self.queueId = queueId
    }
}

/// What a rule looks at; every condition given must hold, and a list matches when any of its values does.
public struct RuleMatch: Codable, Sendable, Equatable {
    public var channels: [Channel]?
    public var tiers: [CustomerTier]?
    /// Conversation tags.
    public var tags: [String]?
    /// Language tags; "de" matches a customer locale "de-AT".
    public var languages: [String]?
    /// Words or phrases looked for in the first message, ignoring case.
    public var keywords: [String]?

    public init(channels: [Channel]? = nil, tiers: [CustomerTier]? = nil, tags: [String]? = nil, languages: [String]? = nil, keywords: [String]? = nil) {
        self.channels = channels
        self.tiers = tiers
        self.tags = tags
        self.languages = languages
        self.keywords = keywords
    }

    /// Whether every given condition holds for the request.
    public func matches(_ request: RoutingRequest) -> Bool {
        if let channels, !channels.contains(request.channel) { return false }
        if let tiers, !tiers.contains(request.tier) { return false }
        if let tags, !tags.contains(where: request.tags.contains) { return false }
        if let languages {
            guard let locale = request.language?.lowercased() else { return false }
            let matched = languages.contains { language in
                let language = language.lowercased()
                return locale == language || locale.hasPrefix(language + "-") || locale.hasPrefix(language + "_")
            }
            if !matched { return false }
        }
        if let keywords {
            let text = request.firstText.lowercased()
            if !keywords.contains(where: { !$0.isEmpty && text.contains($0.lowercased()) }) { return false }
        }
        return true
    }
}

// Decoding fills what a document leaves out with the defaults, so a configuration names only what it changes.

extension RoutingConfiguration {
    private enum CodingKeys: String, CodingKey {
        case queues, rules, defaultQueueId, calendars, stickyWaitSeconds, agingSeconds, secondsPerPriority
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            queues: try container.decode([RoutingQueue].self, forKey: .queues),
            rules: try container.decodeIfPresent([RoutingRule].self, forKey: .rules) ?? [],
            defaultQueueId: try container.decode(String.self, forKey: .defaultQueueId),
            calendars: try container.decodeIfPresent([BusinessCalendar].self, forKey: .calendars) ?? [],
            stickyWaitSeconds: try container.decodeIfPresent(Double.self, forKey: .stickyWaitSeconds) ?? 30,
            agingSeconds: try container.decodeIfPresent(Double.self, forKey: .agingSeconds) ?? 300,
            secondsPerPriority: try container.decodeIfPresent(Double.self, forKey: .secondsPerPriority) ?? 10
        )
    }
}

extension RoutingQueue {
    private enum CodingKeys: String, CodingKey {
        case id, name, teamIds, requiredSkills, priority, sla, escalation, calendarId, businessTimeOnly, replyWithinSeconds, offerSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            name: try container.decodeIfPresent(String.self, forKey: .name) ?? container.decode(String.self, forKey: .id),
            teamIds: try container.decodeIfPresent([String].self, forKey: .teamIds) ?? [],
            requiredSkills: try container.decodeIfPresent([SkillRequirement].self, forKey: .requiredSkills) ?? [],
            priority: try container.decodeIfPresent(Int.self, forKey: .priority) ?? 0,
            sla: try container.decodeIfPresent([SLATarget].self, forKey: .sla) ?? [],
            escalation: try container.decodeIfPresent([EscalationStep].self, forKey: .escalation) ?? [],
            calendarId: try container.decodeIfPresent(String.self, forKey: .calendarId),
            businessTimeOnly: try container.decodeIfPresent(Bool.self, forKey: .businessTimeOnly) ?? false,
            replyWithinSeconds: try container.decodeIfPresent(Double.self, forKey: .replyWithinSeconds),
            offerSeconds: try container.decodeIfPresent(Double.self, forKey: .offerSeconds)
        )
    }
}

extension EscalationStep {
    private enum CodingKeys: String, CodingKey {
        case afterSeconds, lowerSkillLevelsBy, addTeamIds, includeSupervisors, raisePriorityBy
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            afterSeconds: try container.decode(Double.self, forKey: .afterSeconds),
            lowerSkillLevelsBy: try container.decodeIfPresent(Int.self, forKey: .lowerSkillLevelsBy) ?? 0,
            addTeamIds: try container.decodeIfPresent([String].self, forKey: .addTeamIds) ?? [],
            includeSupervisors: try container.decodeIfPresent(Bool.self, forKey: .includeSupervisors) ?? false,
            raisePriorityBy: try container.decodeIfPresent(Int.self, forKey: .raisePriorityBy) ?? 0
        )
    }
}

extension RoutingRule {
    private enum CodingKeys: String, CodingKey {
        case id, match, queueId
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            match: try container.decodeIfPresent(RuleMatch.self, forKey: .match) ?? RuleMatch(),
            queueId: try container.decode(String.self, forKey: .queueId)
        )
    }
}
