"""Mail from trusted agents: a new escalation for the gateway to send, a copy of what the agent sent the vendor
themselves (CC to the gateway), new contact details for a closed ticket, or commands."""

from __future__ import annotations

from datetime import timedelta

from gateway import outbound
from gateway.inbound import Analysis
from gateway.lifecycle import actions, clocks
from gateway.lifecycle.commands import commands_of, handle_commands
from gateway.lifecycle.handlers import stated_priority
from gateway.lifecycle.policy import VendorPolicy, normalize_priority
from gateway.lifecycle.reopen import contact_lines, reopen
from gateway.lifecycle.states import OPEN, VENDOR_CLOSED, next_state
from gateway.link import Link
from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.zendesk.queue import queue_event_note


def on_agent_message(rt: Runtime, message_pk: int, a: Analysis, link: Link | None) -> None:
    d, cause = a.decision, f"msg:{message_pk}"
    esc = _find(rt, a, link)
    cmds = commands_of(a)
    if cmds:
        handle_commands(rt, esc, cmds, a, message_pk)
    elif d.agent_sent_to_vendor and esc is None:
        _start_tracking(rt, message_pk, a, cause)
    elif d.event == "escalation_request" and d.vendor and d.zendesk_ticket and (esc is None or
                                                                              esc.state == "drafted"):
        _create_and_send(rt, message_pk, a, cause)  # new, or sent again after "missing details"
    elif esc is not None:
        _agent_update(rt, esc, a, cause)


def _find(rt: Runtime, a: Analysis, link: Link | None) -> Escalation | None:
    if link is not None:
        return rt.store.escalation(link.escalation_id)
    d = a.decision
    if not d.zendesk_ticket:
        return None
    vendor = d.agent_sent_to_vendor or d.vendor
    found = [e for e in rt.store.escalations_for_ticket(d.zendesk_ticket) if vendor is None or e.vendor == vendor]
    open_ones = [e for e in found if e.state in OPEN]
    candidates = open_ones or found
    return candidates[-1] if candidates else None


def _priority(pol: VendorPolicy, a: Analysis) -> str | None:
    stated = normalize_priority(getattr(a.decision, "priority", None)) or stated_priority(a.parsed.reply_text)
    if stated and pol.known_priority(stated):
        return stated
    return pol.default_priority if pol.priorities else None


def problem_kind(pol: VendorPolicy, text: str, priority: str | None) -> str:
    """Technical when the agent reports an outage (production down, emergency priority); otherwise the
    escalation is a support-process matter for the vendor's leadership contacts."""
    emergency = priority == "emergency" or bool(pol.after_hours and any(p.search(text)
                                                                        for p in pol.after_hours.emergency_patterns))
    return "technical" if emergency else "leadership"


def _create_and_send(rt: Runtime, message_pk: int, a: Analysis, cause: str) -> None:
    d, store = a.decision, rt.store
    assert d.vendor and d.zendesk_ticket
    pol = clocks.policy_for(rt, d.vendor)
    text = a.parsed.reply_text
    priority = _priority(pol, a)
    esc, _ = store.create_escalation(zendesk_ticket=d.zendesk_ticket, vendor=d.vendor, state="drafted",
                                     end_user_email=d.end_user_email, agent_email=a.parsed.from_addr,
                                     priority=priority)
    store.link_message(message_pk, esc.id, "created")
    outcome = outbound.send_escalation(rt, escalation=esc, analysis=a, cause_ref=cause)
    if not outcome.sent:
        store.add_event(escalation_id=esc.id, kind="not_sent", cause_type="message", cause_ref=cause,
                        from_state="drafted", to_state="drafted",
                        detail={"missing": list(outcome.missing),
                                "removed_categories": list(outcome.removed_categories)})
        return  # gateway.outbound tells the agent what is missing (its notice is part of the outcome)
    now = rt.clock.now()
    after_hours = not pol.calendar.is_open(now)
    store.update_escalation(esc.id, state="sent", root_message_id=outcome.vendor_message_id,
                            subject=outbound.vendor_subject(rt, esc))
    store.add_event(escalation_id=esc.id, kind="sent", cause_type="message", cause_ref=cause, from_state="drafted",
                    to_state="sent", detail={"after_hours": after_hours, "priority": priority, "by": "gateway",
                                             "problem_kind": problem_kind(pol, text, priority),
                                             "removed_categories": list(outcome.removed_categories)})
    fresh = store.escalation(esc.id) or esc
    queue_event_note(rt, escalation=fresh, kind="sent", cause_ref=cause, detail={"priority": priority})
    clocks.replan(rt, fresh, "sent", cause, now)
    _after_hours(rt, fresh, pol, text, after_hours, cause)


