"""Guards: auto-replies, out-of-office, bounces, bulk and loops are flagged, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.guards import GUARDS, GuardVerdict, inspect
from gateway.msgid import make_message_id
from gateway.parse import parse_message

FIX = Path(__file__).parent / "fixtures" / "inbound"
KEY = b"test-token-key"
OWN = {"gateway@mailgate.example"}


def _verdict(name: str) -> GuardVerdict:
    return inspect(parse_message((FIX / name).read_bytes()), own_addresses=OWN, key=KEY)


def test_plain_human_reply_passes_every_guard() -> None:
    v = _verdict("human_reply_plain.eml")
    # "out of the office tomorrow" in a human reply without any auto-reply header is not an OOO
    assert (v.auto_reply, v.out_of_office, v.bounce, v.bulk, v.loop, v.no_auto_answer) == (
        False, False, False, False, False, False)
    assert v.reasons == []


def test_zendesk_auto_submitted_alone_is_auto_reply_but_not_out_of_office() -> None:
    v = _verdict("zendesk_vendor_reply.eml")
    assert v.auto_reply and v.no_auto_answer
    assert not v.out_of_office and not v.bounce
    assert "auto_submitted:auto-generated" in v.reasons


def test_outlook_automatic_reply_is_out_of_office() -> None:
    v = _verdict("out_of_office.eml")
    assert v.auto_reply and v.out_of_office and v.no_auto_answer
    assert "subject:out_of_office" in v.reasons


def test_german_vacation_subject_is_out_of_office() -> None:
    v = _verdict("ooo_german_header_only.eml")
    assert v.out_of_office and v.auto_reply


def test_rfc3464_failure_gives_recipient_kind_and_bounced_message_id() -> None:
    v = _verdict("dsn_failed.eml")
    assert v.bounce and v.bounce_kind == "permanent"
    assert v.bounced_recipients == ["old.contact@vendor.example"]
    assert v.bounced_message_id == "<mg.7.a1b2c3.0123456789ab@mailgate.example>"
    assert v.no_auto_answer and not v.out_of_office


def test_delayed_dsn_is_temporary_with_id_from_rfc822_headers() -> None:
    v = _verdict("dsn_delayed.eml")
    assert v.bounce and v.bounce_kind == "temporary"
    assert v.bounced_recipients == ["slow@vendor.example"]
    assert v.bounced_message_id == "<delayed-original@mailgate.example>"


def test_exim_plain_text_bounce() -> None:
    v = _verdict("exim_bounce.eml")
    assert v.bounce and v.bounce_kind == "permanent"
    assert v.bounced_recipients == ["gone@vendor.example"]
    assert v.bounced_message_id == "<exim-original@mailgate.example>"


def test_newsletter_is_bulk() -> None:
    v = _verdict("newsletter.eml")
    assert v.bulk and v.no_auto_answer and not v.auto_reply
    assert "precedence:bulk" in v.reasons


def test_our_own_message_id_coming_back_is_a_loop() -> None:
    mid = make_message_id(KEY, 42, "mailgate.example")
    raw = f"From: someone@else.example\nTo: gateway@mailgate.example\nMessage-ID: {mid}\nSubject: x\n\nhi\n"
    v = inspect(parse_message(raw.encode()), own_addresses=OWN, key=KEY)
    assert v.loop and "loop:own_message_id" in v.reasons
    # the same id checked with another key is not ours
    assert not inspect(parse_message(raw.encode()), own_addresses=OWN, key=b"other").loop


def test_mail_from_our_address_or_with_our_header_is_a_loop() -> None:
    raw = b"From: Gateway <GATEWAY@mailgate.example>\nSubject: x\n\nhi\n"
    assert inspect(parse_message(raw), own_addresses=OWN, key=KEY).loop
    stamped = b"From: a@vendor.example\nX-Mailgate-Escalation: 7\nSubject: x\n\nhi\n"
    v = inspect(parse_message(stamped), own_addresses=OWN, key=KEY)
    assert v.loop and "loop:x_mailgate_header" in v.reasons


def test_auto_submitted_no_is_not_an_auto_reply() -> None:
    raw = b"From: a@vendor.example\nAuto-Submitted: no\nSubject: Re: 4521\n\nDone.\n"
    v = inspect(parse_message(raw), own_addresses=OWN, key=KEY)
    assert not v.auto_reply and not v.no_auto_answer


def test_unreadable_message_gets_a_verdict_that_forbids_answers() -> None:
    v = inspect(parse_message(b""), own_addresses=OWN, key=KEY)
    assert v.no_auto_answer and not v.bounce


def test_a_failing_guard_is_recorded_and_the_others_still_run(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(p, ctx, v):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr("gateway.guards.GUARDS", [broken, *GUARDS])
    v = _verdict("newsletter.eml")
    assert "guard_error:broken:RuntimeError" in v.reasons
    assert v.bulk


def test_amazon_ses_json_notification_is_a_bounce() -> None:
    v = _verdict("ses_bounce.eml")
    assert v.bounce and v.bounce_kind == "temporary"
    assert v.bounced_recipients == ["full.box@vendor.example"]


def test_dsn_recipient_blocks_without_blank_lines_are_all_read() -> None:
    raw = (b"From: MAILER-DAEMON@mx.example\nTo: gateway@mailgate.example\nSubject: Returned mail\n"
           b"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n"
           b"--r\nContent-Type: text/plain\n\nDelivery failed.\n"
           b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
           b"Final-Recipient: rfc822; one@vendor.example\nAction: failed\nStatus: 5.2.2\n"
           b"Final-Recipient: rfc822; two@vendor.example\nAction: delayed\nStatus: 4.4.1\n--r--\n")
    v = inspect(parse_message(raw), own_addresses=OWN, key=KEY)
    assert v.bounced_recipients == ["one@vendor.example", "two@vendor.example"]
    assert v.bounce_kind == "permanent"  # one permanent failure makes the report permanent


def test_ses_notification_inside_the_sns_envelope() -> None:
    inner = ('{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
             '"bouncedRecipients":[{"emailAddress":"gone@vendor.example"}]}}')
    body = '{"Type" : "Notification", "Message" : ' + json.dumps(inner) + "}"
    raw = f"From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n{body}\n".encode()
    v = inspect(parse_message(raw), own_addresses=OWN, key=KEY)
    assert v.bounce and v.bounce_kind == "permanent" and v.bounced_recipients == ["gone@vendor.example"]
