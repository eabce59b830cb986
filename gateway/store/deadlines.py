"""Durable clock deadlines. A deadline's `key` is unique, so planning the same deadline twice (a restart, a
message handled again) never doubles it; firing flips pending -> fired exactly once."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from gateway.store.core import StoreCore, dumps


@dataclass(frozen=True)
class Deadline:
    id: int
    escalation_id: int
    kind: str
    key: str
    due_at: str
    status: str
    detail: dict[str, Any]
    created_at: str
    fired_at: str | None


def _deadline(row: sqlite3.Row) -> Deadline:
    return Deadline(row["id"], row["escalation_id"], row["kind"], row["key"], row["due_at"], row["status"],
                    json.loads(row["detail"]), row["created_at"], row["fired_at"])


class DeadlineStore(StoreCore):
    def plan_deadline(self, *, escalation_id: int, kind: str, key: str, due_at: str,
                      detail: dict[str, Any] | None = None) -> bool:
        """Plan a deadline once per key. Returns False when that key was planned before (in any status)."""
        cur = self._exec("INSERT OR IGNORE INTO deadlines (escalation_id, kind, key, due_at, detail, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?)",
                         (escalation_id, kind, key, due_at, dumps(detail or {}), self.now()))
        return cur.rowcount == 1

    def cancel_deadlines(self, escalation_id: int, kinds: list[str] | None = None) -> int:
        """Cancel pending deadlines of an escalation (of the given kinds, or all). Returns how many."""
        if kinds:
            marks = ", ".join("?" * len(kinds))
            cur = self._exec(f"UPDATE deadlines SET status = 'cancelled' WHERE escalation_id = ? AND status ="
                             f" 'pending' AND kind IN ({marks})", (escalation_id, *kinds))
        else:
            cur = self._exec("UPDATE deadlines SET status = 'cancelled' WHERE escalation_id = ? AND status ="
                             " 'pending'", (escalation_id,))
        return cur.rowcount

    def due_deadlines(self, now: str, limit: int = 100) -> list[Deadline]:
        rows = self._all("SELECT * FROM deadlines WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id"
                         " LIMIT ?", (now, limit))
        return [_deadline(r) for r in rows]

    def claim_deadline(self, deadline_id: int) -> bool:
        """pending -> fired; False when another run (or an earlier attempt that committed) already fired it."""
        cur = self._exec("UPDATE deadlines SET status = 'fired', fired_at = ? WHERE id = ? AND status = 'pending'",
                         (self.now(), deadline_id))
        return cur.rowcount == 1

    def deadlines_for(self, escalation_id: int, status: str | None = None) -> list[Deadline]:
        if status is None:
            rows = self._all("SELECT * FROM deadlines WHERE escalation_id = ? ORDER BY due_at, id", (escalation_id,))
        else:
            rows = self._all("SELECT * FROM deadlines WHERE escalation_id = ? AND status = ? ORDER BY due_at, id",
                             (escalation_id, status))
        return [_deadline(r) for r in rows]

    def next_deadline(self, escalation_id: int) -> Deadline | None:
        row = self._one("SELECT * FROM deadlines WHERE escalation_id = ? AND status = 'pending'"
                        " ORDER BY due_at, id LIMIT 1", (escalation_id,))
        return None if row is None else _deadline(row)

    def count_deadlines(self, status: str | None = None) -> int:
        if status is None:
            row = self._one("SELECT COUNT(*) FROM deadlines")
        else:
            row = self._one("SELECT COUNT(*) FROM deadlines WHERE status = ?", (status,))
        return int(row[0]) if row else 0
