import Foundation
import HubCore
import TestSupport
import Testing

/// Random sequences of arrivals, presence changes, resolves, transfers, skill changes and clock
/// steps, played against the engine with a model of the store; after every step the properties
/// the router promises are checked.
@Suite("Routing properties")
struct RoutingPropertyTests {
    static let configuration = RoutingConfiguration(
        queues: [
            RoutingQueue(id: "general", name: "General", replyWithinSeconds: 90),
            RoutingQueue(
                id: "billing", name: "Billing", teamIds: ["t-billing"], requiredSkills: [SkillRequirement(name: "billing", minLevel: 6)],
                escalation: [
                    EscalationStep(afterSeconds: 40, lowerSkillLevelsBy: 3),
                    EscalationStep(afterSeconds: 80, addTeamIds: ["t-overflow"]),
                    EscalationStep(afterSeconds: 160, includeSupervisors: true, raisePriorityBy: 5),
                ]
            ),
            RoutingQueue(id: "german", name: "German", requiredSkills: [SkillRequirement(name: "german", minLevel: 4)], offerSeconds: 30),
        ],
        rules: [
            RoutingRule(id: "billing", match: RuleMatch(keywords: ["invoice"]), queueId: "billing"),
            RoutingRule(id: "german", match: RuleMatch(languages: ["de"]), queueId: "german"),
        ],
        defaultQueueId: "general", stickyWaitSeconds: 20
    )

    /// What the store holds: who has which conversation, and each conversation's request.
    struct Model {
        var requests: [String: RoutingRequest] = [:]
        var assignedTo: [String: String] = [:]
        /// Offered, the agent's room held.
        var offeredTo: [String: String] = [:]

        /// What counts against an agent's room: their conversations and their offers.
        func held(by agentId: String, on channel: Channel) -> Int {
            (assignedTo.merging(offeredTo) { first, _ in first }).filter { $0.value == agentId && requests[$0.key]?.channel == channel }.count
        }
        var agents: [String: RoutingAgent] = [:]
    }

