import Foundation
import HTTPTypes
import HubCore
import HubServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Who may read and do what.
@Suite struct RoleTests {
    @Test func agentSeesOnlyOwnTeamsConversations() async throws {
        let hub = try await TestHub()
        let teamA = try await hub.storage.createTeam(name: "A")
        let teamB = try await hub.storage.createTeam(name: "B")
        let agentA = try await hub.storage.createAgent(AgentDraft(name: "Ann", teamIds: [teamA.id]))
        let agentB = try await hub.storage.createAgent(AgentDraft(name: "Bob", teamIds: [teamB.id]))
        let tokenA = try await hub.token(.agent, agentId: agentA.id)
        let tokenB = try await hub.token(.agent, agentId: agentB.id)
        let landed = try await hub.storage.receive(InboundMessage(channel: .api, from: "cust-1", text: "help", receivedAt: Date()))
        _ = try await hub.storage.assign(conversationId: landed.conversationId, agentId: nil, teamId: teamB.id)

        try await hub.app.test(.router) { client in
            let hidden = try await client.send(.get, "/v1/conversations/\(landed.conversationId)", token: tokenA)
            #expect(hidden.status == .notFound)
            #expect(hidden.errorCode == "conversation_not_found")
            let listA = try await client.send(.get, "/v1/conversations", token: tokenA)
            #expect((listA.object["items"] as? [Any])?.isEmpty == true)
            let messagesA = try await client.send(.get, "/v1/conversations/\(landed.conversationId)/messages", token: tokenA)
            #expect(messagesA.status == .notFound)
            let replyA = try await client.send(.post, "/v1/conversations/\(landed.conversationId)/messages", token: tokenA, json: #"{"text":"hi"}"#)
            #expect(replyA.status == .notFound)

            let visible = try await client.send(.get, "/v1/conversations/\(landed.conversationId)", token: tokenB)
            #expect(visible.status == .ok)
            let listB = try await client.send(.get, "/v1/conversations", token: tokenB)
            #expect((listB.object["items"] as? [[String: Any]])?.first?["id"] as? String == landed.conversationId)
            let replyB = try await client.send(.post, "/v1/conversations/\(landed.conversationId)/messages", token: tokenB, json: #"{"text":"on it"}"#)
            #expect(replyB.status == .accepted)
            #expect(replyB.object["authorId"] as? String == agentB.id)
        }
        await hub.close()
    }

    @Test func agentCannotCreateTokensOrAgents() async throws {
        let hub = try await TestHub()
        let agent = try await hub.storage.createAgent(AgentDraft(name: "Ann"))
        let token = try await hub.token(.agent, agentId: agent.id)
        try await hub.app.test(.router) { client in
            let newToken = try await client.send(.post, "/v1/tokens", token: token, json: #"{"role":"admin"}"#)
            #expect(newToken.status == .forbidden)
            #expect(newToken.errorCode == "forbidden")
            let newAgent = try await client.send(.post, "/v1/agents", token: token, json: #"{"name":"Mallory"}"#)
            #expect(newAgent.status == .forbidden)
            let otherPresence = try await client.send(.post, "/v1/agents/agt_other/presence", token: token, json: #"{"presence":"available"}"#)
            #expect(otherPresence.status == .forbidden)
            let ownPresence = try await client.send(.post, "/v1/agents/\(agent.id)/presence", token: token, json: #"{"presence":"available"}"#)
            #expect(ownPresence.status == .ok)
            #expect(ownPresence.object["presence"] as? String == "available")
        }
        await hub.close()
    }

    @Test func integrationTokenOnlyIngests() async throws {
        let hub = try await TestHub()
        let token = try await hub.token(.integration)
        try await hub.app.test(.router) { client in
            let inbound = try await client.send(.post, "/v1/inbound", token: token, json: #"{"from":"crm-42","text":"order late"}"#)
            #expect(inbound.status == .created)
            let list = try await client.send(.get, "/v1/conversations", token: token)
            #expect(list.status == .forbidden)
            let customers = try await client.send(.get, "/v1/customers", token: token)
            #expect(customers.status == .forbidden)
        }
        await hub.close()
    }

    @Test func adminIssuesTokensThatWork() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            let issued = try await client.send(.post, "/v1/tokens", token: hub.adminToken, json: #"{"role":"supervisor","name":"night shift"}"#)
            #expect(issued.status == .created)
            let token = try #require(issued.object["token"] as? String)
            #expect(token.hasPrefix("sb_"))
            let agents = try await client.send(.get, "/v1/agents", token: token)
            #expect(agents.status == .ok)
            let noAgent = try await client.send(.post, "/v1/tokens", token: hub.adminToken, json: #"{"role":"agent"}"#)
            #expect(noAgent.status == .unprocessableContent)
        }
        await hub.close()
    }

    @Test func missingOrWrongTokenIsUnauthorized() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            for token in [nil, "sb_wrong", ""] as [String?] {
                let response = try await client.send(.get, "/v1/conversations", token: token)
                #expect(response.status == .unauthorized)
                #expect(response.errorCode == "unauthorized")
            }
            let health = try await client.send(.get, "/healthz", token: nil)
            #expect(health.status == .ok)
        }
        await hub.close()
    }

    @Test func bearerSchemeInAnyCaseAndBlanksAroundTheTokenAreAccepted() async throws {
        let hub = try await TestHub()
        let token = hub.adminToken
        try await hub.app.test(.router) { client in
            for header in ["Bearer \(token)", "bearer \(token)", "BEARER  \(token) ", "Bearer \t\(token)"] {
                let response = try await client.send(.get, "/v1/agents", token: nil, headers: [.authorization: header])
                #expect(response.status == .ok, "\(header)")
            }
            for header in ["Basic \(token)", "Bearer", "Bearer ", "Bearer\(token)", "Bearer \(token)x", "Bearer " + String(repeating: "a", count: 201)] {
                let response = try await client.send(.get, "/v1/agents", token: nil, headers: [.authorization: header])
                #expect(response.status == .unauthorized, "\(header)")
            }
        }
        await hub.close()
    }
}
