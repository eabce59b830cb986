"""Operations speed: the retention purge over a large store, and a /metrics + /healthz scrape against it.

Builds a store with N handled raw messages (about 6 KB each) and N sent outbox rows, ages them past
[retention] raw_days with a manual clock, then times `purge_due` (secure_delete on, WAL checkpoint) and the
database size before and after; then times scrapes of the health endpoint (which reads the store each time).

Usage: .venv/bin/python bench/bench_ops.py [--count N] [--scrapes N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.clock import ManualClock  # noqa: E402
from gateway.config import MINIMAL_TOML, parse_config  # noqa: E402
from gateway.health import start_health_server  # noqa: E402
from gateway.retention import purge_due  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402

FILLER = ("Patient details and a long description of the problem. " * 100).encode()


def build(rt: Runtime, count: int) -> None:
    store = rt.store
    with store.transaction():
        for n in range(count):
            content = (f"From: agent{n}@drchrono.com\r\nMessage-ID: <bench-{n}@x>\r\nSubject: case {n}\r\n\r\n"
                       ).encode() + FILLER
            raw, _ = store.add_raw(content, "bench", f"k{n}", f"<bench-{n}@x>")
            store.set_raw_status(raw.id, "processed")
            oid, _ = store.enqueue(kind="escalation", dedupe_key=f"bench:{n}", message_id=f"<out-{n}@x>",
                                   mail_from="escalations@example.org", recipients=["support@vendor.example"],
                                   content=FILLER)
            store.mark_sending(oid)
            store.mark_sent(oid)


def db_size(rt: Runtime) -> int:
    return sum(p.stat().st_size for p in rt.store.state_dir.glob("mailgate.sqlite3*"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="mailgate-bench-ops-"))
    clock = ManualClock(datetime(2026, 1, 5, 12, tzinfo=UTC))
    rt = Runtime.open(parse_config(tomllib.loads(MINIMAL_TOML), "<bench>", state, str(state)), clock=clock)
    try:
        began = time.perf_counter()
        build(rt, args.count)
        print(f"built {args.count} raw + {args.count} sent outbox rows in {time.perf_counter() - began:.2f}s; "
              f"database {db_size(rt) / 1e6:.1f} MB")
        clock.advance(timedelta(days=rt.config.retention.raw_days + 1))
        began = time.perf_counter()
        report = purge_due(rt)
        took = time.perf_counter() - began
        print(f"purge: {report.total} rows in {took:.2f}s ({report.total / took:,.0f} rows/s); "
              f"database {db_size(rt) / 1e6:.1f} MB after (pages zeroed, not yet vacuumed)")
        server = start_health_server(rt, listen="127.0.0.1:0")
        try:
            for path in ("/metrics", "/healthz"):
                times = []
                for _ in range(args.scrapes):
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(server.url + path, timeout=10) as r:
                        r.read()
                    times.append((time.perf_counter() - t0) * 1000)
                print(f"GET {path}: median {statistics.median(times):.2f} ms, "
                      f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:.2f} ms over {args.scrapes}")
        finally:
            server.stop()
    finally:
        rt.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
