"""Escalation lifecycle (skeleton; the lifecycle issue completes it with the state machine and clocks)."""

from __future__ import annotations

from gateway.inbound import Analysis
from gateway.link import Link
from gateway.outbound import send_escalation
from gateway.runtime import Runtime
from gateway.zendesk.queue import queue_event_note

VENDOR_EVENT_STATES = {
    "ack": "acknowledged", "need_info": "awaiting_agent", "progress": "in_progress", "resolved": "resolved",
    "closed_unreachable": "closed_unreachable", "closed_no_response": "closed_no_response",
    "not_vendor_issue": "not_vendor_issue",
}


def on_message(rt: Runtime, *, message_pk: int, analysis: Analysis, link: Link | None) -> None:
    """Decide what a classified message changes. Runs inside the pipeline's transaction."""
    d, store, cause = analysis.decision, rt.store, f"msg:{message_pk}"
    if d.event == "escalation_request" and d.vendor and d.zendesk_ticket and link is None:
        esc, _ = store.create_escalation(zendesk_ticket=d.zendesk_ticket, vendor=d.vendor, state="drafted",
                                         end_user_email=d.end_user_email, agent_email=analysis.parsed.from_addr)
        store.link_message(message_pk, esc.id, "created")
        outcome = send_escalation(rt, escalation=esc, analysis=analysis, cause_ref=cause)
        if outcome.sent:
            store.update_escalation(esc.id, state="sent", root_message_id=outcome.vendor_message_id)
            store.add_event(escalation_id=esc.id, kind="sent", cause_type="message", cause_ref=cause,
                            from_state="drafted", to_state="sent")
        return
    if link is None or not d.trusted or d.event not in VENDOR_EVENT_STATES:
        return
    esc = store.escalation(link.escalation_id)
    if esc is None:
        return
    if d.vendor_ticket:
        store.add_vendor_ticket(esc.id, d.vendor_ticket, d.vendor or esc.vendor)
    new_state = VENDOR_EVENT_STATES[d.event]
    if store.add_event(escalation_id=esc.id, kind=d.event, cause_type="message", cause_ref=cause,
                       from_state=esc.state, to_state=new_state):
        store.update_escalation(esc.id, state=new_state, last_vendor_message_id=analysis.parsed.message_id)
        queue_event_note(store, rt.config, escalation=esc, kind=d.event, cause_ref=cause,
                         detail={"vendor_ticket": d.vendor_ticket})


def run_due(rt: Runtime) -> int:
    """Fire clock deadlines that are due. The skeleton has no clocks yet."""
    return 0
