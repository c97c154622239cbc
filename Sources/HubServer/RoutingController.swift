import Foundation
import HubCore
import Hummingbird

/// `/v1/routing` and the routing commands of a conversation: rules and queues, live queues, KPIs,
/// transfers and the decisions behind each assignment.
struct RoutingController {
    let storage: any HubStorage
    let router: RoutingService

    struct Transfer: Decodable {
        let agentId: String?
        let teamId: String?
        let queueId: String?
        let note: String?
    }

    struct LiveQueue: Encodable, Sendable {
        let queueId: String
        let name: String
        let depth: Int
        let oldestWaitingSince: Date?
        let oldestWaitSeconds: Double
    }

    struct LiveQueues: ResponseEncodable {
        let items: [LiveQueue]
        /// The share of available agents' capacity in use.
        let occupancy: Double
    }

    struct Report: ResponseEncodable {
        let since: Date
        let until: Date
        let items: [RoutingKPI]
        let queues: [LiveQueue]
        let occupancy: Double
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("routing/configuration") { _, context in
            _ = try context.require(.readAgents)
            return try await configuration()
        }
        group.put("routing/configuration") { request, context in
            _ = try context.require(.manageAgents)
            let configuration = try await context.requestDecoder.decode(RoutingConfiguration.self, from: request, context: context).validated()
            try await storage.setRoutingConfiguration(configuration)
            return configuration
        }
        group.get("routing/queues") { _, context in
            _ = try context.require(.readAgents)
            let status = router.status
            return LiveQueues(items: liveQueues(status), occupancy: status.occupancy)
        }
        group.get("routing/kpis") { request, context in
            _ = try context.require(.manageAgents)
            let now = Date()
            let until = try request.date("until") ?? now
            let since = try request.date("since") ?? until.addingTimeInterval(-86_400)
            guard since < until else { throw ValidationError("since", "must be before until") }
            let status = router.status
            let rows = try await storage.routedConversations(since: since, until: until)
            return Report(
                since: since, until: until, items: RoutingKPI.report(rows, configuration: status.configuration, now: now),
                queues: liveQueues(status), occupancy: status.occupancy
            )
        }
        // Offers (queues with `offerSeconds`): the agent it is offered to takes it or turns it down.
        group.post("conversations/:id/accept") { _, context in
            try await storage.accept(conversationId: try context.parameters.require("id"), agentId: try offeredAgent(context))
        }
        group.post("conversations/:id/decline") { _, context in
            try await storage.decline(conversationId: try context.parameters.require("id"), agentId: try offeredAgent(context))
        }
        group.get("conversations/:id/routing") { _, context in
            let conversation = try await context.visibleConversation(storage, .readConversations)
            return Items(items: try await storage.routingDecisions(conversationId: conversation.id))
        }
        group.post("conversations/:id/transfer") { request, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            let body = try await context.requestDecoder.decode(Transfer.self, from: request, context: context)
            let targets = [body.agentId.map(TransferTarget.agent), body.teamId.map(TransferTarget.team), body.queueId.map(TransferTarget.queue)]
                .compactMap(\.self)
            guard targets.count == 1, let target = targets.first else {
                throw ValidationError("agentId", "give exactly one of agentId, teamId and queueId")
            }
            if case .queue(let queueId) = target, try await configuration().queue(id: queueId) == nil {
                throw HubError.unprocessable("unknown_queue", "No queue with id '\(queueId)'.")
            }
            return try await storage.transfer(conversationId: conversation.id, to: target, note: body.note, authorId: context.principal?.agentId)
        }
    }

    /// The agent behind the token, who answers an offer.
    private func offeredAgent(_ context: AppRequestContext) throws -> String {
        guard let agentId = try context.require(.writeConversations).agentId else {
            throw HubError.forbidden("not_an_agent", "Only an agent's token answers an offer.")
        }
        return agentId
    }

    /// The configuration in force: the stored one (the router applies it within moments), else the router's starting one.
    private func configuration() async throws -> RoutingConfiguration {
        try await storage.routingConfiguration() ?? router.status.configuration
    }

    private func liveQueues(_ status: RoutingStatus) -> [LiveQueue] {
        let now = Date()
        return status.configuration.queues.map { queue in
            let statistics = status.queues.first { $0.queueId == queue.id }
            return LiveQueue(
                queueId: queue.id, name: queue.name, depth: statistics?.depth ?? 0, oldestWaitingSince: statistics?.oldestWaitingSince,
                oldestWaitSeconds: statistics.map { max(0, now.timeIntervalSince($0.oldestWaitingSince)) } ?? 0
            )
        }
    }
}
