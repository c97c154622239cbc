import Foundation
import HTTPTypes
import HubCore
import HubServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The inbox API as an agent and an integration use it.
@Suite struct InboxAPITests {
    @Test func inboundIsIdempotentOnExternalId() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            let body = #"{"from":"crm-7","text":"where is my parcel?","externalId":"ext-1","name":"Wu Fang"}"#
            let first = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: body)
            #expect(first.status == .created)
            let again = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: body)
            #expect(again.status == .created)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(first.object["messageId"] as? String == again.object["messageId"] as? String)
            let conversationId = try #require(first.object["conversationId"] as? String)
            let messages = try await client.send(.get, "/v1/conversations/\(conversationId)/messages", token: hub.adminToken)
            #expect((messages.object["items"] as? [Any])?.count == 1)
            let customer = try await client.send(.get, "/v1/customers/\(first.object["customerId"] as! String)", token: hub.adminToken)
            #expect(customer.object["name"] as? String == "Wu Fang")
        }
        await hub.close()
    }

    @Test func badInputGetsTheOneErrorShapeAndChangesNothing() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            let cases: [(String, HTTPResponse.Status)] = [
                ("{not json", .badRequest),
                (#"{"text":"no sender"}"#, .badRequest),
                (#"{"from":"x","text":"   "}"#, .unprocessableContent),
                (#"{"from":"","text":"hi"}"#, .unprocessableContent),
                (#"{"from":"x","text":"hi","externalId":""}"#, .unprocessableContent),
                // SQLite text stops at NUL: "order\u00001" and "order\u00002" would be one external id.
                (#"{"from":"x","text":"hi","externalId":"order\u00001"}"#, .unprocessableContent),
                (#"{"from":"x","text":"a\u0000b"}"#, .unprocessableContent),
            ]
            for (body, status) in cases {
                let response = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.errorCode != nil, "\(body)")
            }
            let huge = String(repeating: "a", count: 2 * 1024 * 1024)
            let tooLarge = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"x","text":"\#(huge)"}"#)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.errorCode != nil)
            let badLimit = try await client.send(.get, "/v1/conversations?limit=0", token: hub.adminToken)
            #expect(badLimit.status == .unprocessableContent)
            let badStatus = try await client.send(.get, "/v1/conversations?status=lost", token: hub.adminToken)
            #expect(badStatus.status == .unprocessableContent)
            let unknownRoute = try await client.send(.get, "/v1/nowhere", token: hub.adminToken)
            #expect(unknownRoute.status == .notFound)
            #expect(unknownRoute.errorCode == "not_found")
        }
        #expect(try await hub.storage.latestEventId() == 0)
        await hub.close()
    }

    @Test func replyIsAcceptedQueuedAndIdempotent() async throws {
        let hub = try await TestHub()
        let landed = try await hub.storage.receive(InboundMessage(channel: .api, from: "crm-9", text: "hello", receivedAt: Date()))
        try await hub.app.test(.router) { client in
            let path = "/v1/conversations/\(landed.conversationId)/messages"
            let first = try await client.send(.post, path, token: hub.adminToken, json: #"{"text":"Hi! Looking now."}"#, headers: [HTTPField.Name("Idempotency-Key")!: "k-1"])
            #expect(first.status == .accepted)
            #expect(first.object["deliveryState"] as? String == "queued")
            let second = try await client.send(.post, path, token: hub.adminToken, json: #"{"text":"Hi! Looking now."}"#, headers: [HTTPField.Name("Idempotency-Key")!: "k-1"])
            #expect(second.object["id"] as? String == first.object["id"] as? String)
            let note = try await client.send(.post, path, token: hub.adminToken, json: #"{"text":"VIP, be quick","private":true}"#)
            #expect(note.object["kind"] as? String == "note")
            #expect(note.object["deliveryState"] as? String == "none")
            let messages = try await client.send(.get, path, token: hub.adminToken)
            #expect((messages.object["items"] as? [Any])?.count == 3)
        }
        let claimed = try await hub.storage.claimOutbox(now: Date(), owner: "t", lease: .seconds(30), limit: 10)
        #expect(claimed.count == 1)
        await hub.close()
    }

    @Test func conversationCommandsChangeStatusAndAssignment() async throws {
        let hub = try await TestHub()
        let team = try await hub.storage.createTeam(name: "Support")
        let agent = try await hub.storage.createAgent(AgentDraft(name: "Ann", teamIds: [team.id]))
        let landed = try await hub.storage.receive(InboundMessage(channel: .api, from: "crm-1", text: "hi", receivedAt: Date()))
        try await hub.app.test(.router) { client in
            let base = "/v1/conversations/\(landed.conversationId)"
            let assigned = try await client.send(.post, base + "/assign", token: hub.adminToken, json: #"{"agentId":"\#(agent.id)","teamId":"\#(team.id)"}"#)
            #expect(assigned.object["assigneeId"] as? String == agent.id)
            let unknown = try await client.send(.post, base + "/assign", token: hub.adminToken, json: #"{"agentId":"agt_nobody"}"#)
            #expect(unknown.status == .unprocessableContent)
            let resolved = try await client.send(.post, base + "/resolve", token: hub.adminToken)
            #expect(resolved.object["status"] as? String == "resolved")
            #expect(resolved.object["resolvedAt"] != nil)
            let reopened = try await client.send(.post, base + "/reopen", token: hub.adminToken)
            #expect(reopened.object["status"] as? String == "open")
            let past = try await client.send(.post, base + "/snooze", token: hub.adminToken, json: #"{"until":"2001-01-01T00:00:00Z"}"#)
            #expect(past.status == .unprocessableContent)
            let snoozed = try await client.send(.post, base + "/snooze", token: hub.adminToken, json: #"{"until":"2099-01-01T00:00:00Z"}"#)
            #expect(snoozed.object["status"] as? String == "snoozed")
            let tagged = try await client.send(.patch, base, token: hub.adminToken, json: #"{"tags":["billing","vip"]}"#)
            #expect(tagged.object["tags"] as? [String] == ["billing", "vip"])
            let byTag = try await client.send(.get, "/v1/conversations?tag=billing", token: hub.adminToken)
            #expect((byTag.object["items"] as? [Any])?.count == 1)
            let otherTag = try await client.send(.get, "/v1/conversations?tag=sales", token: hub.adminToken)
            #expect((otherTag.object["items"] as? [Any])?.isEmpty == true)
            let unassigned = try await client.send(.post, base + "/unassign", token: hub.adminToken)
            #expect(unassigned.object["assigneeId"] == nil)
        }
        await hub.close()
    }

    @Test func customersCanBeSearchedAndUpdated() async throws {
        let hub = try await TestHub()
        let landed = try await hub.storage.receive(InboundMessage(channel: .api, from: "crm-100", name: "Li Lei", text: "hi", receivedAt: Date()))
        _ = try await hub.storage.receive(InboundMessage(channel: .api, from: "crm-200", name: "Han Meimei", text: "hi", receivedAt: Date()))
        try await hub.app.test(.router) { client in
            let found = try await client.send(.get, "/v1/customers?q=Li%20Lei", token: hub.adminToken)
            #expect((found.object["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [landed.customerId])
            let byAddress = try await client.send(.get, "/v1/customers?q=crm-200", token: hub.adminToken)
            #expect((byAddress.object["items"] as? [Any])?.count == 1)
            let patched = try await client.send(.patch, "/v1/customers/\(landed.customerId)", token: hub.adminToken,
                                                json: #"{"timeZone":"Asia/Shanghai","locale":"zh-CN","attributes":{"city":"Shenzhen"}}"#)
            #expect(patched.object["timeZone"] as? String == "Asia/Shanghai")
            let badZone = try await client.send(.patch, "/v1/customers/\(landed.customerId)", token: hub.adminToken, json: #"{"timeZone":"Mars/Olympus"}"#)
            #expect(badZone.status == .unprocessableContent)
            let identities = try await client.send(.get, "/v1/customers/\(landed.customerId)/identities", token: hub.adminToken)
            #expect(((identities.object["items"] as? [[String: Any]])?.first?["address"]) as? String == "crm-100")
        }
        await hub.close()
    }

    @Test func earlyWarningReportsQuietValuableCustomers() async throws {
        let hub = try await TestHub()
        try await hub.app.test(.router) { client in
            let inbound = try await client.send(.post, "/v1/inbound", token: hub.adminToken, json: #"{"from":"crm-vip","text":"hello"}"#)
            let customerId = try #require(inbound.object["customerId"] as? String)
            // Normal customers are not reported; a VIP who wrote today is not either.
            let none = try await client.send(.get, "/v1/reports/early-warning", token: hub.adminToken)
            #expect((none.object["items"] as? [Any])?.isEmpty == true)
            try await client.send(.patch, "/v1/customers/\(customerId)", token: hub.adminToken, json: #"{"tier":"vip"}"#)
            let fresh = try await client.send(.get, "/v1/reports/early-warning", token: hub.adminToken)
            #expect((fresh.object["items"] as? [Any])?.isEmpty == true)
            // Bad parameters are refused in the one error shape.
            let bad = try await client.send(.get, "/v1/reports/early-warning?days=0", token: hub.adminToken)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorCode != nil)
            #expect(try await client.send(.get, "/v1/reports/early-warning?tiers=gold", token: hub.adminToken).status == .unprocessableContent)
        }
        await hub.close()
    }
}
