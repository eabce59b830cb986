"""The Zendesk worker against a local fake Zendesk: notes, fields, tags, rate limits, retries, never twice."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_zendesk import FakeZendesk, Fault, zendesk_toml

from gateway.clock import ManualClock, iso
from gateway.config import parse_config
from gateway.runtime import Runtime
from gateway.store.zendesk_jobs import ZendeskJob
from gateway.zendesk.queue import queue_event_note
from gateway.zendesk.worker import drain

TOKEN = "zd-test-token-5f1c9a"
ENV = "MAILGATE_TEST_ZENDESK_TOKEN"
BASE = '[gateway]\naddress = "escalations@example.org"\n[trust]\nauthserv_ids = ["mx.example.org"]\n'
START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake() -> Iterator[FakeZendesk]:
    with FakeZendesk(email="bot@example.org", token=TOKEN, tickets=(4242, 5151)) as server:
        yield server


def open_runtime(tmp_path: Path, clock: ManualClock, extra: str) -> Runtime:
    config = parse_config(tomllib.loads(BASE + extra), "<test>", tmp_path, state_dir=str(tmp_path / "state"))
    return Runtime.open(config, clock=clock)


@pytest.fixture
def rt(tmp_path: Path, clock: ManualClock, fake: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv(ENV, TOKEN)
    runtime = open_runtime(tmp_path, clock, zendesk_toml(fake.url, token_env=ENV))
    yield runtime
    runtime.close()


def escalate(rt: Runtime, ticket: str = "4242") -> int:
    esc, _ = rt.store.create_escalation(zendesk_ticket=ticket, vendor="idme", state="sent")
    return esc.id


def event(rt: Runtime, esc_id: int, kind: str, state: str, cause: str, **detail: object) -> None:
    """What the lifecycle does: change the state and queue the note in one transaction."""
    with rt.store.transaction():
        before = rt.store.escalation(esc_id)
        assert before is not None
        if detail.get("vendor_ticket"):
            rt.store.add_vendor_ticket(esc_id, str(detail["vendor_ticket"]), "idme")
        rt.store.update_escalation(esc_id, state=state)
        queue_event_note(rt, escalation=before, kind=kind, cause_ref=cause, detail=dict(detail))


def jobs(rt: Runtime) -> list[ZendeskJob]:
    return rt.store.zendesk_jobs()


def alerts(rt: Runtime, kind: str) -> list[str]:
    return [r["detail"] for r in rt.store.audit_entries() if r["action"] == f"alert:{kind}"]


def later(seconds: float) -> str:
    return iso(START + timedelta(seconds=seconds))


async def test_event_becomes_internal_note_with_fields_and_tags(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
    assert await drain(rt) == 1
    [note] = fake.notes(4242)
    assert "ID.me Support" in note and "#1234567" in note and "acknowledged" in note
    assert "What's next:" in note
    assert note.splitlines()[-1] == jobs(rt)[0].payload["marker"]
    assert fake.tickets[4242].comments[0]["public"] is False
    assert fake.tickets[4242].fields == {360001: "1234567", 360002: "acknowledged"}
    assert {"mailgate", "vendor_idme", "vendor_state_acknowledged"} <= fake.tickets[4242].tags
    assert fake.problems == []
    assert [j.status for j in jobs(rt)] == ["done"]


async def test_fields_and_tags_follow_the_state(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
    event(rt, esc, "resolved", "resolved", "msg:2", summary="The prescriber completed verification.")
    assert await drain(rt) == 2
    notes = fake.notes(4242)
    assert len(notes) == 2 and "ticket assigned" in notes[0] and "reports resolved" in notes[1]
    assert "The prescriber completed verification." in notes[1]
    assert fake.tickets[4242].fields[360002] == "resolved"
    assert "vendor_state_resolved" in fake.tickets[4242].tags
    assert "vendor_state_acknowledged" not in fake.tickets[4242].tags


async def test_wrong_credentials_keep_jobs_pause_and_alert_once(tmp_path: Path, clock: ManualClock,
                                                                fake: FakeZendesk,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "not-the-token")
    rt = open_runtime(tmp_path, clock, zendesk_toml(fake.url, token_env=ENV))
    try:
        esc = escalate(rt)
        event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
        assert await drain(rt) == 1
        assert [c.status for c in fake.calls("PUT")] == [401]
        assert fake.notes(4242) == [] and jobs(rt)[0].status == "pending"
        [text] = alerts(rt, "zendesk_auth")
        assert "not-the-token" not in text
        event(rt, esc, "progress", "in_progress", "msg:2")
        assert await drain(rt) == 0  # paused: nothing is tried until the back-off has passed
        assert len(fake.calls("PUT")) == 1
        clock.advance(timedelta(seconds=30))
        assert await drain(rt) == 1
        assert len(alerts(rt, "zendesk_auth")) == 1
    finally:
        rt.close()


async def test_429_waits_exactly_retry_after_for_the_whole_queue(rt: Runtime, fake: FakeZendesk,
                                                                 clock: ManualClock) -> None:
    first, second = escalate(rt, "4242"), escalate(rt, "5151")
    event(rt, first, "ack", "acknowledged", "msg:1", vendor_ticket="1111111")
    event(rt, second, "ack", "acknowledged", "msg:2", vendor_ticket="2222222")
    fake.inject(Fault(status=429, retry_after="120"))
    assert await drain(rt) == 1
    a, b = jobs(rt)
    assert (a.status, a.next_attempt_at, a.uncertain) == ("pending", later(120), False)
    assert b.attempts == 0  # the rate limit is per account: the other ticket waits too
    clock.advance(timedelta(seconds=119))
    assert await drain(rt) == 0
    assert len(fake.calls("PUT")) == 1
    clock.advance(timedelta(seconds=1))
    assert await drain(rt) == 2
    assert len(fake.notes(4242)) == 1 and len(fake.notes(5151)) == 1
    assert fake.calls("GET") == []  # a refused call is certain: no marker check needed


async def test_500_then_success_posts_exactly_one_note(rt: Runtime, fake: FakeZendesk, clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "need_info", "awaiting_agent", "msg:3", question="Which time zone is the prescriber in?")
    fake.inject(Fault(status=500))
    await drain(rt)
    [job] = jobs(rt)
    assert (job.status, job.next_attempt_at, job.uncertain) == ("pending", later(30), True)
    assert await drain(rt) == 0  # not due yet
    clock.advance(timedelta(seconds=30))
    assert await drain(rt) == 1
    assert len(fake.notes(4242)) == 1
    assert [(c.method, c.status) for c in fake.requests] == [("PUT", 500), ("GET", 200), ("PUT", 200)]
    assert "Which time zone is the prescriber in?" in fake.notes(4242)[0]


async def test_500_after_zendesk_applied_the_note_is_not_posted_again(rt: Runtime, fake: FakeZendesk,
                                                                      clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "progress", "in_progress", "msg:4")
    fake.inject(Fault(status=502, apply=True))
    await drain(rt)
    clock.advance(timedelta(seconds=30))
    await drain(rt)
    assert len(fake.notes(4242)) == 1
    assert len(fake.calls("PUT")) == 1
    assert jobs(rt)[0].status == "done"
    assert any(r["action"] == "zendesk:verified" for r in rt.store.audit_entries())


async def test_timeout_after_apply_then_exactly_one_note(rt: Runtime, fake: FakeZendesk, clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "closed_unreachable", "closed_unreachable", "msg:5")
    fake.inject(Fault(status=200, apply=True, delay=1.5))  # client timeout is 0.5 s
    await drain(rt)
    [job] = jobs(rt)
    assert (job.status, job.last_error, job.uncertain) == ("pending", "timeout", True)
    clock.advance(timedelta(seconds=30))
    await drain(rt)
    assert len(fake.notes(4242)) == 1
    assert jobs(rt)[0].status == "done"


async def test_timeout_before_apply_then_posted_once(rt: Runtime, fake: FakeZendesk, clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "closed_no_response", "closed_no_response", "deadline:9")
    fake.inject(Fault(status=200, apply=False, delay=1.5))
    await drain(rt)
    clock.advance(timedelta(seconds=30))
    await drain(rt)
    assert len(fake.notes(4242)) == 1
    assert [c.method for c in fake.requests][-2:] == ["GET", "PUT"]


async def test_crash_while_sending_is_settled_by_the_marker(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "bounced", "sent", "msg:6", reason="mailbox unavailable")
    [job] = jobs(rt)
    rt.store.mark_zendesk_sending(job.id)  # the process died during the call, which did reach Zendesk
    fake.apply_update(4242, {"comment": {"body": job.payload["body"], "public": False}})
    assert await drain(rt) == 1
    assert len(fake.notes(4242)) == 1 and fake.calls("PUT") == []
    assert jobs(rt)[0].status == "done"


async def test_crash_before_the_call_reached_zendesk_posts_once(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "missed_update", "acknowledged", "deadline:3")
    rt.store.mark_zendesk_sending(jobs(rt)[0].id)
    await drain(rt)
    assert len(fake.notes(4242)) == 1
    assert [c.method for c in fake.requests] == ["GET", "PUT"]


@pytest.mark.parametrize("status", [404, 422])
async def test_other_4xx_dead_letter_with_alert_and_the_queue_goes_on(rt: Runtime, fake: FakeZendesk,
                                                                      status: int) -> None:
    bad, good = escalate(rt, "4242"), escalate(rt, "5151")
    event(rt, bad, "need_info", "awaiting_agent", "msg:7", question="Is Dr. Jane Roe reachable at 555-0100?")
    event(rt, good, "ack", "acknowledged", "msg:8", vendor_ticket="7654321")
    fake.inject(Fault(status=status))
    assert await drain(rt) == 2
    assert [j.status for j in jobs(rt)] == ["dead", "done"]
    assert f"http {status}" in (jobs(rt)[0].last_error or "")
    [text] = alerts(rt, "zendesk_dead_letter")
    assert "#4242" in text and "Jane Roe" not in text and "555-0100" not in text
    assert fake.notes(4242) == [] and len(fake.notes(5151)) == 1


async def test_unknown_ticket_is_a_dead_letter(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt, "9999")
    event(rt, esc, "ack", "acknowledged", "msg:9", vendor_ticket="1234567")
    await drain(rt)
    assert jobs(rt)[0].status == "dead" and jobs(rt)[0].last_error == "http 404 RecordNotFound"
    assert len(alerts(rt, "zendesk_dead_letter")) == 1


async def test_5xx_backs_off_exponentially_then_dead_letters(rt: Runtime, fake: FakeZendesk,
                                                             clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "progress", "in_progress", "msg:10")
    fake.inject(*[Fault(status=503) for _ in range(4)], *[Fault(status=503, method="GET") for _ in range(3)])
    waits = []
    for _ in range(3):
        before = clock.now()
        await drain(rt)
        job = jobs(rt)[0]
        due = datetime.fromisoformat(job.next_attempt_at)
        waits.append((due - before).total_seconds())
        clock.set(due)
    assert waits == [30.0, 60.0, 120.0]
    await drain(rt)  # fourth attempt of max_attempts = 4
    assert jobs(rt)[0].status == "dead"
    assert "gave up after 4 attempts" in (jobs(rt)[0].last_error or "")
    assert len(alerts(rt, "zendesk_dead_letter")) == 1
    assert fake.notes(4242) == []


async def test_a_waiting_note_holds_back_later_notes_of_its_ticket(rt: Runtime, fake: FakeZendesk,
                                                                   clock: ManualClock) -> None:
    esc = escalate(rt)
    event(rt, esc, "ack", "acknowledged", "msg:11", vendor_ticket="1234567")
    fake.inject(Fault(status=500))
    await drain(rt)
    event(rt, esc, "resolved", "resolved", "msg:12")
    assert await drain(rt) == 0
    clock.advance(timedelta(seconds=30))
    assert await drain(rt) == 2
    notes = fake.notes(4242)
    assert len(notes) == 2 and "ticket assigned" in notes[0] and "resolved" in notes[1]
    assert fake.tickets[4242].fields[360002] == "resolved"


async def test_without_zendesk_section_jobs_stay_local(tmp_path: Path, clock: ManualClock) -> None:
    from gateway.demo.report import escalation_block

    rt = open_runtime(tmp_path, clock, "")
    try:
        esc = escalate(rt)
        event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
        assert await drain(rt) == 0
        [job] = jobs(rt)
        assert job.status == "local"
        assert "#1234567" in job.payload["body"] and "What's next:" in job.payload["body"]
        escalation = rt.store.escalation(esc)
        assert escalation is not None
        assert any("zendesk note: ack" in line and "[local]" in line for line in escalation_block(rt.store,
                                                                                                  escalation))
    finally:
        rt.close()


async def test_the_same_cause_queues_one_note(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
    event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")  # the same message handled again
    await drain(rt)
    assert len(jobs(rt)) == 1 and len(fake.notes(4242)) == 1


async def test_an_operator_can_requeue_a_dead_letter(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    event(rt, esc, "ack", "acknowledged", "msg:1", vendor_ticket="1234567")
    fake.inject(Fault(status=422))
    await drain(rt)
    job = jobs(rt)[0]
    assert job.status == "dead" and rt.store.requeue_zendesk_job(job.id)
    assert not rt.store.requeue_zendesk_job(job.id)  # only dead or local jobs
    await drain(rt)
    assert jobs(rt)[0].status == "done" and len(fake.notes(4242)) == 1


async def test_a_job_queued_without_note_text_gets_one_rendered(rt: Runtime, fake: FakeZendesk) -> None:
    esc = escalate(rt)
    rt.store.enqueue_zendesk_job(escalation_id=esc, zendesk_ticket="4242", kind="note",
                                 idempotency_key=f"note:{esc}:resolved:msg:1",
                                 payload='{"event": "resolved", "vendor_ticket": "1234567"}')
    await drain(rt)
    [note] = fake.notes(4242)
    assert "ID.me Support reports resolved" in note and "#1234567" in note and note.endswith("]")


async def test_the_fake_refuses_what_zendesk_would_refuse(rt: Runtime, fake: FakeZendesk) -> None:
    from gateway.zendesk.client import ZendeskClient, ZendeskPermanent

    assert rt.config.zendesk is not None
    async with ZendeskClient(rt.config.zendesk) as client:
        for bad in ({"comment": {"body": "x", "public": True}}, {"additional_tags": ["Has Space"]},
                    {"custom_fields": [{"id": "1", "value": "x"}]}, {"status": "solved"}):
            with pytest.raises(ZendeskPermanent, match="422 RecordInvalid"):
                await client.update_ticket(4242, bad)
    assert len(fake.problems) == 4 and fake.notes(4242) == []
