"""Queued Zendesk side effects (notes, field updates)."""

from __future__ import annotations

import sqlite3

from gateway.store.core import StoreCore


class ZendeskJobStore(StoreCore):
    def enqueue_zendesk_job(self, *, escalation_id: int | None, zendesk_ticket: str, kind: str,
                            idempotency_key: str, payload: str, status: str = "pending") -> bool:
        """Queue once per idempotency key. Returns True when newly queued."""
        cur = self._exec(
            "INSERT OR IGNORE INTO zendesk_jobs (escalation_id, zendesk_ticket, kind, idempotency_key, payload,"
            " status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (escalation_id, zendesk_ticket, kind, idempotency_key, payload, status, self.now(), self.now()))
        return cur.rowcount == 1

    def zendesk_jobs_for(self, escalation_id: int) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM zendesk_jobs WHERE escalation_id = ? ORDER BY id", (escalation_id,))
