"""Explain answers every message of the real-world corpus (../shared/corpus): no crash, one JSON object per
file, in input order. The facts the corpus asserts are checked by test_corpus_conformance.py."""

from __future__ import annotations

import json

import pytest
from classify_support import config, rules
from corpus_files import CORPUS, corpus_mail_files

from gateway.explain import explain_paths, to_json


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not present at {CORPUS}")
def test_explain_answers_every_corpus_message_in_order() -> None:
    files = corpus_mail_files()
    assert len(files) > 100
    answers = list(explain_paths(files, rules(), config()))
    assert [a.path for a in answers] == [str(f) for f in files]
    unread = [a.path for a in answers if a.facts is None]
    assert unread == []
    lines = [to_json(a) for a in answers]
    assert all("\n" not in line for line in lines)
    objects = [json.loads(line) for line in lines]
    assert all(o["event"] == "other" or o["vendor"] for o in objects)  # no vendor event without a vendor
    assert all(isinstance(o["rule_hits"], list) and o["rule_hits"] for o in objects)
