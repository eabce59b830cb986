"""The two stories of the lifecycle issue, written once against a harness so that they run both in process
(tests/test_stories.py) and against real IMAP and SMTP servers (tests/integration/test_stories_real_servers.py),
always with an injected clock.

ID.me (seed 000): escalation, acknowledgement, three contact attempts, closure at 72 h, reopen by reply, a new
acknowledgement with a new ticket number, updates every 24 h, resolution.
OffSite (seed 004): High priority, a missed 4-business-hour update across a weekend and a holiday, reminders
before the 48-hour no-response closure, closure for no response, reopen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from lifecycle_kit import deliver, events, open_runtime, outbox, pending
from story_mail import agent_command, agent_escalation, idme, offsite

from gateway.clock import ManualClock
from gateway.lifecycle.clocks import desk
from gateway.lifecycle.reopen import ReopenResult, reopen_ticket
from gateway.pipeline import run_due
from gateway.runtime import Runtime

H = timedelta(hours=1)
AUTO_HEADERS = ("Auto-Submitted", "Precedence", "X-Loop")
IDME_START = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)     # Monday 9 am Pacific
OFFSITE_START = datetime(2027, 1, 15, 19, 0, tzinfo=UTC)   # Friday 1 pm Central, 11 am Pacific


class Harness(Protocol):
    rt: Runtime
    clock: ManualClock

    def deliver(self, raw: bytes) -> str: ...
    def run_due(self) -> int: ...
    def reopen(self, ticket: str, *, note: str, actor: str) -> list[ReopenResult]: ...


class InProcess:
    """Mail handed straight to the store; nothing leaves the outbox."""

    def __init__(self, state: Path, start: datetime) -> None:
        self.clock = ManualClock(start)
        self.rt = open_runtime(state, self.clock)

    def deliver(self, raw: bytes) -> str:
        return deliver(self.rt, raw)

    def run_due(self) -> int:
        return run_due(self.rt)

    def reopen(self, ticket: str, *, note: str, actor: str) -> list[ReopenResult]:
        return reopen_ticket(self.rt, ticket, note=note, actor=actor)


def idme_story(h: Harness) -> None:
    t0, clock, rt = h.clock.now(), h.clock, h.rt
    # 1. The agent's escalation goes out in ID.me's format; the gateway waits for the acknowledgement.
    outcome = h.deliver(agent_escalation("idme", t0))
    assert outcome == "processed", outcome
    (esc,) = rt.store.list_escalations()
    assert esc.state == "sent" and esc.vendor == "idme"
    (sent,) = outbox(rt, "escalation")
    assert sent.to == ["drchrono.support@id.me"]
    assert str(sent.msg["Subject"]) == "DrChrono; 48213; dr.whitfield@lakesidefamilymed.com"
    assert list(pending(rt, esc.id)) == ["ack_due"]
    subject, root = str(sent.msg["Subject"]), sent.message_id

    # 2. Acknowledgement with ID.me's ticket number: contact attempts at +24 h and +48 h, closure at +72 h.
    clock.advance(timedelta(minutes=10))
    ack = idme("Your request (#7781234) has been received.\nID.me Support Ticket Number: 7781234\n", subject=subject,
               when=clock.now(), reply_to=root, refs=[root], mid="<zd-7781234-ack@id.me>")
    assert h.deliver(ack) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "acknowledged" and esc.vendor_ticket == "7781234"
    plan = pending(rt, esc.id)
    assert sorted(plan) == ["contact_attempt", "unreachable_close"]
    assert plan["unreachable_close"] == [(clock.now() + 72 * H).isoformat(timespec="seconds")]
    assert "update_due" not in plan  # ID.me owes updates only once it reached the end user

    # 3. The second and third attempts pass on the timeline (no mail to anyone).
    for _ in range(2):
        clock.advance(24 * H)
        h.run_due()
    assert events(rt, esc.id).count("contact_attempt") == 2
    assert outbox(rt, "nudge") == []

    # 4. Closure at +72 h: unreachable. The agent is told how to reopen.
    clock.set(t0 + timedelta(minutes=10) + 72 * H)
    closing_subject = f"[ID.me] Re: {subject}"
    close = idme("We were unable to make contact with the end user after three attempts. This ticket is now "
                 "closed. Please reply to this email thread which will reopen the ticket, should the end user "
                 "still need assistance.\nRequest #7781234\n", subject=subject, when=clock.now(),
                 reply_to="<zd-7781234-ack@id.me>", refs=[root, "<zd-7781234-ack@id.me>"],
                 mid="<zd-7781234-closed@id.me>")
    assert h.deliver(close) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "closed_unreachable"
    assert pending(rt, esc.id) == {}
    notice = outbox(rt, "vendor_closed")
    assert len(notice) == 1 and notice[0].to == ["maria.lopez@drchrono.com"] and "#reopen" in notice[0].body

    # 5. The agent answers the notice: #reopen with a note and the end user's better phone number.
    clock.advance(2 * H)
    cmd = agent_command("Maria Lopez <maria.lopez@drchrono.com>", "48213",
                        "#reopen\n#note Dr. Whitfield is reachable after 2 pm Pacific on his office line.\n"
                        "Phone: (503) 555-0111\n", clock.now(), reply_to=notice[0].message_id)
    assert h.deliver(cmd) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "reopened" and esc.reopen_count == 1
    (reply,) = outbox(rt, "reopen")
    assert reply.to == ["drchrono.support@id.me"]
    assert str(reply.msg["In-Reply-To"]) == "<zd-7781234-closed@id.me>"
    assert "<zd-7781234-closed@id.me>" in str(reply.msg["References"]) and root in str(reply.msg["References"])
    assert str(reply.msg["Subject"]) == f"Re: {closing_subject}"
    assert all(reply.msg[h] is None for h in AUTO_HEADERS)  # it must look like a person's reply
    assert "(503) 555-0111" in reply.body and "after 2 pm Pacific" in reply.body
    (answer,) = outbox(rt, "command_reply")
    assert "Reopen reply sent" in answer.body and "State: reopened" in answer.body
    assert list(pending(rt, esc.id)) == ["ack_due"]

    # 6. ID.me reopens under a new ticket number: re-linked, the new number is current.
    clock.advance(1 * H)
    reack = idme("Your request (#7790001) has been received.\n", subject=subject, when=clock.now(),
                 reply_to=reply.message_id, refs=[root, reply.message_id], mid="<zd-7790001-ack@id.me>")
    assert h.deliver(reack) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "acknowledged" and esc.vendor_ticket == "7790001"
    assert rt.store.vendor_tickets(esc.id) == ["7781234", "7790001"]
    assert "relinked" in events(rt, esc.id)

    # 7. Contact made; progress updates every 24 h are on time: no nudge, the cadence restarts each time.
    for n in range(3):
        clock.advance(20 * H)
        h.run_due()
        upd = idme(f"Progress update: we are still working with Dr. Whitfield on his MFA device ({n}).\n"
                   "Request #7790001\n", subject=subject, when=clock.now(), reply_to="<zd-7790001-ack@id.me>",
                   refs=[root], mid=f"<zd-7790001-p{n}@id.me>")
        assert h.deliver(upd) == "processed"
        esc = rt.store.escalation(esc.id)
        assert esc.state == "in_progress"
        assert pending(rt, esc.id)["update_due"] == [(clock.now() + 24 * H).isoformat(timespec="seconds")]
    assert outbox(rt, "nudge") == [] and esc.miss_count == 0

    # 8. Resolution: nothing left to wait for.
    clock.advance(5 * H)
    done = idme("This issue has been resolved and the ticket has been closed.\nRequest #7790001\n", subject=subject,
                when=clock.now(), reply_to="<zd-7790001-p2@id.me>", refs=[root], mid="<zd-7790001-solved@id.me>")
    assert h.deliver(done) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "resolved" and pending(rt, esc.id) == {}
    kinds = [e.kind for e in rt.store.events(esc.id) if e.to_state != e.from_state]
    assert kinds == ["sent", "ack", "closed_unreachable", "reopened", "ack", "progress", "resolved"]
    notes = [j["kind"] for j in rt.store.zendesk_jobs_for(esc.id)]
    assert len(notes) >= 7

    # Handling any of it again changes nothing.
    before = (len(rt.store.events(esc.id)), len(rt.store.outbox_items()))
    assert h.deliver(done) in ("duplicate", "skipped")
    clock.advance(100 * H)
    assert h.run_due() == 0
    assert (len(rt.store.events(esc.id)), len(rt.store.outbox_items())) == before


def offsite_story(h: Harness) -> None:
    t0, clock, rt = h.clock.now(), h.clock, h.rt
    assert h.deliver(agent_escalation("offsite", t0)) == "processed"
    (esc,) = rt.store.list_escalations()
    assert esc.state == "sent" and esc.priority == "high"
    (sent,) = outbox(rt, "escalation")
    subject, root = str(sent.msg["Subject"]), sent.message_id
    assert outbox(rt, "after_hours_warning") == []  # sent in OffSite's business hours

    # Acknowledged Friday 2 pm Central, High: an update every 4 business hours. Friday 14-17 (3 h), the weekend,
    # Monday 18 January (Martin Luther King Jr. Day), then Tuesday 8-9: due Tuesday 9 am Central.
    clock.set(datetime(2027, 1, 15, 20, 0, tzinfo=UTC))
    ack = offsite("Ticket #20417 has been created and assigned to Jamison White (priority: High).\n",
                  subject=f"Ticket #20417 created: {subject}", when=clock.now(), reply_to=root, refs=[root],
                  mid="<osd-20417-1@offsite.inc.co>")
    assert h.deliver(ack) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "acknowledged" and esc.vendor_ticket == "20417"
    plan = pending(rt, esc.id)
    assert plan["update_due"] == ["2027-01-19T15:00:00+00:00"]
    assert plan["resolve_due"] == ["2027-01-21T17:00:00+00:00"]  # 24 business hours: Thursday 11 am Central

    clock.set(datetime(2027, 1, 18, 22, 0, tzinfo=UTC))  # the holiday afternoon: nothing is due yet
    assert h.run_due() == 0
    clock.set(datetime(2027, 1, 19, 15, 0, tzinfo=UTC))
    assert h.run_due() == 1
    (nudge,) = outbox(rt, "nudge")
    assert nudge.to == ["support@offsite.inc.co"] and str(nudge.msg["Auto-Submitted"]) == "auto-generated"
    assert str(nudge.msg["In-Reply-To"]) == "<osd-20417-1@offsite.inc.co>" and "#20417" in str(nudge.msg["Subject"])
    assert len(outbox(rt, "missed_deadline")) == 1  # the agent's note (Tuesday 7 am Pacific: desk open)
    esc = rt.store.escalation(esc.id)
    assert esc.miss_count == 1 and "missed_update" in events(rt, esc.id)
    assert pending(rt, esc.id)["update_due"] == ["2027-01-19T19:00:00+00:00"]  # next: +4 business hours
    assert outbox(rt, "contact_escalation") == []  # one miss: not yet (escalate_after_misses = 2)
    assert h.run_due() == 0  # the same deadline never fires twice

    # OffSite needs information (Tuesday 10 am Central): reminders at 24 h and 40 h, in desk hours.
    clock.set(datetime(2027, 1, 19, 16, 0, tzinfo=UTC))
    need = offsite("We need additional information: please provide the public IP range of the clinic firewall.\n",
                   subject=f"Re: Ticket #20417: {subject}", when=clock.now(), reply_to="<osd-20417-1@offsite.inc.co>",
                   refs=[root, "<osd-20417-1@offsite.inc.co>"], mid="<osd-20417-2@offsite.inc.co>")
    assert h.deliver(need) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "awaiting_agent"
    plan = pending(rt, esc.id)
    assert "update_due" not in plan
    assert plan["no_response_close"] == ["2027-01-21T16:00:00+00:00"]
    # +24 h is Wednesday 8 am Pacific; +40 h is Thursday midnight Pacific, moved to the desk's 5 am opening.
    assert plan["agent_reminder"] == ["2027-01-20T16:00:00+00:00", "2027-01-21T13:00:00+00:00"]
    for due in plan["agent_reminder"]:
        clock.set(datetime.fromisoformat(due))
        assert desk(rt).is_open(clock.now())
        h.run_due()
    reminders = outbox(rt, "agent_reminder")
    assert len(reminders) == 2 and all(r.to == ["devon.price@drchrono.com"] for r in reminders)

    # Closed for no response (Thursday 11 am Central).
    clock.set(datetime(2027, 1, 21, 17, 0, tzinfo=UTC))
    closed = offsite("Ticket #20417 has been marked as closed due to no response within 48 hours.\n",
                     subject=f"Re: Ticket #20417: {subject}", when=clock.now(),
                     reply_to="<osd-20417-2@offsite.inc.co>", refs=[root, "<osd-20417-2@offsite.inc.co>"],
                     mid="<osd-20417-3@offsite.inc.co>")
    assert h.deliver(closed) == "processed"
    esc = rt.store.escalation(esc.id)
    assert esc.state == "closed_no_response" and pending(rt, esc.id) == {}

    # The agent reopens (`mailgate reopen 48377 --note ...` calls this).
    clock.advance(1 * H)
    results = h.reopen( "48377", note="The clinic IT opened port 8443 outbound; please check again.",
                            actor="cli:test")
    assert [r.status for r in results] == ["sent"]
    (reply,) = outbox(rt, "reopen")
    assert reply.to == ["support@offsite.inc.co"]
    assert str(reply.msg["In-Reply-To"]) == "<osd-20417-3@offsite.inc.co>"
    assert str(reply.msg["Subject"]) == f"Re: Ticket #20417: {subject}"
    assert all(reply.msg[h] is None for h in AUTO_HEADERS)
    assert "opened port 8443 outbound" in reply.body
    esc = rt.store.escalation(esc.id)
    assert esc.state == "reopened" and esc.reopen_count == 1

    # OffSite acknowledges the reopened ticket; the cap (max_reopens = 1) is reported on the next attempt.
    clock.advance(1 * H)
    reack = offsite("Ticket #20417 has been assigned to Jamison White (priority: High).\n",
                    subject=f"Re: Ticket #20417: {subject}", when=clock.now(), reply_to=reply.message_id,
                    refs=[root, reply.message_id], mid="<osd-20417-4@offsite.inc.co>")
    assert h.deliver(reack) == "processed"
    assert rt.store.escalation(esc.id).state == "acknowledged"
    clock.advance(2 * H)
    close2 = offsite("Ticket #20417 has been marked as closed due to no response.\n",
                     subject=f"Re: Ticket #20417: {subject}", when=clock.now(),
                     reply_to="<osd-20417-4@offsite.inc.co>", refs=[root], mid="<osd-20417-5@offsite.inc.co>")
    assert h.deliver(close2) == "processed"
    assert [r.status for r in h.reopen("48377", note="", actor="cli:test")] == ["capped"]
    assert len(outbox(rt, "reopen")) == 1 and "reopen_capped" in events(rt, esc.id)
