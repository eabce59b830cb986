"""The IMAP source's waiting logic with a scripted client: what counts as new mail, what as a dead connection,
and the polling fallback. (Fetching and checkpoints run against a real Dovecot in tests/integration.)"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from gateway.config import ImapSection
from gateway.sources.imap import ConnectionLost, ImapSource, _by_size
from gateway.store import Store


class ScriptedClient:
    def __init__(self, script: list[object]) -> None:
        self.script = script  # each idle_check returns the next entry (a list, or "eof" for an instant empty)
        self.calls: list[str] = []

    def idle(self) -> None:
        self.calls.append("idle")

    def idle_check(self, timeout: float) -> list[tuple]:
        self.calls.append("check")
        step = self.script.pop(0) if self.script else []
        if step == "eof":
            return []
        if step == []:
            time.sleep(0.06)  # a real timeout takes time; only an instant empty answer means EOF
        return step  # type: ignore[return-value]

    def idle_done(self) -> None:
        self.calls.append("done")

    def noop(self) -> None:
        self.calls.append("noop")

    def folder_status(self, folder: str, what: list[bytes]) -> dict[bytes, int]:
        self.calls.append("status")
        return {b"UIDNEXT": self.uidnext}

    uidnext = 1


@pytest.fixture
def source(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = Store(tmp_path)
    src = ImapSource(ImapSection(host="h", username="u", idle_restart_seconds=300, poll_seconds=1), store)
    src.has_idle = True
    yield src
    store.close()


def test_new_mail_ends_the_wait(source):
    source.client = ScriptedClient([[], [(3, b"EXISTS")]])
    source.wait_for_mail(threading.Event())
    assert source.client.calls == ["status", "idle", "check", "check", "done"]


def test_mail_that_arrived_during_the_last_pass_skips_idle(source):
    source.client = ScriptedClient([])
    source.client.uidnext = 8  # UIDs up to 7 exist; the last SEARCH knew of none
    source.wait_for_mail(threading.Event())
    assert source.client.calls == ["status"]


@pytest.mark.parametrize("script", [[[(b"BYE", b"shutting down")]], ["eof"]])
def test_bye_or_an_instant_empty_check_is_a_dead_connection(source, script):
    source.client = ScriptedClient(list(script))
    with pytest.raises(ConnectionLost):
        source.wait_for_mail(threading.Event())


def test_idle_is_reissued_after_idle_restart_seconds(source):
    source.cfg.idle_restart_seconds = 0
    source.client = ScriptedClient([])
    source.wait_for_mail(threading.Event())
    assert source.client.calls == ["status", "idle", "done"]


def test_stop_leaves_idle(source):
    stop = threading.Event()
    stop.set()
    source.client = ScriptedClient([])
    source.wait_for_mail(stop)
    assert source.client.calls == ["status", "idle", "done"]


def test_without_idle_the_source_polls(source):
    source.has_idle = False
    stop = threading.Event()
    stop.set()  # the poll wait ends at once
    source.client = ScriptedClient([])
    source.wait_for_mail(stop)
    assert source.client.calls == ["noop"]


def test_an_error_while_waiting_is_a_lost_connection(source):
    class Broken(ScriptedClient):
        def idle(self) -> None:
            raise OSError("reset")

    source.client = Broken([])
    with pytest.raises(ConnectionLost):
        source.wait_for_mail(threading.Event())


def test_bodies_are_fetched_in_bounded_groups():
    groups = list(_by_size([(1, 6), (2, 6), (3, 1), (4, 1), (5, 20)], max_bytes=10, max_count=2))
    assert groups == [[1], [2, 3], [4], [5]]
