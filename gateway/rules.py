"""Vendor rules as data: rules/<vendor>.toml loaded into VendorRule objects.

A rule file holds the vendor's addresses and domains, its subject format, ticket-number patterns, event
phrases, the fields an escalation must carry, its clock policy ([clocks]) and examples that a test runs.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class RuleError(Exception):
    """A rule file is invalid; the message names the file and the key."""


@dataclass
class RequiredField:
    name: str                 # e.g. "end_user_email"
    labels: list[str]         # labels an agent may use for it, matched case-insensitively
    description: str = ""


@dataclass
class VendorRule:
    name: str
    display_name: str
    intake_address: str
    domains: list[str]
    senders: list[str] = field(default_factory=list)
    subject_format: str | None = None          # e.g. "DrChrono; {zendesk_ticket}; {end_user_email}"
    subject_pattern: re.Pattern[str] | None = None
    ticket_patterns: list[re.Pattern[str]] = field(default_factory=list)
    event_phrases: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    required_fields: list[RequiredField] = field(default_factory=list)
    allow_attachments: bool = False
    clocks: dict[str, Any] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def owns_address(self, address: str | None) -> bool:
        if not address or "@" not in address:
            return False
        address = address.lower()
        if address in self.senders or address == self.intake_address:
            return True
        domain = address.rsplit("@", 1)[1]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def owns_domain(self, domain: str | None) -> bool:
        return bool(domain) and self.owns_address(f"x@{domain}")


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise RuleError(f"{where}: invalid regular expression: {exc}") from None


def load_rule(path: Path) -> VendorRule:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from None
    v = data.get("vendor")
    if not isinstance(v, dict):
        raise RuleError(f"{path}: [vendor]: required table missing")
    for key in ("name", "intake_address", "domains"):
        if key not in v:
            raise RuleError(f"{path}: vendor.{key}: required")
    subject = data.get("subject", {})
    tickets = data.get("tickets", {})
    events = data.get("events", {})
    rule = VendorRule(
        name=v["name"],
        display_name=v.get("display_name", v["name"]),
        intake_address=v["intake_address"].lower(),
        domains=[d.lower() for d in v["domains"]],
        senders=[s.lower() for s in v.get("senders", [])],
        subject_format=subject.get("format"),
        subject_pattern=_compile(subject["pattern"], f"{path}: subject.pattern") if "pattern" in subject else None,
        ticket_patterns=[_compile(p, f"{path}: tickets.patterns") for p in tickets.get("patterns", [])],
        event_phrases={
            ev: [_compile(p, f"{path}: events.{ev}") for p in spec.get("phrases", [])]
            for ev, spec in events.items()
        },
        required_fields=[
            RequiredField(f["name"], list(f.get("labels", [])), f.get("description", ""))
            for f in data.get("required_fields", [])
        ],
        allow_attachments=bool(v.get("allow_attachments", False)),
        clocks=data.get("clocks", {}),
        examples=list(data.get("examples", [])),
        source=str(path),
        raw=data,
    )
    return rule


def load_rules(directory: Path) -> dict[str, VendorRule]:
    """Every rules/<vendor>.toml (files starting with '_' are catalogues, not vendors)."""
    rules: dict[str, VendorRule] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        if path.name.startswith("_"):
            continue
        rule = load_rule(path)
        if rule.name in rules:
            raise RuleError(f"{path}: vendor.name {rule.name!r} is already defined in {rules[rule.name].source}")
        rules[rule.name] = rule
    return rules
