import Foundation
import HubCore
import Testing

@Suite("Roles and permissions")
struct RoleTests {
    @Test("admin may do everything")
    func adminHasAll() {
        #expect(Role.admin.permissions == Set(Permission.allCases))
    }

    @Test("supervisor may do everything but manage tokens")
    func supervisor() {
        #expect(!Role.supervisor.permissions.contains(.manageTokens))
        #expect(Role.supervisor.permissions == Set(Permission.allCases).subtracting([.manageTokens]))
    }

    @Test("agent works conversations but cannot manage tokens, agents or ingest")
    func agent() {
        let principal = Principal(tokenId: "tok_1", role: .agent, agentId: "agt_1", teamIds: ["team_a"])
        #expect(!principal.can(.manageTokens))
        #expect(!principal.can(.manageAgents))
        #expect(!principal.can(.ingest))
        #expect(principal.can(.readConversations))
        #expect(principal.can(.writeConversations))
        #expect(principal.can(.readEvents))
        #expect(principal.can(.readAgents))
    }

    @Test("integration may only ingest")
    func integration() {
        #expect(Role.integration.permissions == [.ingest])
        let principal = Principal(tokenId: "tok_2", role: .integration)
        for permission in Permission.allCases where permission != .ingest {
            #expect(!principal.can(permission), "\(permission)")
        }
    }

    @Test("marketer reads and writes customers and runs campaigns, never conversations")
    func marketer() {
        #expect(Role.marketer.permissions == [.readCustomers, .writeCustomers, .manageCampaigns])
    }

    @Test("only agents are scoped to their own work")
    func scoping() {
        #expect(Role.allCases.filter(\.isScopedToOwnWork) == [.agent])
        let agent = Principal(tokenId: "tok_1", role: .agent, agentId: "agt_1", teamIds: ["team_a", "team_b"])
        #expect(agent.scope == .own(agentId: "agt_1", teamIds: ["team_a", "team_b"]))
        for role in [Role.admin, .supervisor, .marketer, .integration] {
            #expect(Principal(tokenId: "tok_x", role: role, agentId: "agt_1").scope == .all, "\(role)")
        }
    }
}

@Suite("Access scope and event visibility")
struct AccessScopeTests {
    private let own = AccessScope.own(agentId: "agt_1", teamIds: ["team_a", "team_b"])

    @Test("all sees every conversation, assigned or not")
    func allAllowsEverything() {
        #expect(AccessScope.all.allows(assigneeId: nil, teamId: nil))
        #expect(AccessScope.all.allows(assigneeId: "agt_9", teamId: "team_z"))
    }

    @Test("own sees what is assigned to the agent or to one of the agent's teams")
    func ownAllows() {
        #expect(own.allows(assigneeId: "agt_1", teamId: nil))
        #expect(own.allows(assigneeId: "agt_1", teamId: "team_z"))
        #expect(own.allows(assigneeId: nil, teamId: "team_a"))
        #expect(own.allows(assigneeId: "agt_9", teamId: "team_b"))
    }

    @Test("own does not see unassigned conversations or other people's work")
    func ownRefuses() {
        #expect(!own.allows(assigneeId: nil, teamId: nil))
        #expect(!own.allows(assigneeId: "agt_9", teamId: nil))
        #expect(!own.allows(assigneeId: "agt_9", teamId: "team_z"))
        #expect(!own.allows(assigneeId: nil, teamId: "team_z"))
        let teamless = AccessScope.own(agentId: "agt_1", teamIds: [])
        #expect(!teamless.allows(assigneeId: nil, teamId: "team_a"))
    }

    private func event(conversationId: String?, teamId: String? = nil, assigneeId: String? = nil) -> HubEvent {
        HubEvent(id: 1, type: conversationId == nil ? .customerCreated : .messageCreated, conversationId: conversationId,
                 customerId: "cus_1", teamId: teamId, assigneeId: assigneeId, data: "{}", createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test("events outside any conversation are visible to every scope")
    func nonConversationEvents() {
        #expect(event(conversationId: nil).isVisible(in: own))
        #expect(event(conversationId: nil).isVisible(in: .own(agentId: "agt_2", teamIds: [])))
        #expect(event(conversationId: nil).isVisible(in: .all))
    }

    @Test("conversation events follow the conversation's visibility when they happened")
    func conversationEvents() {
        #expect(event(conversationId: "conv_1", teamId: "team_a").isVisible(in: own))
        #expect(event(conversationId: "conv_1", assigneeId: "agt_1").isVisible(in: own))
        #expect(!event(conversationId: "conv_1", teamId: "team_z").isVisible(in: own))
        #expect(!event(conversationId: "conv_1").isVisible(in: own))
        #expect(event(conversationId: "conv_1").isVisible(in: .all))
    }
}
