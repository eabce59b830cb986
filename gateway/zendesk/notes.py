"""The internal notes agents read in Zendesk, one text per escalation event.

Each note says who (vendor, vendor ticket), where things stand (the vendor state), what happened and what is
next, and ends with an idempotency marker line "[mailgate:<hash>]" that lets the worker prove a note is already
on the ticket before it would post it again.

PHI: the caller's `detail` is already scrubbed (queue_event_note's contract). Only the keys listed in
DETAIL_LABELS are shown, so a fact added to `detail` for the store never reaches Zendesk by accident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_TEXT = 1500  # a quoted vendor question or agent note is cut here; the full text stays with the vendor thread


@dataclass(frozen=True)
class EventText:
    headline: str     # "{vendor}" is replaced by the vendor's display name
    happened: str
    next: str


EVENTS: dict[str, EventText] = {
    "sent": EventText("escalation sent to {vendor}", "The escalation was sent to {vendor} by email.",
                      "Waiting for {vendor} to acknowledge it and assign a ticket number."),
    "ack": EventText("{vendor} ticket assigned", "{vendor} acknowledged the escalation{ticket_clause}.",
                     "{vendor} triages the case; the gateway watches their update cadence and reminds them if "
                     "they fall behind."),
    "need_info": EventText("{vendor} needs information",
                           "{vendor} needs more information before they can continue.",
                           "Answer {vendor}'s question (reply to the escalation thread, or send #note to the "
                           "gateway). Without an answer {vendor} may close their ticket."),
    "progress": EventText("{vendor} progress update", "{vendor} sent a progress update.",
                          "Waiting for {vendor}'s next update or resolution."),
    "resolved": EventText("{vendor} reports resolved", "{vendor} reports the issue resolved.",
                          "Confirm with the end user, then solve this ticket. If it is not fixed, reopen with "
                          "#reopen or `mailgate reopen`."),
    "not_vendor_issue": EventText("{vendor}: not their issue", "{vendor} says this is not an issue on their side.",
                                  "Continue with DrChrono's own support process; {vendor} will not act further."),
    "closed_unreachable": EventText("{vendor} closed: end user unreachable",
                                    "{vendor} closed their ticket: they could not reach the end user.",
                                    "If the end user still needs help, confirm their contact details and reopen "
                                    "(#reopen or `mailgate reopen`)."),
    "closed_no_response": EventText("{vendor} closed: no response",
                                    "{vendor} closed their ticket because no answer reached them in time.",
                                    "If help is still needed, answer and reopen (#reopen or `mailgate reopen`)."),
    "reopened": EventText("{vendor} ticket reopen requested",
                          "The gateway replied on {vendor}'s thread asking them to reopen their ticket.",
                          "Waiting for {vendor} to acknowledge the reopened ticket."),
    "missed_update": EventText("{vendor} missed an update",
                               "{vendor} did not send the update their process promises by now.",
                               "The gateway asked {vendor} for a status update on their thread; further misses "
                               "escalate to {vendor}'s contacts."),
    "escalated": EventText("escalated to {vendor}'s contacts",
                           "The gateway escalated to {vendor}'s configured contacts{role_clause}.",
                           "Waiting for {vendor}'s escalation contacts to respond."),
    "bounced": EventText("mail to {vendor} bounced", "A message to {vendor} could not be delivered.",
                         "The escalation may not have reached {vendor}: check the vendor address in the "
                         "configuration, or call {vendor}."),
    "priority_changed": EventText("{vendor} escalation priority changed",
                                  "The escalation's priority was changed; {vendor}'s clocks follow it.",
                                  "Waiting for {vendor}'s next update at the new priority's cadence."),
    "relinked": EventText("{vendor} ticket number changed{ticket_clause_short}",
                          "{vendor} answered with a new ticket number; the gateway follows the new ticket.",
                          "Waiting for {vendor}'s next update on the new ticket."),
    "reopen_capped": EventText("{vendor} reopen limit reached",
                               "The gateway did not ask {vendor} to reopen again: the reopen limit is reached.",
                               "Decide with the end user; contact {vendor} by phone or open a new escalation."),
    "contact_attempt": EventText("{vendor} contact attempt due",
                                 "By now {vendor} should have tried to reach the end user again.",
                                 "{vendor} keeps trying; they close the ticket if the end user stays unreachable."),
    "unreachable_close": EventText("{vendor} may close: end user unreachable",
                                   "{vendor}'s contact attempts are over.",
                                   "{vendor} closes the ticket if the end user is still unreachable; confirm "
                                   "the end user's contact details to keep it open."),
    "no_response_close": EventText("{vendor} may close: no response",
                                   "{vendor}'s waiting time for our answer is over.",
                                   "{vendor} may close the ticket for no response; answer them now."),
    "reminder": EventText("reminder: {vendor} is waiting for you",
                          "{vendor} is still waiting for an answer from us.",
                          "Answer {vendor} before they close their ticket for no response."),
}

# The detail keys shown in a note, in this order, with their labels.
DETAIL_LABELS: dict[str, str] = {
    "summary": "{vendor} wrote",
    "question": "{vendor} asked",
    "note": "Agent note",
    "priority": "Priority",
    "reason": "Reason",
    "reopen_count": "Reopens so far",
    "miss_count": "Missed updates so far",
    "due_at": "Deadline",
}


def marker_for(idempotency_key: str) -> str:
    """An opaque, stable marker for a job (the key itself may name internal references)."""
    return f"[mailgate:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}]"


def _event_text(kind: str) -> EventText:
    known = EVENTS.get(kind)
    if known:
        return known
    words = " ".join("".join(c if c.isalnum() else " " for c in kind).split()) or "event"
    return EventText(f"{{vendor}}: {words}", f"Escalation event: {words}.", "No action needed from the gateway.")


def _clip(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT].rstrip() + " [...]"


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(value)


def _detail_lines(detail: dict[str, Any], vendor: str) -> list[str]:
    lines = []
    for key, label in DETAIL_LABELS.items():
        value = detail.get(key)
        if value in (None, ""):
            continue
        text = _when(value) if key == "due_at" else _clip(value)
        label = label.format(vendor=vendor)
        if "\n" in text:
            lines += [f"{label}:", *("  " + line for line in text.splitlines())]
        else:
            lines.append(f"{label}: {text}")
    return lines


def render_note(*, kind: str, vendor: str, vendor_ticket: str | None, state: str, detail: dict[str, Any],
                marker: str) -> str:
    """The note's full text, marker line last."""
    text = _event_text(kind)
    ticket_clause = f" and assigned ticket #{vendor_ticket}" if vendor_ticket else ""
    role = detail.get("role") or detail.get("contacts_role")
    role_clause = f" ({role})" if role else ""
    fmt = {"vendor": vendor, "ticket_clause": ticket_clause, "role_clause": role_clause,
           "ticket_clause_short": f" to #{vendor_ticket}" if vendor_ticket else ""}
    lines = [
        f"mailgate: {text.headline.format(**fmt)}",
        "",
        f"Vendor: {vendor}",
        f"Vendor ticket: {'#' + vendor_ticket if vendor_ticket else 'not assigned yet'}",
        f"Vendor state: {state.replace('_', ' ')}",
        f"What happened: {_clip(detail['happened']) if detail.get('happened') else text.happened.format(**fmt)}",
        *_detail_lines(detail, vendor),
        f"What's next: {_clip(detail['next']) if detail.get('next') else text.next.format(**fmt)}",
        "",
        marker,
    ]
    return "\n".join(lines)


def note_preview(payload: dict[str, Any], status: str, indent: str = "      ") -> list[str]:
    """A queued note as `show` / `demo` can print it: its text without the marker, and where it stands."""
    body = str(payload.get("body") or f"mailgate: {payload.get('event', 'event')}")
    lines = [line for line in body.splitlines() if line and not line.startswith("[mailgate:")]
    where = {"local": "kept locally (no [zendesk] configured)", "done": "posted", "dead": "NOT posted (dead letter)",
             "pending": "waiting to be posted", "sending": "being posted"}.get(status, status)
    return [f"{indent}{lines[0]}  [{where}]", *(indent + "  " + line for line in lines[1:])]
