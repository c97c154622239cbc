import Foundation

/// A part of the store a background service acts on. The service wakes when a commit changed it,
/// not on every commit: most commits (a customer's next message) change neither.
public enum WatchedPart: Sendable, CaseIterable {
    /// Outbox rows queued, claimed, released for a retry, held or requeued: the dispatcher's work.
    case outbox
    /// The times conversations are snoozed until: the snooze timer's work.
    case snoozes
}

/// The hub's durable state: every implementation (SQLite now, PostgreSQL later) passes the same tests.
///
/// Every method that changes state appends its events in the same transaction and returns
/// only after that transaction is durable.
public protocol HubStorage: InboundSink {
    // MARK: Access tokens

    /// Stores a token's digest with its role; the token itself is never stored.
    func createToken(digest: String, role: Role, agentId: String?, name: String?) async throws -> TokenRecord
    /// The principal behind a token digest, or nil when no such token exists.
    func principal(forTokenDigest digest: String) async throws -> Principal?

    // MARK: Teams and agents

    func createTeam(name: String) async throws -> Team
    func teams() async throws -> [Team]
    func createAgent(_ draft: AgentDraft) async throws -> Agent
    func agent(id: String) async throws -> Agent
    func agents(_ page: PageRequest) async throws -> Page<Agent>
    func updateAgent(id: String, _ draft: AgentDraft) async throws -> Agent
    func setPresence(agentId: String, _ presence: Presence) async throws -> Agent

    // MARK: Customers

    /// Customers, newest first, optionally matching `query` in name or identity address.
    func customers(query: String?, _ page: PageRequest) async throws -> Page<Customer>
    func customer(id: String) async throws -> Customer
    func updateCustomer(id: String, _ patch: CustomerPatch) async throws -> Customer
    func identities(customerId: String) async throws -> [Identity]
    /// Imports a batch of checked rows in one transaction, idempotent on external id: new customers are created,
    /// known ones updated; a line whose address belongs to another customer is refused. With `dryRun` nothing is kept.
    func importCustomers(_ rows: [CustomerImportRow], dryRun: Bool) async throws -> CustomerImportReport
    /// Recomputes the value tiers of every customer with purchase attributes; returns how many changed.
    /// Tiers someone set (and `blocklisted`) are kept.
    func recomputeValueTiers(now: Date) async throws -> Int
    /// Customers in id order after `cursor`, with their identities and newest consents, for an export.
    func exportCustomers(after cursor: String?, limit: Int) async throws -> [CustomerExport]
    /// Merges `mergedId` into `survivorId`: identities, conversations, consents, visitors and (when the survivor has
    /// none) preferences move over, the profiles are joined (`Customer.merging`), the merged customer is removed,
    /// and a `customer.merged` event is appended.
    func mergeCustomers(survivorId: String, mergedId: String) async throws -> CustomerMerge
    /// Adds an address the customer is known by (unverified; an agent learnt it); the same address twice changes
    /// nothing, another customer's is a conflict (merging is separate).
    func addIdentity(customerId: String, channel: Channel, address: String) async throws -> Identity

    // MARK: Conversations

    /// Conversations visible in `scope`, newest first.
    func conversations(_ filter: ConversationFilter, scope: AccessScope, _ page: PageRequest) async throws -> Page<Conversation>
    func conversation(id: String) async throws -> Conversation
    /// Messages of a conversation, oldest first.
    func messages(conversationId: String, _ page: PageRequest) async throws -> Page<Message>
    func message(id: String) async throws -> Message
    /// Stores an agent's reply and, unless it is a private note, its outbox row; a repeated
    /// `idempotencyKey` returns the message the first call stored.
    func reply(conversationId: String, _ draft: ReplyDraft, authorId: String?, idempotencyKey: String?) async throws -> Message
    /// Assigns to an agent and/or team; nil for both unassigns.
    func assign(conversationId: String, agentId: String?, teamId: String?) async throws -> Conversation
    func setStatus(conversationId: String, _ status: ConversationStatus, snoozedUntil: Date?) async throws -> Conversation
    func updateConversation(id: String, _ patch: ConversationPatch) async throws -> Conversation
    /// Reopens the snoozed conversations whose time has come and returns them.
    func wakeSnoozed(now: Date) async throws -> [Conversation]
    /// When the next snoozed conversation wakes, nil when none is snoozed.
    func nextSnoozeDue() async throws -> Date?

