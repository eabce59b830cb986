"""Planning durable deadlines from a state change.

Every deadline's key is `e<escalation>:<kind>:<anchor cause>:<n>`: planning again from the same cause (a
restart, a message handled twice) hits the UNIQUE key and changes nothing; a later cause supersedes the
pending deadlines it replaces by cancelling them first. Kinds:

  ack_due            the vendor should acknowledge (missable)
  update_due         the vendor owes a progress update (missable, re-planned after each miss)
  resolve_due        target resolution (missable, once)
  contact_attempt    ID.me's next attempt to reach the end user (timeline only)
  unreachable_close  ID.me closes an unreachable ticket now (the agent is told before it happens)
  agent_reminder     the vendor waits for our answer: remind the agent (desk hours)
  no_response_close  the vendor may close for no response now
  after_hours_response  the on-call alert should have been answered (missable)
  agent_notice       an agent-facing mail held until the desk opens
"""

from __future__ import annotations

from datetime import datetime

from gateway.clock import iso
from gateway.lifecycle.calendar import Calendar
from gateway.lifecycle.policy import VendorPolicy, desk_calendar, load_policy
from gateway.lifecycle.states import FINISHED, VENDOR_CLOSED
from gateway.runtime import Runtime
from gateway.store import Escalation

MISSABLE = ("ack_due", "update_due", "resolve_due", "after_hours_response")
WAITING_FOR_AGENT = ("agent_reminder", "no_response_close")
CONTACT = ("contact_attempt", "unreachable_close")


def policy_for(rt: Runtime, vendor: str) -> VendorPolicy:
    return load_policy(rt.rules[vendor], rt.config)


def desk(rt: Runtime) -> Calendar:
    return desk_calendar(rt.config.desk_hours)


def _key(esc: Escalation, kind: str, anchor: str, n: int = 0) -> str:
    return f"e{esc.id}:{kind}:{anchor}:{n}"


def plan(rt: Runtime, esc: Escalation, kind: str, anchor: str, due: datetime, n: int = 0,
         **detail: object) -> bool:
    return rt.store.plan_deadline(escalation_id=esc.id, kind=kind, key=_key(esc, kind, anchor, n), due_at=iso(due),
                                  detail={"anchor": anchor, "n": n, **detail})


def plan_update(rt: Runtime, esc: Escalation, pol: VendorPolicy, anchor: str, since: datetime, n: int = 1) -> None:
    cadence = pol.cadence(esc.priority)
    if cadence.every_hours:
        due = pol.calendar.add_hours(since, cadence.every_hours, business=cadence.business)
        plan(rt, esc, "update_due", anchor, due, n, priority=esc.priority, every_hours=cadence.every_hours,
             business=cadence.business)


def plan_resolution(rt: Runtime, esc: Escalation, pol: VendorPolicy, anchor: str, acknowledged: datetime) -> None:
    cadence = pol.cadence(esc.priority)
    if cadence.resolve_hours:
        due = pol.calendar.add_hours(acknowledged, cadence.resolve_hours, business=cadence.resolve_business)
        plan(rt, esc, "resolve_due", anchor, due, priority=esc.priority, hours=cadence.resolve_hours)


def reminder_time(rt: Runtime, wanted: datetime, limit: datetime | None, not_before: datetime) -> datetime | None:
    """When an agent-facing reminder wanted at `wanted` goes out: in desk hours, and before `limit` (the
    closure it warns about). Outside desk hours it moves to the next opening, or back to the last open minute
    when the next opening would come too late."""
    cal = desk(rt)
    at = cal.next_open(wanted)
    if limit is None or at < limit:
        return at
    earlier = cal.last_open_before(limit)
    return earlier if earlier is not None and earlier > not_before else None


