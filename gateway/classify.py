"""Classification: which vendor (or agent) a message is from, what happened (the event), and which tickets it
names. Vendor behaviour comes from rules/<vendor>.toml; agents' escalations are read by gateway.agent_mail.

Every step that decides something appends a rule hit (e.g. "sender:idme", "event:resolved:body") so
`mailgate explain` can show an operator why. classify() never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.config import Config
from gateway.guards import GuardVerdict
from gateway.parse import ParsedMessage
from gateway.rules import VendorRule
from gateway.tickets import TicketNumber, find_ticket_numbers
from gateway.trust import TrustVerdict

__all__ = ["EVENTS", "EVENT_PRECEDENCE", "Decision", "TicketNumber", "classify", "detect_event"]

EVENTS = ("ack", "need_info", "progress", "resolved", "closed_unreachable", "closed_no_response",
          "not_vendor_issue", "escalation_request", "other")

# When a message matches phrases of several events, the first here wins: a closure that also says "reply to
# reopen" is a closure, a resolution that says "let us know if you need anything" is a resolution, a request
# for information outranks the rest of the open states, and an acknowledgement ("ticket created and assigned")
# outranks a progress note, so an ack that says "we will update you" or "we are reviewing it" stays an ack.
# Older text that would confuse this (quoted history, older Zendesk comments) is removed before matching.
EVENT_PRECEDENCE = ("closed_unreachable", "closed_no_response", "not_vendor_issue", "resolved", "need_info",
                    "ack", "progress")


@dataclass
class Decision:
    vendor: str | None = None
    trusted: bool = False
    event: str = "other"
    vendor_ticket: str | None = None
    zendesk_ticket: str | None = None
    end_user_email: str | None = None
    ticket_numbers: list[TicketNumber] = field(default_factory=list)
    is_agent: bool = False                 # a trusted sender from [trust] agent_domains
    agent_sent_to_vendor: str | None = None  # vendor name when an agent wrote to the vendor and CC'd us
    rule_hits: list[str] = field(default_factory=list)
    # Agent commands on lines of their own ("#priority high" -> ("priority", "high")), in order.
    commands: list[tuple[str, str]] = field(default_factory=list)
    priority: str | None = None            # an agent's "Priority: High" line, lowercased
    agent_reply: bool = False              # an agent's reply in a vendor thread (Re:/In-Reply-To), not a new request
    sender_vendor: str | None = None       # the vendor whose rule owns the From address (links must match it)
    bounced_message_id: str | None = None  # for bounces: the Message-ID of the message that bounced


def _vendor_for(parsed: ParsedMessage, rules: dict[str, VendorRule]) -> VendorRule | None:
    return next((r for r in rules.values() if r.owns_address(parsed.from_addr)), None)


def classify(parsed: ParsedMessage, guard: GuardVerdict, trust: TrustVerdict, rules: dict[str, VendorRule],
             config: Config) -> Decision:
    d = Decision(trusted=trust.trusted, bounced_message_id=guard.bounced_message_id)
    try:
        _classify(parsed, guard, trust, rules, config, d)
    except Exception as exc:  # a rule or a strange message must not stop the pipeline; say what happened
        d.event = "other"
        d.rule_hits.append(f"classify_error:{type(exc).__name__}")
    return d


def _classify(parsed: ParsedMessage, guard: GuardVerdict, trust: TrustVerdict, rules: dict[str, VendorRule],
              config: Config, d: Decision) -> None:
    from gateway.agent_mail import read_agent_mail  # agent_mail imports Decision from here

    if not parsed.readable:
        d.rule_hits.append("unreadable")
    if guard.loop:
        d.rule_hits.append("own_mail")
        return
    rule = _vendor_for(parsed, rules)
    if rule is not None:
        _classify_vendor(parsed, guard, trust, rule, d)
        return
    if _is_agent_domain(parsed.from_addr, config.trust.agent_domains):
        if not trust.trusted:
            d.rule_hits.append("sender:agent_domain_untrusted")
            return
        read_agent_mail(parsed, guard, rules, config, d)
        return
    d.rule_hits.append("sender:unknown")
    d.ticket_numbers = find_ticket_numbers(f"{parsed.subject}\n{parsed.reply_text}")


def _is_agent_domain(address: str | None, agent_domains: list[str]) -> bool:
    """drchrono.com also covers mail.drchrono.com: both are the same organisation's own servers."""
    if not address or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].lower()
    return any(domain == d.lower() or domain.endswith("." + d.lower()) for d in agent_domains if d)


# -- vendor mail ------------------------------------------------------------------------------------------
def _classify_vendor(parsed: ParsedMessage, guard: GuardVerdict, trust: TrustVerdict, rule: VendorRule,
                     d: Decision) -> None:
    d.vendor = d.sender_vendor = rule.name
    d.rule_hits.append(f"sender:{rule.name}")
    if not read_vendor_subject(rule, parsed.subject, d):
        read_our_tag(rule, parsed.subject, d)
    d.ticket_numbers = find_ticket_numbers(f"{parsed.subject}\n{parsed.text}")
    _read_vendor_ticket(rule, parsed, d)
    if not trust.trusted:
        d.rule_hits.append("skip:untrusted")  # recorded, changes no state; trust:* says why
        return
    skip = _not_an_update(rule, parsed, guard)
    if skip is not None:
        d.rule_hits.append(skip)
        return
    found = detect_event(rule, _event_text(rule, parsed))
    if found is not None:
        d.event = found[0]
        d.rule_hits.append(f"event:{found[0]}:body:{found[1]}")
        return
    # A reply inherits its subject ("Re: Ticket #1 created"): only a fresh subject can name the event.
    found = None if _RE_PREFIX.match(parsed.subject or "") else detect_event(rule, parsed.subject)
    if found is not None:
        d.event = found[0]
        d.rule_hits.append(f"event:{found[0]}:subject:{found[1]}")
        return
    d.rule_hits.append("event:none_matched")


