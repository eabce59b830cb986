"""`mailgate show <Zendesk ticket>`: the timeline of the ticket's escalations."""

from __future__ import annotations

import argparse
import json
import sys

from gateway.demo.report import escalation_block, status_row, timeline
from gateway.runtime import Runtime, add_common_options, config_from_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="Show an escalation's timeline.", description="Show the escalations of a "
                       "Zendesk ticket: mail seen and sent, state changes with their causes (message, deadline, "
                       "command), Zendesk notes, and the deadlines still pending.")
    add_common_options(p)
    p.add_argument("ticket", metavar="ZENDESK_TICKET")
    p.add_argument("--json", action="store_true", help="one JSON object per escalation")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        escalations = rt.store.escalations_for_ticket(args.ticket.lstrip("#"))
        if not escalations:
            print(f"no escalation for Zendesk ticket {args.ticket}", file=sys.stderr)
            return 1
        for esc in escalations:
            if args.json:
                events = [{"kind": e.kind, "from": e.from_state, "to": e.to_state, "cause": e.cause_type,
                           "cause_ref": e.cause_ref, "at": e.created_at} for e in rt.store.events(esc.id)]
                print(json.dumps({**status_row(rt.store, esc), "vendor_tickets": rt.store.vendor_tickets(esc.id),
                                  "events": events, "timeline": [e.as_dict() for e in timeline(rt.store, esc)]},
                                 sort_keys=True))
            else:
                print("\n".join(escalation_block(rt.store, esc)))
    return 0
