"""Helpers for the integration tests: `mailgate run` as a real process, and what the tests count.
(Kept out of conftest.py: tests/ has a conftest of its own, and two modules named conftest do not mix.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from servers import VENDOR_ADDRESS, SmtpPeer, wait_until

from gateway.store import Store

MAILGATE = [sys.executable, "-m", "gateway.cli"]


class GatewayProcess:
    """`mailgate run` in a subprocess, with its log in the state directory."""

    def __init__(self, config: Path, state_dir: Path) -> None:
        self.config = config
        self.state_dir = state_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *extra: str, env: dict[str, str] | None = None) -> None:
        self.starts += 1
        log = open(self.state_dir / f"gateway-{self.starts}.log", "wb")  # noqa: SIM115 (owned by the child)
        self.proc = subprocess.Popen([*MAILGATE, "run", "--config", str(self.config), *extra],
                                     stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                     cwd=Path(__file__).resolve().parents[2])
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def run_once(self, *extra: str, env: dict[str, str] | None = None) -> int:
        done = subprocess.run([*MAILGATE, "run", "--config", str(self.config), "--once", *extra],
                              capture_output=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
                              env={**os.environ, **(env or {})})
        (self.state_dir / "once.log").write_bytes(done.stdout + done.stderr)
        return done.returncode

    def wait_ready(self, timeout: float = 30) -> None:
        """Until this start has installed its signal handlers and is running (its log says so)."""
        path = self.state_dir / f"gateway-{self.starts}.log"
        wait_until(lambda: b"service ready" in path.read_bytes(), timeout, "the gateway to be ready")

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.state_dir.glob("gateway-*.log")))

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """The gateway's store, opened for a look and closed again."""
        store = Store(self.state_dir)
        try:
            yield store
        finally:
            store.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def outbox_counts(gw: GatewayProcess) -> dict[str, int]:
    with gw.store() as store:
        counts: dict[str, int] = {}
        for item in store.outbox_items():
            counts[f"{item.kind}:{item.status}"] = counts.get(f"{item.kind}:{item.status}", 0) + 1
        return counts


def vendor_mail(peer: SmtpPeer) -> list[dict[str, object]]:
    return [r for r in peer.handler.received if r["to"] == [VENDOR_ADDRESS]]


def wait_vendor_mail(peer: SmtpPeer, n: int, timeout: float = 20) -> None:
    wait_until(lambda: len(vendor_mail(peer)) >= n, timeout, f"{n} vendor emails at the SMTP peer")


def assert_escalations_delivered_once(gw: GatewayProcess, peer: SmtpPeer, n: int) -> None:
    """Each escalation request makes exactly one vendor email and at most one agent note, each delivered to the
    peer exactly once (no Message-ID twice) and recorded as sent."""
    counts = outbox_counts(gw)
    assert counts.get("escalation:sent") == n, counts
    assert counts.get("agent_note:sent", 0) <= n, counts
    assert set(counts) <= {"escalation:sent", "agent_note:sent"}, counts
    ids = peer.handler.message_ids()
    assert len(ids) == len(set(ids)), "an outbound message reached the peer twice"
    assert len(vendor_mail(peer)) == n
    assert len(ids) == sum(counts.values())
