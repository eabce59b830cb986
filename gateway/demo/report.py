"""Plain-text reports of what the gateway knows, shared by `mailgate demo`, `status` and `show`."""

from __future__ import annotations

import email
import email.policy
import json

from gateway.store import Escalation, Store
from gateway.zendesk.notes import note_preview


def _outbox_lines(store: Store, escalation_id: int) -> list[str]:
    lines = []
    for item in store.outbox_items(escalation_id=escalation_id):
        subject = email.message_from_bytes(item.content, policy=email.policy.default)["Subject"]
        lines.append(f"    sent  {item.kind:<18} to {', '.join(item.recipients)}  [{item.status}]  {subject}")
    return lines


def escalation_block(store: Store, esc: Escalation) -> list[str]:
    lines = [
        f"Zendesk #{esc.zendesk_ticket}  vendor={esc.vendor}  vendor ticket={esc.vendor_ticket or '-'}  "
        f"state={esc.state}",
        "  thread:",
    ]
    for row in store.messages_for_escalation(esc.id):
        lines.append(f"    seen  {row['event'] or '-':<18} from {row['from_addr']}  "
                     f"(linked by {row['link_method']}{'' if row['trusted'] else ', UNTRUSTED'})")
    lines += _outbox_lines(store, esc.id)
    notes = store.zendesk_jobs_for(esc.id)
    for job in notes:
        payload = json.loads(job["payload"])
        lines.append(f"    zendesk note: {payload.get('event')}  [{job['status']}]")
        lines += note_preview(payload, job["status"])
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
