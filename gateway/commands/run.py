"""`mailgate run`: the service (see gateway/service.py)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from gateway.config import ConfigInvalid
from gateway.lifecycle.policy import check_policies
from gateway.logs import setup_logging
from gateway.runtime import Runtime, add_common_options, config_from_args
from gateway.service import Service
from gateway.service_setup import (
    build_source,
    build_transport,
    register_service_tasks,
    service_config_problems,
    token_provider,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="Run the gateway service (mailbox watcher, outbox sender, scheduler).",
                       description="Run the gateway service: watch the mailbox, handle each message, send the "
                       "outbox, run the clocks. SIGTERM stops it gracefully.")
    add_common_options(p)
    p.add_argument("--once", action="store_true",
                   help="handle what is waiting (mail, due clocks, outbox), then exit")
    p.add_argument("--dry-run", action="store_true",
                   help="nothing leaves: outbox rows are marked dry_run, the mailbox is not flagged or moved")
    p.add_argument("--scheduler-seconds", type=float, default=30.0, metavar="S",
                   help="how often clock deadlines are checked (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if args.dry_run:
        config.gateway.dry_run = True
    problems = service_config_problems(config)
    if problems:
        raise ConfigInvalid(problems)
    setup_logging(config.logging.level, config.logging.format)
    tokens = token_provider(config)
    with Runtime.open(config) as rt:
        clock_problems = check_policies(rt.rules, config)
        if clock_problems:  # an invalid clock policy refuses the start, naming the key
            for problem in clock_problems:
                print(f"rules error: {problem}", file=sys.stderr)
            return 2
        source = build_source(config, rt.store, tokens, config.gateway.dry_run)
        transport = build_transport(config, tokens)
        register_service_tasks()
        service = Service(rt, source, transport, once=args.once, dry_run=config.gateway.dry_run,
                          scheduler_seconds=args.scheduler_seconds)
        return asyncio.run(service.run())
