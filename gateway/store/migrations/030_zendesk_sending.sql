-- Zendesk jobs: a 'sending' status (set before the API call, so a crash leaves a trace) and an
-- 'uncertain' flag (an earlier attempt may have reached Zendesk: timeout, 5xx, crash). An uncertain job is
-- first looked for on the ticket (the note's idempotency marker) before it is posted again.
-- SQLite cannot change a CHECK constraint in place, hence the rebuild.
CREATE TABLE zendesk_jobs_new (
    id              INTEGER PRIMARY KEY,
    escalation_id   INTEGER REFERENCES escalations(id),
    zendesk_ticket  TEXT NOT NULL,
    kind            TEXT NOT NULL,          -- note, fields
    idempotency_key TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,          -- JSON
    status          TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'done', 'dead', 'local')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    uncertain       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
INSERT INTO zendesk_jobs_new (id, escalation_id, zendesk_ticket, kind, idempotency_key, payload, status, attempts,
                              next_attempt_at, last_error, created_at, done_at)
    SELECT id, escalation_id, zendesk_ticket, kind, idempotency_key, payload, status, attempts, next_attempt_at,
           last_error, created_at, done_at FROM zendesk_jobs;
DROP TABLE zendesk_jobs;
ALTER TABLE zendesk_jobs_new RENAME TO zendesk_jobs;
CREATE INDEX zendesk_jobs_due ON zendesk_jobs(status, next_attempt_at);
CREATE INDEX zendesk_jobs_ticket ON zendesk_jobs(zendesk_ticket, id);
