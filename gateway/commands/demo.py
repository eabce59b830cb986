"""`mailgate demo`: run the sample mailbox through the gateway and tell both stories."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gateway.demo import START, run_demo
from gateway.demo.report import quarantine_lines
from gateway.demo.story import story


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="Run a sample mailbox (ID.me and OffSite escalations) through the gateway.",
                       description="Copies a sample mailbox into a fresh Maildir under a temporary state "
                       "directory, runs the pipeline with the file outbox on a simulated clock (deadlines fire "
                       "at their own time), and tells each escalation's story: what the gateway saw, what it "
                       "sent, the Zendesk notes, and what it waits for next.")
    p.add_argument("--state-dir", metavar="DIR", help="where to put the demo state (default: a new temp dir)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    state = Path(args.state_dir) if args.state_dir else Path(tempfile.mkdtemp(prefix="mailgate-demo-"))
    notes: list[str] = []
    with run_demo(state, notes) as rt:
        print(f"mailgate demo: two escalations from the seeds, run through the real pipeline on a simulated clock "
              f"from {START:%a %Y-%m-%d %H:%M} UTC to {rt.clock.now():%a %Y-%m-%d %H:%M} UTC.")
        print(f"State: {state}  Maildir: {rt.config.maildir_path}  outbox (sent mail as .eml): "
              f"{rt.config.outbox_path}\n")
        for esc in rt.store.list_escalations():
            print("\n".join(story(rt, esc)))
            print()
        for line in quarantine_lines(rt.store) + notes:
            print(line)
    return 0
