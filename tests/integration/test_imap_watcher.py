"""The mailbox watcher against a real Dovecot: IDLE latency, catch-up at start, drops, restarts, UIDVALIDITY."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from harness import assert_escalations_delivered_once, vendor_mail, wait_vendor_mail
from servers import USER, append, escalation_request, imap_login, wait_until

pytestmark = pytest.mark.integration


def _raw_counts(gw) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with gw.store() as store:
        return {s: store.count_raw(s) for s in ("new", "processed", "quarantined", "duplicate")}


def _inbox_flags(dovecot) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    with imap_login(dovecot) as client:
        client.select_folder("INBOX", readonly=True)
        return {uid: d[b"FLAGS"] for uid, d in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}


def test_message_appended_during_idle_is_handled_within_two_seconds(make_gateway, dovecot, smtp_peer):
    gw = make_gateway()
    gw.start()
    append(dovecot, [escalation_request(5001)])
    wait_vendor_mail(smtp_peer, 1)  # the first pass is done: the watcher is now in IDLE
    began = time.monotonic()
    append(dovecot, [escalation_request(5002)])
    wait_vendor_mail(smtp_peer, 2, timeout=2.0)
    assert vendor_mail(smtp_peer)[1]["at"] - began < 2.0
    assert gw.terminate() == 0
    assert_escalations_delivered_once(gw, smtp_peer, 2)


def test_mail_that_arrived_while_down_is_handled_at_start_and_mailbox_is_kept(make_gateway, dovecot, smtp_peer):
    append(dovecot, [escalation_request(6000 + i) for i in range(5)])
    gw = make_gateway()
    gw.start()
    wait_vendor_mail(smtp_peer, 5)
    assert gw.terminate() == 0
    assert_escalations_delivered_once(gw, smtp_peer, 5)
    flags = _inbox_flags(dovecot)
    # Still there, still unread for the people who share the mailbox, and marked as handled.
    assert len(flags) == 5
    assert all(b"\\Seen" not in f and b"$MailgateHandled" in f for f in flags.values())


def _imap_children(dovecot) -> list[int]:  # type: ignore[no-untyped-def]
    """The per-connection `imap` processes of this Dovecot (same process group), from /proc (no procps)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        pgrp = int(text[text.rindex(")") + 2:].split()[2])
        if comm == "imap" and pgrp == dovecot.proc.pid:
            found.append(int(stat.parent.name))
    return found


def test_connection_dropped_mid_idle_and_server_restart_lose_nothing(make_gateway, dovecot, smtp_peer):
    gw = make_gateway()
    gw.start()
    append(dovecot, [escalation_request(7001)])
    wait_vendor_mail(smtp_peer, 1)
    # The server drops the connection while the gateway sits in IDLE.
    children = wait_until(lambda: _imap_children(dovecot), 5, "the gateway's imap process")
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    append(dovecot, [escalation_request(7002)])
    wait_vendor_mail(smtp_peer, 2)
    # The whole server goes away; mail arrives while the gateway cannot be connected.
    dovecot.stop()
    dovecot.start()
    append(dovecot, [escalation_request(7003), escalation_request(7004)])
    wait_vendor_mail(smtp_peer, 4, timeout=30)
    assert gw.terminate() == 0
    assert_escalations_delivered_once(gw, smtp_peer, 4)
    assert _raw_counts(gw)["processed"] == 4
    assert "mailbox connection lost" in gw.log()


def test_uidvalidity_reset_rescans_without_handling_anything_twice(make_gateway, dovecot, smtp_peer):
    append(dovecot, [escalation_request(8000 + i) for i in range(3)])
    gw = make_gateway()
    assert gw.run_once() == 0
    assert len(vendor_mail(smtp_peer)) == 3
    with gw.store() as store:
        old_validity, old_last = store.checkpoint(f"imap:{USER}@127.0.0.1/INBOX")
    dovecot.stop()
    dovecot.reset_uidvalidity()
    dovecot.start()
    append(dovecot, [escalation_request(8003)])
    assert gw.run_once() == 0
    with gw.store() as store:
        new_validity, new_last = store.checkpoint(f"imap:{USER}@127.0.0.1/INBOX")
    assert (old_validity, old_last) != (new_validity, new_last) and new_validity != old_validity
    assert new_last == 4
    assert_escalations_delivered_once(gw, smtp_peer, 4)  # only the new message produced mail
    assert _raw_counts(gw) == {"new": 0, "processed": 4, "quarantined": 0, "duplicate": 0}


def test_oversized_message_is_quarantined_from_headers_and_does_not_block_the_next(make_gateway, dovecot,
                                                                                   smtp_peer):
    big = escalation_request(9001) + b"x" * 20_000 + b"\r\n"
    append(dovecot, [big, escalation_request(9002)])
    gw = make_gateway(mailbox__imap="max_message_bytes = 10000")
    assert gw.run_once() == 0
    assert_escalations_delivered_once(gw, smtp_peer, 1)
    with gw.store() as store:
        held = store.quarantine_items()
        assert [r["reason"] for r in held] == ["too_large"]
        raw = store.raw(held[0]["raw_id"])
        assert raw is not None and raw.content is not None
        assert b"Message-ID: <agent-9001@" in raw.content and b"xxxx" not in raw.content


def test_move_after_handling_never_deletes(make_gateway, dovecot, smtp_peer):
    append(dovecot, [escalation_request(9101), escalation_request(9102)])
    gw = make_gateway(mailbox__imap='after_handling = "move"\nmove_to = "handled"')
    assert gw.run_once() == 0
    assert_escalations_delivered_once(gw, smtp_peer, 2)
    with imap_login(dovecot) as client:
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
        assert client.select_folder("handled", readonly=True)[b"EXISTS"] == 2
