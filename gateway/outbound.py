"""Outbound mail the pipeline and the lifecycle queue. Everything that leaves for a vendor is checked against
the vendor's required fields, scrubbed (subject, body, text attachments), composed, scanned a second time,
and only then queued. Any failure on that path holds the message: nothing reaches the vendor, the item is
quarantined, an operator alert is raised and the agent is told, with categories and ids only, never values."""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gateway.alerts import raise_alert
from gateway.checks import describe, missing_fields
from gateway.compose import OutAttachment, build_message, vendor_address, vendor_body
from gateway.compose import vendor_subject as compose_subject
from gateway.fields import EscalationFields, extract_fields, merge
from gateway.inbound import Analysis
from gateway.msgid import make_message_id
from gateway.parse import ParsedMessage
from gateway.rules import VendorRule
from gateway.runtime import Runtime
from gateway.scrub import ScrubResult
from gateway.store import Escalation

log = logging.getLogger("mailgate.outbound")


@dataclass
class EscalationOutcome:
    sent: bool
    outbox_ids: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    removed_categories: list[str] = field(default_factory=list)
    vendor_message_id: str | None = None


@dataclass
class ComplianceReport:
    missing_fields: list[str] = field(default_factory=list)
    phi_categories: list[str] = field(default_factory=list)


class ResidualFindings(Exception):
    """The second scan of a composed message still found something to remove."""

    def __init__(self, categories: list[str]) -> None:
        super().__init__(f"second scan found: {', '.join(categories)}")  # categories only, never values
        self.categories = categories


@dataclass
class _Prepared:
    to: list[str]
    content: bytes
    message_id: str
    categories: Counter[str]
    withheld: list[str]


# ---- the agent's escalation -------------------------------------------------------------------------------

def escalation_fields(rule: VendorRule, escalation: Escalation, parsed: ParsedMessage) -> EscalationFields:
    fields = extract_fields(parsed.reply_text, rule)
    return merge(fields, [("agent_email", parsed.from_addr), ("agent_name", parsed.from_name),
                          ("end_user_email", escalation.end_user_email),
                          ("zendesk_ticket", escalation.zendesk_ticket), ("priority", escalation.priority)])


def vendor_subject(rt: Runtime, escalation: Escalation, agent_subject: str = "") -> str:
    rule = rt.rules[escalation.vendor]
    return compose_subject(rule, zendesk_ticket=escalation.zendesk_ticket,
                           end_user_email=escalation.end_user_email or "", agent_subject=agent_subject)


def send_escalation(rt: Runtime, *, escalation: Escalation, analysis: Analysis, cause_ref: str) -> EscalationOutcome:
    rule = rt.rules[escalation.vendor]
    parsed = analysis.parsed
    fields = escalation_fields(rule, escalation, parsed)
    missing = missing_fields(rule, fields)
    if missing:
        oid = _reply_missing(rt, escalation, parsed, rule, missing, cause_ref)
        return EscalationOutcome(sent=False, outbox_ids=[oid], missing=missing)
    try:
        prepared = _prepare_escalation(rt, rule, escalation, parsed, fields)
    except Exception as exc:  # fail closed: whatever went wrong, nothing goes to the vendor
        held = _hold(rt, escalation, parsed, cause_ref, exc)
        return EscalationOutcome(sent=False, outbox_ids=[held] if held is not None else [])
    vid, _ = rt.store.enqueue(kind="escalation", dedupe_key=f"escalation:{escalation.id}:{cause_ref}",
                              message_id=prepared.message_id, mail_from=rt.config.gateway.address,
                              recipients=prepared.to, content=prepared.content, escalation_id=escalation.id)
    note = _note_sent(rt, escalation, parsed, rule, prepared, cause_ref)
    rt.store.audit(actor="gateway", action="escalation_scrubbed", target=str(escalation.id), cause_ref=cause_ref,
                   detail={"categories": dict(prepared.categories), "withheld_attachments": len(prepared.withheld)})
    return EscalationOutcome(sent=True, outbox_ids=[vid, note], removed_categories=list(prepared.categories),
                             vendor_message_id=prepared.message_id)