    // MARK: Outbound messages the center starts, consent, message parts, receipts, media

    /// Queues a message the center starts (a notice, a keyword confirmation, marketing) with its purpose.
    func send(_ draft: OutboundDraft) async throws -> Message
    /// How much the customers of these tiers have written: the newest message and counts in the last `windowDays`
    /// and the window before.
    func customerActivity(tiers: [CustomerTier], windowDays: Int, now: Date) async throws -> [CustomerActivity]
    /// The customer's channel preferences, as given.
    func preferences(customerId: String) async throws -> [ChannelPreference]
    /// Replaces the customer's channel preferences.
    func setPreferences(customerId: String, _ preferences: [ChannelPreference]) async throws -> [ChannelPreference]
    /// Appends to the consent ledger.
    func recordConsent(_ record: ConsentRecord) async throws
    /// The ledger of a customer, newest first.
    func consents(customerId: String) async throws -> [ConsentRecord]
    /// The newest entry per purpose for an address on a channel.
    func latestConsents(channel: Channel, address: String) async throws -> [ConsentRecord]
    /// Where an inbound message with this provider id was stored, nil when it never was: an adapter asks before
    /// costly work for a message a provider (or a mailbox read again) sends twice.
    func storedInbound(channel: Channel, externalId: String) async throws -> IngestResult?
    /// Keeps one part durably; when it completes its message, stores the whole (once) and returns where it landed.
    func receive(part: InboundPart) async throws -> IngestResult?
    /// Applies a provider's delivery report to an outbound message, forward only; nil when no such message exists.
    func applyReceipt(messageId: String, providerMessageId: String?, state: DeliveryState, error: String?) async throws -> Message?
    /// Stores an attachment's bytes and returns its id.
    func storeMedia(_ bytes: [UInt8], contentType: String) async throws -> String
    /// An attachment's bytes and content type, nil when unknown.
    func media(id: String) async throws -> (bytes: [UInt8], contentType: String)?

    // MARK: Quarantine and poll cursors

    /// Keeps input that could not be taken as a message, with the reason; appends a `message.quarantined` event.
    func quarantine(channel: Channel, reason: String, raw: [UInt8]) async throws -> QuarantinedMessage
    /// Quarantined input, newest first.
    func quarantined(_ page: PageRequest) async throws -> Page<QuarantinedMessage>
    /// The original bytes of quarantined input, nil when unknown.
    func quarantinedRaw(id: String) async throws -> [UInt8]?
    /// Where a poller (an IMAP mailbox) got to, nil before its first run.
    func pollCursor(_ key: String) async throws -> String?
    /// Records durably where a poller got to.
    func setPollCursor(_ key: String, _ value: String) async throws

    // MARK: Web chat visitors

    /// Starts a visitor session under a token digest: a new customer, or the one a verified identifier belongs to.
    func createVisitor(_ draft: VisitorDraft, tokenDigest: String) async throws -> Visitor
    /// The visitor behind a token digest, or nil when no such session exists.
    func visitor(tokenDigest: String) async throws -> Visitor?
    /// What the customer sees in the widget: messages (no notes) of their web chat conversations after `after`, oldest first.
    func visitorTranscript(customerId: String, after: String?, limit: Int) async throws -> [Message]
    /// The host site vouches for the visitor (a signed identifier): the identity joins the visitor's customer,
    /// or, when it is someone the hub already knows and the visitor was anonymous, the visitor's customer
    /// is merged into that one. A visitor already signed in as someone else gets `identity_conflict`.
    func identifyVisitor(visitorId: String, identifier: String) async throws -> Visitor
    /// Records where to reply once the visitor has gone; the address joins the customer's identities when unclaimed.
    func setVisitorEmail(visitorId: String, email: String) async throws -> Visitor
    /// Records that the visitor left; an unanswered conversation is marked abandoned and returned.
    func visitorLeft(visitorId: String) async throws -> Conversation?
    /// How many agents are available to take a chat now.
    func availableAgentCount() async throws -> Int

