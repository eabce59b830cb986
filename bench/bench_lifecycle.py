"""Lifecycle speed: N OffSite escalations acknowledged (deadlines planned in business hours), then the clock
moved a week so that every update deadline is missed once (nudge, agent notice, Zendesk note, re-plan), then
`run_due` again with nothing due. Prints planning and firing rates and the cost of an idle scheduler tick.

Usage: .venv/bin/python bench/bench_lifecycle.py [--count N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.clock import ManualClock  # noqa: E402
from gateway.config import parse_config  # noqa: E402
from gateway.lifecycle import clocks, run_due  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402

CONFIG = """
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
[vendors.offsite]
escalate_after_misses = 1000
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=500)
    args = ap.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-lifecycle-"))
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt = Runtime.open(parse_config(tomllib.loads(CONFIG), "<bench>", state, state_dir=str(state)), clock=clock)
    store = rt.store
    started = time.perf_counter()
    with store.transaction():
        for i in range(args.count):
            esc, _ = store.create_escalation(zendesk_ticket=str(100000 + i), vendor="offsite", state="acknowledged",
                                             priority="high", agent_email="agent@drchrono.com",
                                             acknowledged_at=clock.now().isoformat())
            store.add_vendor_ticket(esc.id, str(200000 + i), "offsite")
            clocks.replan(rt, esc, "ack", f"bench:{i}", clock.now())
    plan_s = time.perf_counter() - started
    clock.advance(timedelta(days=7))
    # Agent notices wait for desk hours only when the desk is closed; a Monday 7 am Pacific keeps them inline.
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    started = time.perf_counter()
    fired = 0
    while True:
        n = run_due(rt, limit=500)
        fired += n
        if n == 0:
            break
    fire_s = time.perf_counter() - started
    started = time.perf_counter()
    idle_runs = 200
    for _ in range(idle_runs):
        run_due(rt)
    idle_s = time.perf_counter() - started
    nudges = len([i for i in store.outbox_items() if i.kind == "nudge"])
    print(f"escalations: {args.count}; deadlines planned: {store.count_deadlines()} in {plan_s:.2f}s "
          f"({args.count / plan_s:,.0f} escalations/s)")
    print(f"deadlines fired: {fired} in {fire_s:.2f}s ({fired / fire_s:,.0f}/s; each a nudge through the scrubber, "
          f"an agent notice and a Zendesk note); nudges queued: {nudges}")
    print(f"idle scheduler tick: {idle_s / idle_runs * 1000:.2f} ms")
    rt.close()


if __name__ == "__main__":
    main()
