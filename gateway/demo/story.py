"""How `mailgate demo` tells its two stories: per escalation, what the gateway saw and did (the timeline), the
text of what it sent (the gateway's own, scrubbed mail), the Zendesk notes, and what it waits for next."""

from __future__ import annotations

import json

from gateway.demo.report import mail_body, next_step, timeline
from gateway.lifecycle.actions import what_happens
from gateway.runtime import Runtime
from gateway.store import Escalation
from gateway.zendesk.notes import note_preview

SEEDS = {"idme": "seed 000", "offsite": "seed 004"}
# Outgoing mail whose text the demo prints, in this order, with a caption.
SHOWN = (("escalation", "The escalation as sent to the vendor (scrubbed; in the vendor's format)"),
         ("agent_note", "The note back to the agent"),
         ("nudge", "The status request on the vendor's thread after a missed update (Auto-Submitted)"),
         ("contact_escalation", "The mail to the vendor's escalation contacts"),
         ("reopen", "The reply that reopens the vendor's ticket (no Auto-Submitted: it reads as a person's reply)"))
_CLIP = 40  # lines of one body


def _quoted(text: str) -> list[str]:
    lines = text.rstrip().splitlines()
    out = [f"    | {line}" for line in lines[:_CLIP]]
    if len(lines) > _CLIP:
        out.append(f"    | ... ({len(lines) - _CLIP} more lines)")
    return out


def story(rt: Runtime, esc: Escalation) -> list[str]:
    store = rt.store
    name = rt.rules[esc.vendor].display_name if esc.vendor in rt.rules else esc.vendor
    lines = [f"==== {name} ({SEEDS.get(esc.vendor, esc.vendor)}): Zendesk #{esc.zendesk_ticket} ====",
             f"vendor ticket {esc.vendor_ticket or '-'} (all: {', '.join(store.vendor_tickets(esc.id)) or '-'})  "
             f"state {esc.state}  priority {esc.priority or '-'}  reopens {esc.reopen_count}  "
             f"missed deadlines {esc.miss_count}", "", "What the gateway saw and did (UTC):"]
    for e in timeline(rt.store, esc):
        if e.what not in ("note", "waiting"):
            lines.append(f"  {e.at[5:16].replace('T', ' ')}  {e.what:<5} {e.kind:<20} {e.text}")
    items = store.outbox_items(escalation_id=esc.id)
    for kind, caption in SHOWN:
        first = next((i for i in items if i.kind == kind), None)
        if first is not None:
            lines += ["", f"{caption}, to {', '.join(first.recipients)}:", *_quoted(mail_body(first.content))]
    jobs = store.zendesk_jobs_for(esc.id)
    if jobs:
        lines += ["", f"Zendesk internal notes on ticket #{esc.zendesk_ticket} ({len(jobs)}; the last in full):"]
        for job in jobs[:-1]:
            lines += note_preview(json.loads(job["payload"]), job["status"], indent="  ")[:1]
        lines += note_preview(json.loads(jobs[-1]["payload"]), jobs[-1]["status"], indent="  ")
    step = next_step(store, esc)
    pending = store.deadlines_for(esc.id, "pending")
    lines += ["", "Waiting for next:"]
    if not pending:
        lines.append(f"  {step['then']}")
    for dl in pending:
        lines.append(f"  {dl.due_at}  {dl.kind}: {what_happens(dl.kind)}")
    return lines
