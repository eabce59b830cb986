"""The audit log, the quarantine, retention and the operational read-outs (health, gauges)."""

from __future__ import annotations

import sqlite3
from typing import Any

from gateway.store.core import StoreCore, dumps

# Raw mail in these states has been handled (or set aside) and may lose its content at retention age;
# 'new' is never purged: it has not been read yet.
PURGEABLE_RAW_STATES = ("processed", "quarantined", "duplicate")
# Outbox rows whose content is no longer needed to deliver them.
PURGEABLE_OUTBOX_STATES = ("sent", "dead", "dry_run")


class OpsStore(StoreCore):
    # -- audit ------------------------------------------------------------------------------------------------
    def audit(self, *, actor: str, action: str, target: str = "", cause_type: str = "system",
              cause_ref: str = "", detail: dict[str, Any] | None = None) -> None:
        """Record an action the gateway took or a command it obeyed. `detail` must hold no PHI."""
        self._exec("INSERT INTO audit_log (at, actor, action, target, cause_type, cause_ref, detail)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (self.now(), actor, action, target, cause_type, cause_ref, dumps(detail or {})))

    def audit_entries(self, since: str | None = None) -> list[sqlite3.Row]:
        if since:
            return self._all("SELECT * FROM audit_log WHERE at >= ? ORDER BY id", (since,))
        return self._all("SELECT * FROM audit_log ORDER BY id")

    def escalation_events_since(self, since: str | None = None) -> list[sqlite3.Row]:
        """State changes and facts recorded by the lifecycle (the `events` table), for the audit view."""
        sql = ("SELECT id, created_at AS at, escalation_id, kind, from_state, to_state, cause_type, cause_ref,"
               " detail FROM events")
        if since:
            return self._all(sql + " WHERE created_at >= ? ORDER BY id", (since,))
        return self._all(sql + " ORDER BY id")

    # -- quarantine -------------------------------------------------------------------------------------------
    def quarantine_add(self, *, reason: str, detail: str = "", raw_id: int | None = None,
                       outbox_id: int | None = None) -> int:
        """Set an item aside once (a second call for the same held item returns its id). Audited here, so
        every caller's quarantine is on the trail with the message or outbox row that caused it."""
        # Dedupe only on a real item: holds with neither a message nor an outbox row are distinct events.
        existing = None
        if raw_id is not None or outbox_id is not None:
            existing = self._one("SELECT id FROM quarantine WHERE raw_id IS ? AND outbox_id IS ? AND status = 'held'",
                                 (raw_id, outbox_id))
        if existing is not None:
            return int(existing[0])
        cur = self._exec("INSERT INTO quarantine (raw_id, outbox_id, reason, detail, created_at)"
                         " VALUES (?, ?, ?, ?, ?)", (raw_id, outbox_id, reason, detail, self.now()))
        item_id = int(cur.lastrowid or 0)
        cause_type, cause_ref = (("message", f"raw:{raw_id}") if raw_id is not None
                                 else ("system", f"outbox:{outbox_id}"))
        self.audit(actor="gateway", action=f"quarantine:{reason}", target=f"quarantine:{item_id}",
                   cause_type=cause_type, cause_ref=cause_ref)
        return item_id

    def quarantine_items(self, status: str | None = "held") -> list[sqlite3.Row]:
        if status is None:
            return self._all("SELECT * FROM quarantine ORDER BY id")
        return self._all("SELECT * FROM quarantine WHERE status = ? ORDER BY id", (status,))

    def quarantine_item(self, item_id: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM quarantine WHERE id = ?", (item_id,))

    def quarantine_resolve(self, item_id: int, status: str) -> None:
        self._exec("UPDATE quarantine SET status = ?, resolved_at = ? WHERE id = ?", (status, self.now(), item_id))

    def raw_info(self, raw_id: int) -> sqlite3.Row | None:
        """The raw message's bookkeeping without its content."""
        return self._one("SELECT id, sha256, message_id, source, source_key, size, received_at, status, purged_at,"
                         " content IS NOT NULL AS has_content FROM raw_messages WHERE id = ?", (raw_id,))

    def requeue_outbox(self, outbox_id: int) -> None:
        """An operator released a held outbox row: it leaves at the next sender pass."""
        self._exec("UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE id = ? AND status IN"
                   " ('held', 'dead')", (self.now(), outbox_id))

    # -- retention --------------------------------------------------------------------------------------------
    def purgeable_raw(self, cutoff: str) -> list[int]:
        marks = ", ".join("?" for _ in PURGEABLE_RAW_STATES)
        return [r[0] for r in self._all(
            f"SELECT id FROM raw_messages WHERE content IS NOT NULL AND received_at < ? AND status IN ({marks})"
            " ORDER BY id", (cutoff, *PURGEABLE_RAW_STATES))]

    def purgeable_outbox(self, cutoff: str) -> list[int]:
        marks = ", ".join("?" for _ in PURGEABLE_OUTBOX_STATES)
        return [r[0] for r in self._all(
            f"SELECT id FROM outbox WHERE purged_at IS NULL AND COALESCE(sent_at, created_at) < ?"
            f" AND status IN ({marks}) ORDER BY id", (cutoff, *PURGEABLE_OUTBOX_STATES))]

    def outbox_message_ids(self, outbox_ids: list[int]) -> list[str]:
        """The Message-IDs of these outbox rows, in one query per 500 ids (without reading their content)."""
        found: list[str] = []
        for start in range(0, len(outbox_ids), 500):
            chunk = outbox_ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            found += [r[0] for r in self._all(f"SELECT message_id FROM outbox WHERE id IN ({marks})"
                                              " AND message_id IS NOT NULL ORDER BY id", tuple(chunk))]
        return found

    def purge_raw_content(self, raw_ids: list[int]) -> None:
        """Drop the raw bytes; and the sender address of mail that belongs to no vendor and no escalation
        (strangers, unreadable mail): kept only for triage, it is the one fact that can identify a person."""
        now = self.now()
        for raw_id in raw_ids:
            self._exec("UPDATE raw_messages SET content = NULL, purged_at = ? WHERE id = ?", (now, raw_id))
            self._exec("UPDATE messages SET from_addr = NULL WHERE raw_id = ? AND vendor IS NULL"
                       " AND id NOT IN (SELECT message_id FROM message_links)", (raw_id,))

    def purge_outbox_content(self, outbox_ids: list[int]) -> None:
        now = self.now()
        for outbox_id in outbox_ids:
            self._exec("UPDATE outbox SET content = X'', purged_at = ? WHERE id = ?", (now, outbox_id))
            self._exec("UPDATE outbox_recipients SET detail = NULL WHERE outbox_id = ?", (outbox_id,))

    def secure_delete(self) -> None:
        """Overwrite freed pages with zeros, so purged content does not linger in the file."""
        self._exec("PRAGMA secure_delete = ON")

    def checkpoint_wal(self) -> None:
        """Fold the WAL into the database and truncate it (it would otherwise keep old page images)."""
        self._exec("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- operational read-outs --------------------------------------------------------------------------------
    def deadlines_overdue(self) -> int:
        row = self._one("SELECT COUNT(*) FROM deadlines WHERE status = 'pending' AND due_at < ?", (self.now(),))
        return int(row[0]) if row else 0

    def sent_by_kind(self) -> dict[str, int]:
        rows = self._all("SELECT kind, COUNT(*) FROM outbox WHERE status = 'sent' GROUP BY kind")
        return {str(r[0]): int(r[1]) for r in rows}

    def failed_attempts_by_kind(self) -> dict[str, int]:
        """Attempts that did not deliver: every attempt of a row, less the one that succeeded (sent) or is in
        flight (sending)."""
        rows = self._all("SELECT kind, SUM(attempts - CASE WHEN status IN ('sent', 'sending') THEN 1 ELSE 0 END)"
                         " FROM outbox WHERE attempts > 0 GROUP BY kind")
        return {str(r[0]): max(0, int(r[1] or 0)) for r in rows}

    def scrub_findings_by_category(self) -> dict[str, int]:
        """Sum of {"categories": {name: count}} over the audit log (the scrubber records one per message)."""
        rows = self._all("SELECT c.key, SUM(c.value) FROM audit_log, json_each(audit_log.detail, '$.categories') AS c"
                         " WHERE json_type(audit_log.detail, '$.categories') = 'object' GROUP BY c.key")
        return {str(r[0]): int(r[1] or 0) for r in rows}
