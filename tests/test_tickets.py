"""The helpdesk ticket-number catalogue (rules/_ticket_formats.toml)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.rules import RuleError
from gateway.tickets import TicketNumber, catalogue, find_ticket_numbers, load_catalogue


@pytest.mark.parametrize("fmt", catalogue(), ids=lambda f: f"{f.system}:{f.example_number}")
def test_every_catalogue_example_is_found(fmt) -> None:  # type: ignore[no-untyped-def]
    assert fmt.example, f"{fmt.system} has no example"
    assert TicketNumber(fmt.system, fmt.example_number) in find_ticket_numbers(fmt.example)


def test_catalogue_covers_the_helpdesks_the_issue_names() -> None:
    systems = {f.system for f in catalogue()}
    for wanted in ("zendesk", "freshdesk_osticket", "freshservice", "servicenow", "jira", "salesforce", "otrs",
                   "zammad", "rt", "manageengine", "zoho_desk", "kayako", "microsoft"):
        assert wanted in systems


@pytest.mark.parametrize("text, expected", [
    ("RE: [rt.example.com #1234] printer", [("rt", "1234")]),
    ("[Ticket#2024010110000012] Re: scanner", [("otrs", "2024010110000012")]),
    ("Re: [Ticket#31001] login", [("zammad", "31001")]),
    ("RITM0012345 and REQ0001234 were opened", [("servicenow", "RITM0012345"), ("servicenow", "REQ0001234")]),
    ("Re: [#SR-77] new laptop", [("freshservice", "SR-77")]),
    ("Re: [#4412] password", [("freshdesk_osticket", "4412")]),
    ("Re: [## 88 ##] invoice", [("zoho_desk", "88")]),
    ("[Request ID :##4711##] : VPN", [("manageengine", "4711")]),
    ("see https://jira.example.com/browse/OPS-17 for details", [("jira", "OPS-17")]),
    ("TrackingID#2401010010001234", [("microsoft", "2401010010001234")]),
    ("thread::a1B2c3D4e5F6g7H8::", [("salesforce", "thread::a1B2c3D4e5F6g7H8::")]),
])
def test_formats_found_in_context(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(t.system, t.number) for t in find_ticket_numbers(text)] == expected


@pytest.mark.parametrize("text", [
    "Content-Type: text/plain; charset=UTF-8 and ISO-8859-1",
    "error IDME-403 and OSV-5102 in the viewer",           # error codes are not Jira keys without context
    "[DrChrono #48377] Support escalation",               # our own tag is not a foreign ticket
    "SHA-256 digest, RFC-822 message, call 555-0142",
    "##- Please type your reply above this line -##",
])
def test_lookalikes_are_not_ticket_numbers(text: str) -> None:
    assert find_ticket_numbers(text) == []


def test_one_number_is_reported_once_and_in_order_of_appearance() -> None:
    found = find_ticket_numbers("Ticket #20417 created\nRe: Ticket #20417\n[rt.example #9] and INC0000042")
    assert found == [TicketNumber("generic", "20417"), TicketNumber("rt", "9"),
                     TicketNumber("servicenow", "INC0000042")]


def test_invalid_catalogue_entry_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "_ticket_formats.toml"
    bad.write_text("[[format]]\nsystem = 'x'\npattern = '(unclosed'\n")
    with pytest.raises(RuleError, match=r"format\[0\]\.pattern"):
        load_catalogue(bad)
    bad.write_text("[[format]]\nsystem = 'x'\npattern = '\\d+'\n")
    with pytest.raises(RuleError, match="number"):
        load_catalogue(bad)


@given(st.text(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_any_text_is_scanned_without_raising(text: str) -> None:
    found = find_ticket_numbers(text)
    assert all(t.number and t.number in text for t in found)


_PIECES = [f.example for f in catalogue()] + ["INC0012345", "xINC0012345", "ABC-123-45678", "_KXR-882-31544", "-",
                                              "Case 01234567", "ticket", " ", "\n", "[", "#"]


@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=12), max_size=12).map("".join))
@settings(max_examples=300, deadline=None)
def test_prefilters_never_hide_a_number_the_full_patterns_find(text: str) -> None:
    unfiltered = tuple(dataclasses.replace(f, prefilter=None) for f in catalogue())
    assert find_ticket_numbers(text) == find_ticket_numbers(text, unfiltered)


def test_a_prefilter_that_is_not_a_regular_expression_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "_ticket_formats.toml"
    bad.write_text("[[format]]\nsystem = 'x'\npattern = '(?P<number>\\d+)'\nprefilter = '(unclosed'\n")
    with pytest.raises(RuleError, match=r"format\[0\]\.prefilter"):
        load_catalogue(bad)
