"""The file outbox transport and the outbox sender on top of it."""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path

from gateway.outbox_sender import OutboxSender
from gateway.runtime import Runtime
from gateway.transport.file import FileTransport


def queue(rt: Runtime, key: str, mid: str) -> int:
    content = (f"From: escalations@example.org\r\nTo: v@vendor.example\r\nSubject: hello\r\n"
               f"Message-ID: {mid}\r\n\r\nbody\r\n").encode()
    oid, _ = rt.store.enqueue(kind="escalation", dedupe_key=key, message_id=mid, mail_from="escalations@example.org",
                              recipients=["v@vendor.example"], content=content)
    return oid


def test_each_outgoing_message_becomes_one_eml(runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    sender = OutboxSender(runtime.store, FileTransport(out), runtime.config, runtime.key)
    oid = queue(runtime, "k1", "<m1@example.org>")
    assert asyncio.run(sender.drain()) == 1
    files = list(out.glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == "<m1@example.org>"
    assert parsed["X-Mailgate-Envelope-To"] == "v@vendor.example"
    item = runtime.store.outbox_item(oid)
    assert item is not None and item.status == "sent"
    assert asyncio.run(sender.drain()) == 0  # nothing is sent twice


def test_a_row_left_sending_by_a_crash_is_not_sent_again(runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    transport = FileTransport(out)
    oid = queue(runtime, "k2", "<m2@example.org>")
    item = runtime.store.outbox_item(oid)
    assert item is not None
    asyncio.run(transport.send(mail_from=item.mail_from, recipients=item.recipients, content=item.content,
                               message_id=item.message_id))
    runtime.store.mark_sending(oid)  # the crash happened after the file was written, before the commit
    written = list(out.glob("*.eml"))[0].stat().st_mtime_ns
    asyncio.run(OutboxSender(runtime.store, transport, runtime.config, runtime.key).drain())
    assert list(out.glob("*.eml"))[0].stat().st_mtime_ns == written
    item = runtime.store.outbox_item(oid)
    assert item is not None and item.status == "sent"


def test_dry_run_sends_nothing_and_marks_rows(runtime: Runtime, tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    oid = queue(runtime, "k3", "<m3@example.org>")
    asyncio.run(OutboxSender(runtime.store, FileTransport(out), runtime.config, runtime.key, dry_run=True).drain())
    assert list(out.glob("*.eml")) == []
    item = runtime.store.outbox_item(oid)
    assert item is not None and item.status == "dry_run"
