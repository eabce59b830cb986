"""The scrubbing engine: Presidio's analyzer with the gateway's recognizer registry over a spaCy pipeline cut
down to NER, then Presidio's anonymizer with typed, readable replacements. Built once per process."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.fields import EscalationFields
from gateway.public_suffix import make_tldextract_offline
from gateway.scrub.labels import label
from gateway.scrub.protect import build_keep, protection


class ScrubConfigError(Exception):
    """The [scrub] configuration cannot be used; the message names the key."""


@dataclass(frozen=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float


@dataclass
class ScrubResult:
    text: str
    findings: list[Finding] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "kept": self.kept,
                "findings": [{"entity_type": f.entity_type, "start": f.start, "end": f.end,
                              "score": round(f.score, 3)} for f in self.findings]}


def _ner_only_excludes(model: str) -> list[str]:
    """Every pipeline component except NER and the tok2vec it listens to (if it listens to one)."""
    import spacy

    path = spacy.util.get_package_path(model) if spacy.util.is_package(model) else Path(model)
    cfg = spacy.util.load_config(next(path.glob("**/config.cfg")))
    pipeline = list(cfg["nlp"]["pipeline"])
    needed = {"ner"}
    tok2vec = cfg["components"].get("ner", {}).get("model", {}).get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):
        upstream = tok2vec.get("upstream", "*")  # "*": whichever tok2vec comes before it
        needed.add("tok2vec" if upstream == "*" else upstream)
    return [c for c in pipeline if c not in needed]


# spaCy's OntoNotes labels other than PERSON: the scrubber's own recognizers cover dates, numbers and places
# where they matter (DOB, addresses); as entities they would only destroy what the vendor needs.
_IGNORED_LABELS = ["CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL",
                   "ORG", "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"]


def model_problem(model: str) -> str | None:
    """For start-up checks: why [scrub] model cannot be loaded, or None. Cheap: loads nothing."""
    import spacy

    if spacy.util.is_package(model) or Path(model).exists():
        return None
    return (f"[scrub] model: spaCy model {model!r} is not installed (nothing is downloaded at run time; "
            "install its package)")


def _nlp_engine(model: str) -> Any:
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    problem = model_problem(model)
    if problem:
        raise ScrubConfigError(problem)
    import spacy

    class NerOnlySpacyNlpEngine(SpacyNlpEngine):
        """Presidio's spaCy engine, loading only what NER needs and never downloading."""

        def load(self) -> None:
            loaded: dict[str, Any] = {m["lang_code"]: spacy.load(m["model_name"],
                                                                 exclude=_ner_only_excludes(m["model_name"]))
                                      for m in self.models}
            self.nlp = loaded  # type: ignore[assignment]

    engine = NerOnlySpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}],
                                   ner_model_configuration=NerModelConfiguration(labels_to_ignore=_IGNORED_LABELS))
    engine.load()
    return engine


def _no_context_enhancer() -> Any:
    """The gateway's recognizers carry their context inside their patterns, so Presidio's lemma-based
    context pass (which also needs the lemmatizer the NER-only pipeline leaves out) is skipped."""
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer

    class NoContextEnhancer(ContextAwareEnhancer):
        def __init__(self) -> None:
            super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                             context_prefix_count=0, context_suffix_count=0)

        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: list[str] | None = None) -> list[Any]:
            return raw_results

    return NoContextEnhancer()


class Scrubber:
    def __init__(self, model: str, score_threshold: float = 0.4) -> None:
        make_tldextract_offline()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_anonymizer import AnonymizerEngine

        from gateway.scrub.registry import all_recognizers

        self.model = model
        self.threshold = score_threshold
        self._nlp = _nlp_engine(model)
        registry = RecognizerRegistry(recognizers=all_recognizers(), supported_languages=["en"])
        self._entities = sorted({e for r in registry.recognizers for e in r.supported_entities})
        self._analyzer = AnalyzerEngine(registry=registry, nlp_engine=self._nlp, supported_languages=["en"],
                                        default_score_threshold=score_threshold,
                                        context_aware_enhancer=_no_context_enhancer())
        self._anonymizer = AnonymizerEngine()

    def scrub(self, text: str, keep: Iterable[str] = (), fields: EscalationFields | None = None) -> ScrubResult:
        return self.scrub_many([text], keep=keep, fields=fields)[0]

    def scrub_many(self, texts: Sequence[str], keep: Iterable[str] = (), fields: EscalationFields | None = None,
                   batch_size: int = 32) -> list[ScrubResult]:
        """Scrub several texts with one spaCy pass (nlp.pipe); the keep-list applies to all of them."""
        keepset = build_keep(keep, fields)
        out: list[ScrubResult] = []
        # Every new token string would otherwise stay in the vocabulary for the life of the daemon (RSS grows
        # with each distinct message); strings added inside a memory zone are freed when it ends. Nothing
        # spaCy-owned leaves this block: results are plain strings and offsets.
        with self._nlp.get_nlp("en").memory_zone():
            for text, artifacts in self._nlp.process_batch(list(texts), "en", batch_size=batch_size):
                results = self._analyzer.analyze(text, language="en", entities=self._entities,
                                                 nlp_artifacts=artifacts, score_threshold=self.threshold)
                out.append(self._apply(text, results, keepset))
        return out

    def _apply(self, text: str, results: list[Any], keepset: Any) -> ScrubResult:
        from presidio_anonymizer.entities import OperatorConfig, RecognizerResult

        prot = protection(text, keepset)
        removed: list[Finding] = []
        kept: list[str] = []
        for r in results:
            r.start, r.end = _trim(text, r.start, r.end)
            if r.start >= r.end:
                continue
            verdict = prot.disposition(text, r.entity_type, r.start, r.end)
            if verdict == "remove":
                removed.append(Finding(r.entity_type, r.start, r.end, float(r.score)))
            elif verdict == "keep" and text[r.start:r.end] not in kept:
                kept.append(text[r.start:r.end])
        findings = merge_overlaps(removed)
        if not findings:
            return ScrubResult(text, [], kept, [])
        anonymized = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[RecognizerResult(f.entity_type, f.start, f.end, f.score) for f in findings],
            operators={f.entity_type: OperatorConfig("replace", {"new_value": label(f.entity_type).replacement})
                       for f in findings})
        categories = list(dict.fromkeys(label(f.entity_type).category for f in findings))
        return ScrubResult(anonymized.text, findings, kept, categories)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """NER spans sometimes run over a line break or carry spaces: a value never crosses a line."""
    newline = text.find("\n", start, end)
    if newline >= 0 and text[start:newline].strip():
        end = newline
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def merge_overlaps(findings: list[Finding]) -> list[Finding]:
    """Union overlapping findings; the merged span takes the most specific type (lowest priority number)."""
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1].end:
            prev = merged[-1]
            best = min((prev, f), key=lambda x: (label(x.entity_type).priority, -x.score))
            merged[-1] = Finding(best.entity_type, prev.start, max(prev.end, f.end), max(prev.score, f.score))
        else:
            merged.append(f)
    return merged


_cache: dict[tuple[str, float], Scrubber] = {}
_lock = threading.Lock()


def get_scrubber(scrub_config: Any) -> Scrubber:
    """The process-wide engine for this [scrub] configuration, built on first use."""
    key = (str(scrub_config.model), float(scrub_config.score_threshold))
    with _lock:
        if key not in _cache:
            _cache[key] = Scrubber(*key)
        return _cache[key]
