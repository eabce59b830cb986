"""Agents' mail: an escalation sent (or CC'd) to the gateway, and commands on lines of their own.

Which vendor, in this order: a plus-address (escalations+idme@...), a "Vendor:" line, the vendor's intake
address in To/Cc (the agent wrote to the vendor directly: agent_sent_to_vendor), the vendor's name in the
subject. Which Zendesk ticket: the vendor's subject format or our tag, a "Zendesk ticket:" line, then
"Zendesk 48213" / "ZD-48213" / "#48213" in the subject. The end user's email: the vendor's subject format,
else a labelled line ("Sign-up email:", "ID.me email:", or the vendor rule's labels for end_user_email).
"""

from __future__ import annotations

import re

from gateway.classify import Decision, read_vendor_subject
from gateway.config import Config
from gateway.guards import GuardVerdict
from gateway.parse import ParsedMessage
from gateway.rules import VendorRule, normalise_name
from gateway.tickets import find_ticket_numbers

COMMANDS = ("reopen", "status", "priority", "resolved", "note")  # what gateway.lifecycle.commands acts on
_COMMAND = re.compile(r"^[ \t]*#(" + "|".join(COMMANDS) + r")\b[ \t:]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_VENDOR_LINE = re.compile(r"^[ \t]*\**vendor\**[ \t]*:[ \t]*\**(.+?)\**[ \t]*$", re.IGNORECASE | re.MULTILINE)
_ZENDESK_LINE = re.compile(
    r"^[ \t]*\**(?:zendesk(?:[ \t]+ticket)?(?:[ \t]+(?:number|no\.?|id))?|zd[ \t]+ticket|ticket)\**[ \t]*:"
    r"[ \t]*#?[ \t]*([A-Za-z]{0,4}\d{1,12})\b", re.IGNORECASE | re.MULTILINE)
_ZENDESK_SUBJECT = (
    re.compile(r"\b(?:zendesk|zd)(?:[ \t]+ticket)?[ \t]*[-#:]?[ \t]*#?[ \t]*(\d{1,12})\b", re.IGNORECASE),
    re.compile(r"(?<![\w&])#[ \t]?(\d{3,12})\b"),
)
_PRIORITY_LINE = re.compile(r"^[ \t]*\**priority\**[ \t]*:[ \t]*(emergency|urgent|high|medium|normal|low)\b",
                            re.IGNORECASE | re.MULTILINE)
_EMAIL = r"<?([^\s<>@:;,]+@[^\s<>@:;,]+\.[A-Za-z]{2,})>?"
_DEFAULT_EMAIL_LABELS = ("sign-up email", "signup email", "sign up email", "id.me email", "end user email",
                         "end-user email", "prescriber email")
_REPLY_SUBJECT = re.compile(r"^\s*(?:re|aw|sv|antw)\s*:", re.IGNORECASE)


def read_commands(text: str) -> list[tuple[str, str]]:
    """'#priority high' -> ('priority', 'high'); only known commands, only on lines of their own."""
    return [(m.group(1).lower(), m.group(2)) for m in _COMMAND.finditer(text or "")]


def _plus_tag(parsed: ParsedMessage, config: Config) -> str | None:
    local, _, domain = config.gateway.address.lower().partition("@")
    for addr in [*parsed.to, *parsed.cc, *parsed.header_values("Delivered-To"), *parsed.header_values("X-Original-To")]:
        a = addr.strip().strip("<>").lower()
        a_local, _, a_domain = a.partition("@")
        if a_domain == domain and a_local.startswith(local + "+"):
            return a_local[len(local) + 1:]
    return None


def rule_named(value: str, rules: dict[str, VendorRule]) -> VendorRule | None:
    """The one rule a free-text vendor name refers to ("ID.me", "idme", "OffSite Image Management")."""
    wanted = normalise_name(value)
    if len(wanted) < 3:
        return None
    exact = [r for r in rules.values() if wanted in r.names()]
    if len(exact) == 1:
        return exact[0]
    loose = [r for r in rules.values() if any(n.startswith(wanted) or wanted.startswith(n) for n in r.names())]
    return loose[0] if len(loose) == 1 else None


def _intake_rule(parsed: ParsedMessage, rules: dict[str, VendorRule], config: Config) -> VendorRule | None:
    addressed = {a.lower() for a in [*parsed.to, *parsed.cc]}
    for r in rules.values():
        intake = {r.intake_address, (config.vendor(r.name).address or "").lower()} - {""}
        if addressed & intake:
            return r
    return None


def _subject_rule(subject: str, rules: dict[str, VendorRule]) -> VendorRule | None:
    hits = []
    for r in rules.values():
        for name in {r.name, r.display_name, *r.aliases}:
            if name and re.search(r"(?<![\w.])" + re.escape(name) + r"(?![\w])", subject, re.IGNORECASE):
                hits.append(r)
                break
    return hits[0] if len(hits) == 1 else None


def _find_vendor(parsed: ParsedMessage, text: str, rules: dict[str, VendorRule], config: Config,
                 d: Decision) -> tuple[VendorRule | None, bool]:
    """(rule, explicit): explicit means the agent clearly asked for an escalation to that vendor."""
    intake = _intake_rule(parsed, rules, config)
    if intake is not None:
        d.agent_sent_to_vendor = intake.name
    tag = _plus_tag(parsed, config)
    if tag:
        r = rule_named(tag, rules)
        if r is not None:
            d.rule_hits.append(f"agent:vendor:plus_address:{r.name}")
            return r, True
    m = _VENDOR_LINE.search(text)
    if m:
        r = rule_named(m.group(1), rules)
        if r is not None:
            d.rule_hits.append(f"agent:vendor:line:{r.name}")
            return r, True
        d.rule_hits.append("agent:vendor:line_unknown")
    if intake is not None:
        d.rule_hits.append(f"agent:vendor:intake_address:{intake.name}")
        return intake, True
    for r in rules.values():  # a mandated subject format names its vendor ("DrChrono; 48213; x@y" is ID.me's)
        if r.subject_format and r.subject_pattern is not None and r.subject_pattern.search(parsed.subject):
            d.rule_hits.append(f"agent:vendor:subject_format:{r.name}")
            return r, False
    r = _subject_rule(parsed.subject, rules)
    if r is not None:
        d.rule_hits.append(f"agent:vendor:subject_name:{r.name}")
    return r, False


def _find_zendesk_ticket(parsed: ParsedMessage, text: str, rule: VendorRule | None, rules: dict[str, VendorRule],
                         d: Decision) -> None:
    candidates = [rule] if rule is not None else []
    candidates += [r for r in rules.values() if r is not rule]
    for r in candidates:  # the vendor's format first, then our tag as any other rule defines it
        if read_vendor_subject(r, parsed.subject, d):
            return
    m = _ZENDESK_LINE.search(text)
    if m:
        d.zendesk_ticket = m.group(1)
        d.rule_hits.append("agent:zendesk:line")
        return
    for i, pat in enumerate(_ZENDESK_SUBJECT):
        m = pat.search(parsed.subject)
        if m:
            d.zendesk_ticket = m.group(1)
            d.rule_hits.append(f"agent:zendesk:subject{'_hash' if i else ''}")
            return


def _find_end_user_email(text: str, rule: VendorRule | None, d: Decision) -> None:
    if d.end_user_email:
        return
    labels = list(_DEFAULT_EMAIL_LABELS)
    if rule is not None:
        labels += [lbl for f in rule.required_fields if f.name == "end_user_email" for lbl in f.labels]
    alternatives = "|".join(re.escape(lbl) for lbl in sorted(set(labels), key=len, reverse=True))
    m = re.search(rf"^[ \t]*\**(?:{alternatives})\**[ \t]*:[ \t]*{_EMAIL}", text, re.IGNORECASE | re.MULTILINE)
    if m:
        d.end_user_email = m.group(1)
        d.rule_hits.append("agent:end_user_email:line")


def read_agent_mail(parsed: ParsedMessage, guard: GuardVerdict, rules: dict[str, VendorRule], config: Config,
                    d: Decision) -> None:
    """Fill `d` for a trusted agent's message: an escalation_request, or 'other' with commands."""
    d.is_agent = True
    d.rule_hits.append("sender:agent")
    new = parsed.reply_text
    d.commands = read_commands(new)
    rule, explicit = _find_vendor(parsed, new, rules, config, d)
    d.vendor = rule.name if rule is not None else None
    _find_zendesk_ticket(parsed, new, rule, rules, d)
    _find_end_user_email(new, rule, d)
    m = _PRIORITY_LINE.search(new)
    d.priority = m.group(1).lower() if m else None
    d.ticket_numbers = find_ticket_numbers(f"{parsed.subject}\n{new}")
    d.agent_reply = bool(parsed.in_reply_to or _REPLY_SUBJECT.match(parsed.subject))
    if d.commands:
        d.rule_hits.append("agent:commands:" + ",".join(c for c, _ in d.commands))
    if guard.auto_reply or guard.out_of_office or guard.bounce or guard.bulk:
        d.rule_hits.append("skip:agent_auto_reply")
        return
    if d.vendor is None or d.zendesk_ticket is None:
        d.rule_hits.append("agent:incomplete:" + ("no_vendor" if d.vendor is None else "no_zendesk_ticket"))
        return
    if d.commands and not explicit:
        d.rule_hits.append("agent:command_mail")
        return
    if d.agent_reply and not (explicit and d.agent_sent_to_vendor is None):
        d.rule_hits.append("agent:reply_in_thread")
        return
    d.event = "escalation_request"
    d.rule_hits.append("event:escalation_request")
