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
    aliases: list[str] = field(default_factory=list)   # names agents use: "ID.me", "IDme", "OffSite"
    # Zendesk-style helpdesks stamp Auto-Submitted on human replies: mail from the vendor's helpdesk addresses
    # (senders + intake) that is auto-submitted but not out-of-office, a bounce or bulk is still classified.
    classify_auto_submitted: bool = False
    helpdesk: str = ""                         # "zendesk": bodies list the newest comment first
    subject_format: str | None = None          # e.g. "DrChrono; {zendesk_ticket}; {end_user_email}"
    subject_tag: str | None = None             # e.g. "[DrChrono #{zendesk_ticket}]" for vendors without a format
    subject_pattern: re.Pattern[str] | None = None
    # Our tag as this vendor's replies carry it back (built from subject_tag or DEFAULT_SUBJECT_TAG).
    tag_pattern: re.Pattern[str] | None = None
    ticket_patterns: list[re.Pattern[str]] = field(default_factory=list)
    ticket_systems: list[str] = field(default_factory=list)   # catalogue systems that are the vendor's own
    event_phrases: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    # A phrase match is ignored when one of these matches the same sentence ("until it is resolved").
    event_unless: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
    # An event counts only when one of these matches somewhere in the text ("closed" for the closures).
    event_requires: dict[str, list[re.Pattern[str]]] = field(default_factory=dict)
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

    def is_helpdesk_address(self, address: str | None) -> bool:
        address = (address or "").lower()
        return bool(address) and (address == self.intake_address or address in self.senders)

    def names(self) -> list[str]:
        """Every name an agent may use for this vendor, normalised by normalise_name()."""
        return sorted({normalise_name(n) for n in [self.name, self.display_name, *self.aliases] if n})


# The tag the gateway puts in subjects for vendors without a mandated format (gateway.compose uses the same).
DEFAULT_SUBJECT_TAG = "[DrChrono #{zendesk_ticket}]"


def tag_regex(tag: str) -> re.Pattern[str]:
    """"[DrChrono #{zendesk_ticket}]" -> a pattern with a zendesk_ticket group, tolerant of spacing and case."""
    before, _, after = tag.partition("{zendesk_ticket}")
    return re.compile(_spaced(before) + r"\s*(?P<zendesk_ticket>[A-Za-z]{0,4}\d+)\s*" + _spaced(after), re.IGNORECASE)


def _spaced(text: str) -> str:
    return r"\s*".join(re.escape(part) for part in text.split())


# The events a vendor rule may define phrases for (escalation_request and other come from the classifier).
VENDOR_EVENTS = ("ack", "need_info", "progress", "resolved", "closed_unreachable", "closed_no_response",
                 "not_vendor_issue")


def normalise_name(name: str) -> str:
    """"ID.me" -> "idme", "OffSite Image Management" -> "offsiteimagemanagement"."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def compile_pattern(pattern: str, where: str, flags: int = re.IGNORECASE | re.MULTILINE) -> re.Pattern[str]:
    """A rule file's regular expression; an invalid one is a RuleError naming where it stands."""
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise RuleError(f"{where}: invalid regular expression: {exc}") from None


def read_rule_file(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from None


def _event_patterns(events: dict[str, Any], key: str, path: Path) -> dict[str, list[re.Pattern[str]]]:
    """events.<event>.<key> (phrases, unless, requires) compiled, per event."""
    return {ev: [compile_pattern(p, f"{path}: events.{ev}.{key}") for p in spec.get(key, [])]
            for ev, spec in events.items()}


def load_rule(path: Path) -> VendorRule:
    data = read_rule_file(path)
    v = data.get("vendor")
    if not isinstance(v, dict):
        raise RuleError(f"{path}: [vendor]: required table missing")
    for key in ("name", "intake_address", "domains"):
        if key not in v:
            raise RuleError(f"{path}: vendor.{key}: required")
    subject = data.get("subject", {})
    tickets = data.get("tickets", {})
    events = data.get("events", {})
    unknown = sorted(set(events) - set(VENDOR_EVENTS))
    if unknown:
        raise RuleError(f"{path}: events.{unknown[0]}: unknown event; expected one of {', '.join(VENDOR_EVENTS)}")
    for i, pat in enumerate(tickets.get("patterns", [])):
        if "(?P<number>" not in pat:
            raise RuleError(f"{path}: tickets.patterns[{i}]: needs a group named 'number'")
    if "pattern" in subject and "(?P<zendesk_ticket>" not in subject["pattern"]:
        raise RuleError(f"{path}: subject.pattern: needs a group named 'zendesk_ticket'")
    rule = VendorRule(
        name=v["name"],
        display_name=str(v.get("display_name", v["name"])),
        intake_address=v["intake_address"].lower(),
        domains=[d.lower() for d in v["domains"]],
        senders=[s.lower() for s in v.get("senders", [])],
        aliases=[str(a) for a in v.get("aliases", [])],
        classify_auto_submitted=bool(v.get("classify_auto_submitted", False)),
        helpdesk=str(v.get("helpdesk", "")).lower(),
        subject_format=subject.get("format"),
        subject_tag=subject.get("tag"),
        tag_pattern=tag_regex(str(subject.get("tag", DEFAULT_SUBJECT_TAG))),
        subject_pattern=(compile_pattern(subject["pattern"], f"{path}: subject.pattern")
                         if "pattern" in subject else None),
        ticket_patterns=[compile_pattern(p, f"{path}: tickets.patterns") for p in tickets.get("patterns", [])],
        ticket_systems=[str(s) for s in tickets.get("systems", [])],
        event_phrases=_event_patterns(events, "phrases", path),
        event_unless=_event_patterns(events, "unless", path),
        event_requires=_event_patterns(events, "requires", path),
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
