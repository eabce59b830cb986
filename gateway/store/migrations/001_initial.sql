-- 001: the whole first schema. Times are ISO 8601 UTC text ("2026-11-22T10:00:00+00:00").

-- Raw mail exactly as received, content-addressed. `content` becomes NULL when retention purges it;
-- the facts extracted from it live on in `messages`.
CREATE TABLE raw_messages (
    id            INTEGER PRIMARY KEY,
    sha256        TEXT NOT NULL UNIQUE,
    message_id    TEXT,
    source        TEXT NOT NULL,           -- "maildir:/path", "imap:host/INBOX", "replay"
    source_key    TEXT,                    -- maildir key, or "<uidvalidity>:<uid>"
    size          INTEGER NOT NULL,
    content       BLOB,
    received_at   TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'new'
                  CHECK (status IN ('new', 'processed', 'quarantined', 'duplicate')),
    purged_at     TEXT
);
CREATE INDEX raw_messages_message_id ON raw_messages(message_id);
CREATE INDEX raw_messages_status ON raw_messages(status);

-- Where each source has read up to: Maildir keys seen, or IMAP (uidvalidity, last uid).
CREATE TABLE checkpoints (
    source        TEXT PRIMARY KEY,
    uidvalidity   INTEGER,
    last_uid      INTEGER,
    updated_at    TEXT NOT NULL
);
CREATE TABLE source_seen (
    source        TEXT NOT NULL,
    source_key    TEXT NOT NULL,
    raw_id        INTEGER REFERENCES raw_messages(id),
    seen_at       TEXT NOT NULL,
    PRIMARY KEY (source, source_key)
);

-- What the pipeline decided about each message (inbound) or composed (outbound); no body, no PHI.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    raw_id         INTEGER UNIQUE REFERENCES raw_messages(id),
    direction      TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    message_id     TEXT,
    in_reply_to    TEXT,
    from_addr      TEXT,
    date           TEXT,
    vendor         TEXT,
    trusted        INTEGER NOT NULL DEFAULT 0,
    event          TEXT,
    vendor_ticket  TEXT,
    zendesk_ticket TEXT,
    flags          TEXT NOT NULL DEFAULT '[]',   -- JSON list: auto_reply, out_of_office, bounce, loop, list
    decision       TEXT NOT NULL DEFAULT '{}',   -- JSON: rule hits etc.
    created_at     TEXT NOT NULL
);
CREATE INDEX messages_message_id ON messages(message_id);

CREATE TABLE escalations (
    id               INTEGER PRIMARY KEY,
    zendesk_ticket   TEXT NOT NULL,
    vendor           TEXT NOT NULL,
    state            TEXT NOT NULL,
    priority         TEXT,
    end_user_email   TEXT,
    agent_email      TEXT,
    subject          TEXT,                 -- the subject as sent to the vendor (no PHI: format fixed)
    root_message_id  TEXT,                 -- first message of the vendor thread
    last_vendor_message_id TEXT,
    vendor_reply_to  TEXT,
    reopen_count     INTEGER NOT NULL DEFAULT 0,
    miss_count       INTEGER NOT NULL DEFAULT 0,
    acknowledged_at  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (zendesk_ticket, vendor)
);
CREATE INDEX escalations_state ON escalations(state);

CREATE TABLE vendor_tickets (
    escalation_id  INTEGER NOT NULL REFERENCES escalations(id),
    number         TEXT NOT NULL,
    system         TEXT NOT NULL,
    is_current     INTEGER NOT NULL DEFAULT 1,
    first_seen_at  TEXT NOT NULL,
    PRIMARY KEY (escalation_id, number)
);
CREATE INDEX vendor_tickets_number ON vendor_tickets(number);

CREATE TABLE message_links (
    message_id     INTEGER NOT NULL REFERENCES messages(id),
    escalation_id  INTEGER NOT NULL REFERENCES escalations(id),
    method         TEXT NOT NULL,          -- how the link was found: references, token, vendor_ticket, ...
    created_at     TEXT NOT NULL,
    PRIMARY KEY (message_id, escalation_id)
);

-- Every state change and notable fact, with its cause. UNIQUE makes re-handling a no-op.
CREATE TABLE events (
    id             INTEGER PRIMARY KEY,
    escalation_id  INTEGER REFERENCES escalations(id),
    kind           TEXT NOT NULL,
    from_state     TEXT,
    to_state       TEXT,
    cause_type     TEXT NOT NULL CHECK (cause_type IN ('message', 'deadline', 'command', 'system')),
    cause_ref      TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    UNIQUE (escalation_id, kind, cause_type, cause_ref)
);
CREATE INDEX events_escalation ON events(escalation_id, id);

-- Outgoing mail, complete with its Message-ID before the first attempt.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    escalation_id   INTEGER REFERENCES escalations(id),
    kind            TEXT NOT NULL,          -- escalation, agent_reply, nudge, reopen, alert, contact_escalation, ...
    dedupe_key      TEXT NOT NULL UNIQUE,   -- at most one row per cause
    message_id      TEXT NOT NULL UNIQUE,
    mail_from       TEXT NOT NULL,
    recipients      TEXT NOT NULL,          -- JSON list
    content         BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'held', 'dry_run')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

CREATE TABLE outbox_recipients (
    outbox_id  INTEGER NOT NULL REFERENCES outbox(id),
    recipient  TEXT NOT NULL,
    status     TEXT NOT NULL,              -- accepted, refused
    code       INTEGER,
    detail     TEXT,
    PRIMARY KEY (outbox_id, recipient)
);

-- Durable clocks. `key` names the deadline uniquely so that re-planning never doubles it.
CREATE TABLE deadlines (
    id             INTEGER PRIMARY KEY,
    escalation_id  INTEGER NOT NULL REFERENCES escalations(id),
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL UNIQUE,
    due_at         TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
    detail         TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL,
    fired_at       TEXT
);
CREATE INDEX deadlines_due ON deadlines(status, due_at);

-- Zendesk side effects, queued with the state change that caused them.
CREATE TABLE zendesk_jobs (
    id              INTEGER PRIMARY KEY,
    escalation_id   INTEGER REFERENCES escalations(id),
    zendesk_ticket  TEXT NOT NULL,
    kind            TEXT NOT NULL,          -- note, fields
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,          -- JSON
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'done', 'dead', 'local')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX zendesk_jobs_due ON zendesk_jobs(status, next_attempt_at);

CREATE TABLE quarantine (
    id           INTEGER PRIMARY KEY,
    raw_id       INTEGER REFERENCES raw_messages(id),
    outbox_id    INTEGER REFERENCES outbox(id),
    reason       TEXT NOT NULL,             -- unreadable, untrusted, unknown_sender, too_large, scrub_failure
    detail       TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'dropped')),
    created_at   TEXT NOT NULL,
    resolved_at  TEXT
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,              -- "gateway", "agent:<email>", "cli:<user>"
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    cause_type  TEXT NOT NULL DEFAULT 'system',
    cause_ref   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE kv (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
