"""The outbox sender's never-twice rule with a transport that journals the DATA moment (like SMTP)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.outbox_sender import OutboxSender
from gateway.runtime import Runtime
from gateway.transport import SendResult, TransientSendError


class FakeSmtp:
    """Journals like SmtpTransport; can crash after the data went out; answers proof as told."""

    name = "fake-smtp"

    def __init__(self, proof: bool | None) -> None:
        self.journal = None
        self.proof = proof
        self.crash_after_data = False
        self.sent: list[str] = []
        self.proof_asked: list[str] = []

    async def send(self, *, mail_from: str, recipients: list[str], content: bytes, message_id: str) -> SendResult:
        assert self.journal is not None
        self.journal.data_started(message_id)
        self.sent.append(message_id)
        if self.crash_after_data:
            raise KeyboardInterrupt("simulated crash between the server's 250 and our commit")
        return SendResult(accepted=list(recipients))

    async def already_delivered(self, message_id: str) -> bool | None:
        self.proof_asked.append(message_id)
        return self.proof

    async def close(self) -> None:
        return None


def _queue(rt: Runtime, n: int = 1) -> list[int]:
    ids = []
    for i in range(n):
        oid, _ = rt.store.enqueue(kind="escalation", dedupe_key=f"k{i}", message_id=f"<m{i}@example.org>",
                                  mail_from="gw@example.org", recipients=["v@example.net"], content=b"x")
        ids.append(oid)
    return ids


async def _drain(rt: Runtime, transport: FakeSmtp, stop: Callable[[], bool] | None = None) -> int:
    return await OutboxSender(rt.store, transport, rt.config, rt.key).drain(stop=stop)


async def _crash_once(rt: Runtime, transport: FakeSmtp) -> int:
    """Send one row and 'crash' after the server accepted it; returns the row id."""
    (oid,) = _queue(rt)
    transport.crash_after_data = True
    with pytest.raises(KeyboardInterrupt):
        await _drain(rt, transport)
    transport.crash_after_data = False
    item = rt.store.outbox_item(oid)
    assert item is not None and item.status == "sending"
    return oid


async def test_after_a_crash_a_send_found_in_the_sent_folder_is_not_repeated(runtime):
    transport = FakeSmtp(proof=True)
    oid = await _crash_once(runtime, transport)
    await _drain(runtime, transport)
    assert transport.sent == ["<m0@example.org>"]
    assert runtime.store.outbox_item(oid).status == "sent"
    assert [e["action"] for e in runtime.store.audit_entries()][-1] == "outbox:sent_verified"


async def test_after_a_crash_with_proof_of_absence_it_is_sent_again(runtime):
    transport = FakeSmtp(proof=False)
    oid = await _crash_once(runtime, transport)
    await _drain(runtime, transport)
    assert transport.sent == ["<m0@example.org>", "<m0@example.org>"]
    assert runtime.store.outbox_item(oid).status == "sent"


async def test_after_a_crash_with_no_way_to_tell_it_is_held_and_an_alert_raised(runtime):
    transport = FakeSmtp(proof=None)
    oid = await _crash_once(runtime, transport)
    await _drain(runtime, transport)
    assert transport.sent == ["<m0@example.org>"]
    assert runtime.store.outbox_item(oid).status == "held"
    assert "alert:delivery_uncertain" in [e["action"] for e in runtime.store.audit_entries()]


async def test_a_row_interrupted_before_the_data_is_simply_sent(runtime):
    transport = FakeSmtp(proof=None)
    (oid,) = _queue(runtime)
    runtime.store.mark_sending(oid)  # crashed after claiming the row, before any data left
    await _drain(runtime, transport)
    assert transport.sent == ["<m0@example.org>"] and transport.proof_asked == []
    assert runtime.store.outbox_item(oid).status == "sent"


async def test_a_failing_proof_check_retries_later_without_sending(runtime):
    transport = FakeSmtp(proof=True)
    oid = await _crash_once(runtime, transport)

    async def unreachable(message_id: str) -> bool | None:
        raise TransientSendError("imap down")

    transport.already_delivered = unreachable  # type: ignore[method-assign]
    await _drain(runtime, transport)
    item = runtime.store.outbox_item(oid)
    assert transport.sent == ["<m0@example.org>"] and item.status == "pending" and item.last_error == "imap down"


async def test_drain_stops_between_rows_when_asked(runtime):
    transport = FakeSmtp(proof=None)
    _queue(runtime, 3)
    handled = await _drain(runtime, transport, stop=lambda: len(transport.sent) >= 1)
    assert handled == 1 and transport.sent == ["<m0@example.org>"]
