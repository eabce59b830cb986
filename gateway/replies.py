"""Separating the new text of a reply from the quoted history below (or, for Zendesk, above) it.

Each recognizer is a small named pattern in an explicit list; the earliest line any of them marks is where
the history starts. Bottom-posted replies (quote first, answer after) keep their unquoted lines instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# "On Mon, 1 Jan 2024 at 10:00, Jane <j@x> wrote:" and its common translations; Gmail may wrap it.
_ATTRIBUTION = re.compile(
    r"^\s*(on\b.{0,200}\bwrote|am\b.{0,200}\bschrieb.{0,80}|le\b.{0,200}\ba [ée]crit|el\b.{0,200}\bescribi[óo]"
    r"|il\b.{0,200}\bha scritto|op\b.{0,200}\bschreef.{0,80}|em\b.{0,200}\bescreveu|den\b.{0,200}\bskrev.{0,80})"
    r"\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|urspr[üu]ngliche nachricht|message d'origine|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|reply above this line)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\**(from|von|de|da|van)\s*:\**\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(sent|date|gesendet|datum|envoy[ée]|enviado|inviato|verzonden|to|an)\s*:",
                           re.IGNORECASE)
_RULE = re.compile(r"^\s*_{10,}\s*$")
# Zendesk / Freshdesk style separators; the reply is ABOVE them.
_TYPE_ABOVE = re.compile(r"^\s*#*-?\s*(please )?(type|write) (your )?reply above this line", re.IGNORECASE)
_QUOTE = re.compile(r"^\s*>")


def _attribution(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _ATTRIBUTION.match(line):
        return True
    # Gmail wraps long attributions over two lines: "On ..., Jane Doe <" / "jane@x> wrote:"
    return (i + 1 < len(lines) and line.lstrip().lower().startswith("on ") and len(line) < 200
            and _ATTRIBUTION.match(line + " " + lines[i + 1]) is not None)


def _outlook_block(lines: list[str], i: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[i]):
        return False
    return any(_OUTLOOK_NEXT.match(nxt) for nxt in lines[i + 1:i + 4])


def _original_marker(lines: list[str], i: int) -> bool:
    return _ORIGINAL.match(lines[i]) is not None or _TYPE_ABOVE.match(lines[i]) is not None


def _underscore_rule(lines: list[str], i: int) -> bool:
    return _RULE.match(lines[i]) is not None and i + 1 < len(lines) and _outlook_block(lines, i + 1)


def _quoted(lines: list[str], i: int) -> bool:
    return _QUOTE.match(lines[i]) is not None


# What every recognizer's line starts with (after blanks): a quote, rule or marker character, or the first word
# of an attribution, an Outlook "From:" line or a "type your reply above" note. Lines that start otherwise
# (most of a long body) are not offered to the recognizers at all.
_MAY_START = re.compile(r"\s*(?:[>\-_#*]|(?:on|am|le|el|il|op|em|den|from|von|de|da|van|please|type|write)\b)",
                        re.IGNORECASE)


def _may_start_history(line: str) -> bool:
    return _MAY_START.match(line) is not None


HISTORY_STARTS: list[Callable[[list[str], int], bool]] = [
    _original_marker, _attribution, _underscore_rule, _outlook_block, _quoted,
]


def new_text(text: str, *, max_lines: int = 2000) -> str:
    """The part of `text` the sender wrote now. Never raises; long bodies are scanned to max_lines."""
    if not text:
        return ""
    lines = text.splitlines()
    scan = lines[:max_lines]
    for i, line in enumerate(scan):
        if not _may_start_history(line):
            continue
        if any(rule(scan, i) for rule in HISTORY_STARTS):
            head = "\n".join(lines[:i]).strip()
            if head:
                return head
            # Bottom-posting (or a Zendesk notification): the history or separator came first; keep the
            # unquoted lines after it.
            return "\n".join(line for line in lines[i + 1:] if not _QUOTE.match(line)
                             and not _ATTRIBUTION.match(line)).strip()
    return text.strip()
