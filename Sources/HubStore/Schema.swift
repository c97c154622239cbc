import GRDB

/// The store's schema, one migration per change. SQL kept to what PostgreSQL also accepts,
/// except the SQLite-specific `AUTOINCREMENT` of the event log's id.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE customer (
                    id TEXT PRIMARY KEY,
                    name TEXT,
                    attributes TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    tier TEXT,
                    time_zone TEXT,
                    locale TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE identity (
                    channel TEXT NOT NULL,
                    address TEXT NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id),
                    verified BOOLEAN NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (channel, address)
                );
                CREATE INDEX identity_customer ON identity(customer_id);
                CREATE TABLE team (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE agent (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    email TEXT,
                    role TEXT NOT NULL,
                    team_ids TEXT NOT NULL,
                    skills TEXT NOT NULL,
                    capacity TEXT NOT NULL,
                    presence TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE conversation (
                    id TEXT PRIMARY KEY,
                    customer_id TEXT NOT NULL REFERENCES customer(id),
                    channel TEXT NOT NULL,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    assignee_id TEXT,
                    team_id TEXT,
                    tags TEXT NOT NULL,
                    subject TEXT,
                    snoozed_until TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    last_activity_at TEXT NOT NULL,
                    first_response_at TEXT,
                    resolved_at TEXT
                );
                CREATE INDEX conversation_customer ON conversation(customer_id, channel, status);
                CREATE INDEX conversation_assignee ON conversation(assignee_id);
                CREATE INDEX conversation_team ON conversation(team_id);
                CREATE TABLE message (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL REFERENCES conversation(id),
                    direction TEXT NOT NULL,
                    author_kind TEXT NOT NULL,
                    author_id TEXT,
                    kind TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    text TEXT NOT NULL,
                    html TEXT,
                    attachments TEXT NOT NULL,
                    delivery_state TEXT NOT NULL,
                    provider_message_id TEXT,
                    external_id TEXT,
                    error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX message_conversation ON message(conversation_id, id);
                -- Providers retry: one message per (channel, external id), inbound and outbound apart.
                CREATE UNIQUE INDEX message_external ON message(channel, direction, external_id);
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    message_id TEXT NOT NULL UNIQUE REFERENCES message(id),
                    idempotency_key TEXT NOT NULL UNIQUE,
                    payload TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_at TEXT NOT NULL,
                    lease_owner TEXT,
                    lease_until TEXT,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    type TEXT NOT NULL,
                    conversation_id TEXT,
                    customer_id TEXT,
                    agent_id TEXT,
                    team_id TEXT,
                    assignee_id TEXT,
                    data TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE api_token (
                    id TEXT PRIMARY KEY,
                    digest TEXT NOT NULL UNIQUE,
                    role TEXT NOT NULL,
                    agent_id TEXT REFERENCES agent(id),
                    name TEXT,
                    created_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-webchat") { db in
            try db.execute(sql: """
                ALTER TABLE conversation ADD COLUMN abandoned_at TEXT;
                CREATE TABLE webchat_visitor (
                    id TEXT PRIMARY KEY,
                    token_digest TEXT NOT NULL UNIQUE,
                    site TEXT NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customer(id),
                    name TEXT,
                    email TEXT,
                    verified BOOLEAN NOT NULL,
                    created_at TEXT NOT NULL,
                    left_at TEXT
                );
                CREATE INDEX webchat_visitor_customer ON webchat_visitor(customer_id);
                """)
        }
        migrator.registerMigration("v3-sms") { db in
            try db.execute(sql: """
                ALTER TABLE conversation ADD COLUMN via TEXT;
                CREATE TABLE consent (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id TEXT NOT NULL REFERENCES customer(id),
                    channel TEXT NOT NULL,
                    address TEXT NOT NULL,
                    purpose TEXT NOT NULL,
                    state TEXT NOT NULL,
                    source TEXT NOT NULL,
                    evidence TEXT,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX consent_address ON consent(channel, address, purpose);
                CREATE INDEX consent_customer ON consent(customer_id);
                -- Parts of a message delivered in pieces, until the last one arrives.
                CREATE TABLE inbound_part (
                    group_key TEXT NOT NULL,
                    part INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (group_key, part)
                );
                CREATE TABLE media (
                    id TEXT PRIMARY KEY,
                    content_type TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    created_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4-routing") { db in
            try db.execute(sql: """
                ALTER TABLE customer ADD COLUMN account_manager_id TEXT;
                ALTER TABLE conversation ADD COLUMN waiting_since TEXT;
                ALTER TABLE conversation ADD COLUMN assigned_at TEXT;
                ALTER TABLE conversation ADD COLUMN queue_id TEXT;
                ALTER TABLE conversation ADD COLUMN tier TEXT;
                ALTER TABLE conversation ADD COLUMN sla_due_at TEXT;
                ALTER TABLE conversation ADD COLUMN last_assignee_id TEXT;
                ALTER TABLE conversation ADD COLUMN pinned_queue_id TEXT;
                UPDATE conversation SET waiting_since = created_at;
                CREATE INDEX conversation_waiting ON conversation(waiting_since);
                CREATE INDEX conversation_open ON conversation(status, assignee_id);
                -- Every routing decision with the rule, the candidates and why the winner won.
                CREATE TABLE routing_decision (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    conversation_id TEXT NOT NULL REFERENCES conversation(id),
                    kind TEXT NOT NULL,
                    queue_id TEXT,
                    rule_id TEXT,
                    agent_id TEXT,
                    step INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    candidates TEXT NOT NULL,
                    eligible_count INTEGER NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE INDEX routing_decision_conversation ON routing_decision(conversation_id, id);
                -- The routing rules and queues, one row.
                CREATE TABLE routing_configuration (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    data TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v5-offers") { db in
            try db.execute(sql: """
                ALTER TABLE conversation ADD COLUMN offered_to TEXT;
                ALTER TABLE conversation ADD COLUMN offer_expires_at TEXT;
                CREATE INDEX conversation_offered ON conversation(offered_to);
                """)
        }
        migrator.registerMigration("v6-preferences") { db in
            try db.execute(sql: """
                CREATE TABLE channel_preference (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id TEXT NOT NULL REFERENCES customer(id),
                    scope TEXT NOT NULL,
                    channels TEXT NOT NULL,
                    valid_from TEXT,
                    valid_until TEXT
                );
                CREATE INDEX channel_preference_customer ON channel_preference(customer_id);
                """)
        }
        migrator.registerMigration("v7-email") { db in
            try db.execute(sql: """
                CREATE TABLE quarantine (
                    id TEXT PRIMARY KEY,
                    channel TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    raw BLOB NOT NULL,
                    size INTEGER NOT NULL,
                    received_at TEXT NOT NULL
                );
                CREATE TABLE poll_cursor (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v8-fallback") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN fallback_of TEXT;
                CREATE INDEX message_fallback ON message(fallback_of) WHERE fallback_of IS NOT NULL;
                """)
        }
        migrator.registerMigration("v9-import") { db in
            try db.execute(sql: """
                ALTER TABLE customer ADD COLUMN external_id TEXT;
                CREATE UNIQUE INDEX customer_external ON customer(external_id) WHERE external_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v10-campaigns") { db in
            try db.execute(sql: """
                CREATE TABLE setting (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE message_template (
                    name TEXT PRIMARY KEY,
                    definition TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE campaign (
                    id TEXT PRIMARY KEY,
                    definition TEXT NOT NULL,
                    state TEXT NOT NULL,
                    audience_size INTEGER,
                    planned INTEGER NOT NULL,
                    -- Planning walks the audience in customer id order; this is the last id planned.
                    cursor TEXT NOT NULL,
                    pace TEXT NOT NULL,
                    start_at TEXT,
                    -- While paused: since when, and the state to resume to.
                    paused_at TEXT,
                    paused_from TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    launched_at TEXT,
                    completed_at TEXT
                );
                CREATE INDEX campaign_state ON campaign(state);
                -- One row per (campaign, customer, occurrence): nobody is planned twice (an automation once a year).
                CREATE TABLE campaign_recipient (
                    campaign_id TEXT NOT NULL REFERENCES campaign(id),
                    customer_id TEXT NOT NULL,
                    occurrence TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    channel TEXT,
                    address TEXT,
                    message_id TEXT,
                    send_at TEXT,
                    deferred BOOLEAN NOT NULL,
                    unsubscribed_at TEXT,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (campaign_id, customer_id, occurrence)
                );
                CREATE INDEX campaign_recipient_message ON campaign_recipient(message_id);
                ALTER TABLE conversation ADD COLUMN campaign_id TEXT;
                CREATE INDEX conversation_campaign ON conversation(campaign_id) WHERE campaign_id IS NOT NULL;
                -- Campaigns write a conversation and a message per recipient, unassigned and without an external id:
                -- indexes keep only the rows that have the value, so those rows cost no index entries there.
                DROP INDEX conversation_assignee;
                CREATE INDEX conversation_assignee ON conversation(assignee_id) WHERE assignee_id IS NOT NULL;
                DROP INDEX conversation_team;
                CREATE INDEX conversation_team ON conversation(team_id) WHERE team_id IS NOT NULL;
                DROP INDEX conversation_offered;
                CREATE INDEX conversation_offered ON conversation(offered_to) WHERE offered_to IS NOT NULL;
                DROP INDEX message_external;
                CREATE UNIQUE INDEX message_external ON message(channel, direction, external_id) WHERE external_id IS NOT NULL;
                -- Claims of a row whose previous claim never recorded an outcome (the dispatcher stopped mid-send).
                ALTER TABLE outbox ADD COLUMN reclaimed INTEGER NOT NULL DEFAULT 0;
                """)
        }
        return migrator
    }
}
