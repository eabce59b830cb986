"""Which custom fields and tags the gateway keeps current on a Zendesk ticket, from an escalation's facts.

Fields are configured by name -> Zendesk field id in [zendesk] fields; the names below are the ones the
gateway knows how to fill. Values are plain strings (a state is e.g. "closed_unreachable"), which suits both
text fields and drop-down fields whose option tags use the same words.

Tags: the configured tags (default "mailgate"), "vendor_<vendor>" and "vendor_state_<state>". Older state tags
are removed in the same update (remove_tags), so exactly one vendor_state_* tag stays on the ticket.
"""

from __future__ import annotations

import re
from typing import Any

FIELD_NAMES = ("vendor", "vendor_ticket", "vendor_state", "priority")

# Every state the lifecycle knows (issue 6); a state not listed here still gets its tag, and the previous
# state's tag is removed too (the worker passes it), so an unlisted state never leaves a stale tag behind.
KNOWN_STATES = (
    "drafted", "sent", "acknowledged", "awaiting_agent", "awaiting_vendor", "in_progress", "resolved",
    "not_vendor_issue", "closed_unreachable", "closed_no_response", "reopened", "escalated", "bounced",
)

_TAG_UNSAFE = re.compile(r"[^a-z0-9_\-]+")


def tag(text: str) -> str:
    """Zendesk tags are lower case without spaces; keep letters, digits, '_' and '-'."""
    return _TAG_UNSAFE.sub("_", text.strip().lower()).strip("_")


def state_tag(state: str) -> str:
    return f"vendor_state_{tag(state)}"


def ticket_tags(configured: list[str], vendor: str, state: str,
                previous_states: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """(tags to add, tags to remove) for a vendor in a state."""
    add = [tag(t) for t in configured if tag(t)] + [f"vendor_{tag(vendor)}", state_tag(state)]
    current = state_tag(state)
    remove = sorted({state_tag(s) for s in (*KNOWN_STATES, *previous_states) if s} - {current})
    return list(dict.fromkeys(add)), remove


def custom_fields(field_ids: dict[str, int], facts: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"id": <field id>, "value": "<text>"}] for each configured field with a known value."""
    out = []
    for name, field_id in field_ids.items():
        value = facts.get(name)
        if value not in (None, ""):
            out.append({"id": int(field_id), "value": str(value)})
    return out
