-- 080 (operations, issue 8): retention bookkeeping. Outbox content is NOT NULL, so a purged row keeps an
-- empty blob and says when it was purged; raw_messages already has purged_at.
ALTER TABLE outbox ADD COLUMN purged_at TEXT;
CREATE INDEX raw_messages_received ON raw_messages(received_at);
CREATE INDEX audit_log_cause ON audit_log(cause_type, cause_ref);
