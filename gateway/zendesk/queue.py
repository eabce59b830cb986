"""Queueing Zendesk side effects in the same transaction as the state change that causes them.

The note text is rendered here, at the moment of the event, and stored with the job: what the agent reads
describes the escalation as it was when the event happened, `mailgate show` can print it even when no Zendesk
is configured (status 'local'), and a retry posts exactly the same text (with the same marker).
"""

from __future__ import annotations

from typing import Any

from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.store.core import dumps
from gateway.zendesk.notes import marker_for, render_note


def vendor_display_name(rt: Runtime, vendor: str) -> str:
    rule = rt.rules.get(vendor)
    return (rule.display_name if rule is not None else "") or vendor


def note_key(escalation_id: int, kind: str, cause_ref: str) -> str:
    return f"note:{escalation_id}:{kind}:{cause_ref}"


def queue_event_note(rt: Runtime, *, escalation: Escalation, kind: str, cause_ref: str,
                     detail: dict[str, Any]) -> None:
    """Queue an internal note (and field/tag updates) for an escalation event. Idempotent per cause.

    Call it inside the transaction that records the event. `detail` must already be scrubbed: it is shown to
    agents in Zendesk. Keys used: vendor_ticket, state (else the escalation's state as the store has it now),
    summary / question (what the vendor wrote or asked), note (agent note), priority, reason, role,
    reopen_count, miss_count, due_at, happened / next (override "What happened" / "What's next").
    Other keys are stored, not posted.
    """
    store = rt.store
    current = store.escalation(escalation.id) or escalation  # the caller may hold the row from before the change
    state = str(detail.get("state") or current.state)
    vendor_ticket = detail.get("vendor_ticket") or current.vendor_ticket
    key = note_key(escalation.id, kind, cause_ref)
    marker = marker_for(key)
    body = render_note(kind=kind, vendor=vendor_display_name(rt, escalation.vendor),
                       vendor_ticket=str(vendor_ticket) if vendor_ticket else None, state=state, detail=detail,
                       marker=marker)
    payload = {"event": kind, "vendor": escalation.vendor, "state": state, "from_state": escalation.state,
               "vendor_ticket": vendor_ticket, "priority": detail.get("priority") or current.priority,
               "detail": detail, "body": body, "marker": marker}
    status = "pending" if rt.config.zendesk is not None else "local"
    store.enqueue_zendesk_job(escalation_id=escalation.id, zendesk_ticket=escalation.zendesk_ticket, kind="note",
                              idempotency_key=key, payload=dumps(payload), status=status)
