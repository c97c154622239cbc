import Foundation
import HubCore
import HubStore
import Testing

@Suite("Routing in the store")
struct RoutingStoreTests {
    /// An available agent with this chat capacity.
    static func availableAgent(_ store: SQLiteHubStorage, name: String, chat: Int) async throws -> Agent {
        let agent = try await store.createAgent(AgentDraft(name: name, capacity: [.webchat: chat]))
        return try await store.setPresence(agentId: agent.id, .available)
    }

    /// Web chat conversations of distinct customers, waiting.
    static func waiting(_ store: SQLiteHubStorage, count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            ids.append(try await store.receive(inbound(from: "visitor-\(index)", text: "help \(index)", channel: .webchat)).conversationId)
        }
        return ids
    }

    static func decision(_ conversationId: String, to agentId: String, at date: Date = TestClock.start) -> RoutingAction {
        .assign(routed(conversationId, to: agentId, at: date))
    }

    static func offer(_ conversationId: String, to agentId: String, until expiresAt: Date) -> RoutingAction {
        .offer(routed(conversationId, to: agentId, at: TestClock.start), expiresAt: expiresAt)
    }

    static func routed(_ conversationId: String, to agentId: String, at date: Date) -> RoutingDecision {
        RoutingDecision(
            conversationId: conversationId, agentId: agentId, channel: .webchat, queueId: "general", ruleId: nil, tier: .normal, step: 0,
            waitingSince: date, slaDueAt: date.addingTimeInterval(60), decidedAt: date, candidates: [], eligibleCount: 1, reason: "test"
        )
    }

    @Test("an assignment is a conditional write: not past capacity, not to an absent agent, not twice")
    func conditionalAssignment() async throws {
        let store = try makeStore()
        let agent = try await Self.availableAgent(store, name: "Ada", chat: 1)
        let away = try await store.createAgent(AgentDraft(name: "Bo", capacity: [.webchat: 5]))
        let ids = try await Self.waiting(store, count: 3)
        let outcomes = try await store.applyRouting([
            Self.decision(ids[0], to: agent.id), Self.decision(ids[1], to: agent.id), Self.decision(ids[2], to: away.id),
            Self.decision(ids[0], to: away.id),
        ])
        #expect(outcomes == [.applied, .rejected("agent at capacity"), .rejected("agent not available"), .rejected("no longer waiting")])
        let assigned = try await store.conversation(id: ids[0])
        #expect(assigned.assigneeId == agent.id)
        #expect(assigned.assignedAt == TestClock.start)
        #expect(assigned.queueId == "general")
        let records = try await store.routingDecisions(conversationId: ids[0])
        #expect(records.map(\.kind) == ["assigned"])
        #expect(records.first?.reason == "test")
        await store.close()
    }

    @Test("an offer holds the agent's room; accepted in time it is theirs, too late it is refused, declined or run out it waits again")
    func offers() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let ada = try await Self.availableAgent(store, name: "Ada", chat: 2)
        let bo = try await Self.availableAgent(store, name: "Bo", chat: 2)
        let ids = try await Self.waiting(store, count: 3)
        let outcomes = try await store.applyRouting([
            Self.offer(ids[0], to: ada.id, until: TestClock.start.addingTimeInterval(20)), Self.decision(ids[1], to: ada.id),
            Self.decision(ids[2], to: ada.id), Self.decision(ids[0], to: bo.id),
        ])
        #expect(outcomes == [.applied, .applied, .rejected("agent at capacity"), .rejected("no longer waiting")])
        await #expect(throws: HubError.self) { try await store.accept(conversationId: ids[0], agentId: bo.id) }
        let accepted = try await store.accept(conversationId: ids[0], agentId: ada.id)
        #expect(accepted.assigneeId == ada.id && accepted.offeredTo == nil)

        _ = try await store.applyRouting([Self.offer(ids[2], to: bo.id, until: TestClock.start.addingTimeInterval(20))])
        clock.advance(by: 30)
        await #expect(throws: HubError.self) { try await store.accept(conversationId: ids[2], agentId: bo.id) }
        #expect(try await store.applyRouting([.withdrawOffer(conversationId: ids[2], agentId: bo.id)]) == [.applied])
        _ = try await store.applyRouting([Self.offer(ids[2], to: bo.id, until: TestClock.start.addingTimeInterval(60))])
        let declined = try await store.decline(conversationId: ids[2], agentId: bo.id)
        #expect(declined.offeredTo == nil && declined.assigneeId == nil && declined.waitingSince == TestClock.start)
        await #expect(throws: HubError.self) { try await store.decline(conversationId: ids[2], agentId: bo.id) }
        #expect(try await store.routingDecisions(conversationId: ids[2]).map(\.kind) == ["offered", "withdrawn", "offered", "declined"])
        await store.close()
    }

    @Test("two routers racing on one store never over-assign", arguments: [2, 3, 5])
    func twoRoutersRace(batch: Int) async throws {
        let store = try makeStore()
        var agents: [Agent] = []
        for index in 0..<4 { agents.append(try await Self.availableAgent(store, name: "Agent \(index)", chat: 3)) }
        _ = try await Self.waiting(store, count: 30)

        // Each router builds its engine from the same stored state and decides on its own.
        func routerActions() async throws -> [RoutingAction] {
            var engine = RoutingEngine(configuration: .standard)
            var actions: [RoutingAction] = []
            for agent in try await store.routingAgents(ids: nil) { actions += engine.upsertAgent(agent, now: TestClock.start) }
            for subject in try await store.routingSubjects(.unresolved) { actions += engine.apply(subject, now: TestClock.start) }
            return actions.filter { if case .assign = $0 { true } else { false } }
        }
        let first = try await routerActions()
        var second = try await routerActions()
        #expect(first.count == 12 && second.count == 12)
        // Opposite orders, so each takes some of the pairs before the other gets there.
        second.reverse()
        let outcomes = try await withThrowingTaskGroup(of: [RoutingOutcome].self) { group in
            for actions in [first, second] {
                group.addTask {
                    var outcomes: [RoutingOutcome] = []
                    for chunk in stride(from: 0, to: actions.count, by: batch) {
                        outcomes += try await store.applyRouting(Array(actions[chunk..<min(chunk + batch, actions.count)]))
                    }
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(outcomes.filter { $0 == .applied }.count == 12)
        for agent in agents {
            let load = try await store.routingSubjects(.assignedTo(agent.id)).count
            #expect(load == 3, "agent \(agent.name) has \(load)")
        }
        let conversations = try await allConversations(in: store)
        #expect(conversations.filter { $0.assigneeId != nil }.count == 12)
        await store.close()
    }

    @Test("a requeue keeps the place in line and remembers the agent; a reply in time stops a missed-reply requeue")
    func requeue() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let agent = try await Self.availableAgent(store, name: "Ada", chat: 3)
        let ids = try await Self.waiting(store, count: 2)
        clock.advance(by: 30)
        _ = try await store.applyRouting([Self.decision(ids[0], to: agent.id), Self.decision(ids[1], to: agent.id)])
        _ = try await store.reply(conversationId: ids[1], ReplyDraft(text: "Hi!"), authorId: agent.id, idempotencyKey: nil)
        let outcomes = try await store.applyRouting([
            .requeue(conversationId: ids[0], agentId: agent.id, reason: .agentOffline),
            .requeue(conversationId: ids[1], agentId: agent.id, reason: .missedFirstReply),
        ])
        #expect(outcomes == [.applied, .rejected("answered in time")])
        let back = try await store.conversation(id: ids[0])
        #expect(back.assigneeId == nil)
        #expect(back.waitingSince == TestClock.start)
        #expect(back.lastAssigneeId == agent.id)
        #expect(try await store.routingDecisions(conversationId: ids[0]).map(\.kind) == ["assigned", "requeued"])
        await store.close()
    }

    @Test("a transfer goes to an agent with room, a team or a queue, with a private note")
    func transfer() async throws {
        let store = try makeStore()
        let full = try await Self.availableAgent(store, name: "Full", chat: 0)
        let free = try await Self.availableAgent(store, name: "Free", chat: 2)
        let team = try await store.createTeam(name: "Billing")
        let ids = try await Self.waiting(store, count: 1)
        await #expect(throws: HubError.self) {
            try await store.transfer(conversationId: ids[0], to: .agent(full.id), note: nil, authorId: nil)
        }
        let toAgent = try await store.transfer(conversationId: ids[0], to: .agent(free.id), note: "VIP, be quick", authorId: full.id)
        #expect(toAgent.assigneeId == free.id)
        let toTeam = try await store.transfer(conversationId: ids[0], to: .team(team.id), note: nil, authorId: free.id)
        #expect(toTeam.assigneeId == nil && toTeam.teamId == team.id && toTeam.lastAssigneeId == free.id)
        let toQueue = try await store.transfer(conversationId: ids[0], to: .queue("billing"), note: nil, authorId: nil)
        #expect(toQueue.pinnedQueueId == "billing" && toQueue.teamId == nil)
        let notes = try await allMessages(of: ids[0], in: store).filter { $0.kind == .note }
        #expect(notes.map(\.text) == ["VIP, be quick"])
        #expect(try await store.routingDecisions(conversationId: ids[0]).map(\.kind) == ["transferred", "transferred", "transferred"])
        await store.close()
    }

    @Test("a customer's next conversation prefers their account manager, then the agent who had the last one")
    func stickyPreferences() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let agent = try await Self.availableAgent(store, name: "Ada", chat: 3)
        let manager = try await store.createAgent(AgentDraft(name: "Manager"))
        let ids = try await Self.waiting(store, count: 1)
        _ = try await store.applyRouting([Self.decision(ids[0], to: agent.id)])
        _ = try await store.setStatus(conversationId: ids[0], .resolved, snoozedUntil: nil)
        let customerId = try await store.conversation(id: ids[0]).customerId
        _ = try await store.updateCustomer(id: customerId, CustomerPatch(tier: .vip, accountManagerId: manager.id))
        clock.advance(by: 600)
        let next = try await store.receive(inbound(from: "visitor-0", text: "me again", channel: .webchat))
        #expect(next.conversationId != ids[0])
        let subject = try #require(try await store.routingSubjects(.ids([next.conversationId])).first)
        #expect(subject.conversation.assigneeId == nil)
        #expect(subject.conversation.waitingSince == TestClock.start.addingTimeInterval(600))
        #expect(subject.tier == .vip)
        #expect(subject.firstText == "me again")
        #expect(subject.request.preferredAgentIds == [manager.id, agent.id])
        await store.close()
    }

    @Test("a snoozed conversation the customer writes to reopens with its agent; unassigned, it waits from now")
    func reopenKeepsAgent() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let ids = try await Self.waiting(store, count: 1)
        _ = try await store.setStatus(conversationId: ids[0], .snoozed, snoozedUntil: TestClock.start.addingTimeInterval(3600))
        clock.advance(by: 60)
        _ = try await store.receive(inbound(from: "visitor-0", text: "hello?", channel: .webchat))
        let reopened = try await store.conversation(id: ids[0])
        #expect(reopened.status == .open)
        #expect(reopened.waitingSince == TestClock.start.addingTimeInterval(60))
        await store.close()
    }

    @Test("a conversation the center starts waits for the customer, not for an agent, until they write back")
    func centerStartedWaitsForTheCustomer() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let first = try await store.receive(inbound(from: "ana@example.com"))
        _ = try await store.setStatus(conversationId: first.conversationId, .resolved, snoozedUntil: nil)
        let notice = try await store.send(OutboundDraft(customerId: first.customerId, channel: .email, text: "Your order shipped.", purpose: .transactional))
        let started = try await store.conversation(id: notice.conversationId)
        #expect(started.status == .pending && started.waitingSince == nil)
        clock.advance(by: 60)
        // An email answer names the notice it answers (In-Reply-To).
        let answer = try await store.receive(inbound(from: "ana@example.com", text: "Thanks, where is it?", threadHints: [notice.id]))
        #expect(answer.conversationId == notice.conversationId)
        let waiting = try await store.conversation(id: notice.conversationId)
        #expect(waiting.status == .open && waiting.waitingSince == TestClock.start.addingTimeInterval(60))
        await store.close()
    }

    @Test("the routing configuration is stored checked, with an event")
    func configuration() async throws {
        let store = try makeStore()
        #expect(try await store.routingConfiguration() == nil)
        try await store.setRoutingConfiguration(.standard)
        #expect(try await store.routingConfiguration() == (try RoutingConfiguration.standard.validated()))
        await #expect(throws: ValidationError.self) {
            try await store.setRoutingConfiguration(RoutingConfiguration(queues: [], defaultQueueId: "none"))
        }
        let events = try await store.events(after: 0, scope: .all, limit: 10)
        #expect(events.map(\.type) == [.routingConfigured])
        await store.close()
    }
}
