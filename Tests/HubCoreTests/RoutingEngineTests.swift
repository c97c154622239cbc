import Foundation
import HubCore
import Testing

@Suite("RoutingEngine")
struct RoutingEngineTests {
    static let t0 = Date(timeIntervalSinceReferenceDate: 800_000_000)

    static func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    static func agent(_ id: String, chat: Int = 3, skills: [String: Int] = [:], teams: Set<String> = [], role: Role = .agent,
                      presence: Presence = .available) -> RoutingAgent {
        RoutingAgent(id: id, role: role, teamIds: teams, skills: skills, capacity: [.webchat: chat, .email: 8, .sms: 5, .api: 5], presence: presence)
    }

    static func request(_ id: String, _ channel: Channel = .webchat, tier: CustomerTier = .normal, since: Double = 0,
                        text: String = "", tags: [String] = [], preferred: [String] = []) -> RoutingRequest {
        RoutingRequest(conversationId: id, channel: channel, tier: tier, tags: tags, firstText: text, waitingSince: at(since), preferredAgentIds: preferred)
    }

    static func assignments(_ actions: [RoutingAction]) -> [RoutingDecision] {
        actions.compactMap { if case .assign(let decision) = $0 { decision } else { nil } }
    }

    @Test("a VIP is served before a normal customer who came at the same time")
    func vipFirst() {
        var engine = RoutingEngine(configuration: .standard)
        _ = engine.enqueue(Self.request("c-normal", tier: .normal), now: Self.t0)
        _ = engine.enqueue(Self.request("c-vip", tier: .vip), now: Self.t0)
        _ = engine.enqueue(Self.request("c-blocked", tier: .blocklisted), now: Self.t0)
        _ = engine.enqueue(Self.request("c-low", tier: .low), now: Self.t0)
        #expect(engine.waitingConversationIds == ["c-vip", "c-normal", "c-low", "c-blocked"])
        let decisions = Self.assignments(engine.upsertAgent(Self.agent("a1", chat: 1), now: Self.at(1)))
        #expect(decisions.map(\.conversationId) == ["c-vip"])
    }

    @Test("a lower tier that has waited a class step longer goes first: nobody starves")
    func agingPreventsStarvation() {
        var engine = RoutingEngine(configuration: .standard)
        let aging = RoutingConfiguration.standard.agingSeconds
        _ = engine.enqueue(Self.request("c-low", tier: .low, since: 0), now: Self.at(0))
        // A VIP arriving just after the low-tier customer goes first …
        _ = engine.enqueue(Self.request("c-vip1", tier: .vip, since: 10), now: Self.at(10))
        // … but not one arriving more than two class steps (low is two below VIP) plus the SLA gap later.
        let late = 2 * aging + 60
        _ = engine.enqueue(Self.request("c-vip2", tier: .vip, since: late), now: Self.at(late))
        #expect(engine.waitingConversationIds == ["c-vip1", "c-low", "c-vip2"])
    }

    @Test("within a class the time left before the SLA breaches decides, not the raw age")
    func deadlineOrder() {
        var engine = RoutingEngine(configuration: .standard)
        // An email (4 h target) waiting 10 minutes has more time left than a chat (60 s) that just came.
        _ = engine.enqueue(Self.request("c-email", .email, since: 0), now: Self.at(600))
        _ = engine.enqueue(Self.request("c-chat", .webchat, since: 600), now: Self.at(600))
        #expect(engine.waitingConversationIds == ["c-chat", "c-email"])
    }

