"""Agent commands by email: `#reopen`, `#status`, `#priority <level>`, `#resolved`, `#note <text>` on lines of
their own. Only the pipeline's trusted agents get here (decision.is_agent: authenticated, from a configured
agent domain); mail from anyone else never triggers an action or an answer (it is quarantined upstream).
Every command is an event caused by the command (`cmd` + message), and the agent gets one answer with the
escalation's status."""

from __future__ import annotations

import re

from gateway import outbound
from gateway.inbound import Analysis
from gateway.lifecycle import actions, clocks
from gateway.lifecycle.policy import normalize_priority
from gateway.lifecycle.reopen import contact_lines, reopen
from gateway.lifecycle.states import next_state
from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.zendesk.queue import queue_event_note

KNOWN = ("reopen", "status", "priority", "resolved", "note")
_COMMAND = re.compile(r"^[ \t]*#(?P<name>[a-z]+)\b[ \t]*(?P<arg>[^\n]*?)[ \t]*$", re.I | re.M)


def commands_of(a: Analysis) -> list[tuple[str, str]]:
    """The classifier's commands when it provides them; else the `#word arg` lines of the new text."""
    given = getattr(a.decision, "commands", None)
    if given is not None:
        return [(str(n).lower().lstrip("#"), str(arg or "")) for n, arg in given]
    text = a.parsed.reply_text
    return [(m.group("name").lower(), m.group("arg")) for m in _COMMAND.finditer(text)
            if m.group("name").lower() in KNOWN]


def handle_commands(rt: Runtime, esc: Escalation | None, cmds: list[tuple[str, str]], a: Analysis,
                    message_pk: int) -> None:
    cause = f"msg:{message_pk}"
    agent = a.parsed.from_addr or ""
    if esc is None:
        _answer_without_escalation(rt, agent, a, cause)
        return
    note = "\n".join(arg for name, arg in cmds if name == "note" and arg)
    results: list[str] = []
    for i, (name, arg) in enumerate(cmds):
        ref = f"{cause}:{i}"
        esc = rt.store.escalation(esc.id) or esc
        if name == "reopen":
            contacts = contact_lines(a.parsed.reply_text)
            results.append("#reopen: " + reopen(rt, esc, cause_type="command", cause_ref=ref, note=note,
                                               contacts=contacts, actor=f"agent:{agent}").message)
        elif name == "priority":
            results.append("#priority: " + _set_priority(rt, esc, arg, ref))
        elif name == "resolved":
            results.append("#resolved: " + _resolve(rt, esc, ref, agent))
        elif name == "note" and esc.state == "awaiting_agent" and arg:
            results.append("#note: " + _answer_vendor(rt, esc, arg, ref, agent))
        elif name == "note":
            rt.store.add_event(escalation_id=esc.id, kind="agent_note", cause_type="command", cause_ref=ref,
                               from_state=esc.state, to_state=esc.state, detail={"actor": f"agent:{agent}"})
            results.append("#note: recorded" + (" (it goes with the next reopen reply)" if esc.state in
                                                ("closed_unreachable", "closed_no_response") else ""))
        elif name == "status":
            results.append("#status: see below")
        else:
            results.append(f"#{name}: unknown command (known: {', '.join('#' + k for k in KNOWN)})")
        rt.store.audit(actor=f"agent:{agent}", action=f"command:{name}", target=esc.zendesk_ticket,
                       cause_type="command", cause_ref=ref)
    esc = rt.store.escalation(esc.id) or esc
    body = "\n".join(results) + "\n\n" + actions.status_text(rt, esc) + "\n"
    outbound.send_to_agent(rt, escalation=esc, to=agent, subject=actions.agent_subject(esc, "status"), body=body,
                           kind="command_reply", cause_ref=cause)


def _answer_without_escalation(rt: Runtime, agent: str, a: Analysis, cause: str) -> None:
    """A trusted agent's command names no escalation we track: nothing to act on or answer about (an answer
    would need an escalation to thread to); it is audited so an operator can see it."""
    rt.store.audit(actor=f"agent:{agent}", action="command:no_escalation", cause_type="command", cause_ref=cause,
                   detail={"zendesk_ticket": a.decision.zendesk_ticket})


def _answer_vendor(rt: Runtime, esc: Escalation, text: str, ref: str, agent: str) -> str:
    """The vendor waits for our answer: the agent's #note goes to the vendor on its thread, as a person's
    reply (scrubbed), and the vendor's clocks run again."""
    t = actions.thread(rt, esc)
    ticket = f" #{esc.vendor_ticket}" if esc.vendor_ticket else ""
    body = (f"Hello,\n\nAnswering your question on ticket{ticket}:\n\n{text.strip()}\n\nThank you,\n"
            f"DrChrono Support\n(Zendesk ticket {esc.zendesk_ticket})\n")
    sent = outbound.send_on_thread(rt, escalation=esc, kind="agent_answer", to=[t.to], body=body,
                                   in_reply_to=t.in_reply_to, references=t.references, subject=t.subject,
                                   auto_submitted=False, keep=[], cause_ref=ref)
    if sent is None:
        return "NOT sent: held by the outbound safety check (see `mailgate quarantine`)"
    to_state = next_state(esc.state, "agent_replied")  # the caller checked: the vendor waits for our answer
    actions.transition(rt, esc, kind="agent_replied", to_state=to_state, cause_type="command", cause_ref=ref,
                       detail={"actor": f"agent:{agent}", "outbox_id": sent})
    queue_event_note(rt, escalation=esc, kind="agent_replied", cause_ref=ref,
                     detail={"state": to_state, "reason": "the agent's answer was sent on the vendor's thread"})
    return "sent to the vendor on its thread (scrubbed); waiting for its next update"


def _set_priority(rt: Runtime, esc: Escalation, arg: str, ref: str) -> str:
    pol = clocks.policy_for(rt, esc.vendor)
    wanted = normalize_priority(arg.split()[0] if arg.split() else "")
    if not wanted or not pol.known_priority(wanted):
        return f"unknown priority {arg!r} (known: {', '.join(pol.priorities) or 'any'})"
    if wanted == esc.priority:
        return f"already {wanted}"
    rt.store.add_event(escalation_id=esc.id, kind="priority_changed", cause_type="command", cause_ref=ref,
                       from_state=esc.state, to_state=esc.state,
                       detail={"from": esc.priority, "to": wanted, "reason": "agent command"})
    rt.store.update_escalation(esc.id, priority=wanted)
    fresh = rt.store.escalation(esc.id) or esc
    queue_event_note(rt, escalation=esc, kind="priority_changed", cause_ref=ref,
                     detail={"priority": wanted, "reason": "agent command"})
    clocks.replan_priority(rt, fresh, ref, rt.clock.now())
    return f"priority is now {wanted}; the vendor's clocks follow it"


def _resolve(rt: Runtime, esc: Escalation, ref: str, agent: str) -> str:
    to_state = next_state(esc.state, "resolved_by_agent")
    if to_state is None:
        return f"already {esc.state}"
    actions.transition(rt, esc, kind="resolved_by_agent", to_state=to_state, cause_type="command", cause_ref=ref,
                       detail={"actor": f"agent:{agent}"})  # a finished escalation's clocks are all cancelled
    queue_event_note(rt, escalation=esc, kind="resolved", cause_ref=ref,
                     detail={"state": to_state, "reason": "marked resolved by the agent"})
    return "marked resolved; the gateway stops watching the vendor's clocks"
