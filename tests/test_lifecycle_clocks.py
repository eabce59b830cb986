"""Clocks and missed deadlines: idempotent planning and firing across restarts, nudges, contact escalation by
role, desk hours for agent-facing mail, after-hours rules of both vendors, and the state table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifecycle_kit import deliver, events, open_runtime, outbox, pending
from story_mail import agent_escalation, idme, offsite

from gateway.clock import ManualClock
from gateway.lifecycle.states import next_state
from gateway.pipeline import run_due
from gateway.runtime import Runtime

H = timedelta(hours=1)


def _offsite_acknowledged(tmp_path: Path, clock: ManualClock, priority_line: str = "") -> tuple[Runtime, int, str]:
    rt = open_runtime(tmp_path, clock)
    raw = agent_escalation("offsite", clock.now())
    if priority_line:
        raw = raw.replace(b"Priority: High", priority_line.encode())
    assert deliver(rt, raw) == "processed"
    (esc,) = rt.store.list_escalations()
    (sent,) = outbox(rt, "escalation")
    clock.advance(H)
    ack = offsite("Ticket #20417 has been created and assigned to Jamison White.\n",
                  subject=f"Ticket #20417 created: {sent.msg['Subject']}", when=clock.now(), reply_to=sent.message_id,
                  refs=[sent.message_id], mid="<osd-20417-1@offsite.inc.co>")
    assert deliver(rt, ack) == "processed"
    return rt, esc.id, str(sent.msg["Subject"])


def test_state_table_refuses_to_go_backwards() -> None:
    assert next_state("in_progress", "ack") is None           # a late duplicate ack changes nothing
    assert next_state("resolved", "progress") is None
    assert next_state("closed_unreachable", "reopened") == "reopened"
    assert next_state("in_progress", "reopened") is None       # only a vendor-closed ticket is reopened
    assert next_state("awaiting_agent", "agent_replied") == "in_progress"


def test_misses_nudge_each_time_and_escalate_once_to_leadership(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))  # Monday 9 am Central
    rt, esc_id, _ = _offsite_acknowledged(tmp_path, clock)
    for _ in range(3):  # three 4-business-hour updates missed in a row
        nxt = rt.store.next_deadline(esc_id)
        assert nxt is not None and nxt.kind == "update_due"
        clock.set(datetime.fromisoformat(nxt.due_at))
        assert run_due(rt) == 1
    assert len(outbox(rt, "nudge")) == 3 and rt.store.escalation(esc_id).miss_count == 3
    (contact,) = outbox(rt, "contact_escalation")  # after escalate_after_misses = 2, and only once
    assert contact.to == ["jamison.white@offsite.inc.co"]
    assert events(rt, esc_id).count("escalated") == 1
    rt.close()


def test_restarts_never_fire_or_plan_twice(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt, esc_id, _ = _offsite_acknowledged(tmp_path, clock)
    planned = rt.store.count_deadlines()
    clock.advance(30 * H)
    assert run_due(rt) == 1
    rt.close()
    rt = open_runtime(tmp_path, clock)  # a restart: same state directory
    assert run_due(rt) == 0
    assert len(outbox(rt, "nudge")) == 1
    # Re-handling the acknowledgement (e.g. replayed) plans nothing new.
    assert rt.store.count_deadlines() == planned + 1  # only the re-planned next update
    rt.close()


def test_emergency_cadence_runs_around_the_clock(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 20, 22, 30, tzinfo=UTC))  # Friday 4:30 pm Central
    rt, esc_id, _ = _offsite_acknowledged(tmp_path, clock, "Priority: Emergency")
    esc = rt.store.escalation(esc_id)
    assert esc.priority == "emergency"
    # Hourly, regardless of business hours (Friday 6:30 pm Central is after hours); resolution in 8 h.
    assert pending(rt, esc_id)["update_due"] == [(clock.now() + H).isoformat(timespec="seconds")]
    assert pending(rt, esc_id)["resolve_due"] == [(clock.now() + 8 * H).isoformat(timespec="seconds")]
    rt.close()


def test_email_after_offsite_hours_warns_the_agent_with_phone_numbers(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 20, 23, 30, tzinfo=UTC))  # Friday 5:30 pm Central, 3:30 pm Pacific
    rt = open_runtime(tmp_path, clock)
    assert deliver(rt, agent_escalation("offsite", clock.now())) == "processed"
    (warning,) = outbox(rt, "after_hours_warning")
    assert warning.to == ["devon.price@drchrono.com"]
    assert "low priority" in warning.body and "816-232-7483" in warning.body and "816-676-0434" in warning.body
    (esc,) = rt.store.list_escalations()
    # The ack comes Monday: the acknowledgement clock counted business hours only.
    assert pending(rt, esc.id)["ack_due"] == ["2026-11-23T22:00:00+00:00"]
    rt.close()


def test_medium_priority_after_hours_warns_without_phones(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    rt = open_runtime(tmp_path, clock)
    raw = agent_escalation("offsite", clock.now()).replace(b"Priority: High", b"Priority: Medium")
    assert deliver(rt, raw) == "processed"
    (warning,) = outbox(rt, "after_hours_warning")
    assert "816-232-7483" not in warning.body
    rt.close()


def test_idme_production_down_after_hours_alerts_on_call_and_expects_30_minutes(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 21, 4, 0, tzinfo=UTC))  # Friday 10 pm Central
    rt = open_runtime(tmp_path, clock)
    raw = agent_escalation("idme", clock.now()).replace(
        b"Description: Dr. Whitfield",
        b"Description: Production system is down: EPCS signing fails for all. Dr. Whitfield")
    assert deliver(rt, raw) == "processed"
    (alert,) = outbox(rt, "after_hours_alert")
    assert alert.to == ["alert@idmeinc.pagerduty.com"]
    (esc,) = rt.store.list_escalations()
    assert pending(rt, esc.id)["after_hours_response"] == ["2026-11-21T04:30:00+00:00"]
    clock.advance(31 * timedelta(minutes=1))
    assert run_due(rt) == 1
    assert "missed_after_hours_response" in events(rt, esc.id)
    assert len(outbox(rt, "missed_deadline")) == 1  # urgent: told at once, desk hours or not
    assert outbox(rt, "nudge") == []                # the on-call address is not a ticket thread
    rt.close()


def test_idme_ordinary_issue_after_hours_sends_no_alert(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 21, 4, 0, tzinfo=UTC))
    rt = open_runtime(tmp_path, clock)
    assert deliver(rt, agent_escalation("idme", clock.now())) == "processed"
    assert outbox(rt, "after_hours_alert") == []
    rt.close()


def test_agent_notices_wait_for_the_desk_to_open(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 16, 17, 0, tzinfo=UTC))
    rt = open_runtime(tmp_path, clock)
    assert deliver(rt, agent_escalation("idme", clock.now())) == "processed"
    (sent,) = outbox(rt, "escalation")
    (esc,) = rt.store.list_escalations()
    # ID.me acknowledges nothing for 24 h; the miss falls on Tuesday 9 am Pacific: desk open, told at once.
    clock.set(datetime(2026, 11, 21, 6, 0, tzinfo=UTC))  # Friday 10 pm Pacific: closed
    close = idme("We were unable to make contact with the end user after three attempts. This ticket is now "
                 "closed. Please reply to this email thread which will reopen the ticket.\nRequest #7781234\n",
                 subject=str(sent.msg["Subject"]), when=clock.now(),
                 reply_to=sent.message_id, refs=[sent.message_id], mid="<zd-x-closed@id.me>")
    run_due(rt)
    assert deliver(rt, close) == "processed"
    assert outbox(rt, "vendor_closed") == []
    held = pending(rt, esc.id)["agent_notice"]
    assert held == ["2026-11-23T13:00:00+00:00"]  # Monday 5 am Pacific
    clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=UTC))
    run_due(rt)
    assert len(outbox(rt, "vendor_closed")) == 1
    rt.close()


def test_a_permanent_bounce_of_the_escalation_tells_the_agent_with_the_phones(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt = open_runtime(tmp_path, clock)
    assert deliver(rt, agent_escalation("offsite", clock.now())) == "processed"
    (sent,) = outbox(rt, "escalation")
    (esc,) = rt.store.list_escalations()
    dsn = (
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        "To: escalations@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Date: Mon, 16 Nov 2026 15:01:00 +0000\r\nMessage-ID: <dsn-9@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; support@offsite.inc.co\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: escalations@example.org\r\n"
        f"To: support@offsite.inc.co\r\nMessage-ID: {sent.message_id}\r\n\r\n--B--\r\n").encode()
    assert deliver(rt, dsn) == "processed"
    bounced = [e for e in rt.store.events(esc.id) if e.kind == "bounced"]
    assert len(bounced) == 1 and bounced[0].detail["outbox_kind"] == "escalation" and bounced[0].detail["permanent"]
    (notice,) = outbox(rt, "bounce_notice")
    assert notice.to == ["devon.price@drchrono.com"] and "816-232-7483" in notice.body
    assert rt.store.escalation(esc.id).state == "sent"  # a bounce is a fact, not a vendor state
    rt.close()


def test_shipped_clock_policies_load_and_a_bad_one_is_named(tmp_path: Path) -> None:
    from gateway.lifecycle.policy import check_policies

    rt = open_runtime(tmp_path, ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC)))
    assert check_policies(rt.rules, rt.config) == []
    rt.rules["offsite"].clocks["priorities"]["high"]["update_every_hours"] = "four"
    (problem,) = check_policies(rt.rules, rt.config)
    assert "offsite.toml" in problem and "priorities.high.update_every_hours" in problem
    rt.close()


def test_a_failing_deadline_is_recorded_alerted_and_never_refired(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gateway import outbound

    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt, esc_id, _ = _offsite_acknowledged(tmp_path, clock)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("transport exploded")

    monkeypatch.setattr(outbound, "send_on_thread", broken)
    clock.advance(30 * H)
    assert run_due(rt) == 0
    assert "deadline_failed" in events(rt, esc_id) and "missed_update" not in events(rt, esc_id)
    assert any(a["action"] == "alert:deadline_failed" for a in rt.store.audit_entries())
    assert run_due(rt) == 0 and events(rt, esc_id).count("deadline_failed") == 1
    rt.close()


def test_unclassified_vendor_mail_restarts_the_cadence_only(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt, esc_id, subject = _offsite_acknowledged(tmp_path, clock)
    before = pending(rt, esc_id)
    clock.advance(2 * H)
    note = offsite("Jamison here, just a quick note that I am looking at the logs.\n", subject=f"Re: {subject}",
                   when=clock.now(), reply_to="<osd-20417-1@offsite.inc.co>", refs=["<osd-20417-1@offsite.inc.co>"],
                   mid="<osd-note@offsite.inc.co>")
    assert deliver(rt, note) == "processed"
    after = pending(rt, esc_id)
    assert rt.store.escalation(esc_id).state == "acknowledged"
    assert after["resolve_due"] == before["resolve_due"]
    assert after["update_due"] != before["update_due"]  # restarted from the vendor's note
    rt.close()