def _start_tracking(rt: Runtime, message_pk: int, a: Analysis, cause: str) -> None:
    """The agent wrote to the vendor and CC'd us: that mail has left already. Track it from here, check it,
    and tell the agent at once what it should not have carried or lacked."""
    d, p, store = a.decision, a.parsed, rt.store
    vendor = d.agent_sent_to_vendor
    assert vendor
    if not d.zendesk_ticket:
        store.audit(actor=f"agent:{p.from_addr}", action="untracked_vendor_copy", cause_type="message",
                    cause_ref=cause, detail={"vendor": vendor, "reason": "no Zendesk ticket in the subject"})
        return
    pol = clocks.policy_for(rt, vendor)
    text = p.reply_text
    priority = _priority(pol, a)
    esc, created = store.create_escalation(zendesk_ticket=d.zendesk_ticket, vendor=vendor, state="sent",
                                           end_user_email=d.end_user_email, agent_email=p.from_addr,
                                           subject=p.subject, root_message_id=p.message_id, priority=priority)
    store.link_message(message_pk, esc.id, "created")
    if not created:
        _agent_update(rt, esc, a, cause)
        return
    now = rt.clock.now()
    after_hours = not pol.calendar.is_open(now)
    store.add_event(escalation_id=esc.id, kind="sent", cause_type="message", cause_ref=cause, from_state=None,
                    to_state="sent", detail={"after_hours": after_hours, "priority": priority, "by": "agent",
                                             "problem_kind": problem_kind(pol, text, priority)})
    _check_copy(rt, esc, a, cause)
    queue_event_note(rt, escalation=esc, kind="sent", cause_ref=cause,
                     detail={"priority": priority, "reason": "the agent wrote to the vendor with the gateway in copy"})
    clocks.replan(rt, esc, "sent", cause, now)
    _after_hours(rt, esc, pol, text, after_hours, cause)


def _check_copy(rt: Runtime, esc: Escalation, a: Analysis, cause: str) -> None:
    report = outbound.check_agent_copy(rt, analysis=a)
    missing, phi = list(report.missing_fields), list(report.phi_categories)
    if not missing and not phi:
        return
    rt.store.add_event(escalation_id=esc.id, kind="compliance", cause_type="message", cause_ref=cause,
                       from_state=esc.state, to_state=esc.state,
                       detail={"missing_fields": missing, "phi_categories": phi})
    lines = ["Your mail to the vendor has already left, so the gateway could not correct it."]
    if phi:
        lines.append(f"It carried information that must not go to vendors: {', '.join(phi)}. Please follow up "
                     "with the vendor and ask them to delete it; report it per the privacy procedure.")
    if missing:
        lines.append(f"It lacked fields the vendor requires: {', '.join(missing)}. Send them on the same thread.")
    actions.notify_agent(rt, esc, kind="compliance", urgent=True, cause_ref=cause,
                         subject=actions.agent_subject(esc, "check your mail to the vendor"),
                         body="\n\n".join(lines) + "\n")


def _agent_update(rt: Runtime, esc: Escalation, a: Analysis, cause: str) -> None:
    """An agent's mail about an escalation we track, without commands."""
    store, text = rt.store, a.parsed.reply_text
    if a.decision.agent_sent_to_vendor:
        _check_copy(rt, esc, a, cause)
        # The agent replied on the vendor's thread: that answers a waiting vendor and reopens a closed ticket.
        moves_as = "reopened" if esc.state in VENDOR_CLOSED else "agent_replied"
        actions.transition(rt, esc, kind="agent_replied", to_state=next_state(esc.state, moves_as),
                           cause_type="message", cause_ref=cause, detail={"by": "agent"})
        return
    contacts = contact_lines(text)
    if esc.state in VENDOR_CLOSED and contacts and clocks.policy_for(rt, esc.vendor).settings.auto_reopen:
        result = reopen(rt, esc, cause_type="message", cause_ref=cause, contacts=contacts,
                        actor=f"agent:{a.parsed.from_addr}")
        actions.notify_agent(rt, esc, kind="command_reply", urgent=True, cause_ref=cause,
                             subject=actions.agent_subject(esc, "automatic reopen"),
                             body=f"You sent new contact details. {result.message}\n\n{actions.status_text(rt, esc)}\n")
        return
    store.add_event(escalation_id=esc.id, kind="agent_message", cause_type="message", cause_ref=cause,
                    from_state=esc.state, to_state=esc.state, detail={"contacts": [lbl for lbl, _ in contacts]})


