"""Classification (skeleton; the inbound issue completes it): vendor, event, ticket numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.config import Config
from gateway.guards import GuardVerdict
from gateway.parse import ParsedMessage
from gateway.rules import VendorRule
from gateway.trust import TrustVerdict

EVENTS = ("ack", "need_info", "progress", "resolved", "closed_unreachable", "closed_no_response",
          "not_vendor_issue", "escalation_request", "other")


@dataclass
class TicketNumber:
    system: str
    number: str


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


def _vendor_for(parsed: ParsedMessage, rules: dict[str, VendorRule]) -> VendorRule | None:
    return next((r for r in rules.values() if r.owns_address(parsed.from_addr)), None)


def classify(parsed: ParsedMessage, guard: GuardVerdict, trust: TrustVerdict, rules: dict[str, VendorRule],
             config: Config) -> Decision:
    d = Decision(trusted=trust.trusted)
    sender_domain = (parsed.from_addr or "").rsplit("@", 1)[-1]
    text = parsed.new_text or parsed.text
    rule = _vendor_for(parsed, rules)
    if rule is None:
        if trust.trusted and sender_domain in config.trust.agent_domains and not guard.loop:
            d.is_agent = True
            d.event = "escalation_request"
            d.rule_hits.append("agent_domain")
            addressed = [a for a in parsed.to + parsed.cc]
            d.vendor = next((r.name for r in rules.values() if r.intake_address in addressed), None)
            if d.vendor:
                d.agent_sent_to_vendor = d.vendor
            else:
                m = re.search(r"^\s*vendor\s*:\s*(\S+)", text, re.I | re.M)
                wanted = m.group(1).lower() if m else ""
                d.vendor = next((r.name for r in rules.values()
                                 if wanted and (r.name == wanted or r.display_name.lower().startswith(wanted))), None)
            m = re.search(r"#\s*([A-Za-z]{0,4}\d+)", parsed.subject)
            d.zendesk_ticket = m.group(1) if m else None
            m = re.search(r"^\s*(?:sign-?up|id\.me) email\s*:\s*(\S+@\S+)", text, re.I | re.M)
            d.end_user_email = m.group(1) if m else None
        return d
    d.vendor = rule.name
    d.rule_hits.append(f"{rule.name}:sender")
    if rule.subject_pattern:
        m = rule.subject_pattern.search(parsed.subject)
        if m:
            d.zendesk_ticket = m.group("zendesk_ticket")
            d.end_user_email = m.groupdict().get("end_user_email")
            d.rule_hits.append(f"{rule.name}:subject")
    for pat in rule.ticket_patterns:
        m = pat.search(parsed.subject) or pat.search(text)
        if m:
            d.vendor_ticket = m.group("number")
            d.ticket_numbers.append(TicketNumber(rule.name, d.vendor_ticket))
            d.rule_hits.append(f"{rule.name}:ticket")
            break
    if not trust.trusted:
        d.rule_hits.append("untrusted")
        return d
    for event in EVENTS:
        for pat in rule.event_phrases.get(event, []):
            if pat.search(text) or pat.search(parsed.subject):
                d.event = event
                d.rule_hits.append(f"{rule.name}:event:{event}")
                break
        if d.event != "other":
            break
    return d