def _prepare_escalation(rt: Runtime, rule: VendorRule, escalation: Escalation, parsed: ParsedMessage,
                        fields: EscalationFields) -> _Prepared:
    scrubber = rt.scrubber
    to = [vendor_address(rule, rt.config.vendor(rule.name).address)]
    keep = _base_keep(rt, escalation) + to
    texts, binaries, withheld = _attachments(rt, rule, parsed)
    outgoing = texts + binaries
    results = scrubber.scrub_many([parsed.reply_text, parsed.subject or "",
                                   *[t.content.decode("utf-8", "replace") for t in texts],
                                   *[a.filename for a in outgoing]], keep=keep, fields=fields)
    body_r, subject_r = results[0], results[1]
    att_rs, name_rs = results[2:2 + len(texts)], results[2 + len(texts):]
    subject = vendor_subject(rt, escalation, subject_r.text)
    attachments = [OutAttachment(t.filename, t.content_type, r.text.encode()) for t, r in zip(texts, att_rs,
                                                                                             strict=True)]
    attachments += binaries
    for i, (att, name_r) in enumerate(zip(attachments, name_rs, strict=True)):
        if name_r.findings:  # "jane_doe_mri.png": the name goes, the extension stays
            att.filename = f"attachment-{i + 1}{Path(att.filename).suffix}"
    body = vendor_body(rule, zendesk_ticket=escalation.zendesk_ticket, description=body_r.text, fields=fields,
                       withheld=len(withheld))
    mid = make_message_id(rt.key, escalation.id, rt.domain)
    msg = build_message(from_addr=rt.config.gateway.address, from_name=rt.config.gateway.display_name, to=to,
                        subject=subject, body=body, message_id=mid, date=rt.clock.now(),
                        attachments=attachments)
    _second_scan(rt, [subject, body, *[a.content.decode("utf-8", "replace") for a in attachments[:len(texts)]],
                      *[a.filename for a in attachments]], keep, fields)
    categories: Counter[str] = Counter()
    for r in results:
        categories.update(_category_counts(r))
    return _Prepared(to, bytes(msg), mid, categories, withheld)


def _category_counts(result: ScrubResult) -> Counter[str]:
    from gateway.scrub.labels import label

    return Counter(label(f.entity_type).category for f in result.findings)


def _second_scan(rt: Runtime, texts: list[str], keep: list[str], fields: EscalationFields | None) -> None:
    residue = [c for r in rt.scrubber.scrub_many(texts, keep=keep, fields=fields) for c in r.categories]
    if residue:
        raise ResidualFindings(list(dict.fromkeys(residue)))


def _attachments(rt: Runtime, rule: VendorRule, parsed: ParsedMessage
                 ) -> tuple[list[OutAttachment], list[OutAttachment], list[str]]:
    """(text attachments to scrub, binaries to forward as they are, content types withheld)."""
    texts: list[OutAttachment] = []
    binaries: list[OutAttachment] = []
    withheld: list[str] = []
    # Images and PDFs cannot be scrubbed: forwarded only when both the rule and the deployment allow it. Only
    # then are the MIME parts decoded again (parse keeps the hash of a binary part, not its bytes).
    forward_binaries = rule.allow_attachments and rt.config.scrub.allow_attachments
    raw_parts = _binary_payloads(parsed) if forward_binaries and parsed.attachments else {}
    for att in parsed.attachments:
        if att.disposition == "inline" and att.is_text and not att.filename:
            continue  # the body itself
        if not rule.allow_attachments:
            withheld.append(att.content_type)
        elif att.is_text and att.content:
            texts.append(OutAttachment(att.filename or "attachment.txt", att.content_type, att.content))
        elif att.sha256 in raw_parts:
            binaries.append(OutAttachment(att.filename or "attachment", att.content_type, raw_parts[att.sha256]))
        else:
            withheld.append(att.content_type)
    return texts, binaries, withheld


def _binary_payloads(parsed: ParsedMessage) -> dict[str, bytes]:
    import hashlib

    out: dict[str, bytes] = {}
    if parsed.headers is None:
        return out
    for part in parsed.headers.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            out[hashlib.sha256(payload).hexdigest()] = payload
    return out


# ---- replies to the agent -----------------------------------------------------------------------------------

def _reply_missing(rt: Runtime, escalation: Escalation, parsed: ParsedMessage, rule: VendorRule,
                   missing: list[str], cause_ref: str) -> int:
    lines = [f"Your escalation for Zendesk ticket {escalation.zendesk_ticket} was NOT sent to {rule.display_name}:",
             f"{rule.display_name} needs every one of these, and {len(missing)} are missing:", ""]
    lines += [f"  - {describe(rule, name)}" for name in missing]
    lines += ["", "Please send the escalation again with all of them. Nothing has gone to the vendor."]
    subject = f"[mailgate] Escalation for Zendesk #{escalation.zendesk_ticket} not sent: missing details"
    return _queue_to_agent(rt, escalation, parsed, subject, "\n".join(lines) + "\n", "agent_missing", cause_ref)


