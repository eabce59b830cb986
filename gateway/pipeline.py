"""The pipeline: source -> store raw (commit) -> acknowledge -> analyze -> decide + queue side effects (one
atomic unit per message). One catch-all per message: a failure quarantines that message and the rest go on."""

from __future__ import annotations

import logging

from gateway import lifecycle, metrics
from gateway.inbound import Analysis, analyze, facts
from gateway.link import find_escalation
from gateway.msgid import header_message_id
from gateway.runtime import Runtime
from gateway.sources import MessageSource

log = logging.getLogger("mailgate.pipeline")


def ingest(rt: Runtime, source: MessageSource) -> int:
    """Store every new message of `source` (committed), then let the source flag/move it."""
    stored = 0
    for incoming in source.fetch_new(rt.store):
        rt.store.add_raw(incoming.content, incoming.source, incoming.key, header_message_id(incoming.content))
        source.acknowledge(incoming)
        stored += 1
    return stored


# Messages handled per commit. Each message still runs in its own savepoint, so one that fails rolls back
# alone; grouping only saves the fsync per message that bounds catch-up speed on a real disk.
GROUP_COMMIT = 50


def process_pending(rt: Runtime) -> int:
    pending = rt.store.pending_raw_ids()
    for start in range(0, len(pending), GROUP_COMMIT):
        with rt.store.transaction():
            for raw_id in pending[start:start + GROUP_COMMIT]:
                process_raw(rt, raw_id)
    return len(pending)


def process_raw(rt: Runtime, raw_id: int) -> str:
    """Handle one stored message. Returns its outcome: processed, duplicate, quarantined."""
    store = rt.store
    raw = store.raw(raw_id)
    if raw is None or raw.status != "new" or raw.content is None:
        return "skipped"
    try:
        analysis = analyze(raw.content, rt.rules, rt.config, rt.key)
        outcome = _decide(rt, raw_id, analysis)
    except Exception as exc:  # the one catch-all: this message is set aside, the daemon carries on
        log.exception("message failed", extra={"raw_id": raw_id, "error_type": type(exc).__name__})
        with store.transaction():
            store.quarantine_add(reason="processing_error", detail=type(exc).__name__, raw_id=raw_id)
            store.set_raw_status(raw_id, "quarantined")
        outcome = "quarantined"
    metrics.MESSAGES.labels(outcome=outcome).inc()
    return outcome


def _quarantine_reason(rt: Runtime, a: Analysis) -> str | None:
    d = a.decision
    if not a.parsed.readable:
        return "unreadable"
    if d.vendor and not d.trusted and d.event != "escalation_request":
        return "untrusted"
    if d.vendor is None and not d.is_agent and not (a.guard.bounce or a.guard.loop):
        return "unknown_sender"
    return None


def _decide(rt: Runtime, raw_id: int, a: Analysis) -> str:
    store, parsed = rt.store, a.parsed
    if parsed.message_id and store.raw_with_message_id(parsed.message_id, raw_id) is not None:
        with store.transaction():
            store.set_raw_status(raw_id, "duplicate")
        return "duplicate"
    with store.transaction():
        message_pk = store.record_message(raw_id=raw_id, direction="in", facts=_stored_facts(a))
        link = find_escalation(store, parsed, a.decision, rt.key)
        if link is not None:
            store.link_message(message_pk, link.escalation_id, link.method)
        reason = _quarantine_reason(rt, a)
        if reason is not None:
            # Recorded and linked for the timeline, but it changes no state and gets no answer.
            store.quarantine_add(reason=reason, raw_id=raw_id)
            store.set_raw_status(raw_id, "quarantined")
            metrics.QUARANTINED.labels(reason=reason).inc()
            return "quarantined"
        lifecycle.on_message(rt, message_pk=message_pk, analysis=a, link=link)
        store.set_raw_status(raw_id, "processed")
    metrics.EVENTS.labels(vendor=a.decision.vendor or "none", event=a.decision.event).inc()
    return "processed"


def _stored_facts(a: Analysis) -> dict[str, object]:
    f = facts(a)
    flags = [name for name in ("auto_reply", "out_of_office", "bounce") if f.get(name)]
    if a.guard.loop:
        flags.append("loop")
    # The subject and end-user email stay out of `messages`: the raw copy has them until retention purges it.
    return {**{k: f[k] for k in ("message_id", "in_reply_to", "from", "date", "vendor", "trusted", "event",
                                 "vendor_ticket", "zendesk_ticket")},
            "flags": flags, "decision": {"rule_hits": f["rule_hits"], "defects": f["defects"]}}


def run_due(rt: Runtime) -> int:
    """The scheduler hook: fire due clock deadlines through the same decide/actions path."""
    return lifecycle.run_due(rt)

