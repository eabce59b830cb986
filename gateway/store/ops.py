"""The audit log and the quarantine."""

from __future__ import annotations

import sqlite3
from typing import Any

from gateway.store.core import StoreCore, dumps


class OpsStore(StoreCore):
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

    def quarantine_add(self, *, reason: str, detail: str = "", raw_id: int | None = None,
                       outbox_id: int | None = None) -> int:
        existing = self._one("SELECT id FROM quarantine WHERE raw_id IS ? AND outbox_id IS ? AND status = 'held'",
                             (raw_id, outbox_id))
        if existing is not None:
            return int(existing[0])
        cur = self._exec("INSERT INTO quarantine (raw_id, outbox_id, reason, detail, created_at)"
                         " VALUES (?, ?, ?, ?, ?)", (raw_id, outbox_id, reason, detail, self.now()))
        return int(cur.lastrowid or 0)

    def quarantine_items(self, status: str | None = "held") -> list[sqlite3.Row]:
        if status is None:
            return self._all("SELECT * FROM quarantine ORDER BY id")
        return self._all("SELECT * FROM quarantine WHERE status = ? ORDER BY id", (status,))

    def quarantine_item(self, item_id: int) -> sqlite3.Row | None:
        return self._one("SELECT * FROM quarantine WHERE id = ?", (item_id,))

    def quarantine_resolve(self, item_id: int, status: str) -> None:
        self._exec("UPDATE quarantine SET status = ?, resolved_at = ? WHERE id = ?", (status, self.now(), item_id))
