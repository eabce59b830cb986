"""Reopen-by-reply: when a vendor closed its ticket (end user unreachable, no response) and the end user still
needs help, reply on the vendor's own thread so that its helpdesk reopens the ticket (seed 000: "REPLY to the
existing email thread which will reopen the ticket").

The reply threads to the vendor's closing message (In-Reply-To / References), keeps the vendor's subject with
its ticket token, goes to the vendor's reply address, and carries no Auto-Submitted / Precedence / X-Loop
header: it must look like a person's reply or the helpdesk ignores it. Reopens are capped per escalation
([vendors.<name>] max_reopens); the cap is reported, never silently exceeded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway import outbound
from gateway.clock import iso
from gateway.lifecycle import actions, clocks
from gateway.lifecycle.states import VENDOR_CLOSED, next_state
from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.zendesk.queue import queue_event_note

# Lines an agent uses to give the end user's updated contact details.
_CONTACT_LINE = re.compile(
    r"^\s*(?P<label>(?:new |updated |alternate |alt\.? )?(?:phone|cell|mobile|contact number|contact phone|"
    r"preferred contact(?: method)?|best time to reach|contact email|alternate contact|sign-?up email|"
    r"time zone))\s*:\s*(?P<value>\S.*?)\s*$", re.I | re.M)


@dataclass(frozen=True)
class ReopenResult:
    status: str            # sent, capped, not_closed, held, duplicate
    reopen_count: int
    max_reopens: int
    outbox_id: int | None = None

    @property
    def message(self) -> str:
        return {
            "sent": f"Reopen reply sent on the vendor's thread (reopen {self.reopen_count} of at most "
                    f"{self.max_reopens}).",
            "capped": f"Not reopened: this escalation was already reopened {self.reopen_count} times, the "
                      f"configured maximum ({self.max_reopens}). Contact the vendor directly or raise max_reopens.",
            "not_closed": "Not reopened: the vendor has not closed this ticket as unreachable or for no response.",
            "held": "Not reopened: the reply was held by the outbound safety check (see `mailgate quarantine`).",
            "duplicate": "Already reopened for this request.",
        }[self.status]


def contact_lines(text: str) -> list[tuple[str, str]]:
    """(label, value) of every contact-detail line in an agent's text."""
    return [(m.group("label").strip(), m.group("value")) for m in _CONTACT_LINE.finditer(text or "")]


def reopen_body(rt: Runtime, esc: Escalation, note: str, contacts: list[tuple[str, str]]) -> str:
    ticket = f" #{esc.vendor_ticket}" if esc.vendor_ticket else ""
    parts = [f"Hello,\n\nThe end user still needs help with this issue. Please reopen ticket{ticket}."]
    if contacts:
        parts.append("Updated contact details:\n" + "\n".join(f"  {label.capitalize()}: {value}"
                                                              for label, value in contacts))
    if note.strip():
        parts.append("Note from the DrChrono agent:\n" + "\n".join(f"  {line}" for line in note.strip().splitlines()))
    parts.append(f"Thank you,\nDrChrono Support\n(Zendesk ticket {esc.zendesk_ticket})")
    return "\n\n".join(parts) + "\n"


def reopen(rt: Runtime, esc: Escalation, *, cause_type: str, cause_ref: str, note: str = "",
           contacts: list[tuple[str, str]] | None = None, actor: str = "gateway") -> ReopenResult:
    """Reply on the vendor's thread to reopen its ticket. Call inside a store transaction."""
    store = rt.store
    cap = clocks.policy_for(rt, esc.vendor).settings.max_reopens
    if store.has_event(esc.id, "reopened", cause_type, cause_ref):
        return ReopenResult("duplicate", esc.reopen_count, cap)
    if esc.state not in VENDOR_CLOSED:
        return ReopenResult("not_closed", esc.reopen_count, cap)
    if esc.reopen_count >= cap:
        if store.add_event(escalation_id=esc.id, kind="reopen_capped", cause_type=cause_type, cause_ref=cause_ref,
                           from_state=esc.state, to_state=esc.state, detail={"cap": cap, "actor": actor}):
            queue_event_note(rt, escalation=esc, kind="reopen_capped", cause_ref=cause_ref,
                             detail={"reopen_count": esc.reopen_count,
                                     "reason": f"the configured maximum of {cap} reopens is reached"})
        return ReopenResult("capped", esc.reopen_count, cap)
    contacts = contacts or []
    t = actions.thread(rt, esc)
    outbox_id = outbound.send_on_thread(
        rt, escalation=esc, kind="reopen", to=[t.to], body=reopen_body(rt, esc, note, contacts),
        in_reply_to=t.in_reply_to, references=t.references, subject=t.subject, auto_submitted=False,
        keep=[value for _, value in contacts], cause_ref=cause_ref)
    if outbox_id is None:
        store.add_event(escalation_id=esc.id, kind="reopen_held", cause_type=cause_type, cause_ref=cause_ref,
                        from_state=esc.state, to_state=esc.state, detail={"actor": actor})
        return ReopenResult("held", esc.reopen_count, cap)
    count = esc.reopen_count + 1
    to_state = next_state(esc.state, "reopened")  # vendor-closed (checked above): "reopened"
    actions.transition(rt, esc, kind="reopened", to_state=to_state, cause_type=cause_type, cause_ref=cause_ref,
                       detail={"actor": actor, "reopen_count": count, "contacts": [label for label, _ in contacts],
                               "outbox_id": outbox_id})
    queue_event_note(rt, escalation=esc, kind="reopened", cause_ref=cause_ref,
                     detail={"reopen_count": count, "state": to_state})
    return ReopenResult("sent", count, cap, outbox_id)


def reopen_ticket(rt: Runtime, zendesk_ticket: str, *, note: str, actor: str,
                  vendor: str | None = None) -> list[ReopenResult]:
    """`mailgate reopen`: reopen the vendor-closed escalations of a Zendesk ticket (one transaction).
    Contact-detail lines in the note ("Phone: ...") are passed on as updated contact details."""
    ticket = zendesk_ticket.lstrip("#")
    results = []
    with rt.store.transaction():
        found = [e for e in rt.store.escalations_for_ticket(ticket) if vendor is None or e.vendor == vendor]
        targets = [e for e in found if e.state in VENDOR_CLOSED] or found
        for esc in targets:
            cause = f"cli:{iso(rt.clock.now())}:r{esc.reopen_count}"
            results.append(reopen(rt, esc, cause_type="command", cause_ref=cause, note=note,
                                  contacts=contact_lines(note), actor=actor))
            rt.store.audit(actor=actor, action="reopen", target=ticket, cause_type="command", cause_ref=cause,
                           detail={"escalation_id": esc.id, "status": results[-1].status})
    return results
