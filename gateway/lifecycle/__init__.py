"""Escalation lifecycle: the state machine (states.py), the vendors' clocks as durable deadlines (policy.py,
calendar.py, clocks.py), what messages and deadlines change (handlers.py, agent.py), agent commands
(commands.py) and reopen-by-reply (reopen.py).

The pipeline calls `on_message` inside its per-message transaction and `run_due` from the scheduler.
"""

from __future__ import annotations

import logging

from gateway.alerts import raise_alert
from gateway.clock import iso
from gateway.inbound import Analysis
from gateway.lifecycle.agent import on_agent_message
from gateway.lifecycle.handlers import on_bounce, on_deadline, on_vendor_message
from gateway.link import Link
from gateway.runtime import Runtime

log = logging.getLogger("mailgate.lifecycle")

__all__ = ["on_message", "run_due"]


def on_message(rt: Runtime, *, message_pk: int, analysis: Analysis, link: Link | None) -> None:
    """Decide what a classified, trusted-or-agent message changes. Runs inside the pipeline's transaction."""
    d = analysis.decision
    if analysis.guard.bounce:
        esc = rt.store.escalation(link.escalation_id) if link is not None else None
        if esc is not None:
            on_bounce(rt, esc, analysis, f"msg:{message_pk}")
        return
    if d.is_agent:
        on_agent_message(rt, message_pk, analysis, link)
        return
    if link is None or not d.trusted or d.vendor is None:
        return
    esc = rt.store.escalation(link.escalation_id)
    if esc is None or esc.vendor != d.vendor:
        return  # a vendor never moves another vendor's escalation
    on_vendor_message(rt, esc, analysis, f"msg:{message_pk}")


def run_due(rt: Runtime, limit: int = 500) -> int:
    """Fire every due deadline once, each in its own transaction with the side effects it queues. A deadline
    whose handling fails is marked fired with a `deadline_failed` event and an alert: it never blocks the
    others, and it never fires twice."""
    fired = 0
    for dl in rt.store.due_deadlines(iso(rt.clock.now()), limit):
        try:
            with rt.store.transaction():
                if not rt.store.claim_deadline(dl.id):
                    continue
                on_deadline(rt, dl)
            fired += 1
        except Exception as exc:  # one bad deadline must not stop the scheduler
            log.exception("deadline failed", extra={"deadline_id": dl.id, "error_type": type(exc).__name__})
            with rt.store.transaction():
                rt.store.claim_deadline(dl.id)
                rt.store.add_event(escalation_id=dl.escalation_id, kind="deadline_failed", cause_type="deadline",
                                   cause_ref=dl.key, detail={"kind": dl.kind, "error_type": type(exc).__name__})
                raise_alert(rt.store, rt.config, rt.key, kind="deadline_failed", dedupe=f"deadline:{dl.key}",
                            text=f"deadline {dl.id} ({dl.kind}) of escalation {dl.escalation_id} failed: "
                                 f"{type(exc).__name__}", escalation_id=dl.escalation_id)
    return fired
