"""Side effects the lifecycle queues: mail on the vendor's thread, notices to the agent, contact escalation.

Every action is keyed by its cause (`cause_ref`), so the outbox's UNIQUE dedupe key and the events' UNIQUE
(escalation, kind, cause) make a repeated cause a no-op. Bodies are our own words plus ids; whatever might
carry PHI goes through gateway.outbound, which scrubs before anything is queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway import outbound
from gateway.clock import iso
from gateway.lifecycle import clocks
from gateway.lifecycle.states import describe
from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.zendesk.queue import queue_event_note


@dataclass(frozen=True)
class Thread:
    """Where a reply on the vendor's thread goes and what it threads to."""

    to: str
    in_reply_to: str | None
    references: list[str]
    subject: str


def _latest_details(rt: Runtime, esc: Escalation, *keys: str) -> dict[str, Any]:
    """The newest non-empty value of each key in the escalation's event details, from one read of its events."""
    found: dict[str, Any] = {}
    for event in reversed(rt.store.events(esc.id)):
        for key in keys:
            if key not in found and event.detail.get(key):
                found[key] = event.detail[key]
    return found


def thread(rt: Runtime, esc: Escalation) -> Thread:
    """The vendor's thread as the vendor last wrote on it: its reply address, its latest Message-ID, its subject
    (which carries the vendor's ticket token, so its helpdesk files our reply on the right ticket)."""
    rule = rt.rules[esc.vendor]
    to = esc.vendor_reply_to or rt.config.vendor(esc.vendor).address or rule.intake_address
    latest = _latest_details(rt, esc, "references", "reply_subject")
    refs: list[str] = list(latest.get("references") or [])
    for mid in (esc.root_message_id, esc.last_vendor_message_id):
        if mid and mid not in refs:
            refs.append(mid)
    subject = latest.get("reply_subject") or esc.subject or outbound.vendor_subject(rt, esc)
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return Thread(to=to, in_reply_to=esc.last_vendor_message_id or esc.root_message_id, references=refs[-20:],
                  subject=subject)


def transition(rt: Runtime, esc: Escalation, *, kind: str, to_state: str | None, cause_type: str, cause_ref: str,
               detail: dict[str, Any]) -> None:
    """Record event `kind` on the timeline; when it moves `esc` (`to_state` from `states.next_state`), change the
    state, count a reopen, and re-plan the clocks from now. A cause recorded before changes nothing."""
    if not rt.store.add_event(escalation_id=esc.id, kind=kind, cause_type=cause_type, cause_ref=cause_ref,
                              from_state=esc.state, to_state=to_state or esc.state, detail=detail) or not to_state:
        return
    changes: dict[str, object] = {"state": to_state}
    if to_state == "reopened":
        changes["reopen_count"] = esc.reopen_count + 1
    rt.store.update_escalation(esc.id, **changes)
    clocks.replan(rt, rt.store.escalation(esc.id) or esc, kind, cause_ref, rt.clock.now())


def notify_agent(rt: Runtime, esc: Escalation, *, kind: str, subject: str, body: str, cause_ref: str,
                 urgent: bool = False, keep: list[str] | None = None) -> int | None:
    """Mail the agent now when the desk is open (or `urgent`), else hold it as an `agent_notice` deadline for
    the desk's next opening. Returns the outbox id when sent now."""
    to = esc.agent_email or rt.config.gateway.alert_address
    if not to:
        return None
    now = rt.clock.now()
    if not urgent and not clocks.desk(rt).is_open(now):
        rt.store.plan_deadline(escalation_id=esc.id, kind="agent_notice", key=f"e{esc.id}:agent_notice:{cause_ref}",
                               due_at=iso(clocks.desk(rt).next_open(now)),
                               detail={"notice_kind": kind, "subject": subject, "body": body, "cause": cause_ref,
                                       "keep": list(keep or [])})
        return None
    return int(outbound.send_to_agent(rt, escalation=esc, to=to, subject=subject, body=body, kind=kind,
                                      cause_ref=cause_ref, keep=list(keep or [])))


def agent_subject(esc: Escalation, what: str) -> str:
    return f"[mailgate] Zendesk #{esc.zendesk_ticket} ({esc.vendor}): {what}"


