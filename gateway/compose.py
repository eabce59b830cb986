"""Building outbound messages with the stdlib email package: the vendor's subject format and address, the
agent's contact block, threading headers, Date, and our Message-ID (carrying the signed escalation token)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as _default_policy
from email.utils import format_datetime, formataddr

from gateway.fields import EscalationFields
from gateway.rules import DEFAULT_SUBJECT_TAG, VendorRule

# RFC 5322 allows 998 characters a line. At the default 78 the stdlib folds some subjects right after
# "Subject:", and readers then see a leading space; bodies also stay readable instead of quoted-printable.
POLICY = _default_policy.clone(max_line_length=998)


@dataclass
class OutAttachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


def vendor_address(rule: VendorRule, override: str = "") -> str:
    """The vendor's intake address: [vendors.<name>] address in the config wins over the rule's."""
    return (override or rule.intake_address).strip()


def vendor_subject(rule: VendorRule, *, zendesk_ticket: str, end_user_email: str, agent_subject: str = "") -> str:
    """ID.me: exactly "DrChrono; <Zendesk ticket>; <end user email>". Others: "[DrChrono #<ticket>] <topic>"."""
    if rule.subject_format:
        return rule.subject_format.format(zendesk_ticket=zendesk_ticket, end_user_email=end_user_email)
    # The same tag the rule's tag_pattern reads back from replies.
    tag = (DEFAULT_SUBJECT_TAG if rule.subject_tag is None else str(rule.subject_tag)).format(
        zendesk_ticket=zendesk_ticket)
    topic = re.sub(r"^\s*(?:(?:re|fwd?|fw)\s*:\s*)+", "", agent_subject or "", flags=re.IGNORECASE).strip()
    topic = topic.replace(tag, "").strip()
    return f"{tag} {topic or 'Support escalation'}"


def agent_block(fields: EscalationFields) -> str:
    lines = ["Ticket sender (DrChrono Support agent):"]
    for label, key in (("Name", "agent_name"), ("Email", "agent_email"), ("Phone", "agent_phone"),
                       ("Availability", "agent_availability")):
        if fields.get(key):
            lines.append(f"  {label}: {fields.get(key)}")
    return "\n".join(lines)


def vendor_body(rule: VendorRule, *, zendesk_ticket: str, description: str, fields: EscalationFields,
                withheld: int = 0) -> str:
    parts = [f"Hello {rule.display_name},",
             f"DrChrono Support is opening a case on behalf of the end user below (DrChrono Zendesk ticket "
             f"{zendesk_ticket}). Please keep this subject line when you reply.",
             description.strip(),
             agent_block(fields)]
    if withheld:
        parts.append(f"({withheld} attachment(s) were not forwarded; the agent can share them if needed.)")
    parts.append("Thank you,\nDrChrono Support")
    return "\n\n".join(parts) + "\n"


def build_message(*, from_addr: str, from_name: str, to: list[str], subject: str, body: str, message_id: str,
                  date: datetime, in_reply_to: str | None = None, references: list[str] | tuple[str, ...] = (),
                  auto_submitted: bool = False, attachments: list[OutAttachment] | tuple[OutAttachment, ...] = ()
                  ) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr((from_name, from_addr))
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    refs = [r for r in references if r]
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    if refs:
        msg["References"] = " ".join(refs)
    if auto_submitted:
        msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    for att in attachments:
        maintype, _, subtype = att.content_type.partition("/")
        if maintype == "text":
            msg.add_attachment(att.content.decode("utf-8", "replace"), subtype=subtype or "plain",
                               filename=att.filename)
        else:
            msg.add_attachment(att.content, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=att.filename)
    return msg


def reply_subject(subject: str) -> str:
    return subject if re.match(r"^\s*re\s*:", subject or "", re.IGNORECASE) else f"Re: {subject}"
