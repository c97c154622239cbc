import Foundation
import HeapModule

/// The routing state machine: waiting conversations and agents in, assignments out. Pure and
/// deterministic; the caller passes the time and applies the actions it returns.
///
/// It keeps one invariant after every call: no waiting conversation that may be given to anyone
/// (not held for its preferred agent) has an eligible agent with free capacity. So each input only
/// has to look at what it changed: a new conversation looks for an agent, an agent with room looks
/// at the head of each line for work, a timer looks at its one conversation. Nothing sweeps.
///
/// Waiting conversations stand in lines, one per queue, channel, escalation step and pinned team:
/// everyone in a line asks the same of an agent, so an agent who cannot serve a line skips it whole.
public struct RoutingEngine: Sendable {
    public private(set) var configuration: RoutingConfiguration
    private var waiting: [String: Entry] = [:]
    /// Waiting conversations by line, each line in the order it is served.
    private var lines: [LineKey: [Slot]] = [:]
    /// Agents by number: the hot loops index arrays instead of hashing ids.
    private var agentStates: [AgentState] = []
    private var agentNumbers: [String: Int] = [:]
    /// Skill names by number, so an agent's levels are an array.
    private var skillNumbers: [String: Int] = [:]
    private var assignments: [String: Assignment] = [:]
    /// Conversations offered to an agent, whose room is held until the offer is accepted or ends.
    private var offers: [String: Offer] = [:]
    /// Agents who let a conversation's first-reply deadline pass, or its offer end unaccepted: they get it
    /// again only when nobody else can take it.
    private var passedOver: [String: Set<Int>] = [:]
    /// Numbers of the agents available with room, by channel slot.
    private var free: [Set<Int>] = Array(repeating: [], count: Channel.allCases.count)
    private var timers = Heap<Timer>()
    private var sequence: UInt64 = 0

    /// A waiting conversation and where it stands.
    public struct WaitingEntry: Sendable, Equatable {
        public var request: RoutingRequest
        public var queue: RoutingQueue
        public var ruleId: String?
        /// Escalation steps reached.
        public var step: Int
        public var slaDueAt: Date
        /// The place in line: an instant, the earlier the sooner served.
        public var orderKey: Double
        fileprivate var sequence: UInt64
    }

    private typealias Entry = WaitingEntry

    /// What every conversation in a line asks of an agent.
    private struct LineKey: Hashable {
        var queueId: String
        var channel: Channel
        var step: Int
        var teamId: String?

        init(_ entry: Entry) {
            queueId = entry.queue.id
            channel = entry.request.channel
            step = entry.step
            teamId = entry.request.teamId
        }
    }

    private struct Slot: Comparable {
        var key: Double
        var sequence: UInt64
        var conversationId: String

        static func < (lhs: Slot, rhs: Slot) -> Bool {
            (lhs.key, lhs.sequence) < (rhs.key, rhs.sequence)
        }

        static func == (lhs: Slot, rhs: Slot) -> Bool {
            lhs.key == rhs.key && lhs.sequence == rhs.sequence
        }
    }

    /// An agent with their open work and capacity, by channel slot.
    private struct AgentState {
        var agent: RoutingAgent
        var load: [Int]
        var capacity: [Int]
        /// Levels by skill number.
        var skillLevels: [Int] = []

        init(_ agent: RoutingAgent, load: [Int] = Array(repeating: 0, count: Channel.allCases.count)) {
            self.agent = agent
            self.load = load
            capacity = Channel.allCases.map { agent.capacity[$0] ?? 0 }
        }

        func level(_ skill: Int) -> Int {
            skill >= 0 && skill < skillLevels.count ? skillLevels[skill] : 0
        }

        func hasRoom(on channel: Channel) -> Bool {
            agent.presence == .available && load[channel.slot] < capacity[channel.slot]
        }
    }

    private struct Assignment {
        var agent: Int
        var channel: Channel
        var replyBy: Date?
        var responded: Bool
        var requeueAsked = false
    }

    private struct Offer {
        var agent: Int
        var channel: Channel
        var expiresAt: Date
        var withdrawAsked = false
    }

    private struct Timer: Comparable {
        var at: Date
        var sequence: UInt64
        var conversationId: String

