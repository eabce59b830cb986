"""Foreign ticket numbers: a catalogue of common helpdesk formats (rules/_ticket_formats.toml) run over a
message's subject and body. The catalogue only says what each number looks like; a vendor rule decides which
one is that vendor's ticket (gateway.classify)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gateway.config import PROJECT_RULES_DIR
from gateway.rules import RuleError, compile_pattern, read_rule_file

CATALOGUE_FILE = "_ticket_formats.toml"
_SCAN_CHARS = 50_000   # a huge body is scanned up to here: ticket numbers sit near the top


@dataclass(frozen=True)
class TicketNumber:
    system: str
    number: str


@dataclass(frozen=True)
class TicketFormat:
    system: str
    pattern: re.Pattern[str]
    note: str = ""
    example: str = ""
    example_number: str = ""
    hints: tuple[str, ...] = ()   # lowercase substrings; the pattern runs only if one occurs in the text
    # A cheaper pattern that finds something wherever `pattern` does (by default the pattern without its
    # leading \b, which lets the regex engine skip ahead to possible first characters): nothing found, the
    # format is skipped.
    prefilter: re.Pattern[str] | None = None


def load_catalogue(path: Path) -> list[TicketFormat]:
    """Read a catalogue file; an invalid entry is a RuleError naming the file and the entry."""
    data = read_rule_file(path)
    formats: list[TicketFormat] = []
    for i, entry in enumerate(data.get("format", [])):
        where = f"{path}: format[{i}]"
        if "system" not in entry or "pattern" not in entry:
            raise RuleError(f"{where}: system and pattern are required")
        flags = re.MULTILINE | (0 if entry.get("case_sensitive") else re.IGNORECASE)
        pattern = compile_pattern(entry["pattern"], f"{where}.pattern", flags)
        if "number" not in pattern.groupindex:
            raise RuleError(f"{where}.pattern: needs a group named 'number'")
        prefilter_source = entry.get("prefilter") or (entry["pattern"][2:] if entry["pattern"].startswith(r"\b")
                                                      else None)
        prefilter = compile_pattern(prefilter_source, f"{where}.prefilter", flags) if prefilter_source else None
        formats.append(TicketFormat(entry["system"], pattern, entry.get("note", ""), entry.get("example", ""),
                                    entry.get("example_number", ""),
                                    tuple(h.lower() for h in entry.get("hints", []) if h), prefilter))
    return formats


@lru_cache(maxsize=8)
def catalogue(directory: Path = PROJECT_RULES_DIR) -> tuple[TicketFormat, ...]:
    path = Path(directory) / CATALOGUE_FILE
    if not path.is_file():  # a deployment's own rules directory may leave the catalogue to the project's
        path = PROJECT_RULES_DIR / CATALOGUE_FILE
    return tuple(load_catalogue(path))


def find_ticket_numbers(text: str, formats: tuple[TicketFormat, ...] | None = None) -> list[TicketNumber]:
    """Every ticket number in `text`, in order of appearance, each (system, number) once. A span of text is
    claimed by the first catalogue entry that matches it, so one number is never reported as two systems."""
    formats = catalogue() if formats is None else formats
    text = (text or "")[:_SCAN_CHARS]
    lowered = text.lower()
    claimed: list[tuple[int, int]] = []
    found: list[tuple[int, TicketNumber]] = []
    for fmt in formats:
        if fmt.hints and not any(h in lowered for h in fmt.hints):
            continue
        if fmt.prefilter is not None and fmt.prefilter.search(text) is None:
            continue
        for m in fmt.pattern.finditer(text):
            start, end = m.span("number")
            if any(start < e and s < end for s, e in claimed):
                continue
            claimed.append((start, end))
            found.append((start, TicketNumber(fmt.system, m.group("number"))))
    seen: set[TicketNumber] = set()
    out: list[TicketNumber] = []
    for _, t in sorted(found, key=lambda x: x[0]):
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out
