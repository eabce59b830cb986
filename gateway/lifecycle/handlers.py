"""What a vendor message or a due deadline changes. Both run inside one store transaction together with the
side effects they queue; the events' UNIQUE (escalation, kind, cause) makes handling the same cause twice a
no-op."""

from __future__ import annotations

import logging
import re
from datetime import datetime

from gateway import outbound
from gateway.alerts import raise_alert
from gateway.clock import iso
from gateway.inbound import Analysis
from gateway.lifecycle import actions, clocks
from gateway.lifecycle.policy import normalize_priority
from gateway.lifecycle.states import VENDOR_CLOSED, VENDOR_EVENTS, WITH_VENDOR, next_state
from gateway.runtime import Runtime
from gateway.store import Deadline, Escalation
from gateway.zendesk.queue import queue_event_note

log = logging.getLogger("mailgate.lifecycle")

_PRIORITY = re.compile(r"priority\s*(?:is|:|=|\()?\s*(emergency|emergent|urgent|high|medium|normal|low)\b", re.I)
_NOTE_KIND = {"vendor_message": "progress"}
MAX_QUOTE = 1500  # characters of the vendor's words quoted in a Zendesk note


def stated_priority(text: str) -> str | None:
    m = _PRIORITY.search(text or "")
    return normalize_priority(m.group(1)) if m else None


# -- vendor messages -------------------------------------------------------------------------------------------
def on_vendor_message(rt: Runtime, esc: Escalation, a: Analysis, cause: str) -> None:
    d, p, store = a.decision, a.parsed, rt.store
    now = rt.clock.now()
    kind = d.event if d.event in VENDOR_EVENTS else "vendor_message"
    to_state = next_state(esc.state, kind)
    thread_detail = {"reply_subject": p.subject, "references": [*p.references, p.message_id] if p.message_id
                     else list(p.references), "vendor_ticket": d.vendor_ticket}
    if not store.add_event(escalation_id=esc.id, kind=kind, cause_type="message", cause_ref=cause,
                           from_state=esc.state, to_state=to_state or esc.state, detail=thread_detail):
        return  # this message was handled before
    changes: dict[str, object] = {"last_vendor_message_id": p.message_id,
                                  "vendor_reply_to": (p.reply_to[0] if p.reply_to else p.from_addr)}
    if to_state:
        changes["state"] = to_state
    if to_state == "acknowledged":
        changes["acknowledged_at"] = iso(now)
        changes.update(_priority_on_ack(rt, esc, p.reply_text, cause))
    store.update_escalation(esc.id, **changes)
    fresh = store.escalation(esc.id) or esc
    _relink(rt, fresh, d.vendor_ticket, cause)
    if kind != "vendor_message" or to_state:
        detail: dict[str, object] = {"vendor_ticket": d.vendor_ticket, "priority": fresh.priority}
        said = _scrubbed_words(rt, esc, p.reply_text) if kind in ("need_info", "progress", "not_vendor_issue") else None
        if said:
            detail["question" if kind == "need_info" else "summary"] = said
        queue_event_note(rt, escalation=esc, kind=_NOTE_KIND.get(kind, kind), cause_ref=cause, detail=detail)
    if to_state or (kind == "vendor_message" and esc.state in WITH_VENDOR):
        clocks.replan(rt, fresh, kind, cause, now)
    if to_state in VENDOR_CLOSED:
        _tell_agent_closed(rt, fresh, cause)


def _scrubbed_words(rt: Runtime, esc: Escalation, text: str) -> str | None:
    """What the vendor wrote, scrubbed, for the agent's Zendesk note; None when scrubbing is unavailable (the
    note then goes without it rather than risk PHI in Zendesk)."""
    text = text.strip()[:MAX_QUOTE]
    if not text:
        return None
    try:
        keep = [v for v in (esc.agent_email, esc.end_user_email, esc.vendor_ticket, esc.zendesk_ticket) if v]
        return rt.scrubber.scrub_many([text], keep=keep)[0].text
    except Exception as exc:  # never block the state change on the note's quote
        log.warning("vendor text not quoted", extra={"escalation_id": esc.id, "error_type": type(exc).__name__})
        return None


def _relink(rt: Runtime, esc: Escalation, number: str | None, cause: str) -> None:
    """A new vendor ticket number (e.g. the vendor opened a new ticket for our reopen) becomes current."""
    if not number:
        return
    previous = esc.vendor_ticket
    if rt.store.add_vendor_ticket(esc.id, number, esc.vendor) and previous and previous != number:
        rt.store.add_event(escalation_id=esc.id, kind="relinked", cause_type="message", cause_ref=cause,
                           from_state=esc.state, to_state=esc.state, detail={"previous": previous, "current": number})
        queue_event_note(rt, escalation=esc, kind="relinked", cause_ref=cause,
                         detail={"vendor_ticket": number, "reason": f"{esc.vendor} answered with a new ticket "
                                 f"number (was #{previous})"})