        static func < (lhs: Timer, rhs: Timer) -> Bool {
            (lhs.at, lhs.sequence) < (rhs.at, rhs.sequence)
        }

        static func == (lhs: Timer, rhs: Timer) -> Bool {
            lhs.at == rhs.at && lhs.sequence == rhs.sequence
        }
    }

    public init(configuration: RoutingConfiguration) {
        self.configuration = configuration
    }

    // MARK: Inputs

    /// A conversation waits for an agent: it is placed in line and, when someone can take it, assigned.
    public mutating func enqueue(_ request: RoutingRequest, now: Date) -> [RoutingAction] {
        if let current = waiting[request.conversationId], current.request == request { return [] }
        // Waiting again after an offer: it was declined or ran out, so that agent comes last for it.
        if let offer = offers[request.conversationId] { passedOver[request.conversationId, default: []].insert(offer.agent) }
        var actions = finish(request.conversationId, now: now)
        let entry = place(request, now: now)
        actions.append(.placed(QueuePlacement(
            conversationId: request.conversationId, queueId: entry.queue.id, ruleId: entry.ruleId, tier: request.tier, slaDueAt: entry.slaDueAt
        )))
        if let assigned = tryAssign(request.conversationId, now: now) { actions.append(assigned) }
        return actions
    }

    /// A conversation is with an agent (whoever assigned it); `responded` once the agent has answered.
    public mutating func assigned(
        conversationId: String, agentId: String, channel: Channel, queueId: String?, assignedAt: Date, responded: Bool, now: Date
    ) -> [RoutingAction] {
        let number = self.number(of: agentId)
        if var current = assignments[conversationId], current.agent == number {
            current.responded = responded
            assignments[conversationId] = current
            return []
        }
        let replyBy = queueId.flatMap { configuration.queue(id: $0)?.replyWithinSeconds }.map { assignedAt.addingTimeInterval($0) }
        if offers[conversationId]?.agent == number {
            // An accepted offer: the room held for it becomes the assignment.
            offers[conversationId] = nil
            assignments[conversationId] = Assignment(agent: number, channel: channel, replyBy: replyBy, responded: responded)
            if let replyBy, !responded { schedule(conversationId, at: replyBy) }
            return []
        }
        var actions = finish(conversationId, now: now)
        assignments[conversationId] = Assignment(agent: number, channel: channel, replyBy: replyBy, responded: responded)
        agentStates[number].load[channel.slot] += 1
        refreshFree(number)
        if let replyBy, !responded { schedule(conversationId, at: replyBy) }
        // Another router or an agent may have filled a slot this agent had.
        actions += fill(number, now: now)
        return actions
    }

    /// A conversation is offered to an agent (whoever offered it), until `expiresAt`; the agent's room is held for it.
    public mutating func offered(conversationId: String, agentId: String, channel: Channel, expiresAt: Date, now: Date) -> [RoutingAction] {
        let number = self.number(of: agentId)
        if offers[conversationId]?.agent == number { return [] }
        let actions = finish(conversationId, now: now)
        offers[conversationId] = Offer(agent: number, channel: channel, expiresAt: expiresAt)
        agentStates[number].load[channel.slot] += 1
        refreshFree(number)
        schedule(conversationId, at: expiresAt)
        return actions
    }

    /// A conversation neither waits nor counts against anyone's capacity any more (resolved, snoozed unassigned, gone).
    public mutating func finished(conversationId: String, now: Date) -> [RoutingAction] {
        passedOver[conversationId] = nil
        return finish(conversationId, now: now)
    }

