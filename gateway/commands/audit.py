"""`mailgate audit [--since ISO|DURATION] [--json]`: what the gateway did and which commands it obeyed.

Two sources, merged by time: the audit log (sends, alerts, quarantines, operator commands, purges) and the
escalations' events (every state change, with the message or deadline that caused it)."""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import sys
from datetime import UTC, datetime, timedelta

from gateway.clock import Clock, iso
from gateway.runtime import Runtime, add_common_options, config_from_args

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="Print the audit trail.",
                       description="Print every action the gateway took and every command it obeyed: when, who, "
                       "what, on what, and the message, deadline or command that caused it.")
    add_common_options(p)
    p.add_argument("--since", metavar="WHEN", help="an ISO date/time (2026-11-20, 2026-11-20T08:00:00+00:00) or a "
                   "duration back from now (90m, 24h, 7d, 2w)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=run)


def cli_actor() -> str:
    """Who is running a command: the account of the process (from the uid, not from the environment, which
    anyone can set); under sudo, the invoking user that sudo reports is added as a claim."""
    try:
        account = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        account = f"uid{os.getuid()}"
    via = os.environ.get("SUDO_USER") if os.getuid() == 0 else None
    return f"cli:{account}" + (f"(sudo:{via})" if via and via != account else "")


def parse_since(text: str, clock: Clock) -> str:
    """ISO time (a bare date is midnight UTC) or a duration back from now -> ISO UTC text."""
    m = _DURATION.match(text.strip().lower())
    if m:
        return iso(clock.now() - timedelta(**{_UNITS[m.group(2)]: float(m.group(1))}))
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since: expected an ISO date/time or a duration like 24h, got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return iso(when)


def trail(rt: Runtime, since: str | None) -> list[dict[str, object]]:
    """The merged trail, oldest first."""
    entries: list[dict[str, object]] = []
    for row in rt.store.audit_entries(since):
        entries.append({"at": row["at"], "actor": row["actor"], "action": row["action"], "target": row["target"],
                        "cause_type": row["cause_type"], "cause_ref": row["cause_ref"],
                        "detail": json.loads(row["detail"] or "{}")})
    for row in rt.store.escalation_events_since(since):
        change = f"{row['from_state']}->{row['to_state']}" if row["to_state"] else ""
        detail = json.loads(row["detail"] or "{}")
        if change:
            detail = {"change": change, **detail}
        entries.append({"at": row["at"], "actor": "gateway" if row["cause_type"] != "command" else "command",
                        "action": f"event:{row['kind']}", "target": f"escalation:{row['escalation_id']}",
                        "cause_type": row["cause_type"], "cause_ref": row["cause_ref"], "detail": detail})
    entries.sort(key=lambda e: str(e["at"]))
    return entries


def _line(e: dict[str, object]) -> str:
    detail = e["detail"]
    extra = " " + json.dumps(detail, sort_keys=True) if detail else ""
    cause = f"{e['cause_type']}:{e['cause_ref']}" if e["cause_ref"] else str(e["cause_type"])
    return f"{e['at']}  {e['actor']:<16} {e['action']:<28} {e['target'] or '-':<20} cause={cause}{extra}"


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        try:
            since = parse_since(args.since, rt.clock) if args.since else None
        except ValueError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        entries = trail(rt, since)
        for e in entries:
            print(json.dumps(e, sort_keys=True) if args.json else _line(e))
        if not entries and not args.json:
            print("no audit entries" + (f" since {since}" if since else ""))
    return 0