def _priority_on_ack(rt: Runtime, esc: Escalation, text: str, cause: str) -> dict[str, object]:
    """The vendor's stated priority wins; an email sent after the vendor's hours is treated as the vendor's
    after-hours priority (OffSite: Low) unless the vendor says otherwise."""
    pol = clocks.policy_for(rt, esc.vendor)
    if not pol.priorities:
        return {}
    new = stated_priority(text)
    reason = "stated by the vendor"
    if new is None and pol.after_hours_email_priority and _sent_after_hours(rt, esc):
        new, reason = pol.after_hours_email_priority, "email sent after the vendor's business hours"
    if new is None or new == esc.priority or not pol.known_priority(new):
        return {}
    rt.store.add_event(escalation_id=esc.id, kind="priority_changed", cause_type="message", cause_ref=cause,
                       from_state=esc.state, to_state=esc.state,
                       detail={"from": esc.priority, "to": new, "reason": reason})
    return {"priority": new}


def _sent_after_hours(rt: Runtime, esc: Escalation) -> bool:
    for event in rt.store.events(esc.id):
        if event.kind == "sent":
            return bool(event.detail.get("after_hours"))
    return False


def _tell_agent_closed(rt: Runtime, esc: Escalation, cause: str) -> None:
    pol = clocks.policy_for(rt, esc.vendor)
    why = "could not reach the end user" if esc.state == "closed_unreachable" else "got no response in time"
    auto = (" Automatic reopen is on: send the new contact details (Phone: / Preferred contact: lines) and the "
            "gateway replies for you." if pol.settings.auto_reopen else "")
    body = (f"{pol.display_name} closed ticket #{esc.vendor_ticket or '-'}: they {why}.\n\nIf the end user still "
            f"needs help, reply to this mail with #reopen on a line of its own (add #note ... and the updated "
            f"contact details), or run `mailgate reopen {esc.zendesk_ticket} --note TEXT`.{auto}\n\n"
            f"{actions.status_text(rt, esc)}\n")
    actions.notify_agent(rt, esc, kind="vendor_closed", subject=actions.agent_subject(esc, "vendor closed its "
                         "ticket"), body=body, cause_ref=cause)


# -- bounces ---------------------------------------------------------------------------------------------------
def on_bounce(rt: Runtime, esc: Escalation, a: Analysis, cause: str) -> None:
    """A delivery report for mail of this escalation: a timeline event and a Zendesk note; a permanent failure
    also tells the agent at once (the vendor may never have seen the escalation) and alerts the operator."""
    g = a.guard
    permanent = g.bounce_kind != "temporary"
    bounced = next((i for i in rt.store.outbox_items(escalation_id=esc.id)
                    if g.bounced_message_id and i.message_id == g.bounced_message_id), None)
    what = bounced.kind if bounced is not None else "mail"
    if not rt.store.add_event(escalation_id=esc.id, kind="bounced", cause_type="message", cause_ref=cause,
                              from_state=esc.state, to_state=esc.state,
                              detail={"permanent": permanent, "outbox_kind": what,
                                      "recipients": len(g.bounced_recipients)}):
        return
    queue_event_note(rt, escalation=esc, kind="bounced", cause_ref=cause,
                     detail={"reason": f"{'permanent' if permanent else 'temporary'} failure of the {what}"})
    if not permanent:
        return
    raise_alert(rt.store, rt.config, rt.key, kind="bounce", dedupe=f"bounce:{esc.id}:{cause}", escalation_id=esc.id,
                text=f"A {what} of escalation {esc.id} (vendor {esc.vendor}) bounced permanently.")
    pol = clocks.policy_for(rt, esc.vendor)
    phones = f" Phone: {', '.join(pol.settings.phones)}." if pol.settings.phones else ""
    actions.notify_agent(rt, esc, kind="bounce_notice", urgent=True, cause_ref=cause, keep=list(pol.settings.phones),
                         subject=actions.agent_subject(esc, "mail to the vendor bounced"),
                         body=f"The gateway's {what} to {pol.display_name} could not be delivered. The vendor may "
                              f"not have it: check the vendor address in the configuration or contact them "
                              f"directly.{phones}\n\n{actions.status_text(rt, esc)}\n")


# -- deadlines -------------------------------------------------------------------------------------------------
_MISSED = {"ack_due": ("missed_ack", "the acknowledgement of our escalation"),
           "update_due": ("missed_update", "the next progress update"),
           "resolve_due": ("missed_resolution", "the target resolution"),
           "after_hours_response": ("missed_after_hours_response", "the on-call response")}
_RELEVANT = {"ack_due": {"sent", "reopened"}, "update_due": {"acknowledged", "in_progress"},
             "resolve_due": {"acknowledged", "in_progress"}, "after_hours_response": {"sent"},
             "agent_reminder": {"awaiting_agent"}, "no_response_close": {"awaiting_agent"},
             "contact_attempt": {"acknowledged"}, "unreachable_close": {"acknowledged"}}