    /// An agent was created or changed (presence, skills, teams, capacity).
    public mutating func upsertAgent(_ agent: RoutingAgent, now: Date) -> [RoutingAction] {
        let known = agentNumbers[agent.id]
        let previous = known.map { agentStates[$0].agent }
        let number = self.number(of: agent.id)
        var agent = agent
        if let earlier = previous?.lastAssignedAt, agent.lastAssignedAt.map({ $0 < earlier }) ?? true { agent.lastAssignedAt = earlier }
        var state = AgentState(agent, load: agentStates[number].load)
        for (name, level) in agent.skills {
            let skill = skillNumbers[name] ?? skillNumbers.count
            skillNumbers[name] = skill
            if state.skillLevels.count <= skill { state.skillLevels += Array(repeating: 0, count: skill + 1 - state.skillLevels.count) }
            state.skillLevels[skill] = level
        }
        agentStates[number] = state
        refreshFree(number)
        var actions: [RoutingAction] = []
        if agent.presence == .offline && previous?.presence != .offline {
            for (conversationId, assignment) in assignments.sorted(by: { $0.key < $1.key }) where assignment.agent == number {
                actions.append(.requeue(conversationId: conversationId, agentId: agent.id, reason: .agentOffline))
            }
            for (conversationId, offer) in offers.sorted(by: { $0.key < $1.key }) where offer.agent == number {
                actions.append(.withdrawOffer(conversationId: conversationId, agentId: agent.id))
            }
        }
        if previous?.presence == .available && agent.presence != .available {
            // Conversations held for this agent need not wait for them any more.
            for slot in orderedSlots() where waiting[slot.conversationId]?.request.preferredAgentIds.contains(agent.id) == true {
                if let assigned = tryAssign(slot.conversationId, now: now) { actions.append(assigned) }
            }
        }
        actions += fill(number, now: now)
        return actions
    }

    /// Applies the timers due by `now`: escalation steps, the end of a sticky wait, first-reply deadlines.
    public mutating func advance(to now: Date) -> [RoutingAction] {
        var actions: [RoutingAction] = []
        while let timer = timers.min, timer.at <= now {
            _ = timers.popMin()
            let id = timer.conversationId
            if var entry = waiting[id] {
                let step = entry.queue.stepsReached(after: now.timeIntervalSince(entry.request.waitingSince))
                if step > entry.step {
                    removeSlot(of: entry)
                    entry.step = step
                    entry.orderKey = orderKey(entry.request, queue: entry.queue, step: step, slaDueAt: entry.slaDueAt)
                    waiting[id] = entry
                    insertSlot(of: entry)
                    actions.append(.escalated(conversationId: id, queueId: entry.queue.id, step: step))
                    scheduleNextStep(of: entry)
                }
                if let assigned = tryAssign(id, now: now) { actions.append(assigned) }
            } else if var assignment = assignments[id], !assignment.responded, !assignment.requeueAsked,
                      let replyBy = assignment.replyBy, replyBy <= now {
                assignment.requeueAsked = true
                assignments[id] = assignment
                passedOver[id, default: []].insert(assignment.agent)
                actions.append(.requeue(conversationId: id, agentId: agentStates[assignment.agent].agent.id, reason: .missedFirstReply))
            } else if var offer = offers[id], !offer.withdrawAsked, offer.expiresAt <= now {
                // The store withdraws it unless accepted meanwhile; its answer puts the conversation back in line.
                offer.withdrawAsked = true
                offers[id] = offer
                actions.append(.withdrawOffer(conversationId: id, agentId: agentStates[offer.agent].agent.id))
            }
        }
        return actions
    }

    /// Replaces the configuration: every waiting conversation is placed again under the new rules.
    public mutating func reconfigure(_ configuration: RoutingConfiguration, now: Date) -> [RoutingAction] {
        self.configuration = configuration
        let requests = orderedSlots().compactMap { waiting[$0.conversationId]?.request }
        waiting = [:]
        lines = [:]
        var actions: [RoutingAction] = []
        for request in requests { actions += enqueue(request, now: now) }
        return actions
    }

    // MARK: Reading

    /// When the next timer falls due, nil when none is set.
    public var nextTimer: Date? { timers.min?.at }

    /// Waiting conversations in the order they are served.
    public var waitingConversationIds: [String] { orderedSlots().map(\.conversationId) }

    /// Every waiting slot, in the order served across lines.
    private func orderedSlots() -> [Slot] { lines.values.joined().sorted() }

    /// The waiting entry of a conversation.
    public func waitingEntry(_ conversationId: String) -> WaitingEntry? { waiting[conversationId] }

    /// The agent a conversation is offered to, as far as the router knows.
    public func offeredAgent(of conversationId: String) -> String? { offers[conversationId].map { agentStates[$0.agent].agent.id } }

    /// The agent a conversation is with, as far as the router knows.
    public func assignee(of conversationId: String) -> String? { assignments[conversationId].map { agentStates[$0.agent].agent.id } }

    /// Whether a conversation is with an agent who has not answered it yet.
    public func awaitsFirstReply(_ conversationId: String) -> Bool {
        assignments[conversationId].map { !$0.responded } ?? false
    }

