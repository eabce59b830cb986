"""`mailgate demo`: run the sample mailbox through the gateway and show what it knows."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gateway.demo import run_demo
from gateway.demo.report import escalation_block, quarantine_lines


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="Run a sample mailbox (ID.me and OffSite escalations) through the gateway.",
                       description="Copies a sample mailbox into a fresh Maildir under a temporary state "
                       "directory, runs the pipeline with the file outbox, and prints each escalation.")
    p.add_argument("--state-dir", metavar="DIR", help="where to put the demo state (default: a new temp dir)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    state = Path(args.state_dir) if args.state_dir else Path(tempfile.mkdtemp(prefix="mailgate-demo-"))
    notes: list[str] = []
    rt = run_demo(state, notes)
    try:
        print(f"mailgate demo: state in {state}  (Maildir: {rt.config.maildir_path}, "
              f"outbox: {rt.config.outbox_path})\n")
        for esc in rt.store.list_escalations():
            print("\n".join(escalation_block(rt.store, esc)))
            print()
        for line in quarantine_lines(rt.store) + notes:
            print(line)
    finally:
        rt.close()
    return 0
