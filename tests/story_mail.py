"""The mail of the two stories (seed 000 ID.me, seed 004 OffSite), shared by tests/test_stories.py and the
real-server variant in tests/integration. Each function returns raw bytes for one message."""

from __future__ import annotations

from datetime import datetime

from lifecycle_kit import mail

AGENT_IDME = """\
Vendor: ID.me
Zendesk ticket: 48213

Agent: Maria Lopez
Agent email: maria.lopez@drchrono.com
Agent phone: +1 415-555-0142
Agent availability: 8 am-4 pm Pacific (PT), Monday-Friday

First name: Alan
Last name: Whitfield
Sign-up email: dr.whitfield@lakesidefamilymed.com
Phone: (503) 555-0187
Preferred contact: phone call, 9-11 am Pacific

Issue timestamp: 2026-11-16 08:32 PT
Description: Dr. Whitfield cannot complete MFA when signing controlled-substance prescriptions.
The ID.me push notification never arrives on his new iPhone (error IDME-403).
"""

AGENT_OFFSITE = """\
Vendor: OffSite
Zendesk ticket: 48377
Priority: High

Agent: Devon Price
Agent email: devon.price@drchrono.com
Agent phone: +1 415-555-0177 (direct), 7 am-3 pm Pacific

Description: The OffSite image viewer fails to load studies for three users at Riverside Orthopedics.
The viewer shows "Study unavailable (OSV-5102)". A workaround (downloading the study) is available.
Cause: the clinic's firewall was updated last night, per their IT contact.
"""


def agent_escalation(vendor: str, when: datetime) -> bytes:
    if vendor == "idme":
        return mail(sender="Maria Lopez <maria.lopez@drchrono.com>", subject="ID.me escalation for Zendesk #48213",
                    body=AGENT_IDME, when=when, message_id="<agent-48213@mail.drchrono.com>")
    return mail(sender="Devon Price <devon.price@drchrono.com>", body=AGENT_OFFSITE, when=when,
                subject="OffSite escalation - Zendesk #48377 - image viewer",
                message_id="<agent-48377@mail.drchrono.com>")


def idme(body: str, *, subject: str, when: datetime, reply_to: str, refs: list[str], mid: str) -> bytes:
    return mail(sender="ID.me Support <drchrono.support@id.me>", subject=f"[ID.me] Re: {subject}", body=body,
                when=when, in_reply_to=reply_to, references=refs, message_id=mid,
                extra={"Auto-Submitted": "auto-generated"})


def offsite(body: str, *, subject: str, when: datetime, reply_to: str, refs: list[str], mid: str) -> bytes:
    return mail(sender="OffSite Service Desk <support@offsite.inc.co>", subject=subject, body=body, when=when,
                in_reply_to=reply_to, references=refs, message_id=mid)


def agent_command(sender: str, ticket: str, lines: str, when: datetime, reply_to: str | None = None) -> bytes:
    return mail(sender=sender, subject=f"Re: [mailgate] Zendesk #{ticket}", body=lines, when=when,
                in_reply_to=reply_to, references=[reply_to] if reply_to else None)
