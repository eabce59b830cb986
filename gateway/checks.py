"""Escalation checks (seed 000, step 4: verify the email contains all relevant details before sending):
every field the vendor rule's [[required_fields]] lists must be present and non-empty."""

from __future__ import annotations

from gateway.fields import EscalationFields
from gateway.rules import VendorRule

DESCRIPTIONS = {
    "agent_name": "Ticket sender (DrChrono agent) name",
    "agent_email": "Ticket sender (DrChrono agent) email",
    "agent_phone": "Ticket sender (DrChrono agent) phone number",
    "agent_availability": "Ticket sender time of day to be reached / time zone",
    "end_user_first_name": "End user (prescriber) first name",
    "end_user_last_name": "End user (prescriber) last name",
    "end_user_email": "Email address the end user used to sign up (e.g. for ID.me)",
    "end_user_phone": "End user (prescriber) contact number(s)",
    "preferred_contact": "Preferred contact method of the end user, with time of day / time zone",
    "description": "Description of the problem",
    "issue_timestamp": "Timestamp of the issue (when the end user experienced it)",
    "priority": "Priority (Emergency, High, Medium or Low)",
    "cause": "Possible cause (what changed recently)",
}


def missing_fields(rule: VendorRule, fields: EscalationFields) -> list[str]:
    """Names of every required field that is absent or empty, in the rule's order."""
    return [req.name for req in rule.required_fields if not fields.get(req.name)]


def describe(rule: VendorRule, name: str) -> str:
    """A line an agent understands: what is missing and the label to use for it."""
    req = next((r for r in rule.required_fields if r.name == name), None)
    text = (req.description if req and req.description else "") or DESCRIPTIONS.get(name, name.replace("_", " "))
    if req and req.labels:
        return f'{text} (add a line "{req.labels[0].title()}: ...")'
    return text
