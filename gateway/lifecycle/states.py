"""The escalation state machine as a table: which event moves which state where.

Vendor events come from the classifier (ack, need_info, progress, resolved, closed_unreachable,
closed_no_response, not_vendor_issue); the gateway's own are `sent`, `agent_replied` (the agent answered the
vendor), `reopened` (our reply on the vendor's thread) and `resolved_by_agent` (an agent's #resolved).
An event that the table does not allow from the current state is still recorded on the timeline, but
changes nothing (a late duplicate acknowledgement must not pull an in-progress ticket back).
"""

from __future__ import annotations

STATES = ("drafted", "sent", "acknowledged", "awaiting_agent", "in_progress", "resolved", "not_vendor_issue",
          "closed_unreachable", "closed_no_response", "reopened")

# Terminal: nothing more is expected from the vendor and no clock runs.
FINISHED = frozenset({"resolved", "not_vendor_issue"})
# Closed by the vendor while the end user may still need help: reopen-by-reply applies.
VENDOR_CLOSED = frozenset({"closed_unreachable", "closed_no_response"})
# Waiting for the vendor (its clocks run).
WITH_VENDOR = frozenset({"sent", "acknowledged", "in_progress", "reopened"})
OPEN = frozenset(STATES) - FINISHED

_LIVE = WITH_VENDOR | {"awaiting_agent"}

# event -> (states it may come from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "sent": (frozenset({"drafted"}), "sent"),
    "ack": (frozenset({"sent", "reopened"}) | VENDOR_CLOSED, "acknowledged"),
    "need_info": (_LIVE | VENDOR_CLOSED, "awaiting_agent"),
    "progress": (_LIVE | VENDOR_CLOSED, "in_progress"),
    "agent_replied": (frozenset({"awaiting_agent"}), "in_progress"),
    "resolved": (OPEN - {"drafted"}, "resolved"),
    "resolved_by_agent": (OPEN, "resolved"),
    "not_vendor_issue": (OPEN - {"drafted"}, "not_vendor_issue"),
    "closed_unreachable": (_LIVE, "closed_unreachable"),
    "closed_no_response": (_LIVE, "closed_no_response"),
    "reopened": (VENDOR_CLOSED, "reopened"),
}

VENDOR_EVENTS = ("ack", "need_info", "progress", "resolved", "closed_unreachable", "closed_no_response",
                 "not_vendor_issue")


def next_state(state: str, event: str) -> str | None:
    """The state `event` leads to from `state`, or None when the table does not allow it."""
    rule = TRANSITIONS.get(event)
    if rule is None or state not in rule[0]:
        return None
    return rule[1]


def describe(state: str) -> str:
    """What the state means for an agent reading `mailgate status` or a command answer."""
    return {
        "drafted": "escalation being prepared (not sent)",
        "sent": "sent to the vendor, waiting for its acknowledgement",
        "acknowledged": "vendor acknowledged, working on it",
        "awaiting_agent": "the vendor is waiting for OUR answer",
        "in_progress": "vendor working on it, updates expected",
        "resolved": "resolved",
        "not_vendor_issue": "vendor says it is not their issue",
        "closed_unreachable": "vendor closed it: end user unreachable (reply #reopen if they still need help)",
        "closed_no_response": "vendor closed it for no response (reply #reopen if help is still needed)",
        "reopened": "reopen reply sent, waiting for the vendor",
    }.get(state, state)