    // MARK: Routing

    /// Conversations with what the router needs of their customers.
    func routingSubjects(_ filter: RoutingSubjectFilter) async throws -> [RoutingSubject]
    /// Agents as the router sees them (all when `ids` is nil), with when each last got a conversation.
    func routingAgents(ids: [String]?) async throws -> [RoutingAgent]
    /// Applies the router's actions in one transaction, each by a conditional write: an assignment
    /// only to an available agent under capacity, of a conversation still open and unassigned.
    func applyRouting(_ actions: [RoutingAction]) async throws -> [RoutingOutcome]
    /// Moves a conversation to an agent (who must be available with room), a team or a queue, with an optional private note.
    func transfer(conversationId: String, to target: TransferTarget, note: String?, authorId: String?) async throws -> Conversation
    /// The agent takes the conversation offered to them, if the offer still stands.
    func accept(conversationId: String, agentId: String) async throws -> Conversation
    /// The agent turns the offer down; the conversation goes back to its place in line.
    func decline(conversationId: String, agentId: String) async throws -> Conversation
    /// The routing decisions of a conversation, oldest first.
    func routingDecisions(conversationId: String) async throws -> [RoutingRecord]
    /// The stored routing configuration, nil until one is set.
    func routingConfiguration() async throws -> RoutingConfiguration?
    /// Stores a (validated) routing configuration and appends a `routing.configured` event.
    func setRoutingConfiguration(_ configuration: RoutingConfiguration) async throws
    /// Conversations that entered a queue in [since, until), for the KPI report.
    func routedConversations(since: Date, until: Date) async throws -> [RoutedConversation]

    // MARK: Event log

    /// Events after `id` visible in `scope`, oldest first.
    func events(after id: Int64, scope: AccessScope, limit: Int) async throws -> [HubEvent]
    /// The id of the newest event, 0 when the log is empty.
    func latestEventId() async throws -> Int64
    /// Returns once an event newer than `id` is committed (or the task is cancelled).
    func waitForEvent(after id: Int64) async
    /// How many commits have changed `part` so far (a number that only grows).
    func latestChange(of part: WatchedPart) -> Int64
    /// Returns once a commit changed `part` after `version` (or the task is cancelled).
    func waitForChange(of part: WatchedPart, after version: Int64) async

    // MARK: Outbox

    /// Leases up to `limit` due rows (queued and due, or with an expired lease) to `owner`.
    func claimOutbox(now: Date, owner: String, lease: Duration, limit: Int) async throws -> [OutboxItem]
    /// Records that the provider accepted the message.
    func outboxSent(_ item: OutboxItem, receipt: SendReceipt) async throws
    /// Puts the row back in the queue for another attempt at `retryAt`.
    func outboxRetry(_ item: OutboxItem, at retryAt: Date, reason: String) async throws
    /// Gives up: the row is dead-lettered and the message marked failed with the reason.
    func outboxFailed(_ item: OutboxItem, reason: String) async throws
    /// Messages sent before `cutoff` on a channel that reports delivery, with no report since: each goes once to
    /// the next channel of the customer's plan, as if undelivered (its error says so). Returns the messages given up on.
    func expireUnreported(sentBefore cutoff: Date) async throws -> [Message]
    /// When the next queued row falls due, nil when none is queued.
    func nextOutboxDue() async throws -> Date?

    // MARK: Campaigns

