"""The labelled fields of an agent's escalation ("First name: Alan", "Sign-up email: ...").

Labels are matched flexibly: case, bullets, parentheticals and spacing are ignored, and the vendor rule's
[[required_fields]] labels take precedence over the built-in synonyms (for OffSite a bare "Phone" is the
agent's phone; for ID.me it is the prescriber's)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.rules import VendorRule

BUILTIN_LABELS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor",),
    "zendesk_ticket": ("zendesk ticket", "zendesk", "zendesk ticket number", "zendesk #", "zd", "zd ticket",
                       "drchrono zendesk ticket number", "ticket"),
    "vendor_ticket": ("id.me ticket", "offsite ticket", "vendor ticket", "vendor ticket number"),
    "priority": ("priority",),
    "agent_name": ("agent", "agent name", "ticket sender", "sender", "drchrono agent", "support agent",
                   "submitted by", "ticket sender name"),
    "agent_email": ("agent email", "agent e-mail", "sender email", "ticket sender email"),
    "agent_phone": ("agent phone", "agent phone number", "agent cell", "sender phone", "ticket sender phone"),
    "agent_availability": ("agent availability", "agent hours", "best time to reach agent", "agent time zone",
                           "agent time of day", "ticket sender availability"),
    "end_user_name": ("end user", "prescriber", "provider", "end user name", "prescriber name", "provider name",
                      "physician", "user", "name", "end user (prescriber)", "end user details"),
    "end_user_first_name": ("first name", "end user first name", "prescriber first name", "provider first name"),
    "end_user_last_name": ("last name", "end user last name", "prescriber last name", "provider last name"),
    "end_user_email": ("sign-up email", "signup email", "sign up email", "id.me email", "idme email",
                       "end user email", "prescriber email", "provider email", "user email", "email used for id.me",
                       "id.me sign-up email", "id.me login email"),
    "end_user_phone": ("phone", "phones", "cell", "mobile", "prescriber phone", "end user phone", "contact number",
                       "contact numbers", "provider phone", "phone number", "phone numbers", "cell phone",
                       "prescriber contact number", "prescriber contact numbers", "prescriber cell"),
    "preferred_contact": ("preferred contact", "preferred contact method", "best time to reach",
                          "contact preference", "preferred method", "preferred contact time"),
    "alternate_contact": ("alternate contact", "office manager", "alternate prescriber contact", "alternate",
                          "alt contact", "secondary contact", "alternate contact details"),
    "description": ("description", "problem", "issue", "description of the problem", "issue description",
                    "summary", "problem description", "details"),
    "issue_timestamp": ("timestamp", "issue timestamp", "time of issue", "when", "experienced at", "issue time",
                        "date/time of issue", "time experienced", "timestamp of the issue", "occurred at"),
    "cause": ("cause", "possible cause", "what changed", "recent changes"),
    "additional_info": ("additional information", "additional info", "notes", "other information"),
}

# Free-text fields that may run over several lines.
MULTILINE = frozenset({"description", "cause", "additional_info"})
# Fields whose values the vendor needs verbatim: the scrubber keeps them.
KEEP = frozenset({"zendesk_ticket", "vendor_ticket", "priority", "vendor", "agent_name", "agent_email",
                  "agent_phone", "agent_availability", "end_user_name", "end_user_first_name", "end_user_last_name",
                  "end_user_email", "end_user_phone", "preferred_contact", "alternate_contact", "issue_timestamp"})
# Names in these fields are people the vendor may contact.
NAME_FIELDS = ("agent_name", "end_user_name", "end_user_first_name", "end_user_last_name", "alternate_contact")

_LINE = re.compile(r"^[ \t]*(?:[-*\u2022>]+[ \t]*|\d{1,2}[.)][ \t]*)?(?P<label>[A-Za-z][A-Za-z0-9 ./'()&#_-]{0,60}?)"
                   r"[ \t]*[:\uff1a][ \t]*(?P<value>.*)$")
_TITLES = re.compile(r"^(?:dr|mr|mrs|ms|miss|mx|prof)\.?$", re.IGNORECASE)


def normalize_label(label: str) -> str:
    label = re.sub(r"\([^)]*\)", " ", label.lower())
    label = re.sub(r"[*_]+|'s\b", "", label)
    return re.sub(r"\s+", " ", label).strip(" .-")


@dataclass
class EscalationFields:
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def keep_values(self) -> list[str]:
        """Values the vendor needs verbatim, in field order."""
        return [v for k, v in self.values.items() if k in KEEP and v.strip()]

    def names(self) -> list[str]:
        """People named in the contact fields (end user, agent, alternate contact)."""
        out: list[str] = []
        for key in NAME_FIELDS:
            value = self.get(key)
            if key == "alternate_contact":
                value = re.split(r"[(,;<\d]| - |@", value, maxsplit=1)[0]
            if value:
                out.append(value.strip())
        return out


# Normalized once at import: label_map runs for every escalation read.
_BUILTIN_MAP = {normalize_label(lbl): name for name, labels in BUILTIN_LABELS.items() for lbl in labels}


def label_map(rule: VendorRule | None = None) -> dict[str, str]:
    """Normalized label -> field name; the rule's labels win over the built-ins."""
    mapping = dict(_BUILTIN_MAP)
    if rule is not None:
        for req in rule.required_fields:
            for lbl in [req.name.replace("_", " "), *req.labels]:
                mapping[normalize_label(lbl)] = req.name
    return mapping


def _label_of(line: str, mapping: dict[str, str]) -> tuple[str, str] | None:
    m = _LINE.match(line)
    if m is None:
        return None
    name = mapping.get(normalize_label(m.group("label")))
    return (name, m.group("value").strip()) if name else None


def extract_fields(text: str, rule: VendorRule | None = None, mapping: dict[str, str] | None = None
                   ) -> EscalationFields:
    mapping = mapping or label_map(rule)
    values: dict[str, str] = {}
    current: str | None = None
    for line in (text or "").splitlines():
        hit = _label_of(line, mapping)
        if hit is not None:
            name, value = hit
            current = name
            if name in values and values[name]:
                current = None if name not in MULTILINE else name
                continue
            values[name] = value
            continue
        if current is None or not line.strip():
            if current is not None and current not in MULTILINE and values.get(current):
                current = None
            continue
        if current in MULTILINE:
            values[current] = (values[current] + "\n" + line.strip()).strip()
        elif not values.get(current):
            values[current] = line.strip()       # "Phone:" with the value on the next line
            current = None
        else:
            current = None
    _derive_names(values)
    return EscalationFields(values)


def _derive_names(values: dict[str, str]) -> None:
    full = values.get("end_user_name", "").strip()
    if full and not (values.get("end_user_first_name") and values.get("end_user_last_name")):
        if "," in full:
            last, first = (p.strip() for p in full.split(",", 1))
            words = first.split() + [last]
        else:
            words = [w for w in re.split(r"\s+", re.split(r"[(<@|]", full)[0]) if w and not _TITLES.match(w)]
        if len(words) >= 2:
            values.setdefault("end_user_first_name", words[0])
            values.setdefault("end_user_last_name", words[-1])
    if not full and values.get("end_user_first_name") and values.get("end_user_last_name"):
        values["end_user_name"] = f"{values['end_user_first_name']} {values['end_user_last_name']}"


def merge(fields: EscalationFields, extra: Iterable[tuple[str, str | None]]) -> EscalationFields:
    """Fill gaps from other sources (the From header, the escalation row); labelled values win."""
    values = dict(fields.values)
    for name, value in extra:
        if value and not values.get(name, "").strip():
            values[name] = value
    return EscalationFields(values)
