"""PHI never reaches a log line, a metric or an alert, on any path: good escalations, unreadable, untrusted and
unknown-sender mail, stages that raise exceptions quoting the message, transports whose errors quote PHI
(retries, dead letters, crashes), and the vendor clocks firing days later.

The logs are captured as the production handlers write them (JSON lines, text and journald payloads) with
every logger at DEBUG. Alerts are read where operators see them: the audit log (every entry's detail) and the
alert mails in the outbox."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import ops_mail as m
import pytest
from prometheus_client import generate_latest

from gateway import lifecycle, metrics, outbound, pipeline
from gateway.clock import ManualClock
from gateway.health import refresh_gauges
from gateway.logs import SafeTextFormatter, journal_payload, setup_logging
from gateway.outbox_sender import OutboxSender
from gateway.runtime import Runtime
from gateway.transport import PermanentSendError, SendResult, TransientSendError
from gateway.transport.file import FileTransport

PHI_ERROR = f"mailbox of {m.END_USER_EMAIL} ({m.PATIENT}, SSN {m.SSN}, {m.MRN}) is full"


class _Journal(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[bytes] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.payloads.append(journal_payload(record))


class Captured:
    def __init__(self) -> None:
        self.json = io.StringIO()
        self.text = io.StringIO()
        self.journal = _Journal()
        self.records = 0

    def everything(self) -> str:
        return self.json.getvalue() + self.text.getvalue() + b"".join(self.journal.payloads).decode()


@pytest.fixture
def logs() -> Iterator[Captured]:
    root, ours = logging.getLogger(), logging.getLogger("mailgate")
    saved = (root.handlers[:], root.level, ours.handlers[:], ours.level, ours.propagate)
    cap = Captured()
    json_handler = setup_logging("DEBUG", "json", stream=cap.json)
    text_handler = logging.StreamHandler(cap.text)
    text_handler.setFormatter(SafeTextFormatter())
    for logger in (root, ours):
        logger.addHandler(text_handler)
        logger.addHandler(cap.journal)
    root.setLevel(logging.DEBUG)  # libraries at DEBUG too: nothing may slip through them either
    yield cap
    json_handler.close()
    root.handlers[:], ours.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    ours.setLevel(saved[3])
    ours.propagate = saved[4]


class FailingTransport(FileTransport):
    """A transport whose errors quote PHI, as a careless server or library might."""

    def __init__(self, path: object, failure: type[Exception]) -> None:
        super().__init__(path)  # type: ignore[arg-type]
        self.failure = failure

    async def send(self, *, mail_from: str, recipients: list[str], content: bytes, message_id: str) -> SendResult:
        raise self.failure(PHI_ERROR)

    async def already_delivered(self, message_id: str) -> bool | None:
        return None


def _assert_clean(where: str, text: str) -> None:
    found = [phi for phi in m.PHI if phi.lower() in text.lower()]
    assert not found, f"PHI {found} in {where}"


def _alerts(rt: Runtime) -> list[str]:
    texts = []
    for item in rt.store.outbox_items():
        if item.kind == "alert" and item.content:
            msg = email.message_from_bytes(item.content, policy=email.policy.default)
            texts.append(str(msg["Subject"]) + "\n" + msg.get_content())  # type: ignore[attr-defined]
    return texts


def _audit_text(rt: Runtime) -> str:
    return "\n".join(f"{e['actor']} {e['action']} {e['target']} {e['cause_ref']} {e['detail']}"
                     for e in rt.store.audit_entries())


def _check_everything(rt: Runtime, logs: Captured) -> None:
    assert logs.json.getvalue(), "nothing was logged: the capture is not wired"
    _assert_clean("logs", logs.everything())
    refresh_gauges(rt.store, rt.clock)  # what a scrape does first: the store-derived families too
    _assert_clean("/metrics", generate_latest(metrics.REGISTRY).decode())
    _assert_clean("audit log", _audit_text(rt))
    for text in _alerts(rt):
        _assert_clean("alert mail", text)
    _assert_clean("quarantine details", " ".join(str(r["detail"]) for r in rt.store.quarantine_items(None)))


def test_inbound_paths_leak_nothing(runtime: Runtime, logs: Captured, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.config.gateway.alert_address = "ops@example.org"
    outcomes = {
        "good": m.store_and_process(runtime, m.agent_escalation(), "good")[1],
        "untrusted": m.store_and_process(runtime, m.forged_vendor(), "forged")[1],
        "unknown": m.store_and_process(runtime, m.unknown_sender(), "stranger")[1],
        "unreadable": m.store_and_process(runtime, m.unreadable(), "garbage")[1],
    }

    def parse_blows_up(*_a: object, **_k: object) -> None:
        raise ValueError(f"cannot parse mail from {m.END_USER_EMAIL} about {m.PATIENT}: {m.SUBJECT_PHI}")

    def decide_blows_up(*_a: object, **_k: object) -> None:
        raise KeyError(f"{m.PATIENT} DOB {m.DOB} {m.MRN}")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "analyze", parse_blows_up)
        outcomes["parse_error"] = m.store_and_process(runtime, m.agent_escalation(48214), "e1")[1]
    with monkeypatch.context() as patch:
        patch.setattr(lifecycle, "on_message", decide_blows_up)
        outcomes["decide_error"] = m.store_and_process(runtime, m.agent_escalation(48215), "e2")[1]
    def scrub_blows_up(*_a: object, **_k: object) -> None:
        raise RuntimeError(f"presidio choked on {m.PATIENT} {m.SSN} <{m.END_USER_EMAIL}>")

    with monkeypatch.context() as patch:
        patch.setattr(outbound, "_prepare_escalation", scrub_blows_up)
        outcomes["scrub_error"] = m.store_and_process(runtime, m.agent_escalation(48216), "e3")[1]
    assert outcomes == {"good": "processed", "untrusted": "quarantined", "unknown": "quarantined",
                        "unreadable": "quarantined", "parse_error": "quarantined", "decide_error": "quarantined",
                        "scrub_error": "processed"}
    reasons = {r["reason"] for r in runtime.store.quarantine_items()}
    assert reasons >= {"untrusted", "unknown_sender", "unreadable", "processing_error", "scrub_failure"}
    assert any("scrub_failure" in t for t in _alerts(runtime)), "a held escalation raises an alert mail"
    assert '"error_type": "ValueError"' in logs.json.getvalue()  # the failure is logged, by type only
    _check_everything(runtime, logs)


@pytest.mark.parametrize("failure", [TransientSendError, PermanentSendError, RuntimeError])
def test_outbox_failures_and_alerts_leak_nothing(runtime: Runtime, clock: ManualClock, logs: Captured,
                                                 failure: type[Exception]) -> None:
    runtime.config.gateway.alert_address = "ops@example.org"
    assert m.store_and_process(runtime, m.agent_escalation(), "good")[1] == "processed"
    sender = OutboxSender(runtime.store, FailingTransport(runtime.config.outbox_path, failure), runtime.config,
                          runtime.key)
    for _ in range(8):  # retries until the retry age runs out and the row is dead-lettered
        asyncio.run(sender.drain())
        clock.advance(timedelta(hours=8))
    vendor_mail = [i for i in runtime.store.outbox_items() if i.kind == "escalation"]
    assert vendor_mail and vendor_mail[0].status == "dead"
    assert _alerts(runtime), "a dead letter raises an alert mail"
    _check_everything(runtime, logs)


def test_clocks_firing_later_leak_nothing(runtime: Runtime, clock: ManualClock, logs: Captured) -> None:
    runtime.config.gateway.alert_address = "ops@example.org"
    assert m.store_and_process(runtime, m.agent_escalation(), "good")[1] == "processed"
    sender = OutboxSender(runtime.store, FileTransport(runtime.config.outbox_path), runtime.config, runtime.key)
    asyncio.run(sender.drain())
    for _ in range(12):  # a week of vendor silence: nudges, contact escalations, alerts as the clocks fire
        clock.advance(timedelta(hours=14))
        pipeline.run_due(runtime)
        asyncio.run(sender.drain())
    kinds = {i.kind for i in runtime.store.outbox_items()}
    assert kinds - {"escalation", "agent_note"}, f"no clock fired in a week: {kinds}"
    _check_everything(runtime, logs)


def test_the_formatters_themselves_refuse_phi_in_fields_and_arguments(logs: Captured) -> None:
    log = logging.getLogger("mailgate.test")
    log.info("message from %s", m.END_USER_EMAIL, extra={"reason": m.SUBJECT_PHI, "vendor": m.PATIENT,
                                                         "subject": m.SUBJECT_PHI, "escalation_id": 3})
    try:
        raise ValueError(m.SSN)
    except ValueError:
        log.exception("failed", extra={"source": f"imap:{m.END_USER_EMAIL} x"})
    logging.getLogger("some.library").warning("library says %s", m.PATIENT)
    out = logs.everything()
    _assert_clean("formatted logs", out)
    assert '"escalation_id": 3' in logs.json.getvalue() and "<redacted>" in out
    assert "MAILGATE_ESCALATION_ID=3" in out and "error_type" in out


def test_zendesk_failures_and_their_alerts_leak_nothing(tmp_path: Path, clock: ManualClock, logs: Captured,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_zendesk import FakeZendesk, Fault

    from gateway.zendesk import worker

    monkeypatch.setenv("MG_TEST_ZENDESK_TOKEN", "zd-token")
    with FakeZendesk(token="zd-token", tickets=(48213,)) as zendesk:
        text = (
            f'[zendesk]\nurl = "{zendesk.url}"\nemail = "bot@example.org"\napi_token = "${{MG_TEST_ZENDESK_TOKEN}}"\n'
            "max_attempts = 2\ntimeout_seconds = 5\n")
        rt = Runtime.open(m.make_config(tmp_path / "zd", text), clock=clock)
        try:
            rt.config.gateway.alert_address = "ops@example.org"
            assert m.store_and_process(rt, m.agent_escalation(), "good")[1] == "processed"
            zendesk.inject(*[Fault(status=500) for _ in range(6)], *[Fault(status=422) for _ in range(6)])
            for _ in range(6):
                asyncio.run(worker.drain(rt))
                clock.advance(timedelta(hours=2))
            assert any(i.kind == "alert" for i in rt.store.outbox_items()), "a Zendesk dead letter raises an alert"
            _check_everything(rt, logs)
        finally:
            rt.close()
