"""Escalations, their vendor ticket numbers, and the event history."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from gateway.store.core import StoreCore, dumps

_UPDATABLE = {
    "state", "priority", "end_user_email", "agent_email", "subject", "root_message_id",
    "last_vendor_message_id", "vendor_reply_to", "reopen_count", "miss_count", "acknowledged_at",
}
# Every escalation read carries its current vendor ticket number, in the same query (not one more per row).
_SELECT = ("SELECT e.*, (SELECT v.number FROM vendor_tickets v WHERE v.escalation_id = e.id AND v.is_current = 1)"
           " AS vendor_ticket FROM escalations e")


@dataclass(frozen=True)
class Escalation:
    id: int
    zendesk_ticket: str
    vendor: str
    state: str
    priority: str | None
    end_user_email: str | None
    agent_email: str | None
    subject: str | None
    root_message_id: str | None
    last_vendor_message_id: str | None
    vendor_reply_to: str | None
    reopen_count: int
    miss_count: int
    acknowledged_at: str | None
    created_at: str
    updated_at: str
    vendor_ticket: str | None = None


@dataclass(frozen=True)
class Event:
    id: int
    escalation_id: int | None
    kind: str
    from_state: str | None
    to_state: str | None
    cause_type: str
    cause_ref: str
    detail: dict[str, Any]
    created_at: str


def _escalation(row: sqlite3.Row) -> Escalation:
    return Escalation(**{k: row[k] for k in row.keys() if k in Escalation.__dataclass_fields__})


class EscalationStore(StoreCore):
    def create_escalation(self, *, zendesk_ticket: str, vendor: str, state: str,
                          **extra: Any) -> tuple[Escalation, bool]:
        """Create, or return the existing escalation for (Zendesk ticket, vendor). Returns (row, created)."""
        bad = set(extra) - _UPDATABLE
        if bad:
            raise ValueError(f"unknown escalation fields: {sorted(bad)}")
        now = self.now()
        cols = ["zendesk_ticket", "vendor", "state", "created_at", "updated_at", *extra]
        vals = [zendesk_ticket, vendor, state, now, now, *extra.values()]
        cur = self._exec(
            f"INSERT OR IGNORE INTO escalations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", tuple(vals))
        found = self.escalation_by_ticket(zendesk_ticket, vendor)
        assert found is not None
        return found, cur.rowcount == 1

    def escalation(self, escalation_id: int) -> Escalation | None:
        row = self._one(f"{_SELECT} WHERE e.id = ?", (escalation_id,))
        return None if row is None else _escalation(row)

    def escalations_for_ticket(self, zendesk_ticket: str) -> list[Escalation]:
        rows = self._all(f"{_SELECT} WHERE e.zendesk_ticket = ? ORDER BY e.id", (zendesk_ticket,))
        return [_escalation(r) for r in rows]

    def escalation_by_ticket(self, zendesk_ticket: str, vendor: str) -> Escalation | None:
        row = self._one(f"{_SELECT} WHERE e.zendesk_ticket = ? AND e.vendor = ?", (zendesk_ticket, vendor))
        return None if row is None else _escalation(row)

    def escalation_by_vendor_ticket(self, number: str, vendor: str) -> Escalation | None:
        row = self._one(
            f"{_SELECT} JOIN vendor_tickets t ON t.escalation_id = e.id"
            " WHERE t.number = ? AND e.vendor = ? ORDER BY t.is_current DESC LIMIT 1", (number, vendor))
        return None if row is None else _escalation(row)

    def escalation_subjects(self, vendor: str) -> list[tuple[int, str]]:
        """(id, subject as sent) of a vendor's escalations that have one, newest first (linking by subject)."""
        rows = self._all("SELECT id, subject FROM escalations WHERE vendor = ? AND subject IS NOT NULL"
                         " AND subject != '' ORDER BY id DESC", (vendor,))
        return [(int(r[0]), str(r[1])) for r in rows]

    def list_escalations(self, states: list[str] | None = None) -> list[Escalation]:
        if states:
            marks = ", ".join("?" * len(states))
            rows = self._all(f"{_SELECT} WHERE e.state IN ({marks}) ORDER BY e.id", tuple(states))
        else:
            rows = self._all(f"{_SELECT} ORDER BY e.id")
        return [_escalation(r) for r in rows]

    def update_escalation(self, escalation_id: int, **changes: Any) -> None:
        bad = set(changes) - _UPDATABLE
        if bad:
            raise ValueError(f"unknown escalation fields: {sorted(bad)}")
        if not changes:
            return
        sets = ", ".join(f"{k} = ?" for k in changes)
        self._exec(f"UPDATE escalations SET {sets}, updated_at = ? WHERE id = ?",
                   (*changes.values(), self.now(), escalation_id))

    # -- vendor ticket numbers ------------------------------------------------------------------------
    def add_vendor_ticket(self, escalation_id: int, number: str, system: str) -> bool:
        """Record a vendor ticket number; a new number becomes the current one. Returns True if new."""
        if self._one("SELECT 1 FROM vendor_tickets WHERE escalation_id = ? AND number = ?", (escalation_id, number)):
            return False
        self._exec("UPDATE vendor_tickets SET is_current = 0 WHERE escalation_id = ?", (escalation_id,))
        self._exec("INSERT INTO vendor_tickets (escalation_id, number, system, is_current, first_seen_at)"
                   " VALUES (?, ?, ?, 1, ?)", (escalation_id, number, system, self.now()))
        return True

    def current_vendor_ticket(self, escalation_id: int) -> str | None:
        row = self._one("SELECT number FROM vendor_tickets WHERE escalation_id = ? AND is_current = 1",
                        (escalation_id,))
        return None if row is None else str(row[0])

    def vendor_tickets(self, escalation_id: int) -> list[str]:
        return [r[0] for r in self._all(
            "SELECT number FROM vendor_tickets WHERE escalation_id = ? ORDER BY first_seen_at, rowid",
            (escalation_id,))]

    # -- events ---------------------------------------------------------------------------------------
    def add_event(self, *, escalation_id: int | None, kind: str, cause_type: str, cause_ref: str,
                  from_state: str | None = None, to_state: str | None = None,
                  detail: dict[str, Any] | None = None) -> bool:
        """Append an event. Returns False when this (escalation, kind, cause) was already recorded."""
        cur = self._exec(
            "INSERT OR IGNORE INTO events (escalation_id, kind, from_state, to_state, cause_type, cause_ref,"
            " detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (escalation_id, kind, from_state, to_state, cause_type, cause_ref, dumps(detail or {}), self.now()))
        return cur.rowcount == 1

    def has_event(self, escalation_id: int | None, kind: str, cause_type: str, cause_ref: str) -> bool:
        return self._one("SELECT 1 FROM events WHERE escalation_id IS ? AND kind = ? AND cause_type = ?"
                         " AND cause_ref = ?", (escalation_id, kind, cause_type, cause_ref)) is not None

    def events(self, escalation_id: int) -> list[Event]:
        rows = self._all("SELECT * FROM events WHERE escalation_id = ? ORDER BY id", (escalation_id,))
        return [Event(r["id"], r["escalation_id"], r["kind"], r["from_state"], r["to_state"], r["cause_type"],
                      r["cause_ref"], json.loads(r["detail"]), r["created_at"]) for r in rows]
