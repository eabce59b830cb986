"""Note texts, tags and fields: what an agent reads on the Zendesk ticket for each escalation event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.zendesk.client import parse_retry_after
from gateway.zendesk.fields import custom_fields, ticket_tags
from gateway.zendesk.notes import EVENTS, marker_for, render_note

LIFECYCLE_EVENTS = ["sent", "ack", "need_info", "progress", "resolved", "not_vendor_issue", "closed_unreachable",
                    "closed_no_response", "reopened", "missed_update", "escalated", "bounced", "priority_changed",
                    "relinked", "reopen_capped", "contact_attempt", "unreachable_close", "no_response_close",
                    "reminder"]


def note(kind: str, **detail: object) -> str:
    return render_note(kind=kind, vendor="OffSite Image Management", vendor_ticket="CS-0042", state="in_progress",
                       detail=dict(detail), marker=marker_for(f"note:1:{kind}:msg:1"))


@pytest.mark.parametrize("kind", LIFECYCLE_EVENTS)
def test_every_event_says_vendor_ticket_state_what_happened_and_next(kind: str) -> None:
    lines = note(kind).splitlines()
    assert "Vendor: OffSite Image Management" in lines
    assert "Vendor ticket: #CS-0042" in lines
    assert "Vendor state: in progress" in lines
    assert any(line.startswith("What happened: ") for line in lines)
    assert any(line.startswith("What's next: ") for line in lines)
    assert lines[-1] == marker_for(f"note:1:{kind}:msg:1")


def test_each_event_has_its_own_headline() -> None:
    headlines = {note(kind).splitlines()[0] for kind in LIFECYCLE_EVENTS}
    assert len(headlines) == len(LIFECYCLE_EVENTS)
    assert set(LIFECYCLE_EVENTS) <= set(EVENTS)


def test_need_info_quotes_the_scrubbed_question_and_the_deadline() -> None:
    text = note("need_info", question="Which DICOM viewer version?\nAnd the browser?",
                due_at="2026-11-25T17:00:00+00:00")
    assert "OffSite Image Management asked:\n  Which DICOM viewer version?\n  And the browser?" in text
    assert "Deadline: 2026-11-25 17:00 UTC" in text


def test_only_known_detail_keys_reach_zendesk() -> None:
    text = note("progress", summary="Working on it.", end_user_email="dr.roe@clinic.example", raw="x" * 10)
    assert "Working on it." in text
    assert "dr.roe@clinic.example" not in text and "xxxxxxxxxx" not in text


def test_long_text_is_clipped_and_next_can_be_overridden() -> None:
    text = note("resolved", summary="a" * 5000, next="Call the vendor at 10 am.", happened="The agent closed it.")
    assert "What happened: The agent closed it." in text
    assert "a" * 1500 + " [...]" in text and "a" * 1501 not in text
    assert "What's next: Call the vendor at 10 am." in text


def test_unknown_event_still_renders_without_template_injection() -> None:
    text = note("agent_{vendor}_ping")
    assert "agent vendor ping" in text and "What's next:" in text


def test_no_vendor_ticket_yet() -> None:
    text = render_note(kind="sent", vendor="ID.me Support", vendor_ticket=None, state="sent", detail={},
                       marker="[mailgate:x]")
    assert "Vendor ticket: not assigned yet" in text


def test_marker_is_stable_and_opaque() -> None:
    assert marker_for("note:1:ack:msg:7") == marker_for("note:1:ack:msg:7")
    assert marker_for("note:1:ack:msg:7") != marker_for("note:1:ack:msg:8")
    assert "msg" not in marker_for("note:1:ack:msg:7")


def test_tags_add_current_state_and_remove_older_ones() -> None:
    add, remove = ticket_tags(["mailgate", "Vendor Escalation"], "idme", "closed_unreachable",
                              previous_states=("some_new_state",))
    assert add == ["mailgate", "vendor_escalation", "vendor_idme", "vendor_state_closed_unreachable"]
    assert "vendor_state_acknowledged" in remove and "vendor_state_some_new_state" in remove
    assert "vendor_state_closed_unreachable" not in remove


def test_custom_fields_skip_unknown_values() -> None:
    fields = custom_fields({"vendor_ticket": 1, "vendor_state": 2, "priority": 3},
                           {"vendor_ticket": None, "vendor_state": "resolved", "priority": "high"})
    assert fields == [{"id": 2, "value": "resolved"}, {"id": 3, "value": "high"}]


def test_retry_after_seconds_or_http_date() -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after("17", now) == 17.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 60.0
    assert parse_retry_after(None, now) == 60.0
    assert parse_retry_after("0", now) == 1.0 and parse_retry_after("999999", now) == 3600.0