def _after_hours(rt: Runtime, esc: Escalation, pol: VendorPolicy, text: str, after_hours: bool, cause: str) -> None:
    if pol.after_hours is not None:
        _idme_emergency(rt, esc, pol, text, cause)
    if after_hours and pol.after_hours_email_priority:
        _warn_after_hours_email(rt, esc, pol, cause)


def _warn_after_hours_email(rt: Runtime, esc: Escalation, pol: VendorPolicy, cause: str) -> None:
    """OffSite: email outside its business hours waits for the next business day and is treated as Low."""
    lines = [f"{pol.display_name} reviews email only in its business hours; this escalation was sent outside "
             f"them, so they will treat it as {pol.after_hours_email_priority} priority until the next business "
             "day."]
    if esc.priority in pol.phone_priorities:
        phones = pol.settings.phones
        lines.append(f"It is {esc.priority} priority: phone them now" + (f": {', '.join(phones)}." if phones else
                     " (no phone numbers are configured in [vendors." + esc.vendor + "] phones)."))
    rt.store.add_event(escalation_id=esc.id, kind="after_hours_warning", cause_type="message", cause_ref=cause,
                       from_state=esc.state, to_state=esc.state, detail={"priority": esc.priority})
    actions.notify_agent(rt, esc, kind="after_hours_warning", urgent=True, cause_ref=cause,
                         subject=actions.agent_subject(esc, "sent after the vendor's hours"),
                         body="\n\n".join(lines) + "\n", keep=list(pol.settings.phones))


def _idme_emergency(rt: Runtime, esc: Escalation, pol: VendorPolicy, text: str, cause: str) -> None:
    """ID.me: a production system down outside its normal hours goes to the on-call alert address too."""
    ah = pol.after_hours
    assert ah is not None
    now = rt.clock.now()
    if ah.calendar.is_open(now) or not any(p.search(text) for p in ah.emergency_patterns):
        return
    alert = pol.settings.after_hours_alert
    if not alert:
        rt.store.add_event(escalation_id=esc.id, kind="after_hours_alert_unconfigured", cause_type="message",
                           cause_ref=cause, from_state=esc.state, to_state=esc.state)
        actions.notify_agent(rt, esc, kind="after_hours_warning", urgent=True, cause_ref=cause,
                             subject=actions.agent_subject(esc, "after-hours emergency NOT alerted"),
                             body=f"This looks like a production-down emergency outside {pol.display_name}'s hours, "
                                  f"but [vendors.{esc.vendor}] after_hours_alert is not configured.\n")
        return
    t = actions.thread(rt, esc)
    body = (f"Production system down and inoperative: DrChrono escalation for ticket {esc.zendesk_ticket}, sent "
            f"to {rt.rules[esc.vendor].intake_address} just now. Please respond.\n\n{text}\n")
    outbound.send_on_thread(rt, escalation=esc, kind="after_hours_alert", to=[alert], body=body,
                            in_reply_to=None, references=[], subject=t.subject.removeprefix("Re: "),
                            auto_submitted=False, keep=[], cause_ref=f"{cause}:alert")
    rt.store.add_event(escalation_id=esc.id, kind="after_hours_alert", cause_type="message", cause_ref=cause,
                       from_state=esc.state, to_state=esc.state, detail={"minutes": ah.response_minutes})
    clocks.plan(rt, esc, "after_hours_response", cause, now + timedelta(minutes=ah.response_minutes),
                minutes=ah.response_minutes)
    actions.notify_agent(rt, esc, kind="after_hours_warning", urgent=True, cause_ref=cause,
                         subject=actions.agent_subject(esc, "after-hours alert sent"),
                         body=f"Production-down emergency outside {pol.display_name}'s hours: the on-call alert "
                              f"address was mailed; a response is expected within {ah.response_minutes} minutes.\n")
