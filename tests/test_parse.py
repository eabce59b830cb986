"""Parsing inbound mail: decoded headers, body choice, reply separation, attachments, never raising."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailparser.utils import get_addresses

from gateway import replies
from gateway.addresses import is_plain, quick_pairs
from gateway.guards import inspect
from gateway.parse import parse_message
from gateway.replies import new_text

FIX = Path(__file__).parent / "fixtures" / "inbound"


def _parse(name: str):  # type: ignore[no-untyped-def]
    return parse_message((FIX / name).read_bytes())


def test_rfc2047_subject_and_sender_name_are_decoded() -> None:
    p = _parse("outlook_reply.eml")
    assert p.subject == "RE: Solicitud nº 4521 – actualización"
    assert p.from_addr == "jose.garcia@vendor.example"
    assert p.from_name == "José García"
    assert p.cc == ["agent@desk.example", "jane.doe@desk.example"]


def test_threading_headers_and_date() -> None:
    p = _parse("outlook_reply.eml")
    assert p.message_id == "<A1B2C3@vendor.example>"
    assert p.in_reply_to == "<mg.7.abc123.0123456789ab@mailgate.example>"
    assert p.references == ["<first@desk.example>", "<mg.7.abc123.0123456789ab@mailgate.example>"]
    assert p.date == datetime(2026, 3, 3, 19, 5, tzinfo=UTC)


def test_outlook_quoted_block_is_not_new_text() -> None:
    p = _parse("outlook_reply.eml")
    assert "We have reset the enrollment" in p.new_text
    assert "Please reset the enrollment for the user" not in p.new_text
    assert "Please reset the enrollment for the user" in p.text


def test_plain_alternative_is_the_body_and_gmail_quote_is_removed() -> None:
    p = _parse("gmail_reply.eml")
    assert p.body_type == "text/plain"
    assert p.html is not None and "<blockquote>" in p.html
    assert p.new_text == "Thanks, we are looking into it."
    assert p.attachments == []


def test_html_only_body_becomes_text() -> None:
    p = _parse("html_only.eml")
    assert p.body_type == "text/html"
    assert "Your request #4521 has been “resolved”." in p.text
    assert "<p>" not in p.text


def test_zendesk_separator_keeps_the_comment_below_it() -> None:
    p = _parse("zendesk_vendor_reply.eml")
    assert "We need the user's date of enrollment" in p.new_text
    assert "Please type your reply above this line" not in p.new_text


def test_raw_8bit_header_and_mislabelled_latin1_body() -> None:
    p = _parse("mislabelled_latin1.eml")
    assert p.subject == "Café status"
    assert p.from_name == "René Müller"
    # declared iso-8859-1, really windows-1252: the curly quotes and dash survive
    assert p.text.strip() == "The “quick” fix is in place – café is open."
    assert "CharsetDecodeDefect" not in p.defects


def test_attachments_rfc2231_name_size_hash_and_text_content() -> None:
    p = _parse("attachments.eml")
    assert p.text.strip() == "See the attached files."
    names = [a.filename for a in p.attachments]
    assert names == ["新しい report.txt", "scan.pdf"]
    text_att, pdf = p.attachments
    assert text_att.content == b"line one\nline two\n"
    assert text_att.size == len(text_att.content)
    pdf_bytes = b"%PDF-1.4\n%\xc4\xe5\xf2\xe5\xeb\n"
    assert pdf.size == len(pdf_bytes)
    assert pdf.sha256 == hashlib.sha256(pdf_bytes).hexdigest()
    assert pdf.content == b""  # binary content is not kept
    assert pdf.content_type == "application/pdf" and pdf.disposition == "attachment"


def test_attached_message_is_one_attachment_not_a_body() -> None:
    p = _parse("dsn_failed.eml")
    assert [a.content_type for a in p.attachments] == ["message/rfc822"]
    assert p.attachments[0].filename == "Escalation 4521.eml"
    assert "could not" in p.text and "Please look at this" not in p.text


def test_header_values_are_decoded() -> None:
    p = _parse("outlook_reply.eml")
    assert p.header_values("from") == ["José García <jose.garcia@vendor.example>"]
    assert p.header("X-Missing") == ""


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\xfe" * 50, b"not an email at all", b"\r\n\r\n\r\n"])
def test_unreadable_input_is_reported_not_raised(raw: bytes) -> None:
    p = parse_message(raw)
    assert p.readable is False
    assert p.defects


def test_broken_mime_still_yields_text_and_defects() -> None:
    raw = (b"From: a@b.example\nSubject: broken\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/mixed; boundary=\"never\"\n\nJust some text, no boundary.\n")
    p = parse_message(raw)
    assert p.readable
    assert "Just some text" in p.text
    assert p.defects


def test_deep_nesting_does_not_raise() -> None:
    depth = 400
    head = b"".join(b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i) for i in range(depth))
    p = parse_message(b"From: a@b.example\nSubject: deep\nMIME-Version: 1.0\n" + head + b"\nx\n")
    assert isinstance(p.defects, list)


def test_bad_date_is_a_defect() -> None:
    p = parse_message(b"From: a@b.example\nDate: the day after tomorrow\nSubject: x\n\nbody\n")
    assert p.date is None and "InvalidDateDefect" in p.defects


def test_new_text_bottom_posting_keeps_the_answer() -> None:
    text = "> Could you check ticket 12?\n> Thanks\n\nDone, it is fixed now."
    assert new_text(text) == "Done, it is fixed now."


def test_new_text_original_message_marker() -> None:
    text = "Closed on our side.\n\n-----Original Message-----\nFrom: x\nOld text"
    assert new_text(text) == "Closed on our side."


def test_mail_parser_recovers_parts_the_stdlib_loses_to_a_reused_boundary() -> None:
    p = _parse("shared_boundary.eml")
    assert "StartBoundaryNotFoundDefect" in p.defects
    assert p.text.strip() == "Screenshot attached."
    assert [(a.filename, a.content_type, a.size) for a in p.attachments] == [("error.zip", "application/zip", 22)]


def test_libraries_never_log_message_content(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("shared_boundary.eml", "exim_bounce.eml", "dsn_failed.eml"):
        p = _parse(name)
        inspect(p, own_addresses={"gateway@mailgate.example"}, key=b"k")
    assert [r for r in caplog.records if r.name.startswith(("mailparser", "flufl"))] == []


_NAME_BITS = st.sampled_from(['"', "(", ")", " ", "\t", "A", "b c", "x@y.com", ",", "<", ">", "\\", "Mail Daemon", ""])
_ADDRS = st.sampled_from(["a@b.com", "MAILER-DAEMON@mx.example.org", "first.last@sub.example.co.uk", "<>", "a@b"])


@given(st.lists(st.tuples(st.lists(_NAME_BITS, max_size=4).map("".join), _ADDRS,
                          st.sampled_from(['"{n}" <{a}>', "{a} ({n})", "{n} <{a}>", "{a}"])),
                min_size=1, max_size=3))
@settings(max_examples=400, deadline=None)
def test_the_quick_address_reader_agrees_with_mail_parser_whenever_it_answers(entries) -> None:  # type: ignore[no-untyped-def]
    text = ", ".join(form.format(n=name, a=addr) for name, addr, form in entries)
    quick = quick_pairs(text)
    if quick is not None and not is_plain(text):  # simple text is read by the stdlib, not mail-parser
        assert quick == [(n, a) for n, a in get_addresses(text, defects=[], decode_names=True)]


def test_quoted_and_commented_sender_names_are_read() -> None:
    p = parse_message(b'From: "Mail Delivery Subsystem" <MAILER-DAEMON@aol.com>\r\n'
                      b"To: a@b.com (Alice Example), \"Bob\" <bob@example.org>\r\nSubject: x\r\n\r\nbody\r\n")
    assert (p.from_name, p.from_addr) == ("Mail Delivery Subsystem", "mailer-daemon@aol.com")
    assert p.to == ["a@b.com", "bob@example.org"]


_REPLY_LINES = st.sampled_from([
    "Thanks, fixed.", "", "  > quoted", ">> deeper", "On Mon, 1 Jan 2024 at 10:00, Jane <j@x.com> wrote:",
    "On Mon, 1 Jan 2024, Jane Doe <", "jane@x.com> wrote:", "Am 1. Jan. schrieb Jan:", "Le 2 mars, a écrit :",
    "-----Original Message-----", "  -- Mensaje original --", "From: Support <s@v.com>", "**From:** Ana",
    "Sent: Monday", "To: me", "Von: x", "Gesendet: heute", "____________", "_____________________",
    "## Please type your reply above this line ##", "Write reply above this line", "Status: 5.1.1",
    "Final-Recipient: rfc822; a@b.com", "onward", "de: x", "Den 3. jan skrev Per:", "ON TUESDAY X WROTE:",
    "\tOn x wrote:",
])


@given(st.lists(_REPLY_LINES, max_size=14).map("\n".join))
@settings(max_examples=400, deadline=None)
def test_the_line_prefilter_never_changes_where_the_history_starts(text: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replies, "_may_start_history", lambda line: True)  # every line offered to every recognizer
        expected = new_text(text)
    assert new_text(text) == expected