def _note_sent(rt: Runtime, escalation: Escalation, parsed: ParsedMessage, rule: VendorRule, prepared: _Prepared,
               cause_ref: str) -> int:
    lines = [f"Your escalation for Zendesk ticket {escalation.zendesk_ticket} has been queued to "
             f"{rule.display_name} ({', '.join(prepared.to)}).", ""]
    if prepared.categories:
        lines.append("Removed before sending (categories only):")
        lines += [f"  - {cat}: {n}" for cat, n in prepared.categories.items()]
    else:
        lines.append("Nothing needed removing.")
    if prepared.withheld:
        lines += ["", f"{len(prepared.withheld)} attachment(s) not forwarded "
                  f"({', '.join(sorted(set(prepared.withheld)))}): images and PDFs cannot be scrubbed, and "
                  f"{rule.display_name}'s rule or this deployment does not allow forwarding them."]
    subject = f"[mailgate] Escalation for Zendesk #{escalation.zendesk_ticket} sent to {rule.display_name}"
    return _queue_to_agent(rt, escalation, parsed, subject, "\n".join(lines) + "\n", "agent_note", cause_ref)


def _hold(rt: Runtime, escalation: Escalation, parsed: ParsedMessage | None, cause_ref: str, exc: Exception,
          kind: str = "escalation") -> int | None:
    reason = "scrub_residue" if isinstance(exc, ResidualFindings) else "scrub_failure"
    qid = rt.store.quarantine_add(reason=reason, raw_id=_raw_id(rt, cause_ref),
                                  detail=f"{kind} for escalation {escalation.id}: {type(exc).__name__}")
    log.error("outbound held", extra={"escalation_id": escalation.id, "kind": kind, "error_type": type(exc).__name__})
    raise_alert(rt.store, rt.config, rt.key, kind=reason, dedupe=f"hold:{kind}:{escalation.id}:{cause_ref}",
                escalation_id=escalation.id,
                text=f"Outbound {kind} for escalation {escalation.id} (Zendesk {escalation.zendesk_ticket}, vendor "
                     f"{escalation.vendor}) is held in quarantine item {qid}: {type(exc).__name__}. Nothing was sent "
                     f"to the vendor.")
    to = escalation.agent_email or (parsed.from_addr if parsed else None)
    if not to:
        return None
    body = (f"Your {kind} for Zendesk ticket {escalation.zendesk_ticket} was NOT sent to the vendor: the gateway "
            f"could not prepare it safely (PHI scrubbing did not complete). It is held for an operator "
            f"(quarantine item {qid}). You can also send it again without patient details.\n")
    subject = f"[mailgate] {kind.capitalize()} for Zendesk #{escalation.zendesk_ticket} held: not sent"
    return _queue_to_agent(rt, escalation, parsed, subject, body, "agent_hold", cause_ref, to=to)


def _queue_to_agent(rt: Runtime, escalation: Escalation, parsed: ParsedMessage | None, subject: str, body: str,
                    kind: str, cause_ref: str, to: str | None = None) -> int:
    to = to or (parsed.from_addr if parsed else None) or escalation.agent_email or rt.config.gateway.address
    mid = make_message_id(rt.key, escalation.id, rt.domain)
    in_reply_to = parsed.message_id if parsed else None
    msg = build_message(from_addr=rt.config.gateway.address, from_name=rt.config.gateway.display_name, to=[to],
                        subject=subject, body=body, message_id=mid, date=rt.clock.now(), in_reply_to=in_reply_to,
                        references=list(parsed.references) if parsed else [], auto_submitted=True)
    oid, _ = rt.store.enqueue(kind=kind, dedupe_key=f"{kind}:{escalation.id}:{cause_ref}", message_id=mid,
                              mail_from=rt.config.gateway.address, recipients=[to], content=bytes(msg),
                              escalation_id=escalation.id)
    return oid


def _raw_id(rt: Runtime, cause_ref: str) -> int | None:
    m = re.fullmatch(r"msg:(\d+)", cause_ref or "")
    row = rt.store.message_row(int(m.group(1))) if m else None
    return int(row["raw_id"]) if row is not None and row["raw_id"] is not None else None


def original_fields(rt: Runtime, escalation: Escalation) -> EscalationFields | None:
    """The labelled fields of the agent's escalation that opened this thread, so later mail (nudges, reopen
    replies) keeps the same contact details. None once retention has purged the raw message."""
    from gateway.parse import parse_message

    rows = rt.store.messages_for_escalation(escalation.id)
    first = next((r for r in rows if r["link_method"] == "created"), None) or next(
        (r for r in rows if r["direction"] == "in" and r["vendor"] is None), None)
    raw = rt.store.raw(int(first["raw_id"])) if first is not None and first["raw_id"] is not None else None
    if raw is None or not raw.content:
        return None
    parsed = parse_message(raw.content)
    return escalation_fields(rt.rules[escalation.vendor], escalation, parsed)


def _base_keep(rt: Runtime, escalation: Escalation) -> list[str]:
    values = [rt.config.gateway.address, escalation.end_user_email, escalation.agent_email,
              escalation.zendesk_ticket, escalation.vendor_ticket]
    return [v for v in values if v]


