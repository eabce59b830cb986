"""What must survive scrubbing. Two kinds of protection:

- hard spans (our own replacement markers, ticket references): nothing inside them is ever a finding;
- the keep-list (the escalation's contact fields, explicit --keep values, times, error messages, product and
  device names): protects only contact-like entity types (names, emails, phones, addresses, usernames), never
  identifiers or secrets, so a PIN typed into the "Phone:" line still goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.fields import EscalationFields
from gateway.scrub.labels import KEEPABLE

_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE_DIGITS = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "doctor"})
# Words of our own and the vendors' organisation and product names that spaCy sometimes tags as a PERSON.
_ORG_WORDS = frozenset({
    "drchrono", "id", "me", "idme", "offsite", "osim", "support", "team", "desk", "service", "image", "management",
    "member", "help", "helpdesk", "customer", "success", "escalations", "escalation", "mailgate", "zendesk",
    "authenticator", "google", "microsoft", "okta", "duo", "authy", "iphone", "android", "epcs", "onpatient",
    "surescripts", "chrome", "safari", "windows", "verify", "viewer", "portal", "thank", "you", "thanks", "hello",
    "hi", "dear", "regards", "best", "ehr", "pacs", "dicom",
    # verbs spaCy pulls into a name at the start of a sentence: "Call Bob Smith", "Ask Jenna Ortiz"
    "call", "contact", "email", "text", "ask", "reach", "tell", "cc", "ping", "page", "loop", "per", "via", "attn",
})

_HARD = [
    re.compile(r"\[[A-Za-z][A-Za-z0-9' ]{1,40} removed\]"),
    re.compile(r"\[(?:DrChrono|ID\.me|OffSite|OSIM)\s*#\s*[A-Za-z]{0,4}\d+\]", re.IGNORECASE),
    re.compile(r"\b(?:zendesk|zd|ticket|request|case|incident)(?:\s+(?:ticket|number|no\.?|id|#))*\s*[:#]?\s*#?"
               r"\s*[A-Za-z]{0,4}\d{3,12}\b", re.IGNORECASE),
    re.compile(r"\bDrChrono;\s*#?[A-Za-z]{0,4}\d+\s*;[^\n;]*", re.IGNORECASE),
]
_TZ = r"(?:PT|PST|PDT|MT|MST|MDT|CT|CST|CDT|ET|EST|EDT|UTC|GMT|Z|Pacific|Mountain|Central|Eastern)"
_SOFT = [
    # times and time zones: "2026-11-20 14:32 PT", "2:32 PM CST", "9-11 am Pacific"
    re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*{_TZ})?\b"),
    re.compile(rf"\b\d{{1,2}}(?::\d{{2}})?\s*(?:-\s*\d{{1,2}}(?::\d{{2}})?\s*)?(?:am|pm|a\.m\.|p\.m\.)?\s*{_TZ}\b",
               re.IGNORECASE),
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:am|pm)?", re.IGNORECASE),
    # error messages: quoted text and error codes
    re.compile(r"\"[^\"\n]{2,160}\"|\u201c[^\u201d\n]{2,160}\u201d"),
    re.compile(r"\b[A-Z]{2,8}-\d{2,6}\b"),
    # products and devices the vendor needs to hear about
    re.compile(r"\b(?:ID\.me|DrChrono|OffSite|iPhone(?:\s+\d+)?(?:\s+Pro)?|iPad|Android|Samsung(?:\s+Galaxy)?"
               r"(?:\s+S\d+)?|Pixel(?:\s+\d+)?|Chrome|Safari|Firefox|Edge|Windows(?:\s+\d+)?|macOS|MacBook|iOS|EPCS"
               r"|Zendesk|(?:Google|Microsoft)\s+Authenticator|Authy|Okta(?:\s+Verify)?|Duo(?:\s+Mobile)?"
               r"|Surescripts|onpatient|Citrix|Outlook|Gmail|Zoom|Teams|PACS|DICOM|Verify\s+with\s+ID\.me)\b"),
]


def digits(value: str) -> str:
    d = re.sub(r"\D", "", value)
    return d[-10:] if len(d) >= 10 else d


@dataclass
class KeepSet:
    names: set[str] = field(default_factory=set)     # lower-case name words
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)    # last ten digits
    phrases: list[str] = field(default_factory=list)  # verbatim values to protect where they occur

    def add(self, value: str, *, is_name: bool = False) -> None:
        value = value.strip()
        if not value:
            return
        self.phrases.append(value)
        self.emails.update(e.lower() for e in _EMAIL.findall(value))
        for p in _PHONE_DIGITS.findall(value):
            if len(re.sub(r"\D", "", p)) >= 7:
                self.phones.add(digits(p))
        if is_name or (not any(c.isdigit() for c in value) and "@" not in value and len(value.split()) <= 4):
            self.names.update(w.lower() for w in _WORD.findall(value) if w.lower() not in _TITLES)

    def matches(self, entity_type: str, value: str) -> bool:
        if entity_type in ("EMAIL_ADDRESS", "USERNAME") and value.lower() in self.emails:
            return True
        if entity_type == "PHONE_NUMBER":
            return digits(value) in self.phones
        if entity_type in ("PERSON", "PATIENT_NAME", "USERNAME"):
            words = [w.lower().removesuffix("'s") for w in _WORD.findall(value)]
            words = [w for w in words if w not in _TITLES]
            return bool(words) and all(w in self.names or w in _ORG_WORDS for w in words)
        return False


def build_keep(keep: Iterable[str] = (), fields: EscalationFields | None = None) -> KeepSet:
    ks = KeepSet()
    if fields is not None:
        for name in fields.names():
            ks.add(name, is_name=True)
        for value in fields.keep_values():
            ks.add(value)
    for value in keep:
        ks.add(value)
    return ks


@dataclass
class Protection:
    hard: list[tuple[int, int]]
    soft: list[tuple[int, int]]
    keep: KeepSet

    def disposition(self, text: str, entity_type: str, start: int, end: int) -> str:
        """'ignore' (inside a marker or ticket reference), 'keep' (keep-list) or 'remove'."""
        if _inside(self.hard, start, end):
            return "ignore"
        if entity_type not in KEEPABLE:
            return "remove"
        if self.keep.matches(entity_type, text[start:end]):
            return "keep"
        # A name said to be a patient's is never protected just for sitting on a kept line.
        if entity_type != "PATIENT_NAME" and _inside(self.soft, start, end):
            return "keep"
        return "remove"


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def protection(text: str, keep: KeepSet) -> Protection:
    hard = [m.span() for rx in _HARD for m in rx.finditer(text)]
    soft = [m.span() for rx in _SOFT for m in rx.finditer(text)]
    lowered = text.lower()
    for phrase in keep.phrases:
        needle, pos = phrase.lower(), 0
        while (pos := lowered.find(needle, pos)) >= 0:
            soft.append((pos, pos + len(needle)))
            pos += len(needle)
    return Protection(hard, soft, keep)

