import HubCore
import Hummingbird

/// `/v1/agents` and `/v1/teams`: the people who answer and how they are grouped.
struct AgentsController {
    let storage: any HubStorage

    struct NewTeam: Decodable {
        let name: String
    }

    struct PresenceChange: Decodable {
        let presence: Presence
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("agents") { request, context in
            _ = try context.require(.readAgents)
            return try await storage.agents(try request.pageRequest())
        }
        group.post("agents") { request, context in
            _ = try context.require(.manageAgents)
            return WithStatus.created(try await storage.createAgent(try await context.requestDecoder.decode(AgentDraft.self, from: request, context: context)))
        }
        group.get("agents/:id") { _, context in
            _ = try context.require(.readAgents)
            return try await storage.agent(id: try context.parameters.require("id"))
        }
        group.patch("agents/:id") { request, context in
            _ = try context.require(.manageAgents)
            let draft = try await context.requestDecoder.decode(AgentDraft.self, from: request, context: context)
            return try await storage.updateAgent(id: try context.parameters.require("id"), draft)
        }
        group.post("agents/:id/presence") { request, context in
            let id = try context.parameters.require("id")
            let principal = try context.require(.readAgents)
            // Agents set their own presence; supervisors and admins anyone's.
            guard principal.can(.manageAgents) || principal.agentId == id else { throw APIError.forbidden(.manageAgents) }
            let change = try await context.requestDecoder.decode(PresenceChange.self, from: request, context: context)
            return try await storage.setPresence(agentId: id, change.presence)
        }
        group.get("teams") { _, context in
            _ = try context.require(.readAgents)
            return Items(items: try await storage.teams())
        }
        group.post("teams") { request, context in
            _ = try context.require(.manageAgents)
            return WithStatus.created(try await storage.createTeam(name: try await context.requestDecoder.decode(NewTeam.self, from: request, context: context).name))
        }
    }
}