# ---- mail on an existing thread (lifecycle) -------------------------------------------------------------------

def send_on_thread(rt: Runtime, *, escalation: Escalation, kind: str, to: list[str], body: str,
                   in_reply_to: str | None, references: list[str], subject: str, auto_submitted: bool,
                   keep: list[str] | tuple[str, ...] = (), cause_ref: str) -> int | None:
    """Nudges (auto_submitted=True), reopen replies (auto_submitted=False: no Auto-Submitted, Precedence or
    X-Loop, so it reads as a person's reply) and contact escalations. Scrubbed, composed with threading
    headers, scanned again, queued once per (kind, escalation, cause_ref). None when held."""
    dedupe = f"{kind}:{escalation.id}:{cause_ref}"
    try:
        keep_all = [*keep, *_base_keep(rt, escalation), *to]
        fields = original_fields(rt, escalation)
        subject_r, body_r = rt.scrubber.scrub_many([subject, body], keep=keep_all, fields=fields)
        mid = make_message_id(rt.key, escalation.id, rt.domain)
        msg = build_message(from_addr=rt.config.gateway.address, from_name=rt.config.gateway.display_name, to=to,
                            subject=subject_r.text, body=body_r.text, message_id=mid, date=rt.clock.now(),
                            in_reply_to=in_reply_to, references=references, auto_submitted=auto_submitted)
        _second_scan(rt, [subject_r.text, body_r.text], keep_all, fields)
    except Exception as exc:  # fail closed
        _hold(rt, escalation, None, cause_ref, exc, kind=kind)
        return None
    oid, _ = rt.store.enqueue(kind=kind, dedupe_key=dedupe, message_id=mid, mail_from=rt.config.gateway.address,
                              recipients=list(to), content=bytes(msg), escalation_id=escalation.id)
    return oid


def send_to_agent(rt: Runtime, *, escalation: Escalation, to: str, subject: str, body: str, kind: str,
                  cause_ref: str, keep: list[str] | tuple[str, ...] = ()) -> int:
    """Reminders and status answers to an agent (Auto-Submitted). Scrubbed like everything that leaves; if
    scrubbing fails the agent still gets a content-free notice and the operator an alert. `keep`: values the
    caller knows are not PHI (e.g. the vendor's configured phone numbers)."""
    keep = [*keep, *_base_keep(rt, escalation), to]
    try:
        subject_r, body_r = rt.scrubber.scrub_many([subject, body], keep=keep,
                                                   fields=original_fields(rt, escalation))
        subject, body = subject_r.text, body_r.text
    except Exception as exc:
        raise_alert(rt.store, rt.config, rt.key, kind="scrub_failure", escalation_id=escalation.id,
                    dedupe=f"hold:{kind}:{escalation.id}:{cause_ref}",
                    text=f"Agent {kind} for escalation {escalation.id} sent without its text: {type(exc).__name__}.")
        subject = f"[mailgate] Update on Zendesk #{escalation.zendesk_ticket}"
        body = (f"The gateway has an update ({kind}) on escalation {escalation.id} for Zendesk ticket "
                f"{escalation.zendesk_ticket}, but could not prepare its text safely. See `mailgate show "
                f"{escalation.id}`.\n")
    return _queue_to_agent(rt, escalation, None, subject, body, kind, cause_ref, to=to)


def check_agent_copy(rt: Runtime, *, analysis: Analysis) -> ComplianceReport:
    """An agent wrote to a vendor directly and CC'd the gateway: that mail has left already. Report which
    required fields it lacked and which categories of PHI/PII it carried (never the values)."""
    parsed, d = analysis.parsed, analysis.decision
    vendor = d.agent_sent_to_vendor or d.vendor
    rule = rt.rules.get(vendor) if vendor else None
    text = parsed.reply_text
    fields = extract_fields(text, rule)
    fields = merge(fields, [("agent_email", parsed.from_addr), ("agent_name", parsed.from_name),
                            ("end_user_email", d.end_user_email), ("zendesk_ticket", d.zendesk_ticket)])
    missing = missing_fields(rule, fields) if rule else []
    keep = [v for v in (parsed.from_addr, d.end_user_email, *parsed.to, *parsed.cc) if v]
    results = rt.scrubber.scrub_many([text, parsed.subject or ""], keep=keep, fields=fields)
    categories = list(dict.fromkeys(c for r in results for c in r.categories))
    return ComplianceReport(missing_fields=missing, phi_categories=categories)


__all__ = ["ComplianceReport", "EscalationOutcome", "check_agent_copy", "send_escalation", "send_on_thread",
           "send_to_agent", "vendor_subject"]
