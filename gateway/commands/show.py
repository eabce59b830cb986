"""`mailgate show <Zendesk ticket>`: one escalation's timeline."""

from __future__ import annotations

import argparse
import json
import sys

from gateway.demo.report import escalation_block
from gateway.runtime import Runtime, add_common_options, config_from_args


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("show", help="Show an escalation's timeline.", description="Show the escalations of a "
                       "Zendesk ticket: thread, events and what the gateway sent.")
    add_common_options(p)
    p.add_argument("ticket", metavar="ZENDESK_TICKET")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rt = Runtime.open(config_from_args(args))
    try:
        escalations = rt.store.escalations_for_ticket(args.ticket.lstrip("#"))
        if not escalations:
            print(f"no escalation for Zendesk ticket {args.ticket}", file=sys.stderr)
            return 1
        for esc in escalations:
            if args.json:
                events = [{"kind": e.kind, "from": e.from_state, "to": e.to_state, "cause": e.cause_type,
                           "at": e.created_at} for e in rt.store.events(esc.id)]
                print(json.dumps({"zendesk_ticket": esc.zendesk_ticket, "vendor": esc.vendor,
                                  "vendor_ticket": esc.vendor_ticket, "state": esc.state, "events": events}))
            else:
                print("\n".join(escalation_block(rt.store, esc)))
    finally:
        rt.close()
    return 0
