"""`mailgate reopen <Zendesk ticket> [--note TEXT]`: reply on the vendor's thread to reopen a ticket the vendor
closed as unreachable or for no response. The reply is queued in the outbox (the running service sends it)."""

from __future__ import annotations

import argparse
import sys

from gateway.commands.audit import cli_actor
from gateway.lifecycle.reopen import reopen_ticket
from gateway.runtime import Runtime, add_common_options, config_from_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reopen", help="Reply on the vendor's thread to reopen a closed vendor ticket.",
                       description="Reply on the vendor's thread (threaded to its closing message, its subject "
                       "and ticket token kept) so that the vendor reopens a ticket it closed as unreachable or for "
                       "no response. Contact-detail lines in the note (\"Phone: ...\") are sent as updated contact "
                       "details; everything is scrubbed. Reopens per escalation are capped by [vendors.<name>] "
                       "max_reopens.")
    add_common_options(p)
    p.add_argument("ticket", metavar="ZENDESK_TICKET")
    p.add_argument("--note", default="", metavar="TEXT", help="the agent's note for the vendor")
    p.add_argument("--vendor", default=None, help="only this vendor's escalation of the ticket")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        results = reopen_ticket(rt, args.ticket, note=args.note.replace("\\n", "\n"),
                                actor=cli_actor(), vendor=args.vendor)
        if not results:
            print(f"no escalation for Zendesk ticket {args.ticket}", file=sys.stderr)
            return 1
        for r in results:
            print(r.message)
        return 0 if any(r.status == "sent" for r in results) else 1
