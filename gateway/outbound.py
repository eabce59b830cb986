"""Outbound mail the pipeline and the lifecycle queue (skeleton; the outbound-safety issue completes it
with field checks, Presidio scrubbing and fail-closed holding)."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from gateway.inbound import Analysis
from gateway.msgid import make_message_id
from gateway.runtime import Runtime
from gateway.store import Escalation


@dataclass
class EscalationOutcome:
    sent: bool
    outbox_ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed_categories: list[str] = field(default_factory=list)
    vendor_message_id: str | None = None


def _base(rt: Runtime, to: list[str], subject: str, escalation_id: int | None) -> tuple[EmailMessage, str]:
    msg = EmailMessage()
    msg["From"] = formataddr((rt.config.gateway.display_name, rt.config.gateway.address))
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(rt.clock.now().timestamp(), localtime=False)
    mid = make_message_id(rt.key, escalation_id, rt.domain)
    msg["Message-ID"] = mid
    return msg, mid


def vendor_subject(rt: Runtime, escalation: Escalation) -> str:
    rule = rt.rules[escalation.vendor]
    if rule.subject_format:
        return rule.subject_format.format(zendesk_ticket=escalation.zendesk_ticket,
                                          end_user_email=escalation.end_user_email or "")
    tag = str(rule.raw.get("subject", {}).get("tag", "[DrChrono #{zendesk_ticket}]"))
    return f"{tag.format(zendesk_ticket=escalation.zendesk_ticket)} Support escalation"


def send_escalation(rt: Runtime, *, escalation: Escalation, analysis: Analysis, cause_ref: str) -> EscalationOutcome:
    rule = rt.rules[escalation.vendor]
    to = [rt.config.vendor(rule.name).address or rule.intake_address]
    msg, mid = _base(rt, to, vendor_subject(rt, escalation), escalation.id)
    msg.set_content(analysis.parsed.new_text or analysis.parsed.text)
    oid, _ = rt.store.enqueue(kind="escalation", dedupe_key=f"escalation:{escalation.id}:{cause_ref}",
                              message_id=mid, mail_from=rt.config.gateway.address, recipients=to,
                              content=bytes(msg), escalation_id=escalation.id)
    return EscalationOutcome(sent=True, outbox_ids=[oid], vendor_message_id=mid)
