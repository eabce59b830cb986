"""Queued Zendesk side effects (internal notes with field and tag updates), moved through their states.

pending -> sending -> done | pending (retry) | dead;  'local' when no [zendesk] section is configured.
A job is 'uncertain' when an earlier attempt may have reached Zendesk (timeout, 5xx, crash while 'sending');
the worker then looks for the note's marker on the ticket before posting again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from gateway.store.core import StoreCore

_OPEN = "('pending', 'sending')"


@dataclass(frozen=True)
class ZendeskJob:
    id: int
    escalation_id: int | None
    zendesk_ticket: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    uncertain: bool
    next_attempt_at: str
    last_error: str | None
    created_at: str
    done_at: str | None


def _job(row: sqlite3.Row) -> ZendeskJob:
    return ZendeskJob(row["id"], row["escalation_id"], row["zendesk_ticket"], row["kind"], row["idempotency_key"],
                      json.loads(row["payload"]), row["status"], row["attempts"], bool(row["uncertain"]),
                      row["next_attempt_at"], row["last_error"], row["created_at"], row["done_at"])


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

    def zendesk_jobs(self, status: str | None = None) -> list[ZendeskJob]:
        if status is None:
            return [_job(r) for r in self._all("SELECT * FROM zendesk_jobs ORDER BY id")]
        return [_job(r) for r in self._all("SELECT * FROM zendesk_jobs WHERE status = ? ORDER BY id", (status,))]

    def due_zendesk_jobs(self, limit: int = 50) -> list[ZendeskJob]:
        """Open jobs whose time has come, oldest first, at most one per ticket: a ticket's notes go out in the
        order they were queued, so a job waiting for a retry holds back the later jobs of its ticket."""
        rows = self._all(
            f"SELECT * FROM zendesk_jobs j WHERE j.status IN {_OPEN} AND j.next_attempt_at <= ?"
            f" AND NOT EXISTS (SELECT 1 FROM zendesk_jobs e WHERE e.zendesk_ticket = j.zendesk_ticket"
            f" AND e.id < j.id AND e.status IN {_OPEN}) ORDER BY j.id LIMIT ?", (self.now(), limit))
        return [_job(r) for r in rows]

    def mark_zendesk_sending(self, job_id: int) -> None:
        """Written (and committed) before the API call: a crash after it leaves the job 'sending', uncertain."""
        self._exec("UPDATE zendesk_jobs SET status = 'sending', attempts = attempts + 1 WHERE id = ?", (job_id,))

    def mark_zendesk_done(self, job_id: int) -> None:
        self._exec("UPDATE zendesk_jobs SET status = 'done', done_at = ?, last_error = NULL, uncertain = 0"
                   " WHERE id = ?", (self.now(), job_id))

    def mark_zendesk_retry(self, job_id: int, *, error: str, next_attempt_at: str, uncertain: bool) -> None:
        """Back to 'pending' until `next_attempt_at`. `uncertain` only ever turns on here: once an attempt may
        have reached Zendesk, every later attempt checks for the marker first."""
        self._exec("UPDATE zendesk_jobs SET status = 'pending', last_error = ?, next_attempt_at = ?,"
                   " uncertain = MAX(uncertain, ?) WHERE id = ?", (error, next_attempt_at, int(uncertain), job_id))

    def mark_zendesk_dead(self, job_id: int, error: str) -> None:
        self._exec("UPDATE zendesk_jobs SET status = 'dead', last_error = ?, done_at = ? WHERE id = ?",
                   (error, self.now(), job_id))

    def requeue_zendesk_job(self, job_id: int) -> bool:
        """An operator's retry of a dead (or local) job, e.g. after fixing the ticket or configuring Zendesk.
        Keeps `uncertain`, so a job that may have been posted is still checked for its marker first."""
        cur = self._exec("UPDATE zendesk_jobs SET status = 'pending', attempts = 0, next_attempt_at = ?,"
                         " done_at = NULL WHERE id = ? AND status IN ('dead', 'local')", (self.now(), job_id))
        return cur.rowcount == 1
