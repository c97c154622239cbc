import Foundation
import HubCore
import Logging
import ServiceLifecycle

/// Delivers what visitors must see, live: one reader tails the event log for every connection,
/// so ten thousand open widgets cost one query per commit, not ten thousand.
///
/// It also counts each visitor's open connections (WebSocket or long poll): when the last one has
/// been closed for `abandonAfter`, the visitor has left, and an unanswered chat is abandoned.
public actor VisitorFanout: Service {
    private struct Connection {
        let visitorId: String
        let continuation: AsyncStream<Outgoing>.Continuation
    }

    private let storage: any HubStorage
    private let abandonAfter: Duration
    private let logger: Logger
    private var connections: [String: [Int: Connection]] = [:]  // customer id → connection id → connection
    private var customerOfConnection: [Int: String] = [:]  // follows merges
    private var openPerVisitor: [String: Int] = [:]
    private var departures: [String: Task<Void, Never>] = [:]
    private var typingPushedAt: [String: ContinuousClock.Instant] = [:]  // customer id → last notice
    private var typingNotices: [TypingNotice] = []
    /// Advances with every typing notice; agents' event streams wait on it.
    public nonisolated let typingSignal = EventSignal(latest: 0)
    private var nextId = 0
    private var stopping = false
    /// Whether any agent is available (kept current from `agent.*` events) and whether the center is open.
    public private(set) var availability = ChatAvailability(agentsOnline: false)
    /// The opening hours of web chat (the routing's default queue), nil when it never closes.
    private var openingHours: BusinessCalendar?

    /// `openingHours` holds until a routing configuration is stored; stored ones replace it as they come.
    public init(storage: any HubStorage, abandonAfter: Duration, openingHours: BusinessCalendar? = nil, logger: Logger) {
        self.storage = storage
        self.abandonAfter = abandonAfter
        self.openingHours = openingHours
        self.logger = logger
    }

    /// Registers a connection of `visitor`; frames for the visitor's customer are yielded to `continuation`.
    func connect(_ visitor: Visitor, _ continuation: AsyncStream<Outgoing>.Continuation) -> Int {
        nextId += 1
        connections[visitor.customerId, default: [:]][nextId] = Connection(visitorId: visitor.id, continuation: continuation)
        customerOfConnection[nextId] = visitor.customerId
        openPerVisitor[visitor.id, default: 0] += 1
        departures.removeValue(forKey: visitor.id)?.cancel()
        return nextId
    }

    /// Removes a connection; the visitor's last one starts the departure timer.
    func disconnect(_ visitor: Visitor, id: Int) {
        if let customerId = customerOfConnection.removeValue(forKey: id) {
            connections[customerId]?.removeValue(forKey: id)?.continuation.finish()
            if connections[customerId]?.isEmpty == true { connections.removeValue(forKey: customerId) }
        }
        let open = (openPerVisitor[visitor.id] ?? 1) - 1
        if open > 0 {
            openPerVisitor[visitor.id] = open
            return
        }
        openPerVisitor.removeValue(forKey: visitor.id)
        // A server going down closes every socket: that is not every visitor leaving.
        guard !stopping else { return }
        let delay = abandonAfter
        departures[visitor.id] = Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            await self?.depart(visitor.id)
        }
    }

    /// The visitor closed the chat on purpose: they have left now.
    func leave(_ visitor: Visitor) async throws {
        departures.removeValue(forKey: visitor.id)?.cancel()
        try await recordDeparture(visitor.id)
    }

    /// An agent is typing in a conversation of `customerId`.
    public func agentTyping(customerId: String) {
        broadcast(ServerFrame.typing.outgoing, to: customerId)
    }

    /// The visitor is typing: agents' event streams get a notice, at most one per customer every two seconds.
    func visitorTyping(_ visitor: Visitor) async {
        let now = ContinuousClock.now
        if let last = typingPushedAt[visitor.customerId], last.duration(to: now) < .seconds(2) { return }
        typingPushedAt[visitor.customerId] = now
        if typingPushedAt.count > 10_000 { typingPushedAt = typingPushedAt.filter { $0.value.duration(to: now) < .seconds(2) } }
        let filter = ConversationFilter(channel: .webchat, customerId: visitor.customerId)
        guard let conversation = try? await storage.conversations(filter, scope: .all, PageRequest(limit: 1)).items.first else { return }
        let notice = TypingNotice(sequence: typingSignal.latest + 1, conversationId: conversation.id, customerId: conversation.customerId,
                                  teamId: conversation.teamId, assigneeId: conversation.assigneeId)
        typingNotices.append(notice)
        if typingNotices.count > 256 { typingNotices.removeFirst(typingNotices.count - 256) }
        typingSignal.advance(to: notice.sequence)
    }

    /// Typing notices after `sequence`, oldest first (the last 256 are kept).
    public func typingNotices(after sequence: Int64) -> [TypingNotice] {
        typingNotices.filter { $0.sequence > sequence }
    }

    private func depart(_ visitorId: String) async {
        departures.removeValue(forKey: visitorId)
        guard openPerVisitor[visitorId] == nil, !stopping else { return }
        do {
            try await recordDeparture(visitorId)
        } catch {
            logger.warning("could not record a visitor's departure", metadata: ["sb.visitor": "\(visitorId)", "sb.error": "\(error)"])
        }
    }

    private func recordDeparture(_ visitorId: String) async throws {
        if let conversation = try await storage.visitorLeft(visitorId: visitorId) {
            logger.info("chat abandoned", metadata: ["sb.conversation": "\(conversation.id)", "sb.visitor": "\(visitorId)"])
        }
    }

    private func broadcast(_ frame: Outgoing, to customerId: String) {
        guard let targets = connections[customerId] else { return }
        for connection in targets.values { connection.continuation.yield(frame) }
    }

    public func run() async throws {
        let start = try await storage.latestEventId()
        if let stored = try await storage.routingConfiguration() { openingHours = stored.defaultOpeningHours }
        await refreshAvailability()
        await cancelWhenGracefulShutdown { await self.tail(from: start) }
        stop()
    }

    /// Reads every new event once, for all connections, until cancelled.
    private func tail(from start: Int64) async {
        var cursor = start
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        while !Task.isCancelled {
            do {
                let events = try await storage.events(after: cursor, scope: .all, limit: 500)
                for event in events { await handle(event, decoder: decoder) }
                if let last = events.last { cursor = last.id }
                if events.count == 500 { continue }
                // Opening and closing are not events: a quiet half minute looks at the clock.
                if await !storage.waitForEvent(after: cursor, timeout: .seconds(30)) { await refreshAvailability() }
            } catch {
                logger.error("visitor fan-out could not read the event log", metadata: ["sb.error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func stop() {
        stopping = true
        for task in departures.values { task.cancel() }
        departures.removeAll()
        for targets in connections.values { for connection in targets.values { connection.continuation.finish() } }
    }

    private func handle(_ event: HubEvent, decoder: JSONDecoder) async {
        switch event.type {
        case .messageCreated:
            guard let customerId = event.customerId, connections[customerId] != nil,
                  let message = try? decoder.decode(Message.self, from: Data(event.data.utf8)),
                  let visible = VisitorMessage(message) else { return }
            broadcast(ServerFrame.message(visible).outgoing, to: customerId)
        case .customerMerged:
            // A visitor who signed in became a known customer: their open widgets now follow that one.
            guard let merge = try? decoder.decode(CustomerMerge.self, from: Data(event.data.utf8)),
                  let moving = connections.removeValue(forKey: merge.mergedId) else { return }
            connections[merge.customer.id, default: [:]].merge(moving) { old, _ in old }
            for id in moving.keys { customerOfConnection[id] = merge.customer.id }
        case .agentCreated, .agentUpdated:
            await refreshAvailability()
        case .routingConfigured:
            guard let configuration = try? decoder.decode(RoutingConfiguration.self, from: Data(event.data.utf8)) else { return }
            openingHours = configuration.defaultOpeningHours
            await refreshAvailability()
        default:
            return
        }
    }

    /// Works out whether agents are online and the center open; every widget hears of a change.
    private func refreshAvailability() async {
        let now = Date()
        let online = (try? await storage.availableAgentCount() > 0) ?? availability.agentsOnline
        let hours = openingHours
        let closed = hours.map { !$0.isOpen(at: now) } ?? false
        let current = ChatAvailability(agentsOnline: online, closed: closed, opensAt: closed ? hours?.nextOpening(atOrAfter: now) : nil)
        guard current != availability else { return }
        availability = current
        let frame = ServerFrame.agents(current).outgoing
        for customerId in connections.keys { broadcast(frame, to: customerId) }
    }
}

/// What the widget shows about being answered: agents online, and whether the center is open and when it opens.
public struct ChatAvailability: Sendable, Equatable {
    public var agentsOnline: Bool
    /// Outside opening hours.
    public var closed: Bool
    /// When the center opens again, while closed.
    public var opensAt: Date?

    public init(agentsOnline: Bool, closed: Bool = false, opensAt: Date? = nil) {
        self.agentsOnline = agentsOnline
        self.closed = closed
        self.opensAt = opensAt
    }
}

/// A visitor typing in a conversation: shown to agents live, never stored.
public struct TypingNotice: Sendable, Equatable {
    public let sequence: Int64
    public let conversationId: String
    public let customerId: String
    /// Who may see the conversation, as on its events.
    public let teamId: String?
    public let assigneeId: String?
}
