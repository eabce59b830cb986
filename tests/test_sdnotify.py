"""sd_notify: messages reach the socket systemd names; the watchdog interval is half of WATCHDOG_USEC."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from gateway.sdnotify import Notifier


def test_without_notify_socket_nothing_is_sent():
    n = Notifier({})
    assert not n.enabled and n.ready() is False and n.watchdog_interval is None


def test_ready_watchdog_stopping_reach_the_socket(tmp_path: Path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(2)
        n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
        assert n.watchdog_interval == 15.0
        assert n.ready("running") and n.watchdog() and n.stopping()
        got = [sock.recv(1024).decode() for _ in range(3)]
    assert got == ["READY=1\nSTATUS=running", "WATCHDOG=1", "STOPPING=1"]


def test_abstract_socket_name(tmp_path: Path):
    name = f"mailgate-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).watchdog()
        assert sock.recv(64) == b"WATCHDOG=1"


def test_watchdog_meant_for_another_process_is_ignored():
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert n.watchdog_interval is None


def test_a_full_or_missing_socket_never_raises_or_blocks(tmp_path: Path):
    assert Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).watchdog() is False
    path = str(tmp_path / "full")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        n = Notifier({"NOTIFY_SOCKET": path})
        results = [n.watchdog() for _ in range(500)]  # nobody reads: the queue fills up
    assert results[0] is True and results[-1] is False
