"""The store: SQLite in WAL mode, the gateway's source of truth. The only module that speaks SQL.

`Store` composes one mixin per area so that each area's queries live together in a small file.
"""

from __future__ import annotations

from gateway.store.deadlines import Deadline, DeadlineStore
from gateway.store.escalations import Escalation, EscalationStore, Event
from gateway.store.messages import MessageStore, RawMessage
from gateway.store.ops import OpsStore
from gateway.store.outbox import OutboxItem, OutboxStore
from gateway.store.zendesk_jobs import ZendeskJobStore


class Store(MessageStore, EscalationStore, OutboxStore, OpsStore, ZendeskJobStore, DeadlineStore):
    """All of the gateway's durable state."""


__all__ = ["Deadline", "Escalation", "Event", "OutboxItem", "RawMessage", "Store"]
