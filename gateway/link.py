"""Linking a message to its escalation (skeleton; the inbound issue completes it)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.classify import Decision
from gateway.msgid import escalation_from_token
from gateway.parse import ParsedMessage
from gateway.store import Store


@dataclass
class Link:
    escalation_id: int
    method: str


def find_escalation(store: Store, parsed: ParsedMessage, decision: Decision, key: bytes) -> Link | None:
    for ref in [parsed.in_reply_to, *reversed(parsed.references)]:
        if ref:
            esc = store.escalation_for_message_id(ref)
            if esc is not None:
                return Link(esc, "references")
    for ref in [parsed.in_reply_to or "", *parsed.references]:
        esc = escalation_from_token(key, ref)
        if esc is not None and store.escalation(esc) is not None:
            return Link(esc, "token")
    if decision.vendor and decision.vendor_ticket:
        found = store.escalation_by_vendor_ticket(decision.vendor_ticket, decision.vendor)
        if found:
            return Link(found.id, "vendor_ticket")
    if decision.vendor and decision.zendesk_ticket:
        found_z = store.escalation_by_ticket(decision.zendesk_ticket, decision.vendor)
        if found_z:
            return Link(found_z.id, "zendesk_ticket")
    return None
