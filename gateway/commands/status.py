"""`mailgate status`: open escalations."""

from __future__ import annotations

import argparse
import json

from gateway.runtime import Runtime, add_common_options, config_from_args

CLOSED_STATES = ("resolved", "not_vendor_issue")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="List open escalations.", description="List open escalations: Zendesk "
                       "ticket, vendor, vendor ticket, state, priority.")
    add_common_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rt = Runtime.open(config_from_args(args))
    try:
        rows = [e for e in rt.store.list_escalations() if e.state not in CLOSED_STATES]
        for e in rows:
            item = {"zendesk_ticket": e.zendesk_ticket, "vendor": e.vendor, "vendor_ticket": e.vendor_ticket,
                    "state": e.state, "priority": e.priority}
            if args.json:
                print(json.dumps(item))
            else:
                print(f"#{e.zendesk_ticket:<10} {e.vendor:<8} {e.vendor_ticket or '-':<10} {e.state:<20} "
                      f"{e.priority or '-'}")
        if not rows and not args.json:
            print("no open escalations")
    finally:
        rt.close()
    return 0