    @Test("never over capacity, never double-assigned, skills honoured, no eligible pair left waiting", arguments: 0..<40)
    func randomSequences(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var engine = RoutingEngine(configuration: try Self.configuration.validated())
        var model = Model()
        var now = Date(timeIntervalSinceReferenceDate: 800_000_000)
        let teams = ["t-billing", "t-overflow", "t-general"]
        var nextConversation = 0

        for _ in 0..<400 {
            var actions: [RoutingAction] = []
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<35: // a conversation arrives
                nextConversation += 1
                let id = "c\(nextConversation)"
                var request = RoutingRequest(
                    conversationId: id, channel: Channel.allCases.randomElement(using: &rng)!,
                    tier: CustomerTier.allCases.randomElement(using: &rng)!,
                    firstText: ["hello", "my invoice", "where is it"].randomElement(using: &rng)!,
                    waitingSince: now,
                    preferredAgentIds: Bool.random(using: &rng) ? ["a\(Int.random(in: 0..<8, using: &rng))"] : []
                )
                if Int.random(in: 0..<5, using: &rng) == 0 { request.language = "de-DE" }
                model.requests[id] = request
                actions = engine.enqueue(request, now: now)
            case 35..<55: // an agent appears or changes presence, skills, teams or capacity
                let id = "a\(Int.random(in: 0..<8, using: &rng))"
                let agent = RoutingAgent(
                    id: id, role: Int.random(in: 0..<6, using: &rng) == 0 ? .supervisor : .agent,
                    teamIds: Set(teams.filter { _ in Bool.random(using: &rng) }),
                    skills: ["billing": Int.random(in: 0...10, using: &rng), "german": Int.random(in: 0...10, using: &rng)],
                    capacity: Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0, Int.random(in: 0...3, using: &rng)) }),
                    presence: Presence.allCases.randomElement(using: &rng)!
                )
                model.agents[id] = agent
                actions = engine.upsertAgent(agent, now: now)
            case 55..<75: // a conversation is resolved
                if let id = model.assignedTo.keys.sorted().randomElement(using: &rng) {
                    model.assignedTo[id] = nil
                    model.requests[id] = nil
                    actions = engine.finished(conversationId: id, now: now)
                }
            case 75..<80: // a transfer back to a queue or to a team, keeping the place in line
                if let id = model.assignedTo.keys.sorted().randomElement(using: &rng), var request = model.requests[id] {
                    model.assignedTo[id] = nil
                    if Bool.random(using: &rng) { request.queueId = ["general", "billing", "german"].randomElement(using: &rng)! }
                    else { request.teamId = teams.randomElement(using: &rng)! }
                    model.requests[id] = request
                    actions = engine.enqueue(request, now: now)
                }
            case 80..<82: // an agent accepts an offer
                if let id = model.offeredTo.keys.sorted().randomElement(using: &rng), let agentId = model.offeredTo[id],
                   let request = model.requests[id] {
                    model.offeredTo[id] = nil
                    model.assignedTo[id] = agentId
                    actions = engine.assigned(conversationId: id, agentId: agentId, channel: request.channel, queueId: "german",
                                              assignedAt: now, responded: false, now: now)
                }
            case 82..<88: // an agent answers
                if let id = model.assignedTo.keys.sorted().randomElement(using: &rng), let agentId = model.assignedTo[id],
                   let request = model.requests[id] {
                    actions = engine.assigned(conversationId: id, agentId: agentId, channel: request.channel, queueId: nil,
                                              assignedAt: now, responded: true, now: now)
                }
            default: // time passes
                now = now.addingTimeInterval(Double(Int.random(in: 1...60, using: &rng)))
                actions = engine.advance(to: now)
            }
            try apply(actions, to: &engine, model: &model, now: now)
            try checkInvariants(engine, model, now: now)
        }
    }

    /// Plays the store's part: assignments stick, requeues put conversations back at their place.
    private func apply(_ actions: [RoutingAction], to engine: inout RoutingEngine, model: inout Model, now: Date) throws {
        var pending = actions
        while !pending.isEmpty {
            let action = pending.removeFirst()
            switch action {
            case .assign(let decision), .offer(let decision, _):
                #expect(model.assignedTo[decision.conversationId] == nil && model.offeredTo[decision.conversationId] == nil,
                        "assigned twice: \(decision.conversationId)")
                let agent = try #require(model.agents[decision.agentId])
                let request = try #require(model.requests[decision.conversationId])
                #expect(agent.presence == .available)
                #expect(Self.allows(agent, decision: decision, request: request), "\(decision.agentId) lacks what \(decision.queueId) needs at step \(decision.step)")
                // Never over capacity: the agent had room on the channel before this one (offers hold room too).
                #expect(model.held(by: decision.agentId, on: request.channel) < (agent.capacity[request.channel] ?? 0),
                        "\(decision.agentId) over capacity on \(request.channel)")
                if case .offer = action { model.offeredTo[decision.conversationId] = decision.agentId } else { model.assignedTo[decision.conversationId] = decision.agentId }
            case .withdrawOffer(let id, let agentId):
                if model.offeredTo[id] == agentId, let request = model.requests[id] {
                    model.offeredTo[id] = nil
                    pending += engine.enqueue(request, now: now)
                }
            case .requeue(let id, let agentId, _):
                if model.assignedTo[id] == agentId, let request = model.requests[id] {
                    model.assignedTo[id] = nil
                    pending += engine.enqueue(request, now: now)
                }
            case .placed, .escalated:
                break
            }
        }
    }

    /// The skill and team rules, written out again independently of the engine.
    static func allows(_ agent: RoutingAgent, decision: RoutingDecision, request: RoutingRequest) -> Bool {
        guard let queue = configuration.queue(id: decision.queueId) else { return false }
        let steps = queue.escalation.prefix(decision.step)
        if steps.contains(where: \.includeSupervisors), agent.role == .supervisor { return true }
        if let team = request.teamId {
            if !agent.teamIds.contains(team) { return false }
        } else if !queue.teamIds.isEmpty, agent.teamIds.isDisjoint(with: queue.teamIds + steps.flatMap(\.addTeamIds)) {
            return false
        }
        let lowered = steps.map(\.lowerSkillLevelsBy).reduce(0, +)
        return queue.requiredSkills.allSatisfy { (agent.skills[$0.name] ?? 0) >= $0.minLevel - lowered }
    }

    private func checkInvariants(_ engine: RoutingEngine, _ model: Model, now: Date) throws {
        // The engine counts what the store holds (capacity lowered under an agent's load takes nothing away).
        for agentId in model.agents.keys {
            for channel in Channel.allCases {
                #expect(engine.load(of: agentId, on: channel) == model.held(by: agentId, on: channel))
            }
        }
        // Never double-assigned: a conversation is either waiting or with one agent.
        for id in engine.waitingConversationIds { #expect(model.assignedTo[id] == nil && model.offeredTo[id] == nil) }
        // No eligible pair left: every waiting conversation not held for its preferred agent has no agent with room who may take it.
        for id in engine.waitingConversationIds where !engine.isHeld(id, now: now) {
            for agentId in model.agents.keys {
                #expect(!engine.isEligible(agentId: agentId, for: id), "\(id) waits while \(agentId) could take it")
            }
        }
    }
}
