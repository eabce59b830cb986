"""send_escalation and friends: checks, scrubbing, fail-closed holding, the second scan, composition, notes."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.config import ScrubSection
from gateway.inbound import analyze
from gateway.outbound import check_agent_copy, send_escalation, send_on_thread, send_to_agent
from gateway.runtime import Runtime
from gateway.scrub import Finding, Scrubber, ScrubResult, get_scrubber
from gateway.store import Escalation

DEMO = Path(__file__).resolve().parents[1] / "gateway" / "demo" / "mailbox"
DATE = b"Fri, 20 Nov 2026 16:00:00 +0000"
PHI = ["Jane Doe", "04/12/1961", "00482913", "482 913", "7302"]


@pytest.fixture(scope="session", autouse=True)
def _engine() -> Scrubber:
    return get_scrubber(ScrubSection())   # loaded once for the whole session


def _raw(name: str) -> bytes:
    return (DEMO / name).read_bytes().replace(b"{{date:0}}", DATE)


def _ingest(rt: Runtime, raw: bytes, vendor: str, ticket: str, end_user: str | None) -> tuple[Escalation, str]:
    stored, _ = rt.store.add_raw(raw, "test", None, None)
    pk = rt.store.record_message(raw_id=stored.id, direction="in", facts={})
    esc, _ = rt.store.create_escalation(zendesk_ticket=ticket, vendor=vendor, state="drafted",
                                        end_user_email=end_user, agent_email="maria.lopez@drchrono.com")
    rt.store.link_message(pk, esc.id, "created")
    return esc, f"msg:{pk}"


def _idme(rt: Runtime, raw: bytes | None = None, end_user: str | None = "dr.whitfield@lakesidefamilymed.com"
          ) -> tuple[Escalation, str, object]:
    raw = raw or _raw("01-agent-idme.eml")
    esc, cause = _ingest(rt, raw, "idme", "48213", end_user)
    return esc, cause, analyze(raw, rt.rules, rt.config, rt.key)


def _mail(rt: Runtime, kind: str) -> list[EmailMessage]:
    return [email.message_from_bytes(i.content, policy=email.policy.default)  # type: ignore[misc]
            for i in rt.store.outbox_items() if i.kind == kind]


def _text(msg: EmailMessage) -> str:
    return "\n".join(p.get_content() for p in msg.walk() if p.get_content_maintype() == "text")


def test_escalation_is_scrubbed_composed_and_noted(runtime: Runtime) -> None:
    esc, cause, analysis = _idme(runtime)
    outcome = send_escalation(runtime, escalation=esc, analysis=analysis, cause_ref=cause)
    assert outcome.sent and outcome.missing == []
    assert set(outcome.removed_categories) == {"MFA code", "support PIN", "patient name", "date of birth", "MRN"}
    [vendor] = _mail(runtime, "escalation")
    assert vendor["To"] == "drchrono.support@id.me"
    assert vendor["Subject"] == "DrChrono; 48213; dr.whitfield@lakesidefamilymed.com"
    assert vendor["Message-ID"] == outcome.vendor_message_id
    body = _text(vendor)
    assert not [v for v in PHI if v in body]
    for kept in ("Alan", "Whitfield", "dr.whitfield@lakesidefamilymed.com", "(503) 555-0187", "(503) 555-0199",
                 "Jenna Ortiz", "jenna.ortiz@lakesidefamilymed.com", "Maria Lopez", "maria.lopez@drchrono.com",
                 "+1 415-555-0142", "2026-11-20 14:32 PT", "Invalid code (IDME-403)"):
        assert kept in body, kept
    assert "[patient name removed]" in body and "[date of birth removed]" in body
    assert "Auto-Submitted" not in vendor
    [note] = _mail(runtime, "agent_note")
    assert note["To"] == "maria.lopez@drchrono.com" and note["Auto-Submitted"] == "auto-generated"
    assert note["In-Reply-To"] == "<CAE1-agent-48213@mail.drchrono.com>"
    note_text = _text(note)
    assert "patient name: 1" in note_text and "support PIN: 1" in note_text
    assert not [v for v in PHI if v in note_text]


def test_missing_fields_get_one_reply_listing_all_and_nothing_to_vendor(runtime: Runtime) -> None:
    raw = _raw("01-agent-idme.eml")
    for line in (b"Sign-up email: dr.whitfield@lakesidefamilymed.com\n", b"Issue timestamp: 2026-11-20 14:32 PT\n",
                 b"Agent phone: +1 415-555-0142\n"):
        raw = raw.replace(line, b"")
    esc, cause, analysis = _idme(runtime, raw, end_user=None)
    outcome = send_escalation(runtime, escalation=esc, analysis=analysis, cause_ref=cause)
    assert not outcome.sent
    assert outcome.missing == ["agent_phone", "end_user_email", "issue_timestamp"]
    assert _mail(runtime, "escalation") == []
    [reply] = _mail(runtime, "agent_missing")
    text = _text(reply)
    assert "NOT sent" in text and "3 are missing" in text
    for needed in ("phone number", "sign up", "Timestamp of the issue"):
        assert needed in text
    assert reply["To"] == "maria.lopez@drchrono.com" and reply["Auto-Submitted"] == "auto-generated"


class _Exploding:
    def scrub_many(self, *args: object, **kwargs: object) -> list[ScrubResult]:
        raise RuntimeError("model crashed while reading patient Jane Doe")


def test_fail_closed_when_the_engine_raises(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    esc, cause, analysis = _idme(runtime)
    monkeypatch.setattr(Runtime, "scrubber", property(lambda self: _Exploding()))
    outcome = send_escalation(runtime, escalation=esc, analysis=analysis, cause_ref=cause)
    assert not outcome.sent
    assert [i for i in runtime.store.outbox_items() if i.recipients == ["drchrono.support@id.me"]] == []
    [held] = runtime.store.quarantine_items()
    assert held["reason"] == "scrub_failure" and held["raw_id"] is not None
    alerts = [r for r in runtime.store.audit_entries() if r["action"] == "alert:scrub_failure"]
    assert len(alerts) == 1 and "Jane Doe" not in str(dict(alerts[0]))
    [reply] = _mail(runtime, "agent_hold")
    text = _text(reply)
    assert "NOT sent" in text and not [v for v in PHI if v in text]


class _SecondScanFinds:
    """Passes text through on the first call; the second scan of the composed message finds a name."""

    def __init__(self) -> None:
        self.calls = 0

    def scrub_many(self, texts: list[str], **kwargs: object) -> list[ScrubResult]:
        self.calls += 1
        found = [Finding("PERSON", 0, 3, 0.9)] if self.calls > 1 else []
        return [ScrubResult(t, list(found), [], ["name"] if found else []) for t in texts]


def test_second_scan_residue_holds_the_message(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    esc, cause, analysis = _idme(runtime)
    fake = _SecondScanFinds()
    monkeypatch.setattr(Runtime, "scrubber", property(lambda self: fake))
    outcome = send_escalation(runtime, escalation=esc, analysis=analysis, cause_ref=cause)
    assert not outcome.sent and fake.calls == 2
    assert _mail(runtime, "escalation") == []
    assert [q["reason"] for q in runtime.store.quarantine_items()] == ["scrub_residue"]


def _with_attachments(raw: bytes, parts: list[tuple[str, str, bytes]]) -> bytes:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_content()
    out = EmailMessage()
    for k in ("Authentication-Results", "From", "To", "Subject", "Date", "Message-ID"):
        out[k] = msg[k]
    out.set_content(body)
    for name, ctype, data in parts:
        main, sub = ctype.split("/")
        if main == "text":
            out.add_attachment(data.decode(), subtype=sub, filename=name)
        else:
            out.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(out)


def test_text_attachment_scrubbed_image_withheld_and_agent_told(runtime: Runtime) -> None:
    raw = _with_attachments(_raw("01-agent-idme.eml"), [
        ("console.txt", "text/plain", b"pt Jane Doe DOB 04/12/1961 error IDME-403\n"),
        ("patient Mary Smith.txt", "text/plain", b"nothing here\n"),
        ("screen.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)])
    esc, cause, analysis = _idme(runtime, raw)
    outcome = send_escalation(runtime, escalation=esc, analysis=analysis, cause_ref=cause)
    assert outcome.sent
    [vendor] = _mail(runtime, "escalation")
    atts = {p.get_filename(): p for p in vendor.iter_attachments()}
    assert list(atts) == ["console.txt", "attachment-2.txt"]  # a file name naming a patient is replaced
    att_text = atts["console.txt"].get_content()
    assert "Jane Doe" not in att_text and "04/12/1961" not in att_text and "IDME-403" in att_text
    note = _text(_mail(runtime, "agent_note")[0])
    assert "1 attachment(s) not forwarded (image/png)" in note


def test_offsite_escalation_uses_tag_subject_and_configured_address(runtime: Runtime) -> None:
    runtime.config.vendors["offsite"] = type(runtime.config.vendor("offsite"))(address="offsite-test@example.org")
    raw = _raw("11-agent-offsite.eml")
    esc, cause = _ingest(runtime, raw, "offsite", "48377", None)
    outcome = send_escalation(runtime, escalation=esc, analysis=analyze(raw, runtime.rules, runtime.config,
                                                                        runtime.key), cause_ref=cause)
    assert outcome.sent
    [vendor] = _mail(runtime, "escalation")
    assert vendor["To"] == "offsite-test@example.org"
    assert vendor["Subject"] == "[DrChrono #48377] OffSite escalation - Zendesk #48377 - image viewer down"
    body = _text(vendor)
    assert "SMITH^JOHN" not in body and "A20261120-0042" not in body and "1958-03-02" not in body
    assert "Devon Price" in body and "+1 415-555-0177" in body and "Study unavailable (OSV-5102)" in body


def test_send_on_thread_reopen_looks_human_and_nudge_is_automatic(runtime: Runtime) -> None:
    esc, cause, _ = _idme(runtime)
    common = dict(escalation=esc, to=["drchrono.support@id.me"], in_reply_to="<v2@id.me>",
                  references=["<root@example.org>"], subject="Re: DrChrono; 48213; dr.whitfield@lakesidefamilymed.com",
                  keep=[])
    reopen = send_on_thread(runtime, kind="reopen", body="Dr. Whitfield is back; patient Jane Doe still waits.",
                            auto_submitted=False, cause_ref="clock:1", **common)
    again = send_on_thread(runtime, kind="reopen", body="Still failing.", auto_submitted=False, cause_ref="clock:1",
                           **common)
    nudge = send_on_thread(runtime, kind="nudge", body="Any update?", auto_submitted=True, cause_ref="clock:2",
                           **common)
    assert reopen is not None and reopen == again and nudge not in (None, reopen)
    [r] = _mail(runtime, "reopen")
    assert "Auto-Submitted" not in r and "Precedence" not in r and "X-Loop" not in r
    assert r["In-Reply-To"] == "<v2@id.me>" and r["References"] == "<root@example.org> <v2@id.me>"
    assert r["Subject"] == "Re: DrChrono; 48213; dr.whitfield@lakesidefamilymed.com"
    assert "Jane Doe" not in _text(r)
    assert "Dr. Whitfield is back" in _text(r)  # the end user's name, from the escalation that opened the thread
    [n] = _mail(runtime, "nudge")
    assert n["Auto-Submitted"] == "auto-generated"


def test_send_on_thread_fails_closed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    esc, _, _ = _idme(runtime)
    monkeypatch.setattr(Runtime, "scrubber", property(lambda self: _Exploding()))
    oid = send_on_thread(runtime, escalation=esc, kind="nudge", to=["drchrono.support@id.me"], body="x",
                         in_reply_to=None, references=[], subject="s", auto_submitted=True, keep=[], cause_ref="c:1")
    assert oid is None and _mail(runtime, "nudge") == []
    assert [q["reason"] for q in runtime.store.quarantine_items()] == ["scrub_failure"]


def test_send_to_agent_is_auto_submitted(runtime: Runtime) -> None:
    esc, _, _ = _idme(runtime)
    oid = send_to_agent(runtime, escalation=esc, to="maria.lopez@drchrono.com", subject="Reminder",
                        body="ID.me has not answered for 24 hours.", kind="agent_reminder", cause_ref="clock:9")
    [msg] = _mail(runtime, "agent_reminder")
    assert oid > 0 and msg["Auto-Submitted"] == "auto-generated" and msg["To"] == "maria.lopez@drchrono.com"


def test_check_agent_copy_reports_missing_fields_and_categories(runtime: Runtime) -> None:
    raw = _raw("01-agent-idme.eml").replace(b"Sign-up email: dr.whitfield@lakesidefamilymed.com\n", b"")
    report = check_agent_copy(runtime, analysis=analyze(raw, runtime.rules, runtime.config, runtime.key))
    assert "patient name" in report.phi_categories and "date of birth" in report.phi_categories
    assert report.missing_fields == ["end_user_email"]
