"""`mailgate purge [--dry-run]`: remove raw message content older than [retention] raw_days."""

from __future__ import annotations

import argparse

from gateway.commands.audit import cli_actor
from gateway.retention import purge_due
from gateway.runtime import Runtime, add_common_options, config_from_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("purge", help="Remove raw message content older than the retention age.",
                       description="Removes the content of raw mail and of sent outbox rows older than "
                       "[retention] raw_days; keeps the facts (messages, events, links, outbox metadata).")
    add_common_options(p)
    p.add_argument("--dry-run", action="store_true", help="count what would be removed; change nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        report = purge_due(rt, dry_run=args.dry_run, actor=cli_actor())
        if report.cutoff is None:
            print("retention is disabled ([retention] raw_days = 0): nothing purged")
            return 0
        verb = "would remove" if report.dry_run else "removed"
        files = f", {report.files} file outbox copies" if report.files else ""
        print(f"purge: {verb} the content of {len(report.raw_ids)} raw message(s) and "
              f"{len(report.outbox_ids)} outbox row(s){files} older than {report.cutoff} "
              f"(raw_days = {rt.config.retention.raw_days})")
    return 0
