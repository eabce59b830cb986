"""Carries queued Zendesk jobs out: one ticket update per job (internal note + custom fields + tags).

Outcomes:
- 2xx: done.
- 429: Zendesk refused the call; the job and the whole queue wait exactly Retry-After (the limit is per account).
- 5xx, timeouts, dropped connections: retried with exponential back-off (capped) until [zendesk] max_attempts,
  then dead-lettered with an alert.
- 401: the credentials are wrong; the queue pauses with back-off and one alert is raised (jobs are kept, not
  dead-lettered: they go out once the token is fixed).
- other 4xx (404 ticket not found, 422 invalid, 403 no access): dead-lettered with an alert; the queue goes on.

Never twice: a job is marked 'sending' (committed) before its call. An attempt that may have reached Zendesk
(timeout or 5xx after the request went out, or a crash found as 'sending') makes the job 'uncertain'; before an
uncertain job is posted again, the ticket's newest comments are searched for the marker line its note ends with
("[mailgate:<hash>]"). Marker found -> done without posting. Zendesk applies the comment, fields and tags of one
update together, so a found marker also means the fields and tags went through.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from gateway.alerts import raise_alert
from gateway.clock import iso
from gateway.outbox_sender import backoff_seconds
from gateway.runtime import Runtime
from gateway.store import Store
from gateway.store.zendesk_jobs import ZendeskJob
from gateway.zendesk.client import (
    ZendeskAuthError,
    ZendeskClient,
    ZendeskPermanent,
    ZendeskRateLimited,
    ZendeskTransient,
)
from gateway.zendesk.fields import custom_fields, ticket_tags
from gateway.zendesk.notes import marker_for, render_note
from gateway.zendesk.queue import vendor_display_name

if TYPE_CHECKING:
    from gateway.service import Service

log = logging.getLogger("mailgate.zendesk")

PAUSE_KEY = "zendesk:paused_until"
AUTH_ALERT_KEY = "zendesk:auth_alerted"


class _StopDrain(Exception):
    """The whole queue must wait (rate limit, bad credentials)."""


def paused_until(rt: Runtime) -> str | None:
    until = rt.store.kv_get(PAUSE_KEY)
    return until if until and until > rt.store.now() else None


async def drain(rt: Runtime, *, limit: int = 50) -> int:
    """Carry out every Zendesk job that is due now. Returns the number of jobs attempted.

    Does nothing without a [zendesk] section (jobs are then stored as 'local') or while the queue is paused
    by a rate limit. Each job is attempted at most once per call; call it periodically."""
    section = rt.config.zendesk
    if section is None or paused_until(rt) or not rt.store.due_zendesk_jobs(1):
        return 0
    attempted: set[int] = set()
    async with ZendeskClient(section, now=rt.clock.now) as client:
        while True:
            due = [job for job in rt.store.due_zendesk_jobs(limit) if job.id not in attempted]
            if not due:
                return len(attempted)
            for job in due:
                attempted.add(job.id)
                try:
                    await carry_out(rt, client, job)
                except _StopDrain:
                    return len(attempted)


async def carry_out(rt: Runtime, client: ZendeskClient, job: ZendeskJob) -> None:
    uncertain = job.uncertain or job.status == "sending"
    ticket_id = _ticket_id(job)
    if job.kind != "note" or ticket_id is None:
        reason = "not a numeric Zendesk ticket id" if ticket_id is None else f"unknown job kind {job.kind!r}"
        _dead(rt, job, reason)
        return
    with rt.store.transaction():
        rt.store.mark_zendesk_sending(job.id)
    attempts = job.attempts + 1
    try:
        if uncertain and await client.has_comment_with(ticket_id, _note(rt, job)[1]):
            _done(rt, job, verified=True)
            return
        await client.update_ticket(ticket_id, _ticket_update(rt, job))
    except ZendeskRateLimited as exc:
        _rate_limited(rt, job, exc, uncertain)
        raise _StopDrain() from exc
    except ZendeskAuthError as exc:
        _auth_failed(rt, job, attempts, uncertain)
        raise _StopDrain() from exc
    except ZendeskPermanent as exc:
        _dead(rt, job, str(exc))
        return
    except ZendeskTransient as exc:
        _retry_or_die(rt, job, attempts, exc.category, uncertain or exc.uncertain, exc.retry_after)
        return
    except Exception as exc:  # a surprise in one job must not wedge the queue; it may have reached Zendesk
        log.exception("zendesk job failed unexpectedly", extra={"zendesk_job_id": job.id})
        _retry_or_die(rt, job, attempts, f"unexpected {type(exc).__name__}", True, None)
        return
    _done(rt, job, verified=False)


def _ticket_id(job: ZendeskJob) -> int | None:
    text = job.zendesk_ticket.strip().lstrip("#")
    return int(text) if text.isdigit() else None


def _note(rt: Runtime, job: ZendeskJob) -> tuple[str, str]:
    """(text, marker) as queued; a job queued before note texts were stored gets its text rendered now."""
    payload = job.payload
    if payload.get("body") and payload.get("marker"):
        return str(payload["body"]), str(payload["marker"])
    marker = marker_for(job.idempotency_key)
    vendor = str(payload.get("vendor") or "")
    esc = rt.store.escalation(job.escalation_id) if job.escalation_id is not None else None
    if esc is not None:
        vendor = vendor or esc.vendor
    detail = {k: v for k, v in payload.items() if k != "event"}
    body = render_note(kind=str(payload.get("event") or "update"), vendor=vendor_display_name(rt, vendor),
                       vendor_ticket=str(payload.get("vendor_ticket") or (esc.vendor_ticket if esc else "") or "")
                       or None, state=str(payload.get("state") or (esc.state if esc else "unknown")),
                       detail=detail, marker=marker)
    return body, marker


def _ticket_update(rt: Runtime, job: ZendeskJob) -> dict[str, Any]:
    """The note as queued; fields and tags from the escalation as it is now, so a late retry never sets an
    older state over a newer one."""
    section = rt.config.zendesk
    assert section is not None
    payload = job.payload
    esc = rt.store.escalation(job.escalation_id) if job.escalation_id is not None else None
    vendor = esc.vendor if esc else str(payload.get("vendor") or "")
    state = esc.state if esc else str(payload.get("state") or "")
    facts = {"vendor": vendor, "vendor_state": state,
             "vendor_ticket": (esc.vendor_ticket if esc else None) or payload.get("vendor_ticket"),
             "priority": (esc.priority if esc else None) or payload.get("priority")}
    previous = tuple(str(s) for s in (payload.get("state"), payload.get("from_state")) if s)
    add, remove = ticket_tags(section.tags, vendor, state, previous)
    update: dict[str, Any] = {"comment": {"body": _note(rt, job)[0], "public": False},
                              "additional_tags": add, "remove_tags": remove}
    fields = custom_fields(section.fields, facts)
    if fields:
        update["custom_fields"] = fields
    return update


def _done(rt: Runtime, job: ZendeskJob, *, verified: bool) -> None:
    with rt.store.transaction():
        rt.store.mark_zendesk_done(job.id)
        rt.store.kv_set(AUTH_ALERT_KEY, "")
        rt.store.audit(actor="gateway", action="zendesk:verified" if verified else "zendesk:noted",
                       target=job.zendesk_ticket, cause_ref=job.idempotency_key,
                       detail={"job": job.id, "event": job.payload.get("event")})
    log.info("zendesk note on ticket", extra={"zendesk_job_id": job.id, "verified": verified})


def _later(rt: Runtime, seconds: float) -> str:
    return iso(rt.clock.now() + timedelta(seconds=seconds))


def _rate_limited(rt: Runtime, job: ZendeskJob, exc: ZendeskRateLimited, uncertain: bool) -> None:
    due = _later(rt, exc.retry_after or 60.0)
    with rt.store.transaction():
        rt.store.mark_zendesk_retry(job.id, error="http 429 rate limited", next_attempt_at=due, uncertain=uncertain)
        rt.store.kv_set(PAUSE_KEY, due)
    log.warning("zendesk rate limited", extra={"zendesk_job_id": job.id, "retry_after": exc.retry_after})


def _auth_failed(rt: Runtime, job: ZendeskJob, attempts: int, uncertain: bool) -> None:
    section = rt.config.zendesk
    assert section is not None
    due = _later(rt, backoff_seconds(attempts, section.retry_initial_seconds, section.retry_max_seconds))
    with rt.store.transaction():
        rt.store.mark_zendesk_retry(job.id, error="http 401 credentials not accepted", next_attempt_at=due,
                                    uncertain=uncertain)
        rt.store.kv_set(PAUSE_KEY, due)
        if not rt.store.kv_get(AUTH_ALERT_KEY):
            rt.store.kv_set(AUTH_ALERT_KEY, "1")
            raise_alert(rt.store, rt.config, rt.key, kind="zendesk_auth",
                        text="Zendesk refused the gateway's credentials (HTTP 401). Zendesk notes are kept and "
                             "wait; check [zendesk] email and api_token, then run `mailgate check`.",
                        dedupe=f"zendesk_auth:{job.id}:{attempts}")
    log.error("zendesk credentials not accepted", extra={"zendesk_job_id": job.id})


def _retry_or_die(rt: Runtime, job: ZendeskJob, attempts: int, error: str, uncertain: bool,
                  retry_after: float | None) -> None:
    section = rt.config.zendesk
    assert section is not None
    if attempts >= section.max_attempts:
        _dead(rt, job, f"gave up after {attempts} attempts: {error}", uncertain=uncertain)
        return
    delay = retry_after or backoff_seconds(attempts, section.retry_initial_seconds, section.retry_max_seconds)
    with rt.store.transaction():
        rt.store.mark_zendesk_retry(job.id, error=error[:200], next_attempt_at=_later(rt, delay),
                                    uncertain=uncertain)
    log.warning("zendesk retry", extra={"zendesk_job_id": job.id, "delay_seconds": delay, "error": error})


def _dead(rt: Runtime, job: ZendeskJob, error: str, *, uncertain: bool = False) -> None:
    event = str(job.payload.get("event") or job.kind)
    maybe = " It may have been posted once (the last attempt was interrupted)." if uncertain else ""
    with rt.store.transaction():
        rt.store.mark_zendesk_dead(job.id, error[:200])
        raise_alert(rt.store, rt.config, rt.key, kind="zendesk_dead_letter",
                    text=f"Zendesk note {job.id} ({event}) for ticket #{job.zendesk_ticket} was not posted and "
                         f"is dead-lettered: {error[:200]}.{maybe} Its text is kept: `mailgate show "
                         f"{job.zendesk_ticket}`.",
                    dedupe=f"zendesk_dead:{job.id}", escalation_id=job.escalation_id)
    log.error("zendesk dead letter", extra={"zendesk_job_id": job.id, "error": error[:200]})


POLL_SECONDS = 5.0  # how often the service looks for due jobs


async def zendesk_task(service: Service) -> None:
    """The service task: drain due jobs until the service stops. It uses a store connection of its own,
    because the pipeline thread owns the runtime's."""
    rt = service.rt
    if rt.config.zendesk is None:
        return  # jobs stay 'local'; nothing to carry out
    store = Store(rt.config.state_path, clock=rt.clock)
    own = dataclasses.replace(rt, store=store)
    try:
        while not service.stopping.is_set():
            try:
                await drain(own)
            except Exception as exc:  # one failed pass is retried at the next; the service carries on
                log.exception("zendesk pass failed", extra={"error_type": type(exc).__name__})
            await service.pause(POLL_SECONDS)
    finally:
        store.close()