def on_deadline(rt: Runtime, dl: Deadline) -> None:
    esc = rt.store.escalation(dl.escalation_id)
    if esc is None:
        return
    cause = f"dl:{dl.key}"
    if dl.kind == "agent_notice":
        to = esc.agent_email or rt.config.gateway.alert_address
        if to:
            outbound.send_to_agent(rt, escalation=esc, to=to,
                                   subject=str(dl.detail["subject"]), body=str(dl.detail["body"]),
                                   kind=str(dl.detail.get("notice_kind", "notice")), cause_ref=cause,
                                   keep=[str(v) for v in dl.detail.get("keep", [])])
        return
    if esc.state not in _RELEVANT.get(dl.kind, set()):
        return  # the situation the deadline watched for is over (no finished state is in _RELEVANT)
    if dl.kind in _MISSED:
        _missed(rt, esc, dl, cause)
    elif dl.kind == "agent_reminder":
        _remind_agent(rt, esc, dl, cause)
    else:  # contact_attempt, unreachable_close, no_response_close: timeline facts the agent can read
        rt.store.add_event(escalation_id=esc.id, kind=dl.kind, cause_type="deadline", cause_ref=dl.key,
                           from_state=esc.state, to_state=esc.state, detail={"due_at": dl.due_at, **dl.detail})
        queue_event_note(rt, escalation=esc, kind=dl.kind, cause_ref=cause,
                         detail={"due_at": dl.due_at, "next": actions.what_happens(dl.kind)})


def _missed(rt: Runtime, esc: Escalation, dl: Deadline, cause: str) -> None:
    event, what = _MISSED[dl.kind]
    if not rt.store.add_event(escalation_id=esc.id, kind=event, cause_type="deadline", cause_ref=dl.key,
                              from_state=esc.state, to_state=esc.state, detail={"due_at": dl.due_at}):
        return
    misses = esc.miss_count + 1
    rt.store.update_escalation(esc.id, miss_count=misses)
    esc = rt.store.escalation(esc.id) or esc
    pol = clocks.policy_for(rt, esc.vendor)
    if dl.kind == "after_hours_response":
        actions.notify_agent(rt, esc, kind="missed_deadline", urgent=True, cause_ref=cause,
                             subject=actions.agent_subject(esc, "no on-call response"),
                             body=f"{pol.display_name}'s on-call did not answer the after-hours alert within "
                                  f"{dl.detail.get('minutes', 30)} minutes.\n\n{actions.status_text(rt, esc)}\n")
        return
    actions.nudge(rt, esc, what=what, cause_ref=cause)
    queue_event_note(rt, escalation=esc, kind="missed_update", cause_ref=cause,
                     detail={"miss_count": misses, "reason": f"{what} was due {dl.due_at} UTC"})
    actions.notify_agent(rt, esc, kind="missed_deadline", cause_ref=cause,
                         subject=actions.agent_subject(esc, f"{esc.vendor} missed a deadline"),
                         body=f"{pol.display_name} missed {what} (due {dl.due_at} UTC). The gateway asked them "
                              f"for a status update on their thread.\n\n{actions.status_text(rt, esc)}\n")
    now = rt.clock.now()
    # Age counts the vendor's own open hours: a weekend is not OffSite being late.
    age_hours = pol.calendar.business_hours_between(datetime.fromisoformat(esc.created_at), now)
    if misses >= pol.settings.escalate_after_misses or age_hours >= pol.settings.escalate_after_hours:
        actions.escalate_to_contacts(rt, esc, cause_ref=cause,
                                     reason=f"{misses} missed deadline(s), open for {age_hours:.0f} hours")
    if dl.kind == "update_due":
        due = datetime.fromisoformat(dl.due_at)
        clocks.plan_update(rt, esc, pol, str(dl.detail.get("anchor", cause)), max(due, now),
                           int(dl.detail.get("n", 1)) + 1)


def _remind_agent(rt: Runtime, esc: Escalation, dl: Deadline, cause: str) -> None:
    if not rt.store.add_event(escalation_id=esc.id, kind="agent_reminder", cause_type="deadline", cause_ref=dl.key,
                              from_state=esc.state, to_state=esc.state, detail={"hours": dl.detail.get("hours")}):
        return
    pol = clocks.policy_for(rt, esc.vendor)
    closes = dl.detail.get("closes_at")
    when = f" They may close their ticket for no response at {closes} UTC." if closes else ""
    queue_event_note(rt, escalation=esc, kind="reminder", cause_ref=cause, detail={"due_at": closes})
    actions.notify_agent(rt, esc, kind="agent_reminder", cause_ref=cause,
                         subject=actions.agent_subject(esc, f"{esc.vendor} is waiting for your answer"),
                         body=f"{pol.display_name} asked us for information on ticket #{esc.vendor_ticket or '-'} "
                              f"and is still waiting for the answer.{when}\n\nAnswer on their thread (reply-all "
                              f"keeps the gateway in copy).\n\n{actions.status_text(rt, esc)}\n")
