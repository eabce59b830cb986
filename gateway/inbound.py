"""The read half of the pipeline: bytes -> parsed -> guards -> trust -> decision. Pure: no store, no
Presidio, so `mailgate explain` shares it and starts fast."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.classify import Decision, classify
from gateway.config import Config
from gateway.guards import GuardVerdict, inspect
from gateway.parse import ParsedMessage, parse_message
from gateway.rules import VendorRule
from gateway.trust import TrustVerdict, authenticate


@dataclass
class Analysis:
    parsed: ParsedMessage
    guard: GuardVerdict
    trust: TrustVerdict
    decision: Decision


def analyze(raw: bytes, rules: dict[str, VendorRule], config: Config, key: bytes) -> Analysis:
    """Never raises for any input (parse, guards, trust and classify each contain their own failures)."""
    parsed = parse_message(raw)
    guard = inspect(parsed, own_addresses={config.gateway.address.lower()}, key=key)
    trust = authenticate(parsed, config.trust.authserv_ids)
    decision = classify(parsed, guard, trust, rules, config)
    return Analysis(parsed, guard, trust, decision)


def facts(a: Analysis) -> dict[str, object]:
    """The decision in plain data, as `mailgate explain --json` prints it and the store records it."""
    p, g, d = a.parsed, a.guard, a.decision
    return {
        "message_id": p.message_id,
        "in_reply_to": p.in_reply_to,
        "references": list(p.references),
        "from": p.from_addr,
        "subject": p.subject,
        "date": p.date.isoformat() if p.date else None,
        "vendor": d.vendor,
        "trusted": a.trust.trusted,
        "event": d.event,
        "vendor_ticket": d.vendor_ticket,
        "zendesk_ticket": d.zendesk_ticket,
        "end_user_email": d.end_user_email,
        "ticket_numbers": [{"system": t.system, "number": t.number} for t in d.ticket_numbers],
        "auto_reply": g.auto_reply,
        "out_of_office": g.out_of_office,
        "bounce": g.bounce,
        "bounced_message_id": g.bounced_message_id,
        "defects": list(p.defects),
        "rule_hits": list(d.rule_hits) + [f"guard:{r}" for r in g.reasons] + _trust_hits(a.trust),
    }


def _trust_hits(t: TrustVerdict) -> list[str]:
    if t.trusted:
        return [f"trust:{t.method}=pass:{t.domain}@{t.authserv_id}"]
    where = f"@{t.authserv_id}" if t.authserv_id else ""
    return [f"trust:none:{t.reason or 'no_proof'}{where}"]
