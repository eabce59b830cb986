"""Plain-text and JSON reports of what the gateway knows, shared by `mailgate demo`, `status` and `show`.

Nothing here prints a message body except `mail_body`, which the demo uses on the gateway's own outgoing,
already-scrubbed mail. Timelines show kinds, states, causes, addresses of vendors/agents and ids only.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from typing import Any

from gateway.lifecycle.actions import what_happens
from gateway.lifecycle.states import describe
from gateway.store import Escalation, Store
from gateway.zendesk.notes import note_preview


@dataclass(frozen=True)
class Entry:
    at: str
    what: str     # seen, sent, event, note, waiting
    kind: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"at": self.at, "what": self.what, "kind": self.kind, "text": self.text}


def _subject(content: bytes) -> str:
    return str(email.message_from_bytes(content, policy=email.policy.default)["Subject"] or "")


def mail_body(content: bytes) -> str:
    """The text body of one of the gateway's own (composed, scrubbed) messages."""
    msg = email.message_from_bytes(content, policy=email.policy.default)
    part = msg.get_body(("plain",)) if hasattr(msg, "get_body") else None
    return part.get_content() if part is not None else ""


def timeline(store: Store, esc: Escalation) -> list[Entry]:
    """Everything about one escalation in time order: mail seen and sent, events with their causes, Zendesk
    notes, and the deadlines still pending."""
    entries: list[Entry] = []
    for row in store.messages_for_escalation(esc.id):
        trust = "" if row["trusted"] else ", UNTRUSTED"
        entries.append(Entry(row["created_at"], "seen", row["event"] or "-",
                             f"from {row['from_addr']} (linked by {row['link_method']}{trust})"))
    for item in store.outbox_items(escalation_id=esc.id):
        entries.append(Entry(item.created_at, "sent", item.kind,
                             f"to {', '.join(item.recipients)} [{item.status}] {_subject(item.content)}"))
    for ev in store.events(esc.id):
        move = f"{ev.from_state} -> {ev.to_state}" if ev.from_state != ev.to_state else (ev.to_state or "-")
        entries.append(Entry(ev.created_at, "event", ev.kind, f"{move}  (cause: {ev.cause_type} {ev.cause_ref})"))
    for job in store.zendesk_jobs_for(esc.id):
        payload = json.loads(job["payload"])
        entries.append(Entry(job["created_at"], "note", str(payload.get("event")), f"Zendesk note [{job['status']}]"))
    for dl in store.deadlines_for(esc.id, "pending"):
        entries.append(Entry(dl.due_at, "waiting", dl.kind, what_happens(dl.kind)))
    order = {"seen": 0, "event": 1, "sent": 2, "note": 3, "waiting": 4}
    return sorted(entries, key=lambda e: (e.at, order[e.what]))


def next_step(store: Store, esc: Escalation) -> dict[str, Any]:
    nxt = store.next_deadline(esc.id)
    if nxt is None:
        return {"next_deadline": None, "kind": None,
                "then": "nothing scheduled" + (f": {describe(esc.state)}" if esc.state != "drafted" else "")}
    return {"next_deadline": nxt.due_at, "kind": nxt.kind, "then": what_happens(nxt.kind)}


def status_row(store: Store, esc: Escalation) -> dict[str, Any]:
    return {"zendesk_ticket": esc.zendesk_ticket, "vendor": esc.vendor, "vendor_ticket": esc.vendor_ticket,
            "state": esc.state, "priority": esc.priority, "reopen_count": esc.reopen_count,
            "miss_count": esc.miss_count, **next_step(store, esc)}


def escalation_block(store: Store, esc: Escalation) -> list[str]:
    lines = [f"Zendesk #{esc.zendesk_ticket}  vendor={esc.vendor}  vendor ticket={esc.vendor_ticket or '-'}  "
             f"state={esc.state}  priority={esc.priority or '-'}  reopens={esc.reopen_count}  "
             f"misses={esc.miss_count}"]
    lines += [f"  {e.at}  {e.what:<7} {e.kind:<22} {e.text}" for e in timeline(store, esc)]
    for job in store.zendesk_jobs_for(esc.id):
        payload = json.loads(job["payload"])
        lines.append(f"  zendesk note: {payload.get('event')}  [{job['status']}]")
        lines += note_preview(payload, job["status"], indent="    ")
    step = next_step(store, esc)
    lines.append(f"  next: {step['next_deadline'] or '-'}  {step['then']}")
    return lines


def quarantine_lines(store: Store) -> list[str]:
    rows = store.quarantine_items()
    if not rows:
        return []
    lines = ["Set aside (quarantine):"]
    for row in rows:
        raw = store.raw(row["raw_id"]) if row["raw_id"] else None
        lines.append(f"  #{row['id']} {row['reason']}  message {raw.message_id if raw else '-'}")
    return lines