    /// How many open conversations of a channel an agent has.
    public func load(of agentId: String, on channel: Channel) -> Int { agentNumbers[agentId].map { agentStates[$0].load[channel.slot] } ?? 0 }

    /// Whether the conversation waits for a preferred agent at `now`, so that only they may take it.
    public func isHeld(_ conversationId: String, now: Date) -> Bool {
        guard let entry = waiting[conversationId] else { return false }
        return isHeld(entry, now: now)
    }

    /// Whether the agent may take the waiting conversation now: available, with room, allowed by the queue at its step.
    public func isEligible(agentId: String, for conversationId: String) -> Bool {
        guard let number = agentNumbers[agentId], let entry = waiting[conversationId] else { return false }
        return agentStates[number].hasRoom(on: entry.request.channel) && canServe(number, entry)
    }

    /// Depth and oldest wait of each queue that has waiting conversations.
    public func queueStatistics() -> [QueueStatistics] {
        var byQueue: [String: QueueStatistics] = [:]
        for entry in waiting.values {
            var statistics = byQueue[entry.queue.id] ?? QueueStatistics(queueId: entry.queue.id, depth: 0, oldestWaitingSince: entry.request.waitingSince)
            statistics.depth += 1
            statistics.oldestWaitingSince = min(statistics.oldestWaitingSince, entry.request.waitingSince)
            byQueue[entry.queue.id] = statistics
        }
        return byQueue.values.sorted { $0.queueId < $1.queueId }
    }

    /// The share of available agents' capacity in use, from 0 to 1 (0 when nobody is available).
    public var occupancy: Double {
        var used = 0, total = 0
        for state in agentStates where state.agent.presence == .available {
            for (load, capacity) in zip(state.load, state.capacity) {
                total += capacity
                used += min(load, capacity)
            }
        }
        return total == 0 ? 0 : Double(used) / Double(total)
    }

    // MARK: Placing in line

    private mutating func place(_ request: RoutingRequest, now: Date) -> Entry {
        let rule = request.queueId == nil ? configuration.rule(for: request) : nil
        let queueId = request.queueId.flatMap { configuration.queue(id: $0)?.id } ?? rule?.queueId ?? configuration.defaultQueueId
        let queue = configuration.queue(id: queueId) ?? configuration.queues[0]
        let target = queue.target(tier: request.tier, channel: request.channel)
        let slaDueAt: Date
        if queue.businessTimeOnly, let calendar = queue.calendarId.flatMap(configuration.calendar(id:)) {
            slaDueAt = calendar.adding(businessSeconds: target.seconds, to: request.waitingSince)
        } else {
            slaDueAt = request.waitingSince.addingTimeInterval(target.seconds)
        }
        let step = queue.stepsReached(after: now.timeIntervalSince(request.waitingSince))
        sequence += 1
        let entry = Entry(
            request: request, queue: queue, ruleId: rule?.id, step: step, slaDueAt: slaDueAt,
            orderKey: orderKey(request, queue: queue, step: step, slaDueAt: slaDueAt), sequence: sequence
        )
        waiting[request.conversationId] = entry
        insertSlot(of: entry)
        scheduleNextStep(of: entry)
        let holdEnds = request.waitingSince.addingTimeInterval(configuration.stickyWaitSeconds)
        if !request.preferredAgentIds.isEmpty && holdEnds > now { schedule(request.conversationId, at: holdEnds) }
        return entry
    }

    /// The instant a conversation stands at in line: its SLA deadline, later by a class step per tier
    /// rank, earlier by its priority. Served in this order, the time left before a breach decides
    /// within a class, and a lower class overtakes once it has waited a class step longer.
    private func orderKey(_ request: RoutingRequest, queue: RoutingQueue, step: Int, slaDueAt: Date) -> Double {
        let boost = queue.escalation.prefix(step).reduce(0) { $0 + $1.raisePriorityBy }
        let priority = Double(queue.priority + request.priority + boost)
        return slaDueAt.timeIntervalSinceReferenceDate
            + Double(request.tier.rank) * configuration.agingSeconds
            - priority * configuration.secondsPerPriority
    }

