"""Both lifecycle stories (tests/stories.py) against the real servers: every message goes into a real Dovecot
INBOX and is read back over IMAP by the gateway's IMAP source, and everything the gateway sends goes through
its SMTP transport to the aiosmtpd peer. The clock is injected (ManualClock), so the story's days pass at once.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from servers import Dovecot, SmtpPeer, append, gateway_config
from stories import IDME_START, OFFSITE_START, idme_story, offsite_story

from gateway.clock import ManualClock
from gateway.config import load_config
from gateway.lifecycle.reopen import ReopenResult, reopen_ticket
from gateway.outbox_sender import OutboxSender
from gateway.pipeline import ingest, process_pending, run_due
from gateway.runtime import Runtime
from gateway.service_setup import build_source, build_transport

pytestmark = pytest.mark.integration

VENDORS = {
    "vendors__idme": 'after_hours_alert = "alert@idmeinc.pagerduty.com"\nmax_reopens = 2',
    "vendors__offsite": 'phones = ["816-232-7483", "816-676-0434"]\nmax_reopens = 1\nauto_reopen = true',
}


class RealServers:
    """The gateway's own source, pipeline, scheduler hook and outbox sender, in process, on a manual clock."""

    def __init__(self, dovecot: Dovecot, peer: SmtpPeer, state: Path, start: datetime) -> None:
        self.dovecot, self.peer = dovecot, peer
        config = load_config(_config(dovecot, peer, state))
        self.clock = ManualClock(start)
        self.rt = Runtime.open(config, clock=self.clock)
        self.source = build_source(config, self.rt.store, None, False)
        self.sender = OutboxSender(self.rt.store, build_transport(config, None), config, self.rt.key)

    def _drain(self) -> None:
        asyncio.run(self.sender.drain())

    def deliver(self, raw: bytes) -> str:
        append(self.dovecot, [raw])
        # A fresh session sees the new message at once (a selected session learns of it on its next NOOP/IDLE;
        # the service's watcher does that part, and is not what this test is about).
        self.source.connect()  # type: ignore[attr-defined]
        before = set(self.rt.store.pending_raw_ids())
        ingest(self.rt, self.source)
        new = [i for i in self.rt.store.pending_raw_ids() if i not in before]
        process_pending(self.rt)
        self._drain()
        if not new:
            return "skipped"  # the same bytes again: content-addressed, stored once
        raw_row = self.rt.store.raw(new[-1])
        assert raw_row is not None
        return raw_row.status

    def run_due(self) -> int:
        fired = run_due(self.rt)
        self._drain()
        return fired

    def reopen(self, ticket: str, *, note: str, actor: str) -> list[ReopenResult]:
        results = reopen_ticket(self.rt, ticket, note=note, actor=actor)
        self._drain()
        return results

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()
        self.rt.close()


def _config(dovecot: Dovecot, peer: SmtpPeer, state: Path) -> Path:
    path = gateway_config(dovecot, peer, state, **VENDORS)
    # An array of tables cannot be written through gateway_config's section helper.
    path.write_text(path.read_text() + '[[vendors.offsite.contacts]]\nname = "Jamison White"\n'
                    'email = "jamison.white@offsite.inc.co"\nrole = "leadership"\n')
    return path


@pytest.fixture
def harness(dovecot: Dovecot, smtp_peer: SmtpPeer, tmp_path: Path) -> Iterator:
    made: list[RealServers] = []

    def make(start: datetime) -> RealServers:
        state = tmp_path / f"state{len(made)}"
        state.mkdir()
        h = RealServers(dovecot, smtp_peer, state, start)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


def _at_peer(peer: SmtpPeer, kind_to: str) -> list[email.message.EmailMessage]:
    found = []
    for r in peer.handler.received:
        if kind_to in r["to"]:  # type: ignore[operator]
            found.append(email.message_from_bytes(r["content"], policy=email.policy.default))  # type: ignore[arg-type]
    return found


def _assert_sent_once(h: RealServers, peer: SmtpPeer) -> None:
    ids = peer.handler.message_ids()
    assert len(ids) == len(set(ids)), "a message reached the SMTP peer twice"
    statuses = {i.status for i in h.rt.store.outbox_items()}
    assert statuses == {"sent"}, statuses
    assert len(ids) == len(h.rt.store.outbox_items())


def test_idme_story_over_imap_and_smtp(harness, smtp_peer: SmtpPeer) -> None:  # type: ignore[no-untyped-def]
    h = harness(IDME_START)
    idme_story(h)
    _assert_sent_once(h, smtp_peer)
    to_vendor = _at_peer(smtp_peer, "drchrono.support@id.me")
    assert [str(m["Subject"]).startswith("Re: ") for m in to_vendor] == [False, True]  # escalation, then reopen
    reopen = to_vendor[1]
    assert str(reopen["In-Reply-To"]) == "<zd-7781234-closed@id.me>"
    assert all(reopen[hdr] is None for hdr in ("Auto-Submitted", "Precedence", "X-Loop"))


def test_offsite_story_over_imap_and_smtp(harness, smtp_peer: SmtpPeer) -> None:  # type: ignore[no-untyped-def]
    h = harness(OFFSITE_START)
    offsite_story(h)
    _assert_sent_once(h, smtp_peer)
    to_vendor = _at_peer(smtp_peer, "support@offsite.inc.co")
    kinds = ["nudge" if m["Auto-Submitted"] else "reply" for m in to_vendor[1:]]
    assert kinds == ["nudge", "reply"]  # the missed-update nudge, then the reopen
