import Foundation
import HubCore
import HubStore
import Testing

@Suite("Event log")
struct EventLogTests {
    @Test("events(after:) resumes after an id, oldest first, up to the limit")
    func resumeAfterId() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        for index in 0..<4 {
            _ = try await store.receive(inbound(from: "resume\(index)@example.com"))
        }
        let all = try await store.events(after: 0, scope: .all, limit: 100)
        #expect(all.count == 12)
        #expect(isStrictlyIncreasing(all.map(\.id)))

        var resumed: [HubEvent] = []
        var last: Int64 = 0
        while true {
            let batch = try await store.events(after: last, scope: .all, limit: 5)
            guard let tail = batch.last else { break }
            #expect(batch.count <= 5)
            resumed += batch
            last = tail.id
        }
        #expect(resumed == all)
        let latest = try await store.latestEventId()
        #expect(latest == all.last?.id)

        await store.close()
    }

    @Test("an agent's scope hides other teams' conversation events and shows its team's once assigned")
    func ownScope() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let billing = try await store.createTeam(name: "Billing")
        let support = try await store.createTeam(name: "Support")
        let agent = try await store.createAgent(AgentDraft(name: "Ann", teamIds: [billing.id]))
        let scope = AccessScope.own(agentId: agent.id, teamIds: [billing.id])

        let ours = try await store.receive(inbound(from: "one@example.com", channel: .api))
        let theirs = try await store.receive(inbound(from: "two@example.com", channel: .api))

        // Nobody's work yet: only events outside conversations (teams, agents, customers) are visible.
        let beforeAssignment = try await store.events(after: 0, scope: scope, limit: 1_000)
        #expect(!beforeAssignment.isEmpty)
        #expect(beforeAssignment.allSatisfy { $0.conversationId == nil })

        let assigned = try await store.assign(conversationId: ours.conversationId, agentId: nil, teamId: billing.id)
        #expect(assigned.teamId == billing.id)
        #expect(assigned.assigneeId == nil)
        _ = try await store.assign(conversationId: theirs.conversationId, agentId: nil, teamId: support.id)
        _ = try await store.receive(inbound(from: "one@example.com", text: "again", channel: .api))
        _ = try await store.receive(inbound(from: "two@example.com", text: "again", channel: .api))

        let visible = try await store.events(after: 0, scope: scope, limit: 1_000)
        let conversationEvents = visible.filter { $0.conversationId != nil }
        #expect(conversationEvents.map(\.type) == [.conversationUpdated, .messageCreated])
        #expect(conversationEvents.allSatisfy { $0.conversationId == ours.conversationId && $0.teamId == billing.id })
        #expect(!visible.contains { $0.conversationId == theirs.conversationId })
        // Events keep the visibility the conversation had when they happened: its creation stays hidden.
        #expect(!visible.contains { $0.type == .conversationCreated })

        // The SQL filter and HubEvent.isVisible agree.
        let all = try await store.events(after: 0, scope: .all, limit: 1_000)
        #expect(visible.map(\.id) == all.filter { $0.isVisible(in: scope) }.map(\.id))
        #expect(all.count > visible.count)

        // The conversation list is scoped the same way.
        let listed = try await allConversations(in: store, scope: scope)
        #expect(listed.map(\.id) == [ours.conversationId])

        // Assigned to the agent directly, another team's conversation becomes visible.
        let latest = try await store.latestEventId()
        let direct = try await store.assign(conversationId: theirs.conversationId, agentId: agent.id, teamId: nil)
        #expect(direct.teamId == support.id)
        let afterDirect = try await store.events(after: latest, scope: scope, limit: 10)
        #expect(afterDirect.map(\.conversationId) == [theirs.conversationId])
        #expect(afterDirect.first?.assigneeId == agent.id)

        await store.close()
    }

    @Test("waitForEvent returns once a write commits", .timeLimit(.minutes(1)))
    func waitForEventWakesOnCommit() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let before = try await store.latestEventId()
        let message = inbound(from: "waiter@example.com")

        let outcome = try await withThrowingTaskGroup(of: String.self, returning: String?.self) { group in
            group.addTask {
                await store.waitForEvent(after: before)
                return "woke"
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return "timed out"
            }
            // Give the waiter a moment to park, so the wake-up path is the one exercised.
            try await Task.sleep(for: .milliseconds(50))
            _ = try await store.receive(message)
            let first = try await group.next()
            group.cancelAll()
            return first
        }
        #expect(outcome == "woke")
        let latest = try await store.latestEventId()
        #expect(latest > before)

        // Waiting for an id already passed returns at once.
        await store.waitForEvent(after: before)

        await store.close()
    }

    @Test("waitForEvent keeps waiting without a commit, and cancellation ends the wait", .timeLimit(.minutes(1)))
    func waitForEventWaitsAndCancels() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        _ = try await store.receive(inbound(from: "quiet@example.com"))
        let latest = try await store.latestEventId()

        let outcome = await withTaskGroup(of: String.self, returning: String?.self) { group in
            group.addTask {
                await store.waitForEvent(after: latest)
                return Task.isCancelled ? "cancelled" : "woke"
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(300))
                return "timed out"
            }
            let first = await group.next()
            group.cancelAll()
            // The waiter must come back once cancelled, or this group never finishes.
            let second = await group.next()
            #expect(second == "cancelled")
            return first
        }
        #expect(outcome == "timed out")

        await store.close()
    }

    @Test("several waiters are all woken by one commit", .timeLimit(.minutes(1)))
    func manyWaiters() async throws {
        let clock = TestClock()
        let store = try makeStore(now: clock)
        let before = try await store.latestEventId()
        let message = inbound(from: "crowd@example.com")

        let woken = try await withThrowingTaskGroup(of: Bool.self, returning: Int.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    await store.waitForEvent(after: before)
                    return true
                }
            }
            try await Task.sleep(for: .milliseconds(50))
            _ = try await store.receive(message)
            var count = 0
            for try await didWake in group where didWake { count += 1 }
            return count
        }
        #expect(woken == 10)

        await store.close()
    }
}