    private mutating func insertSlot(of entry: Entry) {
        let slot = Slot(key: entry.orderKey, sequence: entry.sequence, conversationId: entry.request.conversationId)
        let key = LineKey(entry)
        lines[key, default: []].insert(slot, at: Self.index(of: slot, in: lines[key] ?? []))
    }

    private mutating func removeSlot(of entry: Entry) {
        let slot = Slot(key: entry.orderKey, sequence: entry.sequence, conversationId: entry.request.conversationId)
        let key = LineKey(entry)
        // No copy of the line is held while it changes, so it changes in place.
        let found: (at: Int, last: Bool)? = lines[key].flatMap { line in
            let at = Self.index(of: slot, in: line)
            return at < line.count && line[at] == slot ? (at, line.count == 1) : nil
        }
        guard let found else { return }
        if found.last { lines[key] = nil } else { lines[key]?.remove(at: found.at) }
    }

    /// The first position whose slot is not before `slot`.
    private static func index(of slot: Slot, in line: [Slot]) -> Int {
        var low = 0, high = line.count
        while low < high {
            let middle = (low + high) / 2
            if line[middle] < slot { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func schedule(_ conversationId: String, at date: Date) {
        sequence += 1
        timers.insert(Timer(at: date, sequence: sequence, conversationId: conversationId))
    }

    private mutating func scheduleNextStep(of entry: Entry) {
        guard entry.step < entry.queue.escalation.count else { return }
        schedule(entry.request.conversationId, at: entry.request.waitingSince.addingTimeInterval(entry.queue.escalation[entry.step].afterSeconds))
    }

    /// Takes a conversation out of line and out of its agent's load; a freed agent looks for work.
    private mutating func finish(_ conversationId: String, now: Date) -> [RoutingAction] {
        if let entry = waiting.removeValue(forKey: conversationId) { removeSlot(of: entry) }
        let held: (agent: Int, channel: Channel)
        if let offer = offers.removeValue(forKey: conversationId) {
            held = (offer.agent, offer.channel)
        } else if let assignment = assignments.removeValue(forKey: conversationId) {
            held = (assignment.agent, assignment.channel)
        } else {
            return []
        }
        agentStates[held.agent].load[held.channel.slot] -= 1
        refreshFree(held.agent)
        return fill(held.agent, now: now)
    }

    // MARK: Matching

    /// The number of an agent, made when first seen.
    private mutating func number(of agentId: String) -> Int {
        if let number = agentNumbers[agentId] { return number }
        agentStates.append(AgentState(RoutingAgent(id: agentId, capacity: [:], presence: .offline)))
        agentNumbers[agentId] = agentStates.count - 1
        return agentStates.count - 1
    }

    /// What every conversation of a line asks of an agent, worked out once per decision.
    private struct Requirement {
        /// Nothing: any agent with room will do.
        var open: Bool
        var supervisorsAllowed: Bool
        /// The team a transfer pinned.
        var team: String?
        /// The queue's teams with the overflow teams reached; empty means any.
        var teams: [String]
        /// Skill numbers and the level each needs (-1: a skill nobody has).
        var skills: [(skill: Int, level: Int)]
        /// Skill numbers whose levels add up to the skill score.
        var scored: [Int]
    }

    private func requirement(_ entry: Entry) -> Requirement {
        requirement(queue: entry.queue, step: entry.step, teamId: entry.request.teamId)
    }

    /// What a queue at an escalation step, perhaps pinned to a team, asks of an agent.
    private func requirement(queue: RoutingQueue, step: Int, teamId: String?) -> Requirement {
        let steps = queue.escalation.prefix(step)
        let lowered = steps.reduce(0) { $0 + $1.lowerSkillLevelsBy }
        let scored = queue.requiredSkills.map { skillNumbers[$0.name] ?? -1 }
        let skills = zip(scored, queue.requiredSkills).map { ($0, $1.minLevel - lowered) }.filter { $0.1 > 0 }
        return Requirement(
            open: teamId == nil && queue.teamIds.isEmpty && skills.isEmpty, supervisorsAllowed: steps.contains(where: \.includeSupervisors),
            team: teamId, teams: queue.teamIds.isEmpty ? [] : queue.teamIds + steps.flatMap(\.addTeamIds), skills: skills, scored: scored
        )
    }

    /// Whether the agent's teams and skills meet a requirement (room aside).
    private func meets(_ number: Int, _ requirement: Requirement) -> Bool {
        if requirement.open { return true }
        if requirement.supervisorsAllowed && [.supervisor, .admin].contains(agentStates[number].agent.role) { return true }
        if let team = requirement.team {
            if !agentStates[number].agent.teamIds.contains(team) { return false }
        } else if !requirement.teams.isEmpty && !requirement.teams.contains(where: agentStates[number].agent.teamIds.contains) {
            return false
        }
        for (skill, level) in requirement.skills where agentStates[number].level(skill) < level { return false }
        return true
    }

    /// Whether the agent's teams and skills suit the conversation at its escalation step (room aside).
    private func canServe(_ number: Int, _ entry: Entry) -> Bool {
        meets(number, requirement(entry))
    }

    private func isHeld(_ entry: Entry, now: Date) -> Bool {
        guard now < entry.request.waitingSince.addingTimeInterval(configuration.stickyWaitSeconds) else { return false }
        return entry.request.preferredAgentIds.contains { id in
            guard let number = agentNumbers[id], passedOver[entry.request.conversationId]?.contains(number) != true else { return false }
            return agentStates[number].agent.presence == .available && canServe(number, entry)
        }
    }

    /// What selection compares of an agent, without copying the agent.
    private struct Contender {
        var number: Int
        /// Let the first-reply deadline of this conversation pass before.
        var passedOver: Bool
        /// The place among the preferred agents; Int.max when not preferred.
        var preference: Int
        var skillScore: Int
        var load: Int
        var capacity: Int
        var lastAssignedAt: Date?
    }

    private func contender(_ number: Int, slot: Int, scored: [Int], preferred: [Int], passedOver: Set<Int>?) -> Contender {
        var score = 0
        for skill in scored { score += agentStates[number].level(skill) }
        return Contender(
            number: number, passedOver: passedOver?.contains(number) == true, preference: preferred.firstIndex(of: number) ?? .max,
            skillScore: score,
            load: agentStates[number].load[slot], capacity: agentStates[number].capacity[slot],
            lastAssignedAt: agentStates[number].agent.lastAssignedAt
        )
    }

    /// The selection order: not passed over, preferred agent (in preference order), best skill match, least loaded,
    /// longest idle, then id.
    private func better(_ a: Contender, than b: Contender) -> Bool {
        if a.passedOver != b.passedOver { return !a.passedOver }
        if a.preference != b.preference { return a.preference < b.preference }
        if a.skillScore != b.skillScore { return a.skillScore > b.skillScore }
        // a.load / a.capacity < b.load / b.capacity, without dividing.
        let left = a.load * max(b.capacity, 1), right = b.load * max(a.capacity, 1)
        if left != right { return left < right }
        switch (a.lastAssignedAt, b.lastAssignedAt) {
        case (nil, .some): return true
        case (.some, nil): return false
        case (.some(let x), .some(let y)) where x != y: return x < y
        default: return agentStates[a.number].agent.id < agentStates[b.number].agent.id
        }
    }

    /// Gives a waiting conversation to the best eligible agent with room, if any.
    private mutating func tryAssign(_ conversationId: String, now: Date) -> RoutingAction? {
        guard let entry = waiting[conversationId] else { return nil }
        let channel = entry.request.channel
        let preferred = entry.request.preferredAgentIds.compactMap { agentNumbers[$0] }
        let held = isHeld(entry, now: now)
        // The best five, best first: the winner and the runners-up the decision shows.
        var best: [Contender] = []
        var eligible = 0
        let requirement = requirement(entry)
        let passedOver = passedOver[conversationId]
        for number in free[channel.slot] {
            guard meets(number, requirement), !held || preferred.contains(number) else { continue }
            eligible += 1
            let contender = contender(number, slot: channel.slot, scored: requirement.scored, preferred: preferred,
                                      passedOver: passedOver)
            if best.count == 5, let last = best.last, !better(contender, than: last) { continue }
            let at = best.firstIndex { better(contender, than: $0) } ?? best.count
            best.insert(contender, at: at)
            if best.count > 5 { best.removeLast() }
        }
        guard let number = best.first?.number else { return nil }
        let candidates = best.map { contender in
            RoutingCandidate(
                agentId: agentStates[contender.number].agent.id, sticky: contender.preference != .max, skillScore: contender.skillScore,
                load: contender.load, capacity: contender.capacity, lastAssignedAt: contender.lastAssignedAt
            )
        }
        waiting[conversationId] = nil
        removeSlot(of: entry)
        agentStates[number].load[channel.slot] += 1
        agentStates[number].agent.lastAssignedAt = now
        refreshFree(number)
        let decision = RoutingDecision(
            conversationId: conversationId, agentId: agentStates[number].agent.id, channel: channel, queueId: entry.queue.id,
            ruleId: entry.ruleId, tier: entry.request.tier, step: entry.step, waitingSince: entry.request.waitingSince,
            slaDueAt: entry.slaDueAt, decidedAt: now, candidates: candidates, eligibleCount: eligible,
            reason: Self.reason(candidates, preferred: entry.request.preferredAgentIds)
        )
        if let seconds = entry.queue.offerSeconds {
            let expiresAt = now.addingTimeInterval(seconds)
            offers[conversationId] = Offer(agent: number, channel: channel, expiresAt: expiresAt)
            schedule(conversationId, at: expiresAt)
            return .offer(decision, expiresAt: expiresAt)
        }
        let replyBy = entry.queue.replyWithinSeconds.map { now.addingTimeInterval($0) }
        assignments[conversationId] = Assignment(agent: number, channel: channel, replyBy: replyBy, responded: false)
        if let replyBy { schedule(conversationId, at: replyBy) }
        return .assign(decision)
    }

    /// Gives an agent with room the first conversations they may take: the earliest head among the lines they can serve.
    private mutating func fill(_ number: Int, now: Date) -> [RoutingAction] {
        var actions: [RoutingAction] = []
        let agentId = agentStates[number].agent.id
        while agentStates[number].agent.presence == .available {
            var next: Slot?
            for (key, line) in lines where agentStates[number].hasRoom(on: key.channel) {
                guard let queue = line.first.flatMap({ waiting[$0.conversationId]?.queue }),
                      meets(number, requirement(queue: queue, step: key.step, teamId: key.teamId)) else { continue }
                // Only a conversation held for another agent is passed over; held ones are few and short.
                let head = line.first { slot in
                    guard let entry = waiting[slot.conversationId] else { return false }
                    return !isHeld(entry, now: now) || entry.request.preferredAgentIds.contains(agentId)
                }
                if let head, next.map({ head < $0 }) ?? true { next = head }
            }
            // The best agent for that conversation may be another one with room; either way one leaves the line.
            guard let next, let assigned = tryAssign(next.conversationId, now: now) else { break }
            actions.append(assigned)
        }
        return actions
    }

    private mutating func refreshFree(_ number: Int) {
        for channel in Channel.allCases {
            if agentStates[number].hasRoom(on: channel) { free[channel.slot].insert(number) } else { free[channel.slot].remove(number) }
        }
    }

    /// Why the first candidate won over the second, in words.
    private static func reason(_ ranked: [RoutingCandidate], preferred: [String]) -> String {
        guard let winner = ranked.first else { return "" }
        if winner.sticky {
            return preferred.first == winner.agentId ? "the customer's preferred agent (account manager or last agent)" : "a preferred agent of the customer"
        }
        guard ranked.count > 1 else { return "the only eligible agent with room" }
        let runnerUp = ranked[1]
        if winner.skillScore != runnerUp.skillScore {
            return "best skill match (\(winner.skillScore) against \(runnerUp.skillScore))"
        }
        if winner.load * max(runnerUp.capacity, 1) != runnerUp.load * max(winner.capacity, 1) {
            return "least loaded (\(winner.load)/\(winner.capacity) against \(runnerUp.load)/\(runnerUp.capacity))"
        }
        if winner.lastAssignedAt != runnerUp.lastAssignedAt { return "longest idle" }
        return "equal on skill, load and idle time; first by id"
    }
}

/// How many conversations wait in a queue and since when the oldest waits.
public struct QueueStatistics: Codable, Sendable, Equatable {
    public var queueId: String
    public var depth: Int
    public var oldestWaitingSince: Date
}

extension Channel {
    /// The channel's place in per-channel arrays.
    var slot: Int {
        switch self {
        case .api: 0
        case .email: 1
        case .sms: 2
        case .webchat: 3
        }
    }
}
