"""Agents by email: commands from trusted agents only, answers with the status, priority changes that move the
clocks, #resolved, reopen caps, automatic reopen, and agents who write to the vendor with the gateway in CC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifecycle_kit import CONFIG, deliver, events, mail, open_runtime, outbox, pending
from story_mail import AGENT_OFFSITE, agent_command, agent_escalation, offsite

from gateway.clock import ManualClock
from gateway.runtime import Runtime

H = timedelta(hours=1)
T0 = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)  # Monday 9 am Central, 7 am Pacific


def _acknowledged(tmp_path: Path, clock: ManualClock, config: str = CONFIG) -> tuple[Runtime, int, str, str]:
    rt = open_runtime(tmp_path, clock, config)
    assert deliver(rt, agent_escalation("offsite", clock.now())) == "processed"
    (esc,) = rt.store.list_escalations()
    (sent,) = outbox(rt, "escalation")
    subject = str(sent.msg["Subject"])
    clock.advance(H)
    assert deliver(rt, offsite("Ticket #20417 has been created and assigned to Jamison White.\n",
                               subject=f"Ticket #20417 created: {subject}", when=clock.now(),
                               reply_to=sent.message_id, refs=[sent.message_id],
                               mid="<osd-1@offsite.inc.co>")) == "processed"
    return rt, esc.id, subject, sent.message_id


def _close(rt: Runtime, clock: ManualClock, subject: str, root: str, n: int) -> None:
    clock.advance(H)
    assert deliver(rt, offsite("Ticket #20417 has been marked as closed due to no response.\n",
                               subject=f"Re: Ticket #20417: {subject}", when=clock.now(), reply_to=root,
                               refs=[root], mid=f"<osd-close-{n}@offsite.inc.co>")) == "processed"


def test_status_command_answers_the_agent(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, _, _ = _acknowledged(tmp_path, clock)
    clock.advance(H)
    assert deliver(rt, agent_command("Devon Price <devon.price@drchrono.com>", "48377", "#status\n",
                                     clock.now())) == "processed"
    (answer,) = outbox(rt, "command_reply")
    assert answer.to == ["devon.price@drchrono.com"]
    assert "State: acknowledged" in answer.body and "Vendor ticket: #20417" in answer.body
    assert "Next: " in answer.body and "update is due" in answer.body
    rt.close()


def test_untrusted_sender_commands_change_nothing_and_get_no_answer(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, subject, root = _acknowledged(tmp_path, clock)
    _close(rt, clock, subject, root, 1)
    before = (events(rt, esc_id), len(rt.store.outbox_items()))
    forged = mail(sender="Devon Price <devon.price@drchrono.com>", subject="Re: [mailgate] Zendesk #48377",
                  body="#reopen\n#resolved\n", when=clock.now(), trusted=False)
    assert deliver(rt, forged) == "quarantined"
    stranger = mail(sender="someone@example.net", subject="Zendesk #48377", body="#reopen\n", when=clock.now())
    assert deliver(rt, stranger) == "quarantined"
    assert (events(rt, esc_id), len(rt.store.outbox_items())) == before
    assert rt.store.escalation(esc_id).state == "closed_no_response"
    rt.close()


def test_priority_command_moves_the_update_clock(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, _, _ = _acknowledged(tmp_path, clock)
    assert pending(rt, esc_id)["update_due"] == ["2026-11-16T20:00:00+00:00"]  # High: 4 business hours
    clock.advance(H)
    assert deliver(rt, agent_command("devon.price@drchrono.com", "48377", "#priority medium\n",
                                     clock.now())) == "processed"
    esc = rt.store.escalation(esc_id)
    assert esc.priority == "medium"
    assert pending(rt, esc_id)["update_due"] == ["2026-11-17T16:00:00+00:00"]  # 8 business hours from 11 am
    assert "priority_changed" in events(rt, esc_id)
    rt.close()


def test_resolved_command_stops_the_clocks(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, _, _ = _acknowledged(tmp_path, clock)
    assert deliver(rt, agent_command("devon.price@drchrono.com", "48377", "#resolved\n", clock.now())) == "processed"
    assert rt.store.escalation(esc_id).state == "resolved" and pending(rt, esc_id) == {}
    rt.close()


def test_reopen_cap_is_reported(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, subject, root = _acknowledged(tmp_path, clock)  # offsite: max_reopens = 1
    _close(rt, clock, subject, root, 1)
    assert deliver(rt, agent_command("devon.price@drchrono.com", "48377", "#reopen\n", clock.now())) == "processed"
    assert rt.store.escalation(esc_id).state == "reopened"
    _close(rt, clock, subject, root, 2)
    clock.advance(H)
    assert deliver(rt, agent_command("devon.price@drchrono.com", "48377", "#reopen\n", clock.now())) == "processed"
    assert len(outbox(rt, "reopen")) == 1
    answers = outbox(rt, "command_reply")
    assert "configured maximum (1)" in answers[-1].body
    assert "reopen_capped" in events(rt, esc_id)
    rt.close()


def test_new_contact_details_reopen_only_when_auto_reopen_is_on(tmp_path: Path) -> None:
    for auto, expected in ((True, "reopened"), (False, "closed_no_response")):
        clock = ManualClock(T0)
        config = CONFIG if auto else CONFIG.replace("auto_reopen = true", "auto_reopen = false")
        rt, esc_id, subject, root = _acknowledged(tmp_path / str(auto), clock, config)
        _close(rt, clock, subject, root, 1)
        (notice,) = outbox(rt, "vendor_closed")
        clock.advance(H)
        details = mail(sender="devon.price@drchrono.com", subject="Re: [mailgate] Zendesk #48377",
                       body="Contact phone: +1 816-555-0148\nBest time to reach: 8 am-4 pm Central\n",
                       when=clock.now(), in_reply_to=notice.message_id, references=[notice.message_id])
        assert deliver(rt, details) == "processed"
        assert rt.store.escalation(esc_id).state == expected
        replies = outbox(rt, "reopen")
        assert len(replies) == (1 if auto else 0)
        if auto:
            assert "+1 816-555-0148" in replies[0].body
        rt.close()


def test_agent_writing_to_the_vendor_with_us_in_cc_is_tracked_and_checked(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt = open_runtime(tmp_path, clock)
    body = AGENT_OFFSITE.replace("Vendor: OffSite\n", "") + "Patient: John Smith, DOB 1958-03-02\n"
    raw = mail(sender="Devon Price <devon.price@drchrono.com>", to="support@offsite.inc.co",
               cc="escalations@example.org", subject="[DrChrono #48377] image viewer down", body=body,
               when=clock.now(), message_id="<agent-direct-48377@mail.drchrono.com>")
    assert deliver(rt, raw) == "processed"
    (esc,) = rt.store.list_escalations()
    assert (esc.state, esc.vendor, esc.zendesk_ticket) == ("sent", "offsite", "48377")
    assert esc.root_message_id == "<agent-direct-48377@mail.drchrono.com>"
    assert "ack_due" in pending(rt, esc.id)
    assert outbox(rt, "escalation") == []  # the agent's mail already left; the gateway sends nothing to the vendor
    (warning,) = outbox(rt, "compliance")
    assert warning.to == ["devon.price@drchrono.com"] and "already left" in warning.body
    compliance = [e for e in rt.store.events(esc.id) if e.kind == "compliance"]
    assert compliance and compliance[0].detail["phi_categories"]
    assert "1958" not in str(compliance[0].detail) and "Smith" not in str(compliance[0].detail)
    # The vendor's answer to the agent's mail (reply-all) is linked by its References.
    clock.advance(H)
    ack = offsite("Ticket #20417 has been created and assigned to Jamison White.\n",
                  subject="Ticket #20417 created: [DrChrono #48377] image viewer down", when=clock.now(),
                  reply_to="<agent-direct-48377@mail.drchrono.com>", refs=["<agent-direct-48377@mail.drchrono.com>"],
                  mid="<osd-9@offsite.inc.co>")
    assert deliver(rt, ack) == "processed"
    assert rt.store.escalation(esc.id).state == "acknowledged"
    rt.close()


def test_note_answers_a_waiting_vendor_on_its_thread(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt, esc_id, subject, root = _acknowledged(tmp_path, clock)
    clock.advance(H)
    assert deliver(rt, offsite("We need additional information: please provide the firewall change log.\n",
                               subject=f"Re: Ticket #20417: {subject}", when=clock.now(), reply_to=root,
                               refs=[root], mid="<osd-q@offsite.inc.co>")) == "processed"
    assert rt.store.escalation(esc_id).state == "awaiting_agent"
    note = [j for j in rt.store.zendesk_jobs_for(esc_id) if "need" in j["payload"]][-1]
    assert "firewall change log" in note["payload"]  # the vendor's question, scrubbed, for the agent
    clock.advance(H)
    assert deliver(rt, agent_command("devon.price@drchrono.com", "48377",
                                     "#note The firewall was changed on Friday; port 8443 is now open.\n",
                                     clock.now())) == "processed"
    (answer,) = outbox(rt, "agent_answer")
    assert answer.to == ["support@offsite.inc.co"] and str(answer.msg["In-Reply-To"]) == "<osd-q@offsite.inc.co>"
    assert answer.msg["Auto-Submitted"] is None and "port 8443 is now open" in answer.body
    assert rt.store.escalation(esc_id).state == "in_progress"
    plan = pending(rt, esc_id)
    assert "agent_reminder" not in plan and "update_due" in plan
    rt.close()


def test_an_escalation_sent_again_after_missing_details_goes_out(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    rt = open_runtime(tmp_path, clock)
    incomplete = agent_escalation("offsite", clock.now()).replace(b"Cause: the clinic's firewall", b"Firewall")
    assert deliver(rt, incomplete) == "processed"
    (esc,) = rt.store.list_escalations()
    assert esc.state == "drafted" and outbox(rt, "escalation") == []
    assert "not_sent" in events(rt, esc.id) and pending(rt, esc.id) == {}
    clock.advance(H)
    complete = mail(sender="Devon Price <devon.price@drchrono.com>", body=AGENT_OFFSITE, when=clock.now(),
                    subject="OffSite escalation - Zendesk #48377 - image viewer (complete)")
    assert deliver(rt, complete) == "processed"
    assert rt.store.escalation(esc.id).state == "sent" and len(outbox(rt, "escalation")) == 1
    rt.close()
