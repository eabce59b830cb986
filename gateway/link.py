"""Linking a message to its escalation, strongest evidence first:

1. our own Message-ID (or one we received and linked) in In-Reply-To / References; for a bounce, the
   Message-ID of the message that bounced;
2. a signed token inside one of our Message-IDs (gateway.msgid), valid even when the store never saw that id;
3. the vendor's ticket number;
4. the Zendesk ticket in the vendor's subject format or our tag;
5. the subject we sent, quoted in the body (or in the reply's subject).

Steps 3-5 read only the subject and body, which anyone can write: they link only to an escalation of the
vendor whose domain sent the message (decision.sender_vendor), never across vendors; steps 1-2 are held to the
same rule for vendor mail. Agents' mail (trusted, from our own domains) may link by Zendesk ticket to the
vendor it names.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.classify import Decision
from gateway.msgid import escalation_from_token
from gateway.parse import ParsedMessage
from gateway.store import Store

_MIN_SUBJECT = 12  # shorter sent subjects are too common to identify a thread


@dataclass
class Link:
    escalation_id: int
    method: str


def _thread_ids(parsed: ParsedMessage, decision: Decision) -> list[str]:
    ids = [parsed.in_reply_to or "", *reversed(parsed.references)]
    if decision.bounced_message_id:
        ids.insert(0, decision.bounced_message_id)
    return [i for i in ids if i]


def by_message_id(store: Store, parsed: ParsedMessage, decision: Decision) -> Link | None:
    for ref in _thread_ids(parsed, decision):
        esc = store.escalation_for_message_id(ref)
        if esc is not None:
            return Link(esc, "bounced_message_id" if ref == decision.bounced_message_id else "references")
    return None


def by_token(store: Store, parsed: ParsedMessage, decision: Decision, key: bytes) -> Link | None:
    for ref in _thread_ids(parsed, decision):
        esc = escalation_from_token(key, ref)
        if esc is not None and store.escalation(esc) is not None:
            return Link(esc, "token")
    return None


def _text_vendor(decision: Decision) -> str | None:
    """The vendor a subject/body link may point at: the sender's own, or the one a trusted agent named."""
    if decision.is_agent and decision.trusted:
        return decision.vendor
    return decision.sender_vendor


def by_vendor_ticket(store: Store, decision: Decision) -> Link | None:
    vendor = _text_vendor(decision)
    if vendor and decision.vendor_ticket and not decision.is_agent:
        found = store.escalation_by_vendor_ticket(decision.vendor_ticket, vendor)
        if found is not None:
            return Link(found.id, "vendor_ticket")
    return None


def by_zendesk_ticket(store: Store, decision: Decision) -> Link | None:
    vendor = _text_vendor(decision)
    if vendor and decision.zendesk_ticket:
        found = store.escalation_by_ticket(decision.zendesk_ticket, vendor)
        if found is not None:
            return Link(found.id, "zendesk_ticket")
    return None


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def by_quoted_subject(store: Store, parsed: ParsedMessage, decision: Decision) -> Link | None:
    vendor = _text_vendor(decision)
    if not vendor or decision.is_agent:
        return None
    haystack = _norm(f"{parsed.subject}\n{parsed.text[:200_000]}")
    hits = [(len(s), esc_id) for esc_id, s in store.escalation_subjects(vendor)
            if len(s.strip()) >= _MIN_SUBJECT and _norm(s) in haystack]
    if not hits:
        return None
    hits.sort(reverse=True)
    if len(hits) > 1 and hits[0][0] == hits[1][0]:
        return None  # two escalations with subjects equally good: do not guess
    return Link(hits[0][1], "quoted_subject")


def _same_vendor(store: Store, link: Link | None, decision: Decision) -> Link | None:
    """Vendor mail never links to another vendor's escalation, even by Message-ID: an agent may have forwarded
    one vendor's thread to another, whose answer must not move the first vendor's escalation."""
    if link is None or decision.sender_vendor is None:
        return link
    esc = store.escalation(link.escalation_id)
    return link if esc is not None and esc.vendor == decision.sender_vendor else None


def find_escalation(store: Store, parsed: ParsedMessage, decision: Decision, key: bytes) -> Link | None:
    return (_same_vendor(store, by_message_id(store, parsed, decision), decision)
            or _same_vendor(store, by_token(store, parsed, decision, key), decision)
            or by_vendor_ticket(store, decision)
            or by_zendesk_ticket(store, decision)
            or by_quoted_subject(store, parsed, decision))