def status_text(rt: Runtime, esc: Escalation) -> str:
    """The escalation's status as an agent reads it in a command answer or a notice."""
    esc = rt.store.escalation(esc.id) or esc
    pol = clocks.policy_for(rt, esc.vendor)
    lines = [f"Zendesk ticket: #{esc.zendesk_ticket}", f"Vendor: {pol.display_name}",
             f"Vendor ticket: {'#' + esc.vendor_ticket if esc.vendor_ticket else 'not assigned yet'}",
             f"State: {esc.state} ({describe(esc.state)})", f"Priority: {esc.priority or '-'}",
             f"Reopens: {esc.reopen_count} of at most {pol.settings.max_reopens}",
             f"Missed vendor deadlines: {esc.miss_count}"]
    nxt = rt.store.next_deadline(esc.id)
    if nxt is not None:
        lines.append(f"Next: {nxt.due_at} UTC, {what_happens(nxt.kind)}")
    return "\n".join(lines)


def what_happens(kind: str) -> str:
    return {
        "ack_due": "the vendor's acknowledgement is due; if none, the gateway asks for status",
        "update_due": "the vendor's next update is due; if none, the gateway asks for status",
        "resolve_due": "the vendor's target resolution time; if not resolved, the gateway asks for status",
        "contact_attempt": "the vendor's next attempt to reach the end user",
        "unreachable_close": "the vendor closes the ticket if the end user is still unreachable",
        "agent_reminder": "the agent is reminded that the vendor waits for our answer",
        "no_response_close": "the vendor may close the ticket for no response",
        "after_hours_response": "the on-call answer is due; if none, the agent is told to phone",
        "agent_notice": "a held notice goes to the agent when the desk opens",
    }.get(kind, kind)


def nudge(rt: Runtime, esc: Escalation, *, what: str, cause_ref: str) -> int | None:
    """A polite status request on the vendor's thread (auto-generated: it is the gateway speaking)."""
    t = thread(rt, esc)
    ticket = f" #{esc.vendor_ticket}" if esc.vendor_ticket else ""
    body = (f"Hello,\n\nCould you please send us a status update on ticket{ticket}? By our records {what} is now "
            f"due.\n\nThank you,\nDrChrono Support\n(Zendesk ticket {esc.zendesk_ticket})\n")
    return outbound.send_on_thread(rt, escalation=esc, kind="nudge", to=[t.to], body=body, in_reply_to=t.in_reply_to,
                                   references=t.references, subject=t.subject, auto_submitted=True, keep=[],
                                   cause_ref=cause_ref)


def problem_role(rt: Runtime, esc: Escalation) -> str:
    """Leadership or technical contacts, by the kind of problem recorded when the escalation started."""
    role = _latest_details(rt, esc, "problem_kind").get("problem_kind")
    return "technical" if role == "technical" else "leadership"


def escalate_to_contacts(rt: Runtime, esc: Escalation, *, reason: str, cause_ref: str) -> bool:
    """One mail to the vendor's escalation contacts per escalation episode (a reopen starts a new one)."""
    contacts = rt.config.vendor(esc.vendor).contacts
    role = problem_role(rt, esc)
    chosen = [c for c in contacts if c.role == role and c.email] or [c for c in contacts if c.email]
    episode = f"episode:{esc.reopen_count}"
    if not chosen or rt.store.has_event(esc.id, "escalated", "system", episode):
        return False
    t = thread(rt, esc)
    names = ", ".join(c.name for c in chosen if c.name) or "team"
    ticket = f"#{esc.vendor_ticket}" if esc.vendor_ticket else "(no ticket number yet)"
    body = (f"Hello {names},\n\nWe are escalating {clocks.policy_for(rt, esc.vendor).display_name} ticket {ticket} "
            f"to you: {reason}. The end user is still waiting for help. Could you please look into it and let "
            f"us know the status?\n\nThank you,\nDrChrono Support\n(Zendesk ticket {esc.zendesk_ticket})\n")
    sent = outbound.send_on_thread(rt, escalation=esc, kind="contact_escalation", to=[c.email for c in chosen],
                                   body=body, in_reply_to=t.in_reply_to, references=t.references, subject=t.subject,
                                   auto_submitted=True, keep=[c.name for c in chosen if c.name], cause_ref=cause_ref)
    if sent is None:
        return False  # held by the outbound check (operator alerted); a later miss tries again
    rt.store.add_event(escalation_id=esc.id, kind="escalated", cause_type="system", cause_ref=episode,
                       from_state=esc.state, to_state=esc.state,
                       detail={"role": role, "contacts": len(chosen), "reason": reason, "cause": cause_ref})
    queue_event_note(rt, escalation=esc, kind="escalated", cause_ref=cause_ref, detail={"role": role, "reason": reason})
    return True
