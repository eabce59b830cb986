"""flufl.bounce's detectors, run in flufl's own order with the same results, but with its two pattern-table
detectors (SimpleMatch, SimpleWarning) made cheap, and four detectors skipped when their start line cannot
occur.

flufl's SimpleMatch walks every body line once per pattern set (~50 sets, each a Python loop over the lines),
which was the costliest single step of reading a bounce. Here the body lines are read once, and a pattern
set is walked only when its start pattern matches somewhere in the whole text (searched once, in C, with
re.MULTILINE so that "^" still means a line start). A start pattern that matches within one line also
matches in the joined text, so a set skipped here could never have added an address: the result is the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from email.iterators import body_line_iterator
from email.message import Message

from flufl.bounce._detectors import caiwireless, exchange, llnl, qmail
from flufl.bounce._detectors.simplematch import VALID, SimpleMatch, _quopri_decode
from flufl.bounce._detectors.simplewarning import SimpleWarning
from flufl.bounce._scan import _DETECTORS

from gateway.bounces import FOLDS_TO_ASCII

_Patterns = list[tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]]


class _Body:
    """The message's body lines (as flufl's detectors see them) and their text, read on first use."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._lines: list[str] | None = None
        self._text = self.lower = ""
        self.foldable = True

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = list(body_line_iterator(self.msg))
            self._text = "\n".join(self._lines)  # "\n" between parts whose payload lacks a final newline
            self.foldable = not any(ch in self._text for ch in FOLDS_TO_ASCII)
            self.lower = self._text.lower() if self.foldable else ""
        return self._lines

    @property
    def text(self) -> str:
        _ = self.lines
        return self._text


_META = set("\\.^$*+?{}[]|()")


def _literal(pattern: str) -> str:
    """The literal text every match of `pattern` starts with ("" when there is none worth using)."""
    if "|" in pattern:
        return ""
    body = pattern[1:] if pattern.startswith("^") else pattern
    end = next((i for i, ch in enumerate(body) if ch in _META), len(body))
    if end < len(body) and body[end] in "*+?{":
        end -= 1  # a quantifier applies to the last literal character
    text = body[:max(end, 0)]
    return text.lower() if len(text) >= 6 and text.isascii() else ""


class _Start:
    """Whether a start pattern can match some line: a substring search of the lower-cased text for its
    leading ASCII literal where that is exact, else the pattern searched in the whole text, multi-line."""

    def __init__(self, scre: re.Pattern[str]) -> None:
        self.literal = _literal(scre.pattern) if scre.flags & re.IGNORECASE else ""
        self.whole = re.compile(scre.pattern, scre.flags | re.MULTILINE)

    def occurs(self, body: _Body) -> bool:
        if self.literal and body.foldable:
            return self.literal in body.lower
        return self.whole.search(body.text) is not None


_Table = list[tuple[_Start, re.Pattern[str], re.Pattern[str], re.Pattern[str]]]


def _prefiltered(patterns: _Patterns) -> _Table:
    return [(_Start(s), s, e, a) for s, e, a in patterns]


_MATCH = _prefiltered(SimpleMatch.PATTERNS)
_WARNING = _prefiltered(SimpleWarning.PATTERNS)


def _simple_match(table: _Table, body: _Body) -> frozenset[bytes]:
    """flufl's SimpleMatch.process, line for line, over the pattern sets whose start pattern occurs."""
    lines = body.lines
    addresses: set[bytes] = set()
    for start, scre, ecre, acre in table:
        if not start.occurs(body):
            continue
        seen = False
        for line in lines:
            if not seen and scre.search(line):
                seen = True
            if seen:
                if mo := acre.search(line):
                    if address := mo.group("addr"):
                        addresses.add(_quopri_decode(address))
                elif ecre.search(line):
                    break
        if addresses:
            break
    return frozenset(a for a in addresses if VALID.match(a))


def _no_qmail_intro(body: _Body) -> bool:
    return not any(tag in body.text for tag in qmail.introtags)


_CAI_TAG = caiwireless.tcre.pattern.lower()
_LLNL_WHOLE = re.compile(llnl.acre.pattern, llnl.acre.flags)


# Detectors (of flufl.bounce 6.0.0, pinned) that read addresses only after a line matching their start
# pattern: when no line can match, they find nothing. Each gate is exact: a pattern matching within one
# line matches in the joined text.
_CANNOT_MATCH: dict[type, Callable[[_Body], bool]] = {
    qmail.Qmail: _no_qmail_intro,
    exchange.Exchange: lambda body: exchange.scre.pattern not in body.text,
    caiwireless.Caiwireless: lambda body: body.foldable and _CAI_TAG not in body.lower,
    llnl.LLNL: lambda body: _LLNL_WHOLE.search(body.text) is None,
}


def all_failures(msg: Message) -> tuple[frozenset[bytes], frozenset[bytes]]:
    """Like flufl.bounce.all_failures: (temporary, permanent) from the first detector that finds any.
    Raises what a detector raises, as flufl does."""
    body = _Body(msg)
    temporary: set[bytes] = set()
    permanent: set[bytes] = set()
    none: frozenset[bytes] = frozenset()
    for detector in _DETECTORS:
        temp: Collection[bytes]
        perm: Collection[bytes]
        if detector is SimpleMatch:
            temp, perm = none, _simple_match(_MATCH, body)
        elif detector is SimpleWarning:
            temp, perm = _simple_match(_WARNING, body), none
        elif detector in _CANNOT_MATCH and _CANNOT_MATCH[detector](body):
            temp, perm = none, none
        else:
            temp, perm = detector().process(msg)
        temporary.update(temp)
        permanent.update(perm)
        if temp or perm:
            break
    return frozenset(temporary), frozenset(permanent)
