"""Retention: raw mail content is removed after [retention] raw_days; the escalation's facts stay.

Kept for good: `messages` rows (ids, vendor, event, ticket numbers: no subject, no body), events, message
links, escalations, outbox metadata (kind, recipients, Message-ID, status, times), the audit log.
Removed at retention age: raw_messages.content (-> NULL, purged_at set) for mail that was handled (processed,
quarantined, duplicate; never 'new'), and the content of outbox rows that left or were given up on (sent,
dead, dry_run; -> empty, purged_at set) together with the server's per-recipient refusal text and, for the
file transport, the .eml copy in the outbox directory.

The purge runs with SQLite secure_delete on (freed pages are zeroed) and ends with a WAL checkpoint
(TRUNCATE), so the removed bytes do not linger in the database file or its write-ahead log.

Callers: `mailgate purge [--dry-run]`, and the service task `purge_task` (every purge_interval_hours).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.clock import iso

if TYPE_CHECKING:
    from gateway.runtime import Runtime
    from gateway.service import Service

log = logging.getLogger("mailgate.retention")


@dataclass
class PurgeReport:
    cutoff: str | None          # ISO time; content received before it is removed (None: retention disabled)
    raw_ids: list[int]
    outbox_ids: list[int]
    dry_run: bool
    files: int = 0              # .eml copies removed from the file outbox (file transport, replay, demo)

    @property
    def total(self) -> int:
        return len(self.raw_ids) + len(self.outbox_ids)


def cutoff_for(rt: Runtime) -> str | None:
    days = rt.config.retention.raw_days
    if days <= 0:
        return None
    return iso(rt.clock.now() - timedelta(days=days))


def purge_due(rt: Runtime, *, dry_run: bool = False, actor: str = "gateway") -> PurgeReport:
    """Remove raw content older than [retention] raw_days (0 = keep forever). Idempotent; audited.
    Must run on the thread that owns `rt.store` (the service runs it in its pipeline worker)."""
    cutoff = cutoff_for(rt)
    if cutoff is None:
        return PurgeReport(None, [], [], dry_run)
    store = rt.store
    raw_ids, outbox_ids = store.purgeable_raw(cutoff), store.purgeable_outbox(cutoff)
    report = PurgeReport(cutoff, raw_ids, outbox_ids, dry_run)
    if dry_run or not report.total:
        return report
    message_ids = store.outbox_message_ids(outbox_ids)
    store.secure_delete()
    with store.transaction():
        store.purge_raw_content(raw_ids)
        store.purge_outbox_content(outbox_ids)
        store.audit(actor=actor, action="retention:purge", target="raw_messages,outbox", cause_type="system",
                    cause_ref=f"retention:{rt.config.retention.raw_days}d",
                    detail={"cutoff": cutoff, "raw": len(raw_ids), "outbox": len(outbox_ids),
                            "first_raw_id": raw_ids[0] if raw_ids else None,
                            "last_raw_id": raw_ids[-1] if raw_ids else None})
    with contextlib.suppress(Exception):  # a busy reader can delay the checkpoint; the next purge retries it
        store.checkpoint_wal()
    report.files = remove_outbox_files(rt.config.outbox_path, message_ids)
    log.info("retention purge", extra={"count": report.total, "purged": len(raw_ids)})
    return report


def remove_outbox_files(directory: Path, message_ids: list[str]) -> int:
    """The file transport keeps a copy of each message it "sent"; it goes with the row's content."""
    from gateway.transport.file import file_name_for

    removed = 0
    for message_id in message_ids:
        path = directory / file_name_for(message_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def secure_state(state_dir: Path) -> list[str]:
    """Tighten the state directory to 0700 and the database files to 0600 (they hold raw mail until
    retention, and the OAuth token cache). Returns what was changed, for the log and `mailgate check`."""
    changed: list[str] = []
    targets = [(state_dir, 0o700)] + [(p, 0o600) for p in sorted(state_dir.glob("mailgate.sqlite3*"))]
    for path, mode in targets:
        try:
            current = stat.S_IMODE(path.stat().st_mode)
            if current & ~mode:
                os.chmod(path, current & mode)
                changed.append(path.name)
        except OSError:  # not ours to change (another owner): `mailgate check` reports the mode
            continue
    return changed


async def purge_task(service: Service) -> None:
    """The service task: tighten the state directory's permissions, then purge at start and every
    [retention] purge_interval_hours, in the pipeline worker."""
    changed = secure_state(service.rt.config.state_path)
    if changed:
        log.warning("state permissions tightened", extra={"count": len(changed)})
    hours = service.rt.config.retention.purge_interval_hours
    if service.rt.config.retention.raw_days <= 0 or hours <= 0:
        return
    while not service.stopping.is_set():
        try:
            await service.in_worker(purge_due, service.rt)
        except Exception as exc:  # a failed purge is retried at the next interval; the service carries on
            log.exception("retention purge failed", extra={"error_type": type(exc).__name__})
        await service.pause(hours * 3600)
