"""The one recognizer shape the gateway's own recognizers share: a regular expression compiled once, whose
named group `v` is the value to remove (the rest of the match is context such as "DOB" or "PIN"), plus an
optional refine step that trims or rejects a candidate."""

from __future__ import annotations

import re
from collections.abc import Callable

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

Refine = Callable[[str, int, int], tuple[int, int] | None]

# A number right after one of these is a ticket number, which the vendor needs: never a secret.
_TICKET_BEFORE = re.compile(r"(?:ticket|case|request|incident|zendesk|zd|order|invoice|#)\s*(?:number|no\.?|id)?"
                            r"\s*[:#]?\s*#?\s*$", re.IGNORECASE)


class GroupRecognizer(EntityRecognizer):
    def __init__(self, name: str, entity: str, patterns: list[str], *, score: float = 0.85,
                 flags: int = re.IGNORECASE, refine: Refine | None = None, not_after_ticket: bool = False) -> None:
        self._regexes = [re.compile(p, flags) for p in patterns]
        self._refine = refine
        self._not_after_ticket = not_after_ticket
        self._score = score
        self._recognizer_name = name
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:  # nothing to load: patterns are compiled in __init__
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
                ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        if entities and entity not in entities:
            return []
        out: list[RecognizerResult] = []
        for regex in self._regexes:
            for m in regex.finditer(text):
                span = self._span(text, m)
                if span is None:
                    continue
                out.append(RecognizerResult(entity, span[0], span[1], self._score, recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self._recognizer_name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return out

    def _span(self, text: str, m: re.Match[str]) -> tuple[int, int] | None:
        start, end = m.span("v") if "v" in m.re.groupindex else m.span()
        if start < 0 or start == end:
            return None
        if self._not_after_ticket and _TICKET_BEFORE.search(text, max(0, start - 30), start):
            return None
        if self._refine is not None:
            return self._refine(text, start, end)
        return start, end


def has_digit(text: str, start: int, end: int) -> tuple[int, int] | None:
    return (start, end) if any(c.isdigit() for c in text[start:end]) else None


def strip_trailing_punct(text: str, start: int, end: int) -> tuple[int, int] | None:
    while end > start and text[end - 1] in ".,;:)]}!?'\"":
        end -= 1
    return (start, end) if end > start else None


def chain(*steps: Refine) -> Refine:
    def run(text: str, start: int, end: int) -> tuple[int, int] | None:
        span: tuple[int, int] | None = (start, end)
        for step in steps:
            if span is None:
                return None
            span = step(text, *span)
        return span
    return run
