"""`mailgate quarantine list|show ID|release ID|drop ID`: what the gateway set aside, and the operator's call.

`show` prints a summary safe for a shared terminal (reason, sizes, ids, the sender's domain; no subject, no
body, no names); `show --raw` prints the stored message for an operator who needs it. `release` re-runs the
pipeline on the message (or, for a held outbox row, queues it to be sent); `drop` marks it dropped (the raw
content stays until retention purges it). Every release and drop is audited with the operator's name."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr

from gateway.commands.audit import cli_actor
from gateway.runtime import Runtime, add_common_options, config_from_args

# Held outbox rows with these reasons were stopped because what they carry may not be safe to send.
NEEDS_FORCE = ("scrub_failure",)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quarantine", help="List, show, release or drop messages the gateway set aside.",
                       description="List, show, release or drop messages the gateway set aside (unreadable, "
                       "untrusted, unknown_sender, too_large, scrub_failure, scrub_residue, processing_error).")
    add_common_options(p)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = actions.add_parser("list", help="items held (or --all)")
    lst.add_argument("--all", action="store_true", help="include released and dropped items")
    show = actions.add_parser("show", help="one item: reason and a PHI-free header summary")
    show.add_argument("id", type=int)
    show.add_argument("--raw", action="store_true", help="print the stored message itself (contains PHI)")
    release = actions.add_parser("release", help="re-run the pipeline on the message (or send a held outbox row)")
    release.add_argument("id", type=int)
    release.add_argument("--force", action="store_true", help="release an outbox row held by the scrubber")
    drop = actions.add_parser("drop", help="mark the item dropped (content stays until retention)")
    drop.add_argument("id", type=int)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Runtime.open(config_from_args(args)) as rt:
        handler = {"list": _list, "show": _show, "release": _release, "drop": _drop}[args.action]
        return handler(rt, args)


def _target(row: sqlite3.Row) -> str:
    return f"raw:{row['raw_id']}" if row["raw_id"] is not None else f"outbox:{row['outbox_id']}"


def _held(rt: Runtime, item_id: int) -> sqlite3.Row | None:
    """The item if it is still held (release and drop act on nothing else); else says so on stderr."""
    row = rt.store.quarantine_item(item_id)
    if row is None or row["status"] != "held":
        print(f"no held quarantine item #{item_id}", file=sys.stderr)
        return None
    return row


def _list(rt: Runtime, args: argparse.Namespace) -> int:
    rows = rt.store.quarantine_items(None if args.all else "held")
    if not rows:
        print("quarantine is empty" if args.all else "nothing held in quarantine")
        return 0
    for row in rows:
        print(f"#{row['id']:<5} {row['status']:<9} {row['reason']:<17} {_target(row):<12} {row['created_at']}"
              + (f"  ({row['detail']})" if row["detail"] else ""))
    return 0


def _domain(address: str) -> str:
    return address.rpartition("@")[2] if "@" in address else "-"


def header_summary(content: bytes) -> list[str]:
    """What an operator can see without PHI: ids, dates, domains, counts and structure, never names,
    local parts, or the subject."""
    h = BytesHeaderParser().parsebytes(content)
    rcpts = getaddresses([str(v) for v in (h.get_all("To") or []) + (h.get_all("Cc") or [])])
    auth = [str(v) for v in h.get_all("Authentication-Results") or []]
    return [
        f"  Message-ID:   {h.get('Message-ID', '-')}",
        f"  Date:         {h.get('Date', '-')}",
        f"  From domain:  {_domain(parseaddr(str(h.get('From', '')))[1])}",
        f"  Recipients:   {len(rcpts)} ({', '.join(sorted({_domain(a) for _, a in rcpts})) or '-'})",
        f"  Subject:      {'(present, hidden: use --raw)' if h.get('Subject') else '(none)'}",
        f"  Content-Type: {h.get_content_type()}",
        f"  Auth results: {len(auth)} header(s)",
        f"  Auto-Submitted: {h.get('Auto-Submitted', '-')}",
    ]


def _show(rt: Runtime, args: argparse.Namespace) -> int:
    row = rt.store.quarantine_item(args.id)
    if row is None:
        print(f"no quarantine item #{args.id}", file=sys.stderr)
        return 1
    if args.raw:
        return _show_raw(rt, row)
    print(f"quarantine #{row['id']}: {row['reason']} [{row['status']}]  set aside {row['created_at']}"
          + (f", resolved {row['resolved_at']}" if row["resolved_at"] else ""))
    if row["detail"]:
        print(f"  Detail:       {row['detail']}")
    if row["raw_id"] is not None:
        info = rt.store.raw_info(row["raw_id"])
        if info is None:
            print(f"  raw message {row['raw_id']} is missing")
            return 1
        print(f"  Raw message:  {info['id']} from {info['source']} received {info['received_at']}, "
              f"{info['size']} bytes, status {info['status']}")
        raw = rt.store.raw(row["raw_id"])
        if raw is not None and raw.content is not None:
            print("\n".join(header_summary(raw.content)))
        else:
            print(f"  Content:      purged by retention at {info['purged_at']}")
    else:
        item = rt.store.outbox_item(row["outbox_id"])
        if item is not None:
            print(f"  Outbox row:   {item.id} kind {item.kind}, status {item.status}, {len(item.recipients)} "
                  f"recipient(s), escalation {item.escalation_id or '-'}, Message-ID {item.message_id}")
    return 0


def _show_raw(rt: Runtime, row: sqlite3.Row) -> int:
    content: bytes | None
    if row["raw_id"] is not None:
        raw = rt.store.raw(row["raw_id"])
        content = raw.content if raw else None
    else:
        item = rt.store.outbox_item(row["outbox_id"])
        content = item.content if item else None
    if not content:
        print("the content is gone (purged by retention)", file=sys.stderr)
        return 1
    with rt.store.transaction():
        rt.store.audit(actor=cli_actor(), action="quarantine:show_raw", target=f"quarantine:{row['id']}",
                       cause_type="command", cause_ref=_target(row))
    sys.stdout.buffer.write(content)
    sys.stdout.flush()
    return 0


def _release(rt: Runtime, args: argparse.Namespace) -> int:
    from gateway.pipeline import process_raw  # imported here: it pulls in the whole pipeline

    row = _held(rt, args.id)
    if row is None:
        return 1
    actor, target = cli_actor(), f"quarantine:{row['id']}"
    if row["raw_id"] is None:
        if row["reason"] in NEEDS_FORCE and not args.force:
            print(f"#{row['id']} was held by the scrubber ({row['reason']}); sending it may disclose PHI. "
                  "Use --force if you have checked it.", file=sys.stderr)
            return 1
        with rt.store.transaction():
            rt.store.requeue_outbox(row["outbox_id"])
            rt.store.quarantine_resolve(row["id"], "released")
            rt.store.audit(actor=actor, action="quarantine:release", target=target, cause_type="command",
                           cause_ref=_target(row), detail={"reason": row["reason"], "outcome": "requeued"})
        print(f"released #{row['id']}: outbox row {row['outbox_id']} queued to be sent")
        return 0
    raw = rt.store.raw(row["raw_id"])
    if raw is None or raw.content is None:
        print(f"#{row['id']}: the message content was purged by retention; it cannot be re-run. "
              f"Drop it instead.", file=sys.stderr)
        return 1
    with rt.store.transaction():
        rt.store.quarantine_resolve(row["id"], "released")
        rt.store.set_raw_status(row["raw_id"], "new")
        rt.store.audit(actor=actor, action="quarantine:release", target=target, cause_type="command",
                       cause_ref=_target(row), detail={"reason": row["reason"]})
    outcome = process_raw(rt, row["raw_id"])
    with rt.store.transaction():
        rt.store.audit(actor="gateway", action=f"reprocess:{outcome}", target=_target(row), cause_type="command",
                       cause_ref=target)
    again = [q for q in rt.store.quarantine_items("held") if q["raw_id"] == row["raw_id"]]
    suffix = f" (held again as #{again[0]['id']}: {again[0]['reason']})" if again else ""
    print(f"released #{row['id']}: message {row['raw_id']} re-run through the pipeline: {outcome}{suffix}")
    return 0


def _drop(rt: Runtime, args: argparse.Namespace) -> int:
    row = _held(rt, args.id)
    if row is None:
        return 1
    with rt.store.transaction():
        rt.store.quarantine_resolve(row["id"], "dropped")
        if row["outbox_id"] is not None:
            item = rt.store.outbox_item(row["outbox_id"])
            if item is not None and item.status in ("held", "pending"):
                rt.store.mark_dead(item.id, "dropped by an operator")
        rt.store.audit(actor=cli_actor(), action="quarantine:drop", target=f"quarantine:{row['id']}",
                       cause_type="command", cause_ref=_target(row), detail={"reason": row["reason"]})
    print(f"dropped #{row['id']} ({row['reason']}); its content stays until retention removes it")
    return 0
