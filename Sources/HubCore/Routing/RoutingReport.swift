import Foundation

/// The timings of one routed conversation, as the KPI report reads them.
public struct RoutedConversation: Sendable, Equatable {
    public var queueId: String
    public var tier: CustomerTier
    public var channel: Channel
    public var waitingSince: Date
    public var assignedAt: Date?
    public var firstResponseAt: Date?
    public var slaDueAt: Date
    public var abandonedAt: Date?

    public init(queueId: String, tier: CustomerTier, channel: Channel, waitingSince: Date, assignedAt: Date?, firstResponseAt: Date?,
                slaDueAt: Date, abandonedAt: Date?) {
        self.queueId = queueId
        self.tier = tier
        self.channel = channel
        self.waitingSince = waitingSince
        self.assignedAt = assignedAt
        self.firstResponseAt = firstResponseAt
        self.slaDueAt = slaDueAt
        self.abandonedAt = abandonedAt
    }
}

/// Service level and speed per queue, tier and channel over a period.
public struct RoutingKPI: Codable, Sendable, Equatable {
    public var queueId: String
    public var tier: CustomerTier
    public var channel: Channel
    /// Conversations that entered the queue in the period.
    public var offered: Int
    /// Answered by an agent (a first response).
    public var answered: Int
    /// First response within the target.
    public var answeredInTarget: Int
    /// Past the target without a first response in time (answered late, or still waiting past it).
    public var breached: Int
    /// Customers who left before an answer.
    public var abandoned: Int
    /// answeredInTarget / (answeredInTarget + breached), in percent; nil before anything is decided.
    public var serviceLevelPercent: Double?
    /// The goal of the target that applies, in percent.
    public var goalPercent: Double
    public var targetSeconds: Double
    /// Mean time from waiting to an agent having it.
    public var averageSpeedOfAnswerSeconds: Double?
    /// Mean time from waiting to the first response.
    public var averageFirstResponseSeconds: Double?
    public var abandonmentPercent: Double?
}

extension RoutingKPI {
    /// Aggregates routed conversations per queue, tier and channel; `now` decides which waits have breached already.
    public static func report(_ rows: [RoutedConversation], configuration: RoutingConfiguration, now: Date) -> [RoutingKPI] {
        struct Key: Hashable { var queueId: String; var tier: CustomerTier; var channel: Channel }
        struct Sums { var offered = 0, answered = 0, inTarget = 0, breached = 0, abandoned = 0, assigned = 0
                      var speed = 0.0, response = 0.0 }
        var sums: [Key: Sums] = [:]
        for row in rows {
            var sum = sums[Key(queueId: row.queueId, tier: row.tier, channel: row.channel)] ?? Sums()
            sum.offered += 1
            if let assignedAt = row.assignedAt {
                sum.assigned += 1
                sum.speed += assignedAt.timeIntervalSince(row.waitingSince)
            }
            if let response = row.firstResponseAt {
                sum.answered += 1
                sum.response += response.timeIntervalSince(row.waitingSince)
                if response <= row.slaDueAt { sum.inTarget += 1 } else { sum.breached += 1 }
            } else if row.slaDueAt < now && row.abandonedAt == nil {
                sum.breached += 1
            }
            if row.abandonedAt != nil { sum.abandoned += 1 }
            sums[Key(queueId: row.queueId, tier: row.tier, channel: row.channel)] = sum
        }
        return sums.map { key, sum in
            let target = configuration.queue(id: key.queueId)?.target(tier: key.tier, channel: key.channel) ?? SLATarget(seconds: 3600, goalPercent: 80)
            let decided = sum.inTarget + sum.breached
            return RoutingKPI(
                queueId: key.queueId, tier: key.tier, channel: key.channel, offered: sum.offered, answered: sum.answered,
                answeredInTarget: sum.inTarget, breached: sum.breached, abandoned: sum.abandoned,
                serviceLevelPercent: decided == 0 ? nil : 100 * Double(sum.inTarget) / Double(decided),
                goalPercent: target.goalPercent, targetSeconds: target.seconds,
                averageSpeedOfAnswerSeconds: sum.assigned == 0 ? nil : sum.speed / Double(sum.assigned),
                averageFirstResponseSeconds: sum.answered == 0 ? nil : sum.response / Double(sum.answered),
                abandonmentPercent: sum.offered == 0 ? nil : 100 * Double(sum.abandoned) / Double(sum.offered)
            )
        }
        .sorted { ($0.queueId, $0.tier.rank, $0.channel.rawValue) < ($1.queueId, $1.tier.rank, $1.channel.rawValue) }
    }
}
