import Foundation
import HubCore
import HubStore
import Testing

@Suite("Access tokens in the store")
struct AccessTokenStoreTests {
    @Test("a token's digest leads back to its principal, with the agent's teams")
    func roundTrip() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let tier1 = try await store.createTeam(name: "Tier 1")
        let tier2 = try await store.createTeam(name: "Tier 2")
        let agent = try await store.createAgent(AgentDraft(name: "Bo", teamIds: [tier1.id, tier2.id]))

        let token = AccessToken.generate()
        let record = try await store.createToken(digest: AccessToken.digest(token), role: .agent, agentId: agent.id, name: "Bo's laptop")
        #expect(record.id.hasPrefix("tok_"))
        #expect(record.role == .agent)
        #expect(record.agentId == agent.id)
        #expect(record.name == "Bo's laptop")
        #expect(record.createdAt == clock.now())

        let found = try await store.principal(forTokenDigest: AccessToken.digest(token))
        let principal = try #require(found)
        #expect(principal == Principal(tokenId: record.id, role: .agent, agentId: agent.id, teamIds: [tier1.id, tier2.id]))
        #expect(principal.scope == .own(agentId: agent.id, teamIds: [tier1.id, tier2.id]))

        // Team changes show up on the next lookup: teams are read from the agent, not the token.
        _ = try await store.updateAgent(id: agent.id, AgentDraft(teamIds: [tier2.id]))
        let afterMove = try await store.principal(forTokenDigest: AccessToken.digest(token))
        #expect(afterMove?.teamIds == [tier2.id])

        await store.close()
    }

    @Test("a token without an agent has no teams and sees everything its role allows")
    func adminToken() async throws {
        let store = try makeStore()
        let token = AccessToken.generate()
        let record = try await store.createToken(digest: AccessToken.digest(token), role: .admin, agentId: nil, name: nil)
        let found = try await store.principal(forTokenDigest: AccessToken.digest(token))
        let principal = try #require(found)
        #expect(principal == Principal(tokenId: record.id, role: .admin, agentId: nil, teamIds: []))
        #expect(principal.scope == .all)
        await store.close()
    }

    @Test("an unknown digest is nil, and the token itself is never a digest")
    func unknownDigest() async throws {
        let store = try makeStore()
        let token = AccessToken.generate()
        _ = try await store.createToken(digest: AccessToken.digest(token), role: .integration, agentId: nil, name: "crm")
        let unknown = try await store.principal(forTokenDigest: AccessToken.digest(AccessToken.generate()))
        #expect(unknown == nil)
        let raw = try await store.principal(forTokenDigest: token)
        #expect(raw == nil)
        await store.close()
    }

    @Test("a token for an unknown agent is refused")
    func unknownAgent() async throws {
        let store = try makeStore()
        await #expect(throws: HubError.notFound("agent", "agt_nobody")) {
            try await store.createToken(digest: AccessToken.digest("x"), role: .agent, agentId: "agt_nobody", name: nil)
        }
        let found = try await store.principal(forTokenDigest: AccessToken.digest("x"))
        #expect(found == nil)
        await store.close()
    }
}
