"""`mailgate replay PATH...`: import historical mail (Maildirs, directories of .eml, single files)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from gateway.outbox_sender import OutboxSender
from gateway.pipeline import ingest, process_pending
from gateway.runtime import Runtime, add_common_options, config_from_args
from gateway.sources.maildir import DirectorySource
from gateway.transport.file import FileTransport


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="Import historical mail from Maildirs, directories or .eml files.",
                       description="Stores and handles each message once (re-running skips what was seen). "
                       "Historical mail never reaches a vendor: what it would send goes to the file outbox.")
    add_common_options(p)
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    with Runtime.open(config) as rt:
        source = DirectorySource([Path(p) for p in args.paths])
        stored = ingest(rt, source)
        handled = process_pending(rt)
        transport = FileTransport(config.outbox_path)
        sent = asyncio.run(OutboxSender(rt.store, transport, config, rt.key).drain())
        quarantined = rt.store.count_raw("quarantined")
        print(f"replay: {stored} new message(s) stored, {handled} handled, {sent} outgoing, "
              f"{quarantined} in quarantine (state: {config.state_path})")
    return 0
