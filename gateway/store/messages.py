"""Raw mail, source checkpoints, the per-message decision facts, and message-escalation links."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from typing import Any

from gateway.store.core import StoreCore, dumps


@dataclass(frozen=True)
class RawMessage:
    id: int
    sha256: str
    message_id: str | None
    source: str
    source_key: str | None
    status: str
    content: bytes | None


def _raw(row: sqlite3.Row) -> RawMessage:
    return RawMessage(row["id"], row["sha256"], row["message_id"], row["source"], row["source_key"],
                      row["status"], row["content"])


class MessageStore(StoreCore):
    # -- raw ------------------------------------------------------------------------------------------
    def add_raw(self, content: bytes, source: str, source_key: str | None,
                message_id: str | None) -> tuple[RawMessage, bool]:
        """Store raw bytes once (content-addressed). Returns (row, created). Records the source key as seen."""
        digest = hashlib.sha256(content).hexdigest()
        with self.transaction():
            cur = self._exec(
                "INSERT OR IGNORE INTO raw_messages"
                " (sha256, message_id, source, source_key, size, content, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (digest, message_id, source, source_key, len(content), content, self.now()),
            )
            created = cur.rowcount == 1
            row = self._one("SELECT * FROM raw_messages WHERE sha256 = ?", (digest,))
            assert row is not None
            if source_key is not None:
                self.mark_seen(source, source_key, row["id"])
        return _raw(row), created

    def raw(self, raw_id: int) -> RawMessage | None:
        row = self._one("SELECT * FROM raw_messages WHERE id = ?", (raw_id,))
        return None if row is None else _raw(row)

    def raw_with_message_id(self, message_id: str, exclude_id: int) -> RawMessage | None:
        row = self._one(
            "SELECT * FROM raw_messages WHERE message_id = ? AND id != ? AND status = 'processed' LIMIT 1",
            (message_id, exclude_id),
        )
        return None if row is None else _raw(row)

    def pending_raw_ids(self) -> list[int]:
        return [r[0] for r in self._all("SELECT id FROM raw_messages WHERE status = 'new' ORDER BY id")]

    def set_raw_status(self, raw_id: int, status: str) -> None:
        self._exec("UPDATE raw_messages SET status = ? WHERE id = ?", (status, raw_id))

    def count_raw(self, status: str | None = None) -> int:
        if status is None:
            row = self._one("SELECT COUNT(*) FROM raw_messages")
        else:
            row = self._one("SELECT COUNT(*) FROM raw_messages WHERE status = ?", (status,))
        return int(row[0]) if row else 0

    # -- sources --------------------------------------------------------------------------------------
    def mark_seen(self, source: str, source_key: str, raw_id: int | None) -> None:
        self._exec("INSERT OR IGNORE INTO source_seen (source, source_key, raw_id, seen_at) VALUES (?, ?, ?, ?)",
                   (source, source_key, raw_id, self.now()))

    def is_seen(self, source: str, source_key: str) -> bool:
        return self._one("SELECT 1 FROM source_seen WHERE source = ? AND source_key = ?",
                         (source, source_key)) is not None

    def checkpoint(self, source: str) -> tuple[int | None, int | None]:
        row = self._one("SELECT uidvalidity, last_uid FROM checkpoints WHERE source = ?", (source,))
        return (None, None) if row is None else (row["uidvalidity"], row["last_uid"])

    def set_checkpoint(self, source: str, uidvalidity: int, last_uid: int) -> None:
        self._exec(
            "INSERT INTO checkpoints (source, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(source) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
            " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
            (source, uidvalidity, last_uid, self.now()),
        )

    # -- decision facts -------------------------------------------------------------------------------
    def record_message(self, *, raw_id: int | None, direction: str, facts: dict[str, Any]) -> int:
        """Store what was decided about a message (no body). Idempotent per raw message."""
        if raw_id is not None:
            existing = self._one("SELECT id FROM messages WHERE raw_id = ?", (raw_id,))
            if existing is not None:
                return int(existing["id"])
        cur = self._exec(
            "INSERT INTO messages (raw_id, direction, message_id, in_reply_to, from_addr, date, vendor, trusted,"
            " event, vendor_ticket, zendesk_ticket, flags, decision, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (raw_id, direction, facts.get("message_id"), facts.get("in_reply_to"), facts.get("from"),
             facts.get("date"), facts.get("vendor"), int(bool(facts.get("trusted"))), facts.get("event"),
             facts.get("vendor_ticket"), facts.get("zendesk_ticket"), dumps(facts.get("flags", [])),
             dumps(facts.get("decision", {})), self.now()),
        )
        return int(cur.lastrowid or 0)

    def message_row(self, message_pk: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM messages WHERE id = ?", (message_pk,))

    def link_message(self, message_pk: int, escalation_id: int, method: str) -> None:
        self._exec("INSERT OR IGNORE INTO message_links (message_id, escalation_id, method, created_at)"
                   " VALUES (?, ?, ?, ?)", (message_pk, escalation_id, method, self.now()))

    def escalation_for_message_id(self, message_id: str) -> int | None:
        """The escalation a Message-ID (ours or one we received) belongs to, if any."""
        row = self._one(
            "SELECT l.escalation_id FROM messages m JOIN message_links l ON l.message_id = m.id"
            " WHERE m.message_id = ? ORDER BY l.created_at LIMIT 1", (message_id,))
        if row is None:
            row = self._one("SELECT escalation_id FROM outbox WHERE message_id = ? AND escalation_id IS NOT NULL",
                            (message_id,))
        return None if row is None else int(row[0])

    def messages_for_escalation(self, escalation_id: int) -> list[sqlite3.Row]:
        return self._all(
            "SELECT m.*, l.method AS link_method FROM messages m JOIN message_links l ON l.message_id = m.id"
            " WHERE l.escalation_id = ? ORDER BY m.id", (escalation_id,))
