"""Queueing Zendesk side effects in the same transaction as the state change that causes them."""

from __future__ import annotations

from typing import Any

from gateway.config import Config
from gateway.store import Escalation, Store
from gateway.store.core import dumps


def queue_event_note(store: Store, config: Config, *, escalation: Escalation, kind: str, cause_ref: str,
                     detail: dict[str, Any]) -> None:
    """Queue an internal note (and field/tag updates) for an escalation event. Idempotent per cause.
    `detail` must already be scrubbed: it is shown to agents in Zendesk."""
    status = "pending" if config.zendesk is not None else "local"
    store.enqueue_zendesk_job(escalation_id=escalation.id, zendesk_ticket=escalation.zendesk_ticket, kind="note",
                              idempotency_key=f"note:{escalation.id}:{kind}:{cause_ref}",
                              payload=dumps({"event": kind, **detail}), status=status)
