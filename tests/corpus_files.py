"""Where the shared real-world corpus lives and which of its files are mail (the rest are the facts the
corpus asserts, its documentation and licences). Used by the corpus tests and bench/bench_inbound.py."""

from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_NOT_MAIL = {"expected.json", "EXPECTED.md", "README.md", "SOURCES.md"}


def corpus_mail_files(corpus: Path = CORPUS) -> list[Path]:
    """Every mail file under `corpus`, sorted; [] when the corpus is absent."""
    if not corpus.is_dir():
        return []
    return sorted(p for p in corpus.rglob("*")
                  if p.is_file() and p.name not in _NOT_MAIL and not p.name.startswith("LICENSE"))