    @Test("selection: best skill match, then least loaded, then longest idle; the decision says why")
    func selectionOrder() throws {
        let queue = RoutingQueue(id: "billing", name: "Billing", requiredSkills: [SkillRequirement(name: "billing", minLevel: 3)])
        let configuration = RoutingConfiguration(
            queues: [queue, RoutingQueue(id: "general", name: "General")],
            rules: [RoutingRule(id: "invoices", match: RuleMatch(keywords: ["invoice"]), queueId: "billing")],
            defaultQueueId: "general"
        )
        var engine = RoutingEngine(configuration: configuration)
        _ = engine.upsertAgent(Self.agent("a-novice", skills: ["billing": 2]), now: Self.t0)
        _ = engine.upsertAgent(Self.agent("a-good", skills: ["billing": 5]), now: Self.t0)
        _ = engine.upsertAgent(Self.agent("a-expert", skills: ["billing": 9]), now: Self.t0)

        let first = try #require(Self.assignments(engine.enqueue(Self.request("c1", text: "My INVOICE is wrong"), now: Self.at(1))).first)
        #expect(first.agentId == "a-expert")
        #expect(first.queueId == "billing")
        #expect(first.ruleId == "invoices")
        #expect(first.eligibleCount == 2)
        #expect(first.reason == "best skill match (9 against 5)")
        #expect(first.candidates.map(\.agentId) == ["a-expert", "a-good"])

        // The general queue needs no skill: everyone scores 0, so the least loaded wins.
        // The general queue needs no skill: everyone scores 0. The two idle ones tie on load and idle time.
        let second = try #require(Self.assignments(engine.enqueue(Self.request("c2", text: "hello"), now: Self.at(2))).first)
        #expect(second.agentId == "a-good")
        #expect(second.reason == "equal on skill, load and idle time; first by id")
        let third = try #require(Self.assignments(engine.enqueue(Self.request("c3"), now: Self.at(3))).first)
        #expect(third.agentId == "a-novice")
        #expect(third.reason == "least loaded (0/3 against 1/3)")
        // All have one now; the expert was assigned first, so has been idle longest.
        let fourth = try #require(Self.assignments(engine.enqueue(Self.request("c4"), now: Self.at(4))).first)
        #expect(fourth.agentId == "a-expert")
        #expect(fourth.reason == "longest idle")
    }

    @Test("the account manager gets the conversation when available, and it waits for them a short while when they are busy")
    func stickyRouting() throws {
        var engine = RoutingEngine(configuration: .standard)
        _ = engine.upsertAgent(Self.agent("a-manager", chat: 1), now: Self.t0)
        _ = engine.upsertAgent(Self.agent("a-other", chat: 3), now: Self.t0)
        let first = try #require(Self.assignments(engine.enqueue(Self.request("c1", preferred: ["a-manager"]), now: Self.t0)).first)
        #expect(first.agentId == "a-manager")
        #expect(first.reason.contains("preferred"))

        // The manager is full: the next conversation of their customer waits for them …
        #expect(Self.assignments(engine.enqueue(Self.request("c2", preferred: ["a-manager"]), now: Self.t0)).isEmpty)
        #expect(engine.isHeld("c2", now: Self.t0))
        // … and goes to them when they free up within the sticky wait.
        let back = Self.assignments(engine.finished(conversationId: "c1", now: Self.at(5)))
        #expect(back.map(\.agentId) == ["a-manager"])

        // Held again; when the wait ends, anyone may take it.
        #expect(Self.assignments(engine.enqueue(Self.request("c3", since: 6, preferred: ["a-manager"]), now: Self.at(6))).isEmpty)
        let holdEnds = 6 + RoutingConfiguration.standard.stickyWaitSeconds
        #expect(Self.assignments(engine.advance(to: Self.at(holdEnds - 1))).isEmpty)
        let later = Self.assignments(engine.advance(to: Self.at(holdEnds)))
        #expect(later.map(\.agentId) == ["a-other"])
    }

    @Test("escalation widens the candidates: lower skill levels, an overflow team, supervisors")
    func escalation() throws {
        let queue = RoutingQueue(
            id: "vip", name: "VIP desk", teamIds: ["team-vip"], requiredSkills: [SkillRequirement(name: "german", minLevel: 8)],
            escalation: [
                EscalationStep(afterSeconds: 30, lowerSkillLevelsBy: 3),
                EscalationStep(afterSeconds: 60, addTeamIds: ["team-overflow"]),
                EscalationStep(afterSeconds: 90, includeSupervisors: true, raisePriorityBy: 10),
            ]
        )
        var engine = RoutingEngine(configuration: RoutingConfiguration(queues: [queue], defaultQueueId: "vip"))
        _ = engine.upsertAgent(Self.agent("a-vip-weak", skills: ["german": 5], teams: ["team-vip"]), now: Self.t0)
        _ = engine.enqueue(Self.request("c1"), now: Self.t0)
        _ = engine.enqueue(Self.request("c2"), now: Self.t0)
        _ = engine.enqueue(Self.request("c3"), now: Self.t0)
        #expect(engine.waitingConversationIds.count == 3)

        let step1 = engine.advance(to: Self.at(30))
        #expect(step1.contains(.escalated(conversationId: "c1", queueId: "vip", step: 1)))
        let lowered = Self.assignments(step1)
        #expect(lowered.count == 3) // the weak German speaker of the team now qualifies, with room for all three
        #expect(lowered.allSatisfy { $0.agentId == "a-vip-weak" && $0.step == 1 })

        _ = engine.upsertAgent(Self.agent("a-vip-weak", presence: .away), now: Self.at(31))
        _ = engine.enqueue(Self.request("c4", since: 31), now: Self.at(31))
        _ = engine.upsertAgent(Self.agent("a-overflow", skills: ["german": 6], teams: ["team-overflow"]), now: Self.at(32))
        _ = engine.upsertAgent(Self.agent("a-boss", teams: [], role: .supervisor), now: Self.at(32))
        #expect(Self.assignments(engine.advance(to: Self.at(61))).isEmpty) // level 5 now, but the overflow team comes at 60 s
        let overflow = Self.assignments(engine.advance(to: Self.at(91)))
        #expect(overflow.map(\.agentId) == ["a-overflow"])
    }