    /// Templates made through the API, by name.
    func storedTemplates() async throws -> [MessageTemplate]
    /// One template made through the API, nil when there is none by that name.
    func storedTemplate(named name: String) async throws -> MessageTemplate?
    /// Stores (or replaces) a template made through the API; the caller has compiled it.
    func storeTemplate(_ template: MessageTemplate) async throws
    func deleteTemplate(name: String) async throws
    /// How many customers an audience holds (never the blocklisted).
    func audienceCount(_ filter: AudienceFilter) async throws -> Int
    /// Up to `limit` customers of an audience, by id.
    func audienceSample(_ filter: AudienceFilter, limit: Int) async throws -> [Customer]
    /// A new campaign, as a draft.
    func createCampaign(_ draft: CampaignDraft) async throws -> Campaign
    func campaign(id: String) async throws -> Campaign
    /// Campaigns, newest first.
    func campaigns(_ request: PageRequest) async throws -> Page<Campaign>
    /// A draft becomes scheduled, with the audience size the launch checks counted.
    func launchCampaign(id: String, audienceSize: Int) async throws -> Campaign
    /// Pause (queued messages are held), resume (shifted by the pause, and out of the customer's quiet hours, in
    /// `defaultTimeZone` for a customer without one) or cancel (nothing more is sent).
    func controlCampaign(id: String, _ command: CampaignCommand, defaultTimeZone: TimeZone) async throws -> Campaign
    /// Campaigns with planning to do now; scheduled ones whose time came become sending.
    func campaignsToPlan() async throws -> [CampaignWork]
    /// The next customers of an audience after `cursor`, in id order, with what the delivery planner needs.
    func campaignCandidates(_ audience: AudienceFilter, after cursor: String, limit: Int) async throws -> [CampaignCandidate]
    /// The customers of an automation's audience after `after` whose trigger date is one of `days` (`MM-DD`)
    /// and who had none of its messages in the last 300 days, in id order.
    func triggerCandidates(_ audience: AudienceFilter, campaignId: String, trigger: CampaignTrigger, days: [String],
                           after: String, limit: Int) async throws -> [CampaignCandidate]
    /// Writes one planned batch and moves the cursor to `last`, in one transaction; false (nothing written) when
    /// the campaign's cursor moved or it stopped sending meanwhile. The rows are made at once; the write waits
    /// for `previous` (the batch before, still being written) and is not made when that one was not.
    func commitCampaignBatch(_ work: CampaignWork, through last: String, _ recipients: [PlannedRecipient],
                             pace: CampaignPace, after previous: Task<Bool, any Error>?) async throws -> Bool
    /// A sending campaign whose audience is all planned is completed once none of its messages waits to be sent.
    func completeCampaign(id: String) async throws -> Campaign
    func campaignStats(id: String) async throws -> CampaignStats
    /// A campaign's recipient lines by customer id, optionally of one outcome.
    func campaignRecipients(id: String, outcome: RecipientOutcome?, _ request: PageRequest) async throws -> Page<CampaignRecipient>
    /// The recipient line of a campaign message, nil for a message of no campaign.
    func campaignRecipient(messageId: String) async throws -> CampaignRecipient?
    /// Opts the address a campaign message went to out of marketing; twice records it once.
    func unsubscribe(messageId: String) async throws -> CampaignRecipient
    /// A random secret the hub made once and keeps (for links when none is configured).
    func secret(named name: String) async throws -> String
}

extension HubStorage {
    /// Waits for an event newer than `id`, at most `timeout`; true when an event came.
    public func waitForEvent(after id: Int64, timeout: Duration) async -> Bool {
        await Self.wait(timeout: timeout) { await waitForEvent(after: id) }
    }

    /// Waits for a commit that changed `part` after `version`, at most `timeout`; true when one came.
    public func waitForChange(of part: WatchedPart, after version: Int64, timeout: Duration) async -> Bool {
        await Self.wait(timeout: timeout) { await waitForChange(of: part, after: version) }
    }

    private static func wait(timeout: Duration, for wake: @escaping @Sendable () async -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await wake()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

}
