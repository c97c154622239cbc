import Foundation
import HubCore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Runs the routing engine against the store. It wakes on each commit of the event log and on the
/// engine's next timer, never on a sweep: new and changed conversations and agents are read back,
/// handed to the engine, and its actions applied by the store's conditional writes.
public final class RoutingService: Service {
    let storage: any HubStorage
    /// The configuration used until one is stored through the API.
    let initialConfiguration: RoutingConfiguration
    let logger: Logger
    private let live: Mutex<RoutingStatus>

    /// A router over `storage`, starting from `configuration` until one is stored through the API.
    public init(storage: any HubStorage, configuration: RoutingConfiguration = .standard, logger: Logger) {
        self.storage = storage
        self.initialConfiguration = configuration
        self.logger = logger
        self.live = Mutex(RoutingStatus(configuration: configuration, queues: [], occupancy: 0))
    }

    /// What the router sees now: its configuration, the queues' depth and oldest wait, occupancy.
    var status: RoutingStatus { live.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.route()
                } catch is CancellationError {
                    // Shutdown interrupted a store call; the next start rebuilds from the store.
                    return
                } catch {
                    // A failed read or write must not take the hub down: start again from the store.
                    self.logger.error("router stopped; starting again from the store", metadata: ["sb.error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    private func route() async throws {
        var engine = RoutingEngine(configuration: try await storage.routingConfiguration() ?? initialConfiguration)
        // The cursor first: whatever commits after it is read again, so nothing between is missed.
        var cursor = try await storage.latestEventId()
        var actions: [RoutingAction] = []
        for agent in try await storage.routingAgents(ids: nil) { actions += engine.upsertAgent(agent, now: Date()) }
        for subject in try await storage.routingSubjects(.unresolved) { actions += engine.apply(subject, now: Date()) }
        logger.info("router started", metadata: ["sb.waiting": "\(engine.waitingConversationIds.count)"])
        var kpisPublishedAt = Date.distantPast
        // Whether the engine took any input since the live view was published: most events (a
        // customer's next message in an open conversation) change nothing the view shows.
        var changed = true
        var publishedAt = Date.distantPast

        while !Task.isCancelled {
            let now = Date()
            if let timer = engine.nextTimer, timer <= now { changed = true }
            actions += engine.advance(to: now)
            if !actions.isEmpty { changed = true }
            try await apply(actions, to: &engine)
            actions = []
            // The oldest wait grows with time alone: republished each second even without input.
            if changed || -publishedAt.timeIntervalSinceNow >= 1 {
                publish(engine)
                publishedAt = Date()
                changed = false
            }
            if -kpisPublishedAt.timeIntervalSinceNow >= Self.kpiInterval {
                try await publishKPIs(engine.configuration)
                kpisPublishedAt = Date()
            }

            let wait = engine.nextTimer.map { max(0, $0.timeIntervalSinceNow) } ?? Self.kpiInterval
            _ = await storage.waitForEvent(after: cursor, timeout: .milliseconds(Int64(min(wait, Self.kpiInterval) * 1000) + 1))
            let events = try await storage.events(after: cursor, scope: .all, limit: 2000)
            guard let last = events.last else { continue }
            cursor = last.id

            var conversationIds: [String] = []
            var agentIds: [String] = []
            var customerIds: [String] = []
            var reconfigured = false
            for event in events {
                switch event.type {
                case .conversationCreated, .conversationUpdated:
                    if let id = event.conversationId { conversationIds.append(id) }
                case .messageCreated:
                    // An agent's first answer stops the first-reply clock.
                    if let id = event.conversationId, engine.awaitsFirstReply(id) { conversationIds.append(id) }
                case .agentCreated, .agentUpdated:
                    if let id = event.agentId { agentIds.append(id) }
                case .customerUpdated:
                    if let id = event.customerId { customerIds.append(id) }
                case .routingConfigured:
                    reconfigured = true
                default:
                    break
                }
            }
            if reconfigured || !conversationIds.isEmpty || !agentIds.isEmpty || !customerIds.isEmpty { changed = true }
            if reconfigured, let configuration = try await storage.routingConfiguration() {
                actions += engine.reconfigure(configuration, now: Date())
                logger.info("routing configuration applied", metadata: ["sb.queues": "\(configuration.queues.count)"])
            }
            actions += try await refresh(agents: agentIds, conversations: conversationIds, in: &engine)
            // A customer's new tier or account manager changes the place of their waiting conversations.
            for customerId in Set(customerIds) {
                for subject in try await storage.routingSubjects(.customer(customerId)) { actions += engine.apply(subject, now: Date()) }
            }
        }
    }

    /// Reads agents and conversations back from the store and hands them to the engine.
    private func refresh(agents agentIds: [String], conversations conversationIds: [String], in engine: inout RoutingEngine) async throws -> [RoutingAction] {
        var actions: [RoutingAction] = []
        let agentIds = Array(Set(agentIds)).sorted()
        if !agentIds.isEmpty {
            for agent in try await storage.routingAgents(ids: agentIds) { actions += engine.upsertAgent(agent, now: Date()) }
        }
        var seen = Set<String>()
        let conversationIds = conversationIds.filter { seen.insert($0).inserted }
        if !conversationIds.isEmpty {
            for subject in try await storage.routingSubjects(.ids(conversationIds)) { actions += engine.apply(subject, now: Date()) }
        }
        return actions
    }

    /// Applies actions through the store. A rejected one means the store knows better (another
    /// router, a manual assignment, a presence change not yet read): the agent's and the
    /// conversation's stored state is read back, which brings the engine in line.
    private func apply(_ actions: [RoutingAction], to engine: inout RoutingEngine) async throws {
        var pending = actions
        var rounds = 0
        while !pending.isEmpty {
            let outcomes = try await storage.applyRouting(pending)
            var staleConversations: [String] = []
            var staleAgents: [String] = []
            for (action, outcome) in zip(pending, outcomes) {
                switch (action, outcome) {
                case (.assign(let decision), .applied):
                    Counter(label: "sb_routing_assignments_total", dimensions: [("queue", decision.queueId)]).increment()
                case (.offer(let decision, _), .applied):
                    Counter(label: "sb_routing_offers_total", dimensions: [("queue", decision.queueId)]).increment()
                case (.requeue(_, _, let reason), .applied):
                    Counter(label: "sb_routing_requeues_total", dimensions: [("reason", reason.rawValue)]).increment()
                case (.assign(let decision), .rejected(let why)), (.offer(let decision, _), .rejected(let why)):
                    logger.debug("assignment refused by the store", metadata: ["sb.conversation": "\(decision.conversationId)", "sb.reason": "\(why)"])
                    staleConversations.append(decision.conversationId)
                    staleAgents.append(decision.agentId)
                case (.requeue(let id, let agentId, _), .rejected), (.withdrawOffer(let id, let agentId), .rejected):
                    staleConversations.append(id)
                    staleAgents.append(agentId)
                default:
                    break
                }
            }
            guard !staleAgents.isEmpty else { return }
            rounds += 1
            // Two routers fighting over the same agents settle quickly; back off rather than spin.
            if rounds > 3 { try await Task.sleep(for: .milliseconds(min(rounds * 20, 500))) }
            var owned: [String] = []
            for agentId in Set(staleAgents) { owned += try await storage.routingSubjects(.assignedTo(agentId)).map(\.conversation.id) }
            pending = try await refresh(agents: staleAgents, conversations: staleConversations + owned, in: &engine)
        }
    }

    /// How often the service-level gauges of `/metrics` are worked out, over the last hour.
    static let kpiInterval: Double = 30

    /// Service level, breaches and speed of answer of the last hour per queue, tier and channel, as gauges for wallboards.
    private func publishKPIs(_ configuration: RoutingConfiguration) async throws {
        let now = Date()
        let rows = try await storage.routedConversations(since: now.addingTimeInterval(-3600), until: now)
        for kpi in RoutingKPI.report(rows, configuration: configuration, now: now) {
            let dimensions = [("queue", kpi.queueId), ("tier", kpi.tier.rawValue), ("channel", kpi.channel.rawValue)]
            Gauge(label: "sb_routing_offered_last_hour", dimensions: dimensions).record(kpi.offered)
            Gauge(label: "sb_routing_sla_breaches_last_hour", dimensions: dimensions).record(kpi.breached)
            if let level = kpi.serviceLevelPercent {
                Gauge(label: "sb_routing_service_level_percent", dimensions: dimensions).record(level)
            }
            if let speed = kpi.averageSpeedOfAnswerSeconds {
                Gauge(label: "sb_routing_average_speed_of_answer_seconds", dimensions: dimensions).record(speed)
            }
        }
    }

    private func publish(_ engine: RoutingEngine) {
        let queues = engine.queueStatistics()
        let status = RoutingStatus(configuration: engine.configuration, queues: queues, occupancy: engine.occupancy)
        live.withLock { $0 = status }
        let now = Date()
        for queue in engine.configuration.queues {
            let statistics = queues.first { $0.queueId == queue.id }
            Gauge(label: "sb_routing_queue_depth", dimensions: [("queue", queue.id)]).record(statistics?.depth ?? 0)
            Gauge(label: "sb_routing_oldest_wait_seconds", dimensions: [("queue", queue.id)])
                .record(statistics.map { now.timeIntervalSince($0.oldestWaitingSince) } ?? 0)
        }
        Gauge(label: "sb_routing_occupancy_ratio").record(engine.occupancy)
    }
}

/// The router's live view, for the API.
struct RoutingStatus: Sendable {
    var configuration: RoutingConfiguration
    var queues: [QueueStatistics]
    var occupancy: Double
}