def read_vendor_subject(rule: VendorRule, subject: str, d: Decision) -> bool:
    """The vendor's mandated subject format, or our tag: Zendesk ticket and end-user email."""
    if rule.subject_pattern is None:
        return False
    m = rule.subject_pattern.search(subject or "")
    if m is None:
        return False
    groups = m.groupdict()
    d.zendesk_ticket = groups.get("zendesk_ticket") or d.zendesk_ticket
    d.end_user_email = groups.get("end_user_email") or d.end_user_email
    d.rule_hits.append(f"subject:{'tag' if rule.subject_tag else 'format'}:{rule.name}")
    return True


def read_our_tag(rule: VendorRule, subject: str, d: Decision) -> bool:
    """Our "[DrChrono #48213]" tag, when a vendor with a mandated format answers on a tagged subject."""
    m = rule.tag_pattern.search(subject or "") if rule.tag_pattern is not None else None
    if m is None:
        return False
    d.zendesk_ticket = m.group("zendesk_ticket")
    d.rule_hits.append(f"subject:our_tag:{rule.name}")
    return True


def _read_vendor_ticket(rule: VendorRule, parsed: ParsedMessage, d: Decision) -> None:
    """The vendor's own pattern first (subject, new text, whole text), then the catalogue systems it uses.
    A number equal to our Zendesk ticket is ours, never the vendor's."""
    for where, text in (("subject", parsed.subject), ("body", parsed.reply_text), ("history", parsed.text)):
        for pat in rule.ticket_patterns:
            for m in pat.finditer(text or ""):
                number = m.group("number")
                if number and number != d.zendesk_ticket:
                    d.vendor_ticket = number
                    d.rule_hits.append(f"ticket:{rule.name}_pattern:{where}")
                    if all(t.number != number for t in d.ticket_numbers):
                        d.ticket_numbers.insert(0, TicketNumber(rule.name, number))
                    return
    for t in d.ticket_numbers:
        if t.system in rule.ticket_systems and t.number != d.zendesk_ticket:
            d.vendor_ticket = t.number
            d.rule_hits.append(f"ticket:catalogue:{t.system}")
            return


def _not_an_update(rule: VendorRule, parsed: ParsedMessage, guard: GuardVerdict) -> str | None:
    """Why this vendor mail must not move an escalation (guards), or None when its words should be read."""
    if not parsed.readable:
        return "skip:unreadable"
    if guard.bounce:
        return "skip:bounce"
    if guard.out_of_office:
        return "skip:out_of_office"
    if guard.bulk:
        return "skip:bulk"
    if guard.auto_reply:
        only_auto_submitted = all(r.startswith("auto_submitted:") for r in guard.reasons
                                  if not r.startswith(("null_sender", "guard_error")))
        if rule.classify_auto_submitted and only_auto_submitted and rule.is_helpdesk_address(parsed.from_addr):
            return None  # a Zendesk-style helpdesk stamps Auto-Submitted on human replies: read it
        return "skip:auto_reply"
    return None


# -- events ---------------------------------------------------------------------------------------------
_RE_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|tr|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A Zendesk comment header: "Santi (ID.me Support)" then "Nov 20, 2026, 10:00 PST" (or "20 Nov 2026, 10:00").
_ZENDESK_DATE = re.compile(
    r"^\s*(?:[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}),? \d{1,2}:\d{2}(?:\s*[AP]M)?"
    r"(?:\s*[A-Z]{2,5}|\s*[+-]\d{4})?\s*$", re.MULTILINE)


def latest_zendesk_comment(text: str) -> str:
    """Zendesk lists comments newest first, each under an author line and a date line; keep the newest."""
    dates = list(_ZENDESK_DATE.finditer(text))
    if len(dates) < 2:
        return text
    lines = text[:dates[1].start()].rstrip().split("\n")
    if len(lines) > 1:
        lines.pop()  # the older comment's author line
    return "\n".join(lines).strip() or text


def _event_text(rule: VendorRule, parsed: ParsedMessage) -> str:
    text = parsed.reply_text
    if rule.helpdesk == "zendesk":
        text = latest_zendesk_comment(text)
    return text


def sentences(text: str, limit: int = 20_000) -> list[str]:
    """Paragraphs joined across line wraps, then split at sentence ends, so a phrase broken over two lines
    still matches and an "unless" applies to its own sentence only."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", (text or "")[:limit]):
        joined = " ".join(para.split())
        if joined:
            out.extend(s for s in _SENTENCE_END.split(joined) if s)
    return out


def detect_event(rule: VendorRule, text: str) -> tuple[str, str] | None:
    """(event, the phrase that matched) by EVENT_PRECEDENCE, or None."""
    parts = sentences(text)
    if not parts:
        return None
    for event in EVENT_PRECEDENCE:
        requires = rule.event_requires.get(event, [])
        if requires and not any(r.search(text) for r in requires):
            continue
        unless = rule.event_unless.get(event, [])
        for pat in rule.event_phrases.get(event, []):
            for sentence in parts:
                if pat.search(sentence) and not any(u.search(sentence) for u in unless):
                    return event, pat.pattern[:60]
    return None
