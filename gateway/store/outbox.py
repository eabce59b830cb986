"""The outbox: complete outgoing messages, written before any attempt, moved through their states."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from gateway.clock import iso
from gateway.store.core import StoreCore


@dataclass(frozen=True)
class OutboxItem:
    id: int
    escalation_id: int | None
    kind: str
    dedupe_key: str
    message_id: str
    mail_from: str
    recipients: list[str]
    content: bytes
    status: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    created_at: str
    sent_at: str | None


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(row["id"], row["escalation_id"], row["kind"], row["dedupe_key"], row["message_id"],
                      row["mail_from"], json.loads(row["recipients"]), row["content"], row["status"],
                      row["attempts"], row["next_attempt_at"], row["last_error"], row["created_at"], row["sent_at"])


class OutboxStore(StoreCore):
    def enqueue(self, *, kind: str, dedupe_key: str, message_id: str, mail_from: str, recipients: list[str],
                content: bytes, escalation_id: int | None = None, status: str = "pending") -> tuple[int, bool]:
        """Queue a message once per dedupe_key. Returns (outbox id, created)."""
        cur = self._exec(
            "INSERT OR IGNORE INTO outbox (escalation_id, kind, dedupe_key, message_id, mail_from, recipients,"
            " content, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (escalation_id, kind, dedupe_key, message_id, mail_from, json.dumps(recipients), content, status,
             self.now(), self.now()))
        row = self._one("SELECT id FROM outbox WHERE dedupe_key = ?", (dedupe_key,))
        assert row is not None
        return int(row[0]), cur.rowcount == 1

    def outbox_item(self, outbox_id: int) -> OutboxItem | None:
        row = self._one("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
        return None if row is None else _item(row)

    def due_outbox(self, limit: int = 50) -> list[OutboxItem]:
        """Pending rows whose time has come, plus rows left in 'sending' by a crash (to be verified)."""
        rows = self._all(
            "SELECT * FROM outbox WHERE status IN ('pending', 'sending') AND next_attempt_at <= ?"
            " ORDER BY id LIMIT ?", (self.now(), limit))
        return [_item(r) for r in rows]

    def outbox_items(self, escalation_id: int | None = None, status: str | None = None) -> list[OutboxItem]:
        sql, params = "SELECT * FROM outbox WHERE 1=1", list[object]()
        if escalation_id is not None:
            sql += " AND escalation_id = ?"
            params.append(escalation_id)
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return [_item(r) for r in self._all(sql + " ORDER BY id", tuple(params))]

    def mark_sending(self, outbox_id: int) -> None:
        self._exec("UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (outbox_id,))

    def mark_sent(self, outbox_id: int, status: str = "sent") -> None:
        self._exec("UPDATE outbox SET status = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                   (status, self.now(), outbox_id))

    def mark_retry(self, outbox_id: int, error: str, delay_seconds: float) -> None:
        due = iso(self.clock.now() + timedelta(seconds=delay_seconds))
        self._exec("UPDATE outbox SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
                   (error, due, outbox_id))

    def mark_dead(self, outbox_id: int, error: str) -> None:
        self._exec("UPDATE outbox SET status = 'dead', last_error = ? WHERE id = ?", (error, outbox_id))

    def mark_held(self, outbox_id: int, error: str) -> None:
        self._exec("UPDATE outbox SET status = 'held', last_error = ? WHERE id = ?", (error, outbox_id))

    def record_recipient(self, outbox_id: int, recipient: str, status: str, code: int | None, detail: str) -> None:
        self._exec("INSERT OR REPLACE INTO outbox_recipients (outbox_id, recipient, status, code, detail)"
                   " VALUES (?, ?, ?, ?, ?)", (outbox_id, recipient, status, code, detail))

    def outbox_depth(self) -> tuple[int, str | None]:
        """Rows waiting to leave, and the creation time of the oldest."""
        row = self._one("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status IN ('pending', 'sending')")
        return (int(row[0]), row[1]) if row else (0, None)
