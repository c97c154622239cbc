import Foundation
import GRDB
import HubCore

// Campaigns: stored templates, the campaign and its recipients, batches of planned messages, stats, unsubscribes.
extension SQLiteHubStorage {
    // MARK: Templates stored through the API

    public func storedTemplates() async throws -> [MessageTemplate] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT definition FROM message_template ORDER BY name").map {
                try JSONDecoder.hub().decode(MessageTemplate.self, from: Data($0.utf8))
            }
        }
    }

    public func storedTemplate(named name: String) async throws -> MessageTemplate? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT definition FROM message_template WHERE name = ?", arguments: [name]).map {
                try JSONDecoder.hub().decode(MessageTemplate.self, from: Data($0.utf8))
            }
        }
    }

    public func storeTemplate(_ template: MessageTemplate) async throws {
        let now = self.now()
        let json = String(decoding: try JSONEncoder.hub().encode(template), as: UTF8.self)
        try await write { db in
            try db.execute(sql: """
                INSERT INTO message_template (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                """, arguments: [template.name, json, now, now])
        }
    }

    public func deleteTemplate(name: String) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM message_template WHERE name = ?", arguments: [name])
            guard db.changesCount > 0 else { throw HubError.notFound("template", name) }
        }
    }

    // MARK: Campaigns

    public func createCampaign(_ draft: CampaignDraft) async throws -> Campaign {
        let draft = try draft.validated()
        let now = self.now()
        return try await write { db in
            let campaign = Campaign(id: HubID.make("cmp", now: now), draft: draft, createdAt: now)
            try db.execute(sql: """
                INSERT INTO campaign (id, definition, state, planned, cursor, pace, created_at, updated_at)
                VALUES (?, ?, ?, 0, '', '{}', ?, ?)
                """, arguments: [campaign.id, try Self.definition(campaign), campaign.state.rawValue, now, now])
            try appendEvent(db, .campaignUpdated, data: campaign, at: now)
            return campaign
        }
    }

    public func campaign(id: String) async throws -> Campaign {
        try await read { db in try Self.fetchCampaign(id, db: db).campaign }
    }

    public func campaigns(_ request: PageRequest) async throws -> Page<Campaign> {
        try await read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM campaign WHERE (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
                                        arguments: [request.cursor, request.cursor, request.limit + 1])
            return page(try rows.map { try Self.campaign(from: $0).campaign }, limit: request.limit, id: \.id)
        }
    }

    /// A draft becomes scheduled (it plans when its time comes) with the audience size the launch checks counted.
    public func launchCampaign(id: String, audienceSize: Int) async throws -> Campaign {
        let now = self.now()
        return try await write { db in
            var (campaign, _) = try Self.fetchCampaign(id, db: db)
            guard campaign.state == .draft else {
                throw HubError.conflict("campaign_not_draft", "Only a draft can be launched; this campaign is \(campaign.state.rawValue).")
            }
            campaign.state = .scheduled
            campaign.audienceSize = audienceSize
            campaign.launchedAt = now
            campaign.updatedAt = now
            try db.execute(sql: """
                UPDATE campaign SET state = ?, audience_size = ?, launched_at = ?, start_at = ?, updated_at = ?, definition = ? WHERE id = ?
                """, arguments: [campaign.state.rawValue, audienceSize, now, max(campaign.schedule.at ?? now, now), now,
                                 try Self.definition(campaign), id])
            try appendEvent(db, .campaignUpdated, data: campaign, at: now)
            return campaign
        }
    }

    /// Pauses (queued messages are held), resumes (held ones go on, shifted by the pause) or cancels
    /// (what is not sent yet never will be) a campaign.
    public func controlCampaign(id: String, _ command: CampaignCommand, defaultTimeZone: TimeZone) async throws -> Campaign {
        let now = self.now()
        let planner = self.planner
        return try await write { db in
            var (campaign, pausedAt) = try Self.fetchCampaign(id, db: db)
            let messages = "SELECT message_id FROM campaign_recipient WHERE campaign_id = ? AND message_id IS NOT NULL"
            switch command {
            case .pause:
                guard campaign.state == .scheduled || campaign.state == .sending else {
                    throw HubError.conflict("campaign_not_running", "Only a scheduled or sending campaign can be paused; this one is \(campaign.state.rawValue).")
                }
                try db.execute(sql: "UPDATE outbox SET state = 'held', updated_at = ? WHERE state = 'queued' AND message_id IN (\(messages))",
                               arguments: [now, id])
                try db.execute(sql: "UPDATE campaign SET paused_from = state, paused_at = ? WHERE id = ?", arguments: [now, id])
                campaign.state = .paused
            case .resume:
                guard campaign.state == .paused else {
                    throw HubError.conflict("campaign_not_paused", "Only a paused campaign can be resumed; this one is \(campaign.state.rawValue).")
                }
                // Everything held moves on by the length of the pause, so the pace holds, but not into quiet hours.
                let shift = now.timeIntervalSince(pausedAt ?? now)
                let requeue = try db.cachedStatement(sql: "UPDATE outbox SET state = 'queued', next_attempt_at = ?, updated_at = ? WHERE id = ?")
                let held = try Row.fetchCursor(db, sql: """
                    SELECT outbox.id, outbox.next_attempt_at, customer.time_zone FROM campaign_recipient
                    JOIN outbox ON outbox.message_id = campaign_recipient.message_id
                    JOIN customer ON customer.id = campaign_recipient.customer_id
                    WHERE campaign_recipient.campaign_id = ? AND outbox.state = 'held'
                    """, arguments: [id])
                while let row = try held.next() {
                    let zone = (row[2] as String?).flatMap(TimeZone.init(identifier:)) ?? defaultTimeZone
                    try requeue.execute(arguments: [planner.resumed(row[1], pausedFor: shift, in: zone), now, row[0] as Int64])
                }
                let previous = try String.fetchOne(db, sql: "SELECT paused_from FROM campaign WHERE id = ?", arguments: [id])
                campaign.state = previous.flatMap(CampaignState.init(rawValue:)) ?? .sending
                var pace = try Self.pace(id, db: db)
                pace.next = pace.next.mapValues { $0.addingTimeInterval(shift) }
                try db.execute(sql: "UPDATE campaign SET pace = ? WHERE id = ?", arguments: [try Self.encodedPace(pace), id])
            case .cancel:
                guard !campaign.state.isFinal else {
                    throw HubError.conflict("campaign_finished", "This campaign is already \(campaign.state.rawValue).")
                }
                try db.execute(sql: """
                    UPDATE message SET delivery_state = 'cancelled', error = 'campaign cancelled', updated_at = ?
                    WHERE id IN (SELECT message_id FROM outbox WHERE state IN ('queued', 'held') AND message_id IN (\(messages)))
                    """, arguments: [now, id])
                try db.execute(sql: "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE state IN ('queued', 'held') AND message_id IN (\(messages))",
                               arguments: [now, id])
                campaign.state = .cancelled
                campaign.completedAt = now
            }
            campaign.updatedAt = now
            try db.execute(sql: "UPDATE campaign SET state = ?, updated_at = ?, completed_at = ?, definition = ? WHERE id = ?",
                           arguments: [campaign.state.rawValue, now, campaign.completedAt, try Self.definition(campaign), id])
            try appendEvent(db, .campaignUpdated, data: campaign, at: now)
            return campaign
        }
    }

    /// Campaigns with planning to do at `now`: sending ones, and scheduled ones whose time has come (which become sending).
    public func campaignsToPlan() async throws -> [CampaignWork] {
        let now = self.now()
        return try await write { db in
            let due = try Row.fetchAll(db, sql: "SELECT * FROM campaign WHERE state = 'scheduled' AND start_at <= ?", arguments: [now])
            for row in due {
                var (campaign, _) = try Self.campaign(from: row)
                campaign.state = .sending
                campaign.updatedAt = now
                try db.execute(sql: "UPDATE campaign SET state = 'sending', updated_at = ?, definition = ? WHERE id = ?",
                               arguments: [now, try Self.definition(campaign), campaign.id])
                try appendEvent(db, .campaignUpdated, data: campaign, at: now)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM campaign WHERE state = 'sending' ORDER BY id").map { row in
                let (campaign, pausedAt) = try Self.campaign(from: row)
                return CampaignWork(campaign: campaign, cursor: row["cursor"], pace: try Self.decodePace(row["pace"]),
                                    start: row["start_at"] ?? campaign.launchedAt ?? now, pausedAt: pausedAt)
            }
        }
    }

    /// The next customers of the audience after `cursor` (in id order), each with what the delivery planner needs.
    public func campaignCandidates(_ audience: AudienceFilter, after cursor: String, limit: Int) async throws -> [CampaignCandidate] {
        let now = self.now()
        return try await read { db in
            let condition = Self.audienceCondition(audience, now: now)
            var arguments: StatementArguments = [cursor]
            arguments += condition.arguments
            arguments += [limit]
            let decoder = JSONDecoder()
            let customers = try Row.fetchAll(db, sql: """
                SELECT * FROM customer WHERE customer.id > ? AND (\(condition.condition))
                AND (customer.tier IS NULL OR customer.tier <> 'blocklisted') ORDER BY customer.id LIMIT ?
                """, arguments: arguments).map { try Self.customer($0, decoder: decoder) }
            return try Self.marketingRequests(for: customers, db: db, now: now)
        }
    }

    public func triggerCandidates(_ audience: AudienceFilter, campaignId: String, trigger: CampaignTrigger, days: [String],
                                  after: String, limit: Int) async throws -> [CampaignCandidate] {
        let now = self.now()
        return try await read { db in
            let condition = Self.audienceCondition(audience, now: now)
            var arguments: StatementArguments = [after]
            arguments += condition.arguments
            arguments += [trigger.attribute, try Self.encoded(days), campaignId, now.addingTimeInterval(-300 * 86_400), limit]
            let decoder = JSONDecoder()
            let customers = try Row.fetchAll(db, sql: """
                SELECT * FROM customer WHERE customer.id > ? AND (\(condition.condition))
                AND EXISTS (SELECT 1 FROM json_each(customer.attributes) AS attribute WHERE attribute.key = ?
                            AND substr(attribute.value, -5) IN (SELECT value FROM json_each(?)))
                AND NOT EXISTS (SELECT 1 FROM campaign_recipient WHERE campaign_id = ? AND customer_id = customer.id AND created_at > ?)
                ORDER BY customer.id LIMIT ?
                """, arguments: arguments).map { try Self.customer($0, decoder: decoder) }
            return try Self.marketingRequests(for: customers, db: db, now: now)
        }
    }

    /// What the delivery planner needs for marketing to each customer, read for the whole batch at once.
    static func marketingRequests(for customers: [Customer], db: Database, now: Date) throws -> [CampaignCandidate] {
        guard !customers.isEmpty else { return [] }
        let ids = try Self.encoded(customers.map(\.id))
        var identities: [String: [Identity]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT channel, address, customer_id, verified, created_at FROM identity
            WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY created_at DESC
            """, arguments: [ids]) {
            guard let channel = Channel(rawValue: row[0]) else { continue }
            let identity = Identity(channel: channel, address: row[1], customerId: row[2], verified: row[3], createdAt: row[4])
            identities[identity.customerId, default: []].append(identity)
        }
        var consents: [String: [ConsentRecord]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT customer_id, channel, address, purpose, state, source, evidence, created_at FROM consent WHERE id IN (
                SELECT MAX(consent.id) FROM identity JOIN consent ON consent.channel = identity.channel AND consent.address = identity.address
                WHERE identity.customer_id IN (SELECT value FROM json_each(?)) GROUP BY consent.channel, consent.address, consent.purpose)
            """, arguments: [ids]) {
            guard let channel = Channel(rawValue: row[1]), let purpose = ConsentPurpose(rawValue: row[3]),
                  let state = ConsentState(rawValue: row[4]), let source = ConsentSource(rawValue: row[5]) else { continue }
            let record = ConsentRecord(customerId: row[0], channel: channel, address: row[2], purpose: purpose, state: state,
                                       source: source, evidence: row[6], createdAt: row[7])
            consents[record.address, default: []].append(record)
        }
        var preferences: [String: [ChannelPreference]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT * FROM channel_preference WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY id
            """, arguments: [ids]) {
            if let preference = preference(from: row) { preferences[row["customer_id"], default: []].append(preference) }
        }
        var recent: [String: [Date]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT conversation.customer_id, message.created_at FROM conversation JOIN message ON message.conversation_id = conversation.id
            WHERE conversation.customer_id IN (SELECT value FROM json_each(?)) AND message.author_kind = 'campaign' AND message.created_at > ?
            """, arguments: [ids, now.addingTimeInterval(-366 * 86_400)]) {
            recent[row[0], default: []].append(row[1])
        }
        return customers.map { customer in
            let own = identities[customer.id] ?? []
            return CampaignCandidate(customer: customer, request: DeliveryRequest(
                purpose: .marketing, timeZone: customer.timeZone.flatMap(TimeZone.init(identifier:)), identities: own,
                consents: own.flatMap { consents[$0.address] ?? [] }, preferences: preferences[customer.id] ?? [],
                recentMarketing: recent[customer.id] ?? []
            ))
        }
    }

    /// Writes one planned batch in one transaction: per queued recipient a conversation, the message and its
    /// outbox row; per recipient its line; then the cursor moves past the batch. A batch planned from a cursor
    /// that moved meanwhile, or for a campaign no longer sending, writes nothing (`false`).
    public func commitCampaignBatch(_ work: CampaignWork, through last: String, _ recipients: [PlannedRecipient],
                                    pace: CampaignPace, after previous: Task<Bool, any Error>?) async throws -> Bool {
        let now = self.now()
        let stamp = storedDate(now)
        let campaign = work.campaign
        // Every row is made here, before the writer is taken: the writer only inserts.
        let encoder = JSONEncoder.hub()
        let tags = try Self.encoded(["campaign:\(campaign.id)"])
        var conversations: [StatementArguments] = [], messages: [StatementArguments] = [], outbox: [StatementArguments] = []
        var lines: [StatementArguments] = []
        for recipient in recipients {
            let customerId = recipient.customer.id
            let sendAt = recipient.sendAt.map(storedDate)
            if recipient.outcome == .queued, let delivery = recipient.delivery, let messageId = recipient.messageId,
               let message = recipient.message, let sendAt {
                let conversationId = HubID.make("conv", now: now)
                conversations.append([conversationId, customerId, delivery.channel.rawValue, tags, message.subject, stamp, stamp, sendAt,
                                      stamp, campaign.id])
                messages.append([messageId, conversationId, campaign.id, delivery.channel.rawValue, message.text, message.html, stamp, stamp])
                let outbound = OutboundDelivery(
                    messageId: messageId, conversationId: conversationId, customerId: customerId, channel: delivery.channel,
                    // The body stays in the message row alone; the dispatcher reads it from there (`claimOutbox`).
                    to: delivery.address, text: "", html: nil, attachments: [], idempotencyKey: messageId,
                    purpose: .marketing, subject: message.subject, unsubscribeURL: message.unsubscribeURL, createdAt: now
                )
                outbox.append([messageId, messageId, String(decoding: try encoder.encode(outbound), as: UTF8.self), sendAt, stamp, stamp])
            }
            lines.append([campaign.id, customerId, recipient.occurrence, recipient.outcome.rawValue, recipient.reason?.rawValue, recipient.delivery?.channel.rawValue,
                          recipient.delivery?.address, recipient.messageId, sendAt, recipient.deferred, stamp])
        }
        let paceJSON = try Self.encodedPace(pace)
        guard try await previous?.value ?? true else { return false }
        return try await write { [conversations, messages, outbox, lines] db in
            // Planned before a pause that has since been resumed: its send times and pace are stale.
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM campaign WHERE id = ? AND state = 'sending' AND cursor = ? AND paused_at IS ?",
                                   arguments: [campaign.id, work.cursor, work.pausedAt]) != nil else { return false }
            // Resolved until the customer answers: nothing for the agents until then.
            let conversation = try db.cachedStatement(sql: """
                INSERT INTO conversation (id, customer_id, channel, status, priority, tags, subject, created_at, updated_at,
                                          last_activity_at, resolved_at, campaign_id)
                VALUES (?, ?, ?, 'resolved', 0, ?, ?, ?, ?, ?, ?, ?)
                """)
            for arguments in conversations { try conversation.execute(arguments: arguments) }
            let message = try db.cachedStatement(sql: """
                INSERT INTO message (id, conversation_id, direction, author_kind, author_id, kind, channel, text, html,
                                     attachments, delivery_state, created_at, updated_at)
                VALUES (?, ?, 'outbound', 'campaign', ?, 'message', ?, ?, ?, '[]', 'queued', ?, ?)
                """)
            for arguments in messages { try message.execute(arguments: arguments) }
            let queued = try db.cachedStatement(sql: """
                INSERT INTO outbox (message_id, idempotency_key, payload, state, attempts, next_attempt_at, created_at, updated_at)
                VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)
                """)
            for arguments in outbox { try queued.execute(arguments: arguments) }
            let line = try db.cachedStatement(sql: """
                INSERT INTO campaign_recipient (campaign_id, customer_id, occurrence, outcome, reason, channel, address, message_id, send_at,
                                                deferred, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for arguments in lines { try line.execute(arguments: arguments) }
            try db.execute(sql: "UPDATE campaign SET cursor = ?, planned = planned + ?, pace = ?, updated_at = ? WHERE id = ?",
                           arguments: [last, recipients.count, paceJSON, stamp, campaign.id])
            // One event per batch: progress for the stream, and the dispatcher wakes to what is due.
            try appendEvent(db, .campaignUpdated, data: try Self.fetchCampaign(campaign.id, db: db).campaign, at: now)
            return true
        }
    }

    /// A campaign whose audience is planned to its end is completed once none of its messages waits to be sent.
    public func completeCampaign(id: String) async throws -> Campaign {
        let now = self.now()
        return try await write { db in
            var (campaign, _) = try Self.fetchCampaign(id, db: db)
            guard campaign.state == .sending else { return campaign }
            let waiting = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM outbox WHERE state IN ('queued', 'sending', 'held')
                    AND message_id IN (SELECT message_id FROM campaign_recipient WHERE campaign_id = ? AND message_id IS NOT NULL))
                """, arguments: [id]) ?? false
            guard !waiting else { return campaign }
            campaign.state = .completed
            campaign.completedAt = now
            campaign.updatedAt = now
            try db.execute(sql: "UPDATE campaign SET state = 'completed', completed_at = ?, updated_at = ?, definition = ? WHERE id = ?",
                           arguments: [now, now, try Self.definition(campaign), id])
            try appendEvent(db, .campaignUpdated, data: campaign, at: now)
            return campaign
        }
    }

    // MARK: Stats and recipients

    public func campaignStats(id: String) async throws -> CampaignStats {
        try await read { db in
            let (campaign, _) = try Self.fetchCampaign(id, db: db)
            var skipped: [SkipReason: Int] = [:]
            var channels: [Channel: CampaignStats.Counts] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT outcome, reason, channel, SUM(deferred), SUM(unsubscribed_at IS NOT NULL), COUNT(*) FROM campaign_recipient
                WHERE campaign_id = ? GROUP BY outcome, reason, channel
                """, arguments: [id]) {
                if row[0] == RecipientOutcome.skipped.rawValue, let reason = SkipReason(rawValue: row[1] ?? "") {
                    skipped[reason, default: 0] += row[5]
                } else if let channel = Channel(rawValue: row[2] ?? "") {
                    channels[channel, default: .init()].targeted += row[5]
                    channels[channel, default: .init()].deferred += row[3]
                    channels[channel, default: .init()].unsubscribed += row[4]
                }
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT message.channel, message.delivery_state, COUNT(*), SUM(outbox.reclaimed > 0) FROM campaign_recipient
                JOIN message ON message.id = campaign_recipient.message_id JOIN outbox ON outbox.message_id = message.id
                WHERE campaign_recipient.campaign_id = ? GROUP BY message.channel, message.delivery_state
                """, arguments: [id]) {
                guard let channel = Channel(rawValue: row[0]), let state = DeliveryState(rawValue: row[1]) else { continue }
                let count: Int = row[2]
                var counts = channels[channel, default: .init()]
                if [.sent, .delivered, .undelivered, .bounced].contains(state) { counts.sent += count }
                if state == .queued || state == .sending { counts.pending += count }
                if state == .delivered { counts.delivered += count }
                if state == .failed || state == .undelivered { counts.failed += count }
                if state == .bounced { counts.bounced += count }
                counts.resentAfterCrash += row[3] ?? 0
                channels[channel] = counts
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT channel, COUNT(*) FROM conversation WHERE campaign_id = ?
                AND EXISTS (SELECT 1 FROM message WHERE message.conversation_id = conversation.id AND message.direction = 'inbound')
                GROUP BY channel
                """, arguments: [id]) {
                guard let channel = Channel(rawValue: row[0]) else { continue }
                channels[channel, default: .init()].replied += row[1]
            }
            var total = CampaignStats.Counts()
            for counts in channels.values {
                total.targeted += counts.targeted
                total.deferred += counts.deferred
                total.pending += counts.pending
                total.sent += counts.sent
                total.delivered += counts.delivered
                total.failed += counts.failed
                total.bounced += counts.bounced
                total.unsubscribed += counts.unsubscribed
                total.replied += counts.replied
                total.resentAfterCrash += counts.resentAfterCrash
            }
            return CampaignStats(campaignId: id, state: campaign.state, audienceSize: campaign.audienceSize, planned: campaign.planned,
                                 skipped: skipped, total: total, channels: channels)
        }
    }

    /// A campaign's recipients by customer id, optionally of one outcome, with their message's delivery state.
    public func campaignRecipients(id: String, outcome: RecipientOutcome?, _ request: PageRequest) async throws -> Page<CampaignRecipient> {
        try await read { db in
            _ = try Self.fetchCampaign(id, db: db)
            // The cursor is `customer|occurrence`.
            let after = (request.cursor ?? "").split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let rows = try Row.fetchAll(db, sql: """
                SELECT campaign_recipient.*, message.delivery_state FROM campaign_recipient
                LEFT JOIN message ON message.id = campaign_recipient.message_id
                WHERE campaign_id = ? AND (? IS NULL OR outcome = ?) AND (customer_id, occurrence) > (?, ?)
                ORDER BY customer_id, occurrence LIMIT ?
                """, arguments: [id, outcome?.rawValue, outcome?.rawValue, after.first.map(String.init) ?? "",
                                 after.dropFirst().first.map(String.init) ?? "", request.limit + 1])
            let items = rows.map { row in
                CampaignRecipient(
                    campaignId: row["campaign_id"], customerId: row["customer_id"], occurrence: (row["occurrence"] as String).isEmpty ? nil : row["occurrence"],
                    outcome: RecipientOutcome(rawValue: row["outcome"]) ?? .skipped, reason: (row["reason"] as String?).flatMap(SkipReason.init(rawValue:)),
                    channel: (row["channel"] as String?).flatMap(Channel.init(rawValue:)), address: row["address"], messageId: row["message_id"],
                    sendAt: row["send_at"], deferred: row["deferred"], deliveryState: (row["delivery_state"] as String?).flatMap(DeliveryState.init(rawValue:)),
                    unsubscribedAt: row["unsubscribed_at"], createdAt: row["created_at"]
                )
            }
            return page(items, limit: request.limit) { $0.customerId + "|" + ($0.occurrence ?? "") }
        }
    }

    // MARK: Unsubscribe

    /// The recipient a campaign message went to, for its unsubscribe page; nil for an unknown message.
    public func campaignRecipient(messageId: String) async throws -> CampaignRecipient? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM campaign_recipient WHERE message_id = ?", arguments: [messageId]).map { row in
                CampaignRecipient(
                    campaignId: row["campaign_id"], customerId: row["customer_id"], outcome: .queued,
                    channel: (row["channel"] as String?).flatMap(Channel.init(rawValue:)), address: row["address"], messageId: messageId,
                    sendAt: row["send_at"], deferred: row["deferred"], unsubscribedAt: row["unsubscribed_at"], createdAt: row["created_at"]
                )
            }
        }
    }

    /// Opts the address a campaign message went to out of marketing (source `unsubscribe`, the campaign as evidence)
    /// and counts it for the campaign. Saying it twice records it once.
    public func unsubscribe(messageId: String) async throws -> CampaignRecipient {
        let now = self.now()
        return try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM campaign_recipient WHERE message_id = ?", arguments: [messageId]),
                  let channel = Channel(rawValue: row["channel"] ?? ""), let address: String = row["address"] else {
                throw HubError.notFound("message", messageId)
            }
            let campaignId: String = row["campaign_id"]
            let customerId: String = row["customer_id"]
            if (row["unsubscribed_at"] as Date?) == nil {
                try db.execute(sql: "UPDATE campaign_recipient SET unsubscribed_at = ? WHERE message_id = ?", arguments: [now, messageId])
                // The address may since belong to a merged profile: the ledger entry goes to its owner.
                let owner = try String.fetchOne(db, sql: "SELECT customer_id FROM identity WHERE channel = ? AND address = ?",
                                                arguments: [channel.rawValue, address]) ?? customerId
                try Self.insertConsent(ConsentRecord(customerId: owner, channel: channel, address: address, purpose: .marketing, state: .optedOut,
                                                     source: .unsubscribe, evidence: "campaign \(campaignId), message \(messageId)", createdAt: now), db: db)
            }
            return CampaignRecipient(campaignId: campaignId, customerId: customerId, outcome: .queued, channel: channel, address: address,
                                     messageId: messageId, deferred: row["deferred"], unsubscribedAt: row["unsubscribed_at"] ?? now,
                                     createdAt: row["created_at"])
        }
    }

    public func secret(named name: String) async throws -> String {
        let fresh = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        // Straight to the pool: this runs before the write batcher's service starts.
        return try await pool.write { db in
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", arguments: ["secret." + name, fresh])
            return try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: ["secret." + name]) ?? fresh
        }
    }

    // MARK: Helpers

    /// A customer row read by hand: planning reads a million of them, and `Codable` decoding was most of the reading.
    private static func customer(_ row: Row, decoder: JSONDecoder) throws -> Customer {
        let attributes: String = row["attributes"], tags: String = row["tags"]
        return Customer(
            id: row["id"], name: row["name"],
            attributes: attributes == "{}" ? [:] : try decoder.decode([String: String].self, from: Data(attributes.utf8)),
            tags: tags == "[]" ? [] : try decoder.decode([String].self, from: Data(tags.utf8)),
            tier: row["tier"], timeZone: row["time_zone"], locale: row["locale"], accountManagerId: row["account_manager_id"],
            externalId: row["external_id"], createdAt: row["created_at"], updatedAt: row["updated_at"]
        )
    }

    private static func fetchCampaign(_ id: String, db: Database) throws -> (campaign: Campaign, pausedAt: Date?) {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM campaign WHERE id = ?", arguments: [id]) else {
            throw HubError.notFound("campaign", id)
        }
        return try campaign(from: row)
    }

    /// A stored campaign: its definition, with the columns that change as it runs.
    private static func campaign(from row: Row) throws -> (campaign: Campaign, pausedAt: Date?) {
        var campaign = try JSONDecoder.hub().decode(Campaign.self, from: Data((row["definition"] as String).utf8))
        campaign.state = CampaignState(rawValue: row["state"]) ?? campaign.state
        campaign.planned = row["planned"]
        campaign.audienceSize = row["audience_size"]
        campaign.updatedAt = row["updated_at"]
        return (campaign, row["paused_at"])
    }

    private static func definition(_ campaign: Campaign) throws -> String {
        try Self.encoded(campaign)
    }

    private static func pace(_ id: String, db: Database) throws -> CampaignPace {
        try decodePace(try String.fetchOne(db, sql: "SELECT pace FROM campaign WHERE id = ?", arguments: [id]) ?? "{}")
    }

    /// A pace keeps milliseconds: its slots are often closer than a second apart.
    private static func decodePace(_ text: String) throws -> CampaignPace {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return try decoder.decode(CampaignPace.self, from: Data(text.utf8))
    }

    private static func encodedPace(_ pace: CampaignPace) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return String(decoding: try encoder.encode(pace), as: UTF8.self)
    }

    private static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.hub().encode(value), as: UTF8.self)
    }
}
