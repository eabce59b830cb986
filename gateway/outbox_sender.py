"""Carries queued outbox rows to the transport: retries transient failures with backoff, dead-letters
permanent ones with an alert, and never sends a row twice.

Never twice: a row whose earlier attempt may have reached the server is first checked with the transport's
proof of delivery. For SMTP "may have reached" is narrow: the transport journals (durably, in the store) the
moment it starts sending the message data and clears the note only when the server refuses the data with a
code; a note left standing (crash after the 250 but before 'sent' was committed, timeout or dropped
connection after the data went out) makes delivery uncertain.
Uncertain + proof found -> sent; proof of absence (authoritative Sent folder) -> send again; no way to tell ->
held with an alert for an operator, never sent again automatically."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from gateway.alerts import raise_alert
from gateway.config import Config
from gateway.store import OutboxItem, Store
from gateway.transport import PermanentSendError, TransientSendError, Transport

log = logging.getLogger("mailgate.outbox")


def backoff_seconds(attempts: int, initial: float, cap: float) -> float:
    """Exponential back-off for the `attempts`-th try (also the Zendesk worker's)."""
    return float(min(cap, initial * (2 ** max(0, attempts - 1))))


def _data_key(message_id: str) -> str:
    return f"smtp_data:{message_id}"


class OutboxSender:
    def __init__(self, store: Store, transport: Transport, config: Config, key: bytes,
                 dry_run: bool = False) -> None:
        self.store = store
        self.transport = transport
        self.config = config
        self.key = key
        self.dry_run = dry_run or config.gateway.dry_run
        # Transports that can say when the data went out get this sender as their journal.
        self._journaled = hasattr(transport, "journal")
        if self._journaled:
            transport.journal = self  # type: ignore[attr-defined]

    # -- the delivery journal (see module docstring) --------------------------------------------------------
    def data_started(self, message_id: str) -> None:
        with self.store.transaction():
            self.store.kv_set(_data_key(message_id), "1")

    def data_refused(self, message_id: str) -> None:
        with self.store.transaction():
            self.store.kv_set(_data_key(message_id), "0")

    def _maybe_delivered(self, item: OutboxItem) -> bool:
        if self._journaled:
            return self.store.kv_get(_data_key(item.message_id)) == "1"
        return item.status == "sending"

    async def drain(self, stop: Callable[[], bool] | None = None) -> int:
        """Deliver everything that is due now (or until `stop()` says so, between two rows).
        Returns the number of rows handled."""
        handled = 0
        while True:
            due = self.store.due_outbox()
            if not due:
                return handled
            for item in due:
                if stop is not None and stop():
                    return handled
                try:
                    await self.deliver(item)
                except Exception as exc:  # one row's surprise must not wedge the queue: back off, carry on
                    log.exception("outbox row failed", extra={"outbox_id": item.id})
                    self._retry_or_die(item, f"unexpected {type(exc).__name__}")
                handled += 1

    def _recipients(self, item: OutboxItem) -> list[str]:
        redirect = self.config.transport.redirect_all_to
        return [redirect] if redirect else list(item.recipients)

    async def deliver(self, item: OutboxItem) -> None:
        if self.dry_run:
            with self.store.transaction():
                self.store.mark_sent(item.id, status="dry_run")
                self.store.audit(actor="gateway", action="outbox:dry_run", target=str(item.id),
                                 cause_ref=item.dedupe_key)
            return
        if self._maybe_delivered(item) and not await self._settle_uncertain(item):
            return
        with self.store.transaction():
            self.store.mark_sending(item.id)
        recipients = self._recipients(item)
        try:
            result = await self.transport.send(mail_from=item.mail_from, recipients=recipients,
                                               content=item.content, message_id=item.message_id)
        except TransientSendError as exc:
            self._retry_or_die(item, str(exc))
            return
        except PermanentSendError as exc:
            self._dead(item, str(exc))
            return
        with self.store.transaction():
            for rcpt in result.accepted:
                self.store.record_recipient(item.id, rcpt, "accepted", 250, "")
            for rcpt, (code, text) in result.refused.items():
                self.store.record_recipient(item.id, rcpt, "refused", code, text[:200])
            self.store.mark_sent(item.id)
            self.store.audit(actor="gateway", action=f"outbox:sent:{item.kind}", target=str(item.id),
                             cause_ref=item.dedupe_key,
                             detail={"accepted": len(result.accepted), "refused": len(result.refused)})
        log.info("outbox sent", extra={"outbox_id": item.id, "kind": item.kind})

    async def _settle_uncertain(self, item: OutboxItem) -> bool:
        """An earlier attempt may have been accepted. Returns True when it is safe to send (again)."""
        try:
            proof = await self.transport.already_delivered(item.message_id)
        except TransientSendError as exc:
            self._retry_or_die(item, str(exc))
            return False
        if proof:
            with self.store.transaction():
                self.store.mark_sent(item.id)
                self.store.audit(actor="gateway", action="outbox:sent_verified", target=str(item.id),
                                 cause_ref=item.dedupe_key)
            log.info("outbox sent (verified after interruption)", extra={"outbox_id": item.id})
            return False
        if proof is None:
            with self.store.transaction():
                self.store.mark_held(item.id, "delivery uncertain: interrupted after the data was sent")
                raise_alert(self.store, self.config, self.key, kind="delivery_uncertain",
                            text=f"Outbox message {item.id} ({item.kind}) may or may not have been delivered "
                                 "(interrupted after the data was sent); it is held, not resent. Check the "
                                 "recipient side, then release or drop it.",
                            dedupe=f"uncertain:{item.id}", escalation_id=item.escalation_id)
            log.error("outbox delivery uncertain; held", extra={"outbox_id": item.id})
            return False
        return True

    def _retry_or_die(self, item: OutboxItem, error: str) -> None:
        age_hours = (self.store.clock.now() - datetime.fromisoformat(item.created_at)).total_seconds() / 3600
        if age_hours >= self.config.transport.max_retry_age_hours:
            self._dead(item, f"gave up after {item.attempts + 1} attempts: {error}")
            return
        delay = backoff_seconds(item.attempts + 1, self.config.transport.retry_initial_seconds,
                                self.config.transport.retry_max_seconds)
        with self.store.transaction():
            self.store.mark_retry(item.id, error[:500], delay)
        log.warning("outbox retry", extra={"outbox_id": item.id, "delay_seconds": delay})

    def _dead(self, item: OutboxItem, error: str) -> None:
        with self.store.transaction():
            self.store.mark_dead(item.id, error[:500])
            if item.kind != "alert":  # an alert about a dead alert would loop
                raise_alert(self.store, self.config, self.key, kind="dead_letter",
                            text=f"Outbox message {item.id} ({item.kind}) was dead-lettered (see its outbox row).",
                            dedupe=f"dead:{item.id}", escalation_id=item.escalation_id)
        log.error("outbox dead letter", extra={"outbox_id": item.id, "kind": item.kind})
