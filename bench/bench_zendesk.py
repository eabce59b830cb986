"""How fast the Zendesk worker drains its queue against the local fake Zendesk (loopback HTTP, no faults),
and what a marker check costs. Prints figures; asserts nothing about speed."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fake_zendesk import FakeZendesk, zendesk_toml  # noqa: E402

from gateway.clock import ManualClock  # noqa: E402
from gateway.config import parse_config  # noqa: E402
from gateway.runtime import Runtime  # noqa: E402
from gateway.zendesk.queue import queue_event_note  # noqa: E402
from gateway.zendesk.worker import drain  # noqa: E402

TICKETS = 50
EVENTS_PER_TICKET = 4
BASE = '[gateway]\naddress = "escalations@example.org"\n[trust]\nauthserv_ids = ["mx.example.org"]\n'


def main() -> None:
    os.environ["MAILGATE_BENCH_ZD_TOKEN"] = "bench-token"
    with FakeZendesk(token="bench-token", tickets=tuple(range(1000, 1000 + TICKETS))) as fake, \
            tempfile.TemporaryDirectory() as tmp:
        config = parse_config(tomllib.loads(BASE + zendesk_toml(fake.url, token_env="MAILGATE_BENCH_ZD_TOKEN",
                                                                timeout=5.0)), "<bench>", Path(tmp), state_dir=tmp)
        rt = Runtime.open(config, clock=ManualClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)))
        t0 = time.perf_counter()
        with rt.store.transaction():
            for n in range(TICKETS):
                esc, _ = rt.store.create_escalation(zendesk_ticket=str(1000 + n), vendor="idme", state="sent")
                for k, kind in enumerate(("ack", "progress", "need_info", "resolved")[:EVENTS_PER_TICKET]):
                    queue_event_note(rt, escalation=esc, kind=kind, cause_ref=f"msg:{n}:{k}",
                                     detail={"vendor_ticket": str(7000000 + n)})
        queued = time.perf_counter() - t0
        jobs = TICKETS * EVENTS_PER_TICKET
        t0 = time.perf_counter()
        handled = asyncio.run(drain(rt, limit=100))
        drained = time.perf_counter() - t0
        print(f"zendesk queue: {jobs} notes queued in {queued * 1000:.0f} ms "
              f"({queued / jobs * 1e6:.0f} us per note, rendering included)")
        print(f"zendesk drain: {handled} notes posted in {drained:.2f} s ({handled / drained:.0f} notes/s, "
              f"{len(fake.calls('PUT'))} PUT calls, loopback fake server)")
        rt.close()


if __name__ == "__main__":
    main()