def replan(rt: Runtime, esc: Escalation, event: str, anchor: str, at: datetime) -> None:
    """Cancel what `event` supersedes and plan what the new state expects. `esc` is the updated row."""
    store, pol = rt.store, policy_for(rt, esc.vendor)
    if esc.state in FINISHED or esc.state in VENDOR_CLOSED:
        store.cancel_deadlines(esc.id)
        return
    if event == "vendor_message":
        # Vendor mail we cannot classify is still word from the vendor: it restarts a running update cadence,
        # and changes nothing else (an unrecognised note must not pass for an acknowledgement).
        if any(d.kind == "update_due" for d in store.deadlines_for(esc.id, "pending")):
            store.cancel_deadlines(esc.id, ["update_due"])
            plan_update(rt, esc, pol, anchor, at)
        return
    if esc.state in ("sent", "reopened"):
        store.cancel_deadlines(esc.id, list(MISSABLE[:3]) + list(WAITING_FOR_AGENT) + list(CONTACT))
        if pol.ack_hours is not None:
            plan(rt, esc, "ack_due", anchor, pol.calendar.add_hours(at, pol.ack_hours, business=pol.ack_business))
        return
    if esc.state == "awaiting_agent":
        store.cancel_deadlines(esc.id, ["ack_due", "update_due"] + list(WAITING_FOR_AGENT))
        _plan_agent_wait(rt, esc, pol, anchor, at)
        return
    if event == "ack":
        store.cancel_deadlines(esc.id, ["ack_due", "update_due", "resolve_due"] + list(CONTACT))
        for hours in pol.contact_attempt_hours:
            plan(rt, esc, "contact_attempt", anchor, pol.calendar.add_hours(at, hours, business=False),
                 int(hours), hours=hours)
        if pol.unreachable_close_hours is not None:
            plan(rt, esc, "unreachable_close", anchor,
                 pol.calendar.add_hours(at, pol.unreachable_close_hours, business=False))
        if pol.updates_start_on == "ack":
            plan_update(rt, esc, pol, anchor, at)
        plan_resolution(rt, esc, pol, anchor, at)
        return
    # in_progress (a progress update, any other vendor mail, or our answer to the vendor): the cadence
    # restarts from now; contact attempts are over (the vendor reached the end user or is working on it).
    store.cancel_deadlines(esc.id, ["ack_due", "update_due"] + list(WAITING_FOR_AGENT) + list(CONTACT))
    plan_update(rt, esc, pol, anchor, at)


def _plan_agent_wait(rt: Runtime, esc: Escalation, pol: VendorPolicy, anchor: str, at: datetime) -> None:
    close_at = None
    if pol.no_response_close_hours is not None:
        close_at = pol.calendar.add_hours(at, pol.no_response_close_hours, business=False)
        plan(rt, esc, "no_response_close", anchor, close_at, hours=pol.no_response_close_hours)
    planned: set[datetime] = set()
    for hours in pol.agent_reminder_hours:
        wanted = pol.calendar.add_hours(at, hours, business=False)
        when = reminder_time(rt, wanted, close_at, at)
        if when is not None and when not in planned:  # two reminders moved to the same opening: send one
            planned.add(when)
            plan(rt, esc, "agent_reminder", anchor, when, int(hours), hours=hours,
                 closes_at=iso(close_at) if close_at else None)


def replan_priority(rt: Runtime, esc: Escalation, anchor: str, at: datetime) -> None:
    """A new priority changes the update cadence (from now) and the target resolution (from the ack)."""
    pol = policy_for(rt, esc.vendor)
    if esc.state in FINISHED or esc.state in VENDOR_CLOSED or esc.state == "awaiting_agent":
        return
    rt.store.cancel_deadlines(esc.id, ["update_due", "resolve_due"])
    if esc.state in ("acknowledged", "in_progress") and (pol.updates_start_on == "ack" or esc.state == "in_progress"):
        plan_update(rt, esc, pol, anchor, at)
    if esc.acknowledged_at:
        plan_resolution(rt, esc, pol, anchor, datetime.fromisoformat(esc.acknowledged_at))
