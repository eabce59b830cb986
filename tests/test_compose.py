"""Composition: the vendor's subject format and address, the agent block, headers and our Message-ID token."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

from gateway.compose import OutAttachment, agent_block, build_message, vendor_address, vendor_body, vendor_subject
from gateway.fields import EscalationFields
from gateway.msgid import escalation_from_token, make_message_id
from gateway.rules import load_rules

RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")
WHEN = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def test_idme_subject_is_exactly_the_seed_format() -> None:
    subject = vendor_subject(RULES["idme"], zendesk_ticket="48213", end_user_email="drsmith@clinic.com",
                             agent_subject="Fwd: ID.me escalation for patient stuff")
    assert subject == "DrChrono; 48213; drsmith@clinic.com"


def test_offsite_subject_is_tagged_with_the_zendesk_ticket() -> None:
    rule = RULES["offsite"]
    assert vendor_subject(rule, zendesk_ticket="48377", end_user_email="",
                          agent_subject="Re: image viewer down") == "[DrChrono #48377] image viewer down"
    assert vendor_subject(rule, zendesk_ticket="48377", end_user_email="") == "[DrChrono #48377] Support escalation"


def test_vendor_address_comes_from_rule_unless_configured() -> None:
    assert vendor_address(RULES["idme"]) == "drchrono.support@id.me"
    assert vendor_address(RULES["idme"], "idme-test@example.org") == "idme-test@example.org"


def test_body_carries_description_and_agent_contact_block() -> None:
    fields = EscalationFields({"agent_name": "Maria Lopez", "agent_email": "maria.lopez@drchrono.com",
                               "agent_phone": "+1 415-555-0142", "agent_availability": "8-4 PT"})
    body = vendor_body(RULES["idme"], zendesk_ticket="48213", description="Push never arrives.", fields=fields,
                       withheld=1)
    assert "Push never arrives." in body and "48213" in body
    assert agent_block(fields) in body
    for value in ("Maria Lopez", "maria.lopez@drchrono.com", "+1 415-555-0142", "8-4 PT"):
        assert value in body
    assert "1 attachment(s) were not forwarded" in body


def test_message_headers_threading_and_token() -> None:
    key = b"k" * 32
    mid = make_message_id(key, 42, "example.org")
    msg = build_message(from_addr="gw@example.org", from_name="Gateway", to=["drchrono.support@id.me"],
                        subject="DrChrono; 1; a@b.com", body="hello\n", message_id=mid, date=WHEN,
                        in_reply_to="<v1@id.me>", references=["<root@example.org>"], auto_submitted=False,
                        attachments=[OutAttachment("log.txt", "text/plain", b"line\n")])
    parsed = email.message_from_bytes(bytes(msg), policy=email.policy.default)
    assert parsed["Message-ID"] == mid and escalation_from_token(key, parsed["Message-ID"]) == 42
    assert parsed["In-Reply-To"] == "<v1@id.me>"
    assert parsed["References"] == "<root@example.org> <v1@id.me>"
    assert parsed["Date"] == "Fri, 20 Nov 2026 16:00:00 +0000"
    assert parsed["From"] == "Gateway <gw@example.org>"
    assert "Auto-Submitted" not in parsed and "Precedence" not in parsed and "X-Loop" not in parsed
    names = [p.get_filename() for p in parsed.iter_attachments()]
    assert names == ["log.txt"]


def test_automatic_mail_is_marked_auto_submitted() -> None:
    msg = build_message(from_addr="gw@example.org", from_name="", to=["a@drchrono.com"], subject="s", body="b\n",
                        message_id="<x@example.org>", date=WHEN, auto_submitted=True)
    assert msg["Auto-Submitted"] == "auto-generated"
