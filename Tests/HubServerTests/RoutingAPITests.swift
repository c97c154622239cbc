import Foundation
import HTTPTypes
import HubCore
import HubServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The router running against the store, and its API: assignment without a sweep, requeue,
/// transfer, the decisions behind an assignment, configuration and KPIs.
@Suite struct RoutingAPITests {
    /// Polls until `condition` holds (the router works in its own task), at most 5 seconds.
    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<500 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Creates an agent with these skills (JSON) and makes them available; returns the id.
    func availableAgent(_ client: some TestClientProtocol, _ hub: TestHub, name: String, skills: String) async throws -> String {
        let created = try await client.send(.post, "/v1/agents", token: hub.adminToken, json: #"{"name":"\#(name)","skills":\#(skills)}"#)
        let agentId = try #require(created.object["id"] as? String)
        try await client.send(.post, "/v1/agents/\(agentId)/presence", token: hub.adminToken, json: #"{"presence":"available"}"#)
        return agentId
    }

    @Test func anArrivingMessageIsAssignedAndTheDecisionExplained() async throws {
        let hub = try await TestHub(routing: .standard)
        try await hub.app.test(.router) { client in
            let agentId = try await availableAgent(client, hub, name: "Ada", skills: #"[{"name":"billing","level":7}]"#)
            let inbound = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-1","text":"my invoice"}"#)
            let conversationId = try #require(inbound.object["conversationId"] as? String)

            #expect(try await eventually { try await hub.storage.conversation(id: conversationId).assigneeId == agentId })
            let routing = try await client.send(.get, "/v1/conversations/\(conversationId)/routing", token: hub.adminToken)
            let items = try #require(routing.object["items"] as? [[String: Any]])
            #expect(items.map { $0["kind"] as? String } == ["queued", "assigned"])
            let assigned = try #require(items.last)
            #expect(assigned["agentId"] as? String == agentId)
            #expect(assigned["reason"] as? String == "the only eligible agent with room")
            #expect((assigned["candidates"] as? [[String: Any]])?.first?["agentId"] as? String == agentId)

            // Going offline sends the conversation back to the queue, at its place.
            try await client.send(.post, "/v1/agents/\(agentId)/presence", token: hub.adminToken, json: #"{"presence":"offline"}"#)
            #expect(try await eventually { try await hub.storage.conversation(id: conversationId).assigneeId == nil })
            let queues = try await client.send(.get, "/v1/routing/queues", token: hub.adminToken)
            let general = try #require((queues.object["items"] as? [[String: Any]])?.first)
            #expect(general["queueId"] as? String == "general")
            #expect(try await eventually {
                let live = try await client.send(.get, "/v1/routing/queues", token: hub.adminToken)
                return ((live.object["items"] as? [[String: Any]])?.first?["depth"] as? Int) == 1
            })
            let kpis = try await client.send(.get, "/v1/routing/kpis", token: hub.adminToken)
            #expect(kpis.status == .ok)
            let row = try #require((kpis.object["items"] as? [[String: Any]])?.first)
            #expect(row["offered"] as? Int == 1)
            #expect(row["targetSeconds"] as? Double == 3600)
        }
        await hub.close()
    }

    @Test func anAgentAcceptsAnOfferWithTheirOwnToken() async throws {
        var configuration = RoutingConfiguration.standard
        configuration.queues[0].offerSeconds = 30
        let hub = try await TestHub(routing: configuration)
        try await hub.app.test(.router) { client in
            let agentId = try await availableAgent(client, hub, name: "Cy", skills: "[]")
            let agentToken = try await hub.token(.agent, agentId: agentId)
            let inbound = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-9","text":"hello"}"#)
            let conversationId = try #require(inbound.object["conversationId"] as? String)
            #expect(try await eventually { try await hub.storage.conversation(id: conversationId).offeredTo == agentId })
            let byAdmin = try await client.send(.post, "/v1/conversations/\(conversationId)/accept", token: hub.adminToken)
            #expect(byAdmin.status == .forbidden)
            let accepted = try await client.send(.post, "/v1/conversations/\(conversationId)/accept", token: agentToken)
            #expect(accepted.status == .ok)
            #expect(accepted.object["assigneeId"] as? String == agentId)
            let again = try await client.send(.post, "/v1/conversations/\(conversationId)/accept", token: agentToken)
            #expect(again.status == .conflict)
            #expect(again.errorCode == "not_offered")
            let kinds = try await hub.storage.routingDecisions(conversationId: conversationId).map(\.kind)
            #expect(kinds == ["queued", "offered", "accepted"])
        }
        await hub.close()
    }

    @Test func transferAndConfigurationRefuseBadInputInTheOneErrorShape() async throws {
        let hub = try await TestHub(routing: .standard)
        try await hub.app.test(.router) { client in
            let inbound = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-2","text":"hello"}"#)
            let conversationId = try #require(inbound.object["conversationId"] as? String)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{}"#, .unprocessableContent, "invalid_agent_id"),
                (#"{"agentId":"a","teamId":"b"}"#, .unprocessableContent, "invalid_agent_id"),
                (#"{"queueId":"nowhere"}"#, .unprocessableContent, "unknown_queue"),
                (#"{"agentId":"agt_missing"}"#, .unprocessableContent, "unknown_agent"),
            ]
            for (body, status, code) in cases {
                let response = try await client.send(.post, "/v1/conversations/\(conversationId)/transfer", token: hub.adminToken, json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.errorCode == code, "\(body)")
            }
            let moved = try await client.send(.post, "/v1/conversations/\(conversationId)/transfer", token: hub.adminToken,
                                              json: #"{"queueId":"general","note":"needs a second look"}"#)
            #expect(moved.status == .ok)
            #expect(moved.object["pinnedQueueId"] as? String == "general")

            let bad = try await client.send(.put, "/v1/routing/configuration", token: hub.adminToken, json: #"{"queues":[],"rules":[],"defaultQueueId":"x","calendars":[],"stickyWaitSeconds":30,"agingSeconds":300,"secondsPerPriority":10}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorCode == "invalid_queues")
            let marketerToken = try await hub.token(.marketer)
            let forbidden = try await client.send(.put, "/v1/routing/configuration", token: marketerToken, json: "{}")
            #expect(forbidden.status == .forbidden)
            let badWindow = try await client.send(.get, "/v1/routing/kpis?since=yesterday", token: hub.adminToken)
            #expect(badWindow.status == .unprocessableContent)
        }
        #expect(try await hub.storage.routingConfiguration() == nil)
        await hub.close()
    }

    @Test func aStoredConfigurationRoutesByItsRules() async throws {
        let hub = try await TestHub(routing: .standard)
        try await hub.app.test(.router) { client in
            let agentId = try await availableAgent(client, hub, name: "Bea", skills: #"[{"name":"billing","level":5}]"#)
            let configuration = RoutingConfiguration(
                queues: [
                    RoutingQueue(id: "general", name: "General", requiredSkills: [SkillRequirement(name: "german", minLevel: 3)]),
                    RoutingQueue(id: "billing", name: "Billing", requiredSkills: [SkillRequirement(name: "billing", minLevel: 4)]),
                ],
                rules: [RoutingRule(id: "invoices", match: RuleMatch(keywords: ["invoice"]), queueId: "billing")],
                defaultQueueId: "general"
            )
            let json = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
            let stored = try await client.send(.put, "/v1/routing/configuration", token: hub.adminToken, json: json)
            #expect(stored.status == .ok)
            #expect(try await eventually {
                let current = try await client.send(.get, "/v1/routing/configuration", token: hub.adminToken)
                return (current.object["queues"] as? [Any])?.count == 2
            })
            let other = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-3","text":"hello"}"#)
            let billing = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-4","text":"an INVOICE question"}"#)
            let billingId = try #require(billing.object["conversationId"] as? String)
            let otherId = try #require(other.object["conversationId"] as? String)
            #expect(try await eventually { try await hub.storage.conversation(id: billingId).assigneeId == agentId })
            let waiting = try await hub.storage.conversation(id: otherId)
            #expect(waiting.assigneeId == nil)
            #expect(waiting.queueId == "general")
        }
        await hub.close()
    }
}
