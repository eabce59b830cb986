"""Transport figures against real servers (Dovecot + aiosmtpd), printed for the README / report:

1. latency from IMAP APPEND to the vendor email arriving at the SMTP peer (p50, p95 over N messages), with
   `mailgate run` as a real process in IDLE (the full path: store, parse, classify, scrub, outbox, SMTP);
2. catch-up: time and peak RSS for `mailgate run --once` to handle a backlog waiting in the mailbox, at
   several backlog sizes (messages that need no scrubbing: strangers' mail, stored, parsed, classified,
   quarantined as unknown senders), so RSS can be seen to stay flat as the backlog grows.

Usage: python bench/bench_transport.py [--latency N] [--backlog 2500,5000,10000]
"""

from __future__ import annotations

import argparse
import os
import pwd
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from servers import (  # noqa: E402
    VENDOR_ADDRESS,
    Dovecot,
    SmtpPeer,
    append,
    escalation_request,
    gateway_config,
    wait_until,
)

MAILGATE = [sys.executable, "-m", "gateway.cli", "run"]


def stranger_message(i: int) -> bytes:
    return (f"From: Someone {i} <someone{i}@example.net>\r\nTo: escalations@example.org\r\n"
            f"Subject: question {i}\r\nDate: Fri, 20 Nov 2026 16:00:00 +0000\r\n"
            f"Message-ID: <backlog-{i}@example.net>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + "Hello, I have a question about my account. " * 20 + "\r\n").encode()


def fill_maildir(dovecot: Dovecot, n: int) -> None:
    """Drop n messages straight into the Maildir (new/), as a delivery agent would; far faster than APPEND."""
    new = dovecot.maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    owner = pwd.getpwnam(dovecot.mail_user)
    for i in range(n):
        p = new / f"{1700000000 + i}.M{i}P1.bench"
        p.write_bytes(stranger_message(i))
        if os.geteuid() == 0:
            os.chown(p, owner.pw_uid, owner.pw_gid)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_latency(n: int) -> None:
    with Dovecot() as dovecot, SmtpPeer() as peer:
        state = Path(tempfile.mkdtemp(prefix="mailgate-bench-"))
        cfg = gateway_config(dovecot, peer, state)
        log = open(state / "gateway.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([*MAILGATE, "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            def vendor_count() -> int:
                return sum(1 for r in peer.handler.received if r["to"] == [VENDOR_ADDRESS])

            append(dovecot, [escalation_request(900000)])  # warm-up: loads the NLP model
            wait_until(lambda: vendor_count() >= 1, 120, "the warm-up message")
            latencies = []
            for i in range(n):
                began = time.monotonic()
                append(dovecot, [escalation_request(910000 + i)])
                wait_until(lambda i=i: vendor_count() >= i + 2, 30, f"message {i}", interval=0.005)
                arrived = [r for r in peer.handler.received if r["to"] == [VENDOR_ADDRESS]][-1]["at"]
                latencies.append(float(arrived) - began)  # type: ignore[arg-type]
            print(f"latency APPEND -> vendor email at the SMTP peer over {n} messages: "
                  f"p50 {statistics.median(latencies) * 1000:.0f} ms, "
                  f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            log.close()


def run_once_measured(cfg: Path) -> tuple[float, int, int]:
    """(seconds, peak RSS in MiB, exit code) of one `mailgate run --once`."""
    began = time.monotonic()
    proc = subprocess.Popen([*MAILGATE, "--config", str(cfg), "--once"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=ROOT)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - began, usage.ru_maxrss // 1024, proc.returncode


def bench_catch_up(sizes: list[int], state_root: str | None) -> None:
    for n in sizes:
        with Dovecot() as dovecot, SmtpPeer() as peer:
            state = Path(tempfile.mkdtemp(prefix="mailgate-bench-", dir=state_root))
            cfg = gateway_config(dovecot, peer, state)
            startup, startup_rss, _ = run_once_measured(cfg)  # empty mailbox: start-up and exit only
            fill_maildir(dovecot, n)
            seconds, rss, code = run_once_measured(cfg)
            from gateway.store import Store

            store = Store(state)
            handled = store.count_raw() - store.count_raw("new")
            store.close()
            work = max(seconds - startup, 1e-6)
            print(f"catch-up {n:>6} messages: {seconds:6.1f} s wall ({startup:.1f} s start-up), "
                  f"{handled / work:6.0f} msg/s end to end, {handled / seconds:6.0f} msg/s incl. start-up, "
                  f"peak RSS {rss} MiB (idle start-up {startup_rss} MiB), handled {handled}, exit {code}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=int, default=100, help="messages for the latency figure (0: skip)")
    parser.add_argument("--backlog", default="2500,5000,10000", help="backlog sizes for catch-up ('' to skip)")
    parser.add_argument("--state-root", default=None,
                        help="where the gateway's state directory goes (e.g. /dev/shm to take fsync cost out)")
    args = parser.parse_args()
    if args.latency:
        bench_latency(args.latency)
    if args.backlog:
        where = args.state_root or tempfile.gettempdir()
        print(f"catch-up: state directory under {where}")
        bench_catch_up([int(x) for x in args.backlog.split(",")], args.state_root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
