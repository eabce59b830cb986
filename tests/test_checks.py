"""Escalation checks against the vendor rule's [[required_fields]] and the flexible field reader."""

from __future__ import annotations

from pathlib import Path

from gateway.checks import describe, missing_fields
from gateway.fields import extract_fields
from gateway.rules import load_rules

RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")
IDME, OFFSITE = RULES["idme"], RULES["offsite"]

COMPLETE_IDME = """\
Agent: Maria Lopez
Agent email: maria.lopez@drchrono.com
Agent phone: +1 415-555-0142
Agent availability: 8 am-4 pm Pacific (PT)
First name: Alan
Last name: Whitfield
Sign-up email: dr.whitfield@lakesidefamilymed.com
Phone: (503) 555-0187
Preferred contact: phone call, 9-11 am Pacific
Issue timestamp: 2026-11-20 14:32 PT
Description: MFA push never arrives.
"""


def test_complete_escalation_has_nothing_missing() -> None:
    assert missing_fields(IDME, extract_fields(COMPLETE_IDME, IDME)) == []


def test_every_missing_field_is_listed_in_rule_order() -> None:
    text = "\n".join(line for line in COMPLETE_IDME.splitlines()
                     if not line.startswith(("Sign-up email", "Issue timestamp", "Agent phone", "Description")))
    assert missing_fields(IDME, extract_fields(text, IDME)) == ["agent_phone", "end_user_email", "description",
                                                                "issue_timestamp"]


def test_empty_value_counts_as_missing() -> None:
    text = COMPLETE_IDME.replace("Phone: (503) 555-0187", "Phone:")
    assert missing_fields(IDME, extract_fields(text, IDME)) == ["end_user_phone"]


def test_labels_are_matched_flexibly() -> None:
    text = """\
* Ticket Sender: Maria Lopez
- Ticket sender email: maria.lopez@drchrono.com
  Ticket Sender Phone: 415-555-0142
Agent time zone: PT, 8-4
End User (Prescriber): Dr. Alan Whitfield
ID.me Email: dr.whitfield@lakesidefamilymed.com
CELL: 503-555-0199
Best time to reach: mornings PT
When: yesterday 2:32 PM PT
Problem:
  The push notification never arrives.
"""
    fields = extract_fields(text, IDME)
    assert missing_fields(IDME, fields) == []
    assert fields.get("end_user_first_name") == "Alan" and fields.get("end_user_last_name") == "Whitfield"
    assert fields.get("description") == "The push notification never arrives."


def test_vendor_rule_decides_what_a_bare_label_means() -> None:
    text = "Phone: 415-555-0177\n"
    assert extract_fields(text, OFFSITE).get("agent_phone") == "415-555-0177"
    assert extract_fields(text, IDME).get("end_user_phone") == "415-555-0177"


def test_description_runs_over_several_lines_until_the_next_label() -> None:
    text = "Description: first line\nsecond line\n\nthird line\nIssue timestamp: 10:00 PT\n"
    fields = extract_fields(text, IDME)
    assert fields.get("description") == "first line\nsecond line\nthird line"
    assert fields.get("issue_timestamp") == "10:00 PT"


def test_alternate_contact_name_is_a_kept_name() -> None:
    fields = extract_fields("Office manager: Jenna Ortiz (office manager), (503) 555-0100\n", IDME)
    assert "Jenna Ortiz" in fields.names()


def test_offsite_requires_priority_and_cause() -> None:
    text = "Agent: Devon Price\nAgent email: devon.price@drchrono.com\nAgent phone: 415-555-0177\n" \
           "Description: viewer down\n"
    assert missing_fields(OFFSITE, extract_fields(text, OFFSITE)) == ["priority", "cause"]


def test_missing_field_description_names_a_label_to_use() -> None:
    line = describe(IDME, "end_user_email")
    assert "sign up" in line.lower() and '"Sign-Up Email: ..."' in line
