"""`mailgate status`: open escalations, with the next deadline and what happens then."""

from __future__ import annotations

import argparse
import json

from gateway.demo.report import status_row
from gateway.lifecycle.states import OPEN
from gateway.runtime import Runtime, add_common_options, config_from_args


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="List open escalations.", description="List open escalations: Zendesk "
                       "ticket, vendor, vendor ticket, state, priority, the next deadline and what happens then. "
                       "Escalations the vendor closed (unreachable, no response) stay listed: they can be reopened.")
    add_common_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        rows = [status_row(rt.store, e) for e in rt.store.list_escalations(sorted(OPEN))]
        rows.sort(key=lambda r: (r["next_deadline"] is None, r["next_deadline"] or "", r["zendesk_ticket"]))
        for r in rows:
            if args.json:
                print(json.dumps(r, sort_keys=True))
            else:
                print(f"#{r['zendesk_ticket']:<8} {r['vendor']:<8} {r['vendor_ticket'] or '-':<10} {r['state']:<19} "
                      f"{r['priority'] or '-':<9} next {r['next_deadline'] or '-':<25} {r['then']}")
        if not rows and not args.json:
            print("no open escalations")
    return 0