    @Test("supervisors become candidates only at the step that allows it")
    func supervisorsAtTheirStep() throws {
        var engine = RoutingEngine(configuration: .standard)
        _ = engine.upsertAgent(Self.agent("a-boss", role: .supervisor), now: Self.t0)
        let decision = try #require(Self.assignments(engine.enqueue(Self.request("c1"), now: Self.t0)).first)
        #expect(decision.agentId == "a-boss") // the general queue takes anyone, supervisors included

        let picky = RoutingQueue(id: "tech", name: "Tech", requiredSkills: [SkillRequirement(name: "linux", minLevel: 5)],
                                 escalation: [EscalationStep(afterSeconds: 120, includeSupervisors: true)])
        var strict = RoutingEngine(configuration: RoutingConfiguration(queues: [picky], defaultQueueId: "tech"))
        _ = strict.upsertAgent(Self.agent("a-boss", role: .supervisor), now: Self.t0)
        #expect(Self.assignments(strict.enqueue(Self.request("c1"), now: Self.t0)).isEmpty)
        #expect(Self.assignments(strict.advance(to: Self.at(119))).isEmpty)
        #expect(Self.assignments(strict.advance(to: Self.at(120))).map(\.agentId) == ["a-boss"])
    }

    @Test("an agent going offline sends their conversations back; a requeued one keeps its place")
    func offlineRequeues() {
        var engine = RoutingEngine(configuration: .standard)
        _ = engine.upsertAgent(Self.agent("a1", chat: 2), now: Self.t0)
        _ = engine.enqueue(Self.request("c1", since: 0), now: Self.at(0))
        _ = engine.enqueue(Self.request("c2", since: 1), now: Self.at(1))
        let actions = engine.upsertAgent(Self.agent("a1", chat: 2, presence: .offline), now: Self.at(10))
        #expect(actions == [
            .requeue(conversationId: "c1", agentId: "a1", reason: .agentOffline),
            .requeue(conversationId: "c2", agentId: "a1", reason: .agentOffline),
        ])
        _ = engine.enqueue(Self.request("c3", since: 5), now: Self.at(11))
        // The store applied the requeue: the conversations come back with their first waiting time.
        _ = engine.enqueue(Self.request("c2", since: 1), now: Self.at(12))
        _ = engine.enqueue(Self.request("c1", since: 0), now: Self.at(12))
        #expect(engine.waitingConversationIds == ["c1", "c2", "c3"])
        #expect(engine.load(of: "a1", on: .webchat) == 0)
    }

    @Test("an agent who misses the first-reply deadline loses the conversation to the queue")
    func missedFirstReply() {
        let queue = RoutingQueue(id: "chat", name: "Chat", replyWithinSeconds: 45)
        var engine = RoutingEngine(configuration: RoutingConfiguration(queues: [queue], defaultQueueId: "chat"))
        _ = engine.upsertAgent(Self.agent("a1"), now: Self.t0)
        _ = engine.enqueue(Self.request("c-slow"), now: Self.t0)
        _ = engine.enqueue(Self.request("c-fast"), now: Self.t0)
        _ = engine.assigned(conversationId: "c-fast", agentId: "a1", channel: .webchat, queueId: "chat", assignedAt: Self.t0,
                            responded: true, now: Self.at(10))
        #expect(engine.advance(to: Self.at(44)).isEmpty)
        #expect(engine.advance(to: Self.at(45)) == [.requeue(conversationId: "c-slow", agentId: "a1", reason: .missedFirstReply)])
        #expect(engine.advance(to: Self.at(90)).isEmpty)

        // Back in line with nobody else there, a1 gets it again: the last resort.
        #expect(Self.assignments(engine.enqueue(Self.request("c-slow"), now: Self.at(91))).map(\.agentId) == ["a1"])
        #expect(engine.advance(to: Self.at(136)) == [.requeue(conversationId: "c-slow", agentId: "a1", reason: .missedFirstReply)])
        // With someone else there, it goes to them, even though they are busier.
        _ = engine.upsertAgent(Self.agent("a2"), now: Self.at(137))
        for id in ["x1", "x2"] {
            _ = engine.assigned(conversationId: id, agentId: "a2", channel: .webchat, queueId: nil, assignedAt: Self.at(137), responded: true, now: Self.at(137))
        }
        #expect(Self.assignments(engine.enqueue(Self.request("c-slow"), now: Self.at(138))).map(\.agentId) == ["a2"])
    }

    @Test("offer mode: the best agent is offered the conversation, their room held; unaccepted, it moves on to the next")
    func offers() throws {
        let queue = RoutingQueue(id: "chat", name: "Chat", requiredSkills: [SkillRequirement(name: "chat", minLevel: 1)], offerSeconds: 20)
        var engine = RoutingEngine(configuration: RoutingConfiguration(queues: [queue], defaultQueueId: "chat"))
        _ = engine.upsertAgent(Self.agent("a-best", chat: 1, skills: ["chat": 9]), now: Self.t0)
        _ = engine.upsertAgent(Self.agent("a-next", chat: 1, skills: ["chat": 5]), now: Self.t0)
        let actions = engine.enqueue(Self.request("c1"), now: Self.t0)
        let offer = try #require(actions.compactMap { if case .offer(let decision, let expiresAt) = $0 { (decision, expiresAt) } else { nil } }.first)
        #expect(offer.0.agentId == "a-best")
        #expect(offer.1 == Self.at(20))
        #expect(engine.load(of: "a-best", on: .webchat) == 1) // held while the offer stands
        #expect(engine.offeredAgent(of: "c1") == "a-best")

        #expect(engine.advance(to: Self.at(19)).isEmpty)
        #expect(engine.advance(to: Self.at(20)) == [.withdrawOffer(conversationId: "c1", agentId: "a-best")])
        // The store withdrew it: c1 is back at its place and is offered to the next agent, a-best's room freed.
        let moved = engine.enqueue(Self.request("c1"), now: Self.at(21))
        let offered = moved.compactMap { if case .offer(let decision, _) = $0 { decision } else { nil } }
        #expect(offered.map(\.agentId) == ["a-next"])
        #expect(engine.load(of: "a-best", on: .webchat) == 0)
        // a-next accepts: the held room becomes the assignment, nothing counted twice.
        #expect(engine.assigned(conversationId: "c1", agentId: "a-next", channel: .webchat, queueId: "chat", assignedAt: Self.at(22),
                                responded: false, now: Self.at(22)).isEmpty)
        #expect(engine.load(of: "a-next", on: .webchat) == 1)
        #expect(engine.assignee(of: "c1") == "a-next")
        _ = engine.enqueue(Self.request("c2"), now: Self.at(23))
        #expect(engine.offeredAgent(of: "c2") == "a-best")
    }

    @Test("rules match channel, tier, tags, language and words of the first message")
    func ruleMatching() {
        let configuration = RoutingConfiguration(
            queues: [RoutingQueue(id: "general", name: "General"), RoutingQueue(id: "de", name: "German"),
                     RoutingQueue(id: "vip-sms", name: "VIP SMS"), RoutingQueue(id: "refunds", name: "Refunds")],
            rules: [
                RoutingRule(id: "vip-sms", match: RuleMatch(channels: [.sms], tiers: [.vip]), queueId: "vip-sms"),
                RoutingRule(id: "german", match: RuleMatch(languages: ["de"]), queueId: "de"),
                RoutingRule(id: "refund", match: RuleMatch(tags: ["refund"], keywords: ["money back", "refund"]), queueId: "refunds"),
            ],
            defaultQueueId: "general"
        )
        var german = Self.request("x")
        german.language = "de-AT"
        #expect(configuration.rule(for: german)?.id == "german")
        #expect(configuration.rule(for: Self.request("x", .sms, tier: .vip))?.id == "vip-sms")
        #expect(configuration.rule(for: Self.request("x", .sms, tier: .normal)) == nil)
        #expect(configuration.rule(for: Self.request("x", text: "I want my MONEY BACK", tags: ["refund"]))?.id == "refund")
        #expect(configuration.rule(for: Self.request("x", text: "I want my money back")) == nil) // the tag is missing
        var swiss = Self.request("x")
        swiss.language = "dex"
        #expect(configuration.rule(for: swiss) == nil)
    }

    @Test("a queue that counts business time only moves the SLA deadline past closed hours")
    func businessTimeDeadline() throws {
        let calendar = BusinessCalendar(id: "office", timeZone: "UTC", hours: [OpeningHours(days: ["mon", "tue", "wed", "thu", "fri"], open: "09:00", close: "17:00")])
        let queue = RoutingQueue(id: "email", name: "Email", sla: [SLATarget(seconds: 3600, goalPercent: 80)], calendarId: "office", businessTimeOnly: true)
        var engine = RoutingEngine(configuration: try RoutingConfiguration(queues: [queue], defaultQueueId: "email", calendars: [calendar]).validated())
        let friday = try Date("2026-11-27T16:30:00Z", strategy: .iso8601)
        _ = engine.enqueue(RoutingRequest(conversationId: "c1", channel: .email, waitingSince: friday), now: friday)
        #expect(engine.waitingEntry("c1")?.slaDueAt == (try Date("2026-11-30T09:30:00Z", strategy: .iso8601)))
    }

    @Test("a configuration document names only what it changes; the rest takes the defaults")
    func decodingDefaults() throws {
        let json = #"""
            {"defaultQueueId":"general","queues":[{"id":"general","escalation":[{"afterSeconds":60,"includeSupervisors":true}]}],
             "rules":[{"id":"r","queueId":"general"}],
             "calendars":[{"id":"office","timeZone":"UTC","hours":[{"days":["mon"],"open":"09:00","close":"17:00"}]}]}
            """#
        let decoded = try JSONDecoder().decode(RoutingConfiguration.self, from: Data(json.utf8))
        let expected = RoutingConfiguration(
            queues: [RoutingQueue(id: "general", name: "general", escalation: [EscalationStep(afterSeconds: 60, includeSupervisors: true)])],
            rules: [RoutingRule(id: "r", match: RuleMatch(), queueId: "general")], defaultQueueId: "general",
            calendars: [BusinessCalendar(id: "office", timeZone: "UTC", hours: [OpeningHours(days: ["mon"], open: "09:00", close: "17:00")])]
        )
        #expect(decoded == expected)
        // What the API answers decodes back to the same.
        #expect(try JSONDecoder().decode(RoutingConfiguration.self, from: JSONEncoder().encode(RoutingConfiguration.standard)) == .standard)
    }

    @Test("validation names what is wrong")
    func validation() {
        #expect(throws: ValidationError.self) { try RoutingConfiguration(queues: [], defaultQueueId: "x").validated() }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A")], defaultQueueId: "b").validated()
        }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A")], rules: [RoutingRule(id: "r", match: RuleMatch(), queueId: "zz")],
                                     defaultQueueId: "a").validated()
        }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A", requiredSkills: [SkillRequirement(name: "x", minLevel: 11)])],
                                     defaultQueueId: "a").validated()
        }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A", businessTimeOnly: true)], defaultQueueId: "a").validated()
        }
        // Numbers that would overflow the line's order or the stored dates are refused, not trapped on later.
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A", priority: .max, escalation: [EscalationStep(afterSeconds: 0, raisePriorityBy: 1)])],
                                     defaultQueueId: "a").validated()
        }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A", sla: [SLATarget(seconds: 1e300, goalPercent: 50)])], defaultQueueId: "a").validated()
        }
        #expect(throws: ValidationError.self) {
            try RoutingConfiguration(queues: [RoutingQueue(id: "a", name: "A", escalation: [EscalationStep(afterSeconds: 10, lowerSkillLevelsBy: .max)])],
                                     defaultQueueId: "a").validated()
        }
        #expect(throws: Never.self) { try RoutingConfiguration.standard.validated() }
    }
}
