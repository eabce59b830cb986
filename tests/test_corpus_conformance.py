"""Conformance with real-world mail: every message in ../shared/corpus is parsed and guarded, and the facts
each source's own test suite asserts (<source>/expected.json) are compared with what the gateway reads.

Checked: no crash on any message; subjects; senders and recipients (addresses, the display name where the
source asserts one); Message-ID and Date; attachments (count, file names, size, and md5 where the gateway
keeps the content, i.e. text attachments); which body was chosen; bounce detection, its kind, the failed
recipients (flufl.bounce addresses; the sisimai recipient count); auto-replies and auto-generated mail.

Skipped keys (implementation-specific, no gateway equivalent): OTOBO's otobo_attachment_count (counts body
alternatives), otobo_body_md5/body_md5/charset/envelope_to/attachment_content_*/creates_new_ticket; RT's
rt_attachment_records (counts every MIME entity), top_content_type, attached_message_subject, RT-Send-Cc;
mail-parser's body_md5_utf8, headers dict, received_*, server_ip_trust_*, x_msmail_priority, text_not_managed,
text_html_count, attachment_0 metadata, to_domains; flufl's per-detector detections/scan_message/all_failures
(restated by failed_recipients); sisimai's per-recipient reason/status/replycode table.
Every message also goes through the explain path (gateway.explain.explain_bytes, as `mailgate explain --json`
runs it) and must come out as JSON without raising; subject, sender, Message-ID and bounce are read from it.
The agreement figure and every disagreement are printed and written to var/corpus_conformance.txt.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from email.utils import getaddresses
from pathlib import Path

import pytest
from corpus_files import CORPUS

from gateway.config import parse_config
from gateway.explain import Explained as _Explained
from gateway.explain import explain_bytes, to_json
from gateway.guards import GuardVerdict, inspect
from gateway.parse import ParsedMessage, parse_message
from gateway.rules import load_rules

REPORT = Path(__file__).parents[1] / "var" / "corpus_conformance.txt"
TARGET = 98.0
KEY = b"conformance-test-key"
CONFIG = """\
[gateway]
address = "gateway@mailgate.example"
[trust]
authserv_ids = ["mx.mailgate.example"]
agent_domains = ["desk.example"]
"""

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus directory absent: {CORPUS}")


@dataclass
class Fact:
    file: str
    key: str
    expected: object
    actual: object
    ok: bool


def _name(text: str) -> str:
    """OTOBO sanitises file names (spaces/punctuation -> _); compare both sides in that form."""
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"_+", "_", re.sub(r"[^\w.\-]", "_", text))


def _pairs(value: object) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(n, a.lower()) for n, a in getaddresses([value]) if a]
    return [(str(n), str(a).lower()) for n, a in value]  # type: ignore[union-attr]


def _att_names(p: ParsedMessage) -> list[str]:
    return [a.filename or (a.content_id or "") for a in p.attachments]


def _attachment_file_facts(p: ParsedMessage, files: list[dict[str, object]]) -> Iterator[tuple[str, object, object]]:
    by_name = {_name(a.filename): a for a in p.attachments if a.filename}
    for i, want in enumerate(files):
        if want.get("content_alternative") is True and "filename" not in want:
            continue  # OTOBO's view of the HTML alternative: the gateway keeps it as the html body
        name = want.get("filename")
        if name is None:
            if "md5" in want:  # nameless: some attachment with that content
                got = any(a.content and hashlib.md5(a.content).hexdigest() == want["md5"] for a in p.attachments)
                kept = any(a.content for a in p.attachments)
                if kept:
                    yield f"attachment_files[{i}].md5", want["md5"], got
            continue
        if name == "file-1":
            continue  # OTOBO's name for the (empty) body part, not an attachment
        att = by_name.get(_name(str(name)))
        yield f"attachment_files[{i}].filename", _name(str(name)), _name(att.filename) if att else None
        if att is None:
            continue
        if "size" in want:
            yield f"attachment_files[{i}].size", want["size"], att.size
        if "md5" in want and att.content:
            yield f"attachment_files[{i}].md5", want["md5"], hashlib.md5(att.content).hexdigest()
        if "disposition" in want:
            yield f"attachment_files[{i}].disposition", want["disposition"], att.disposition


def _facts(source: str, exp: dict[str, object], p: ParsedMessage, v: GuardVerdict,
           ex: dict[str, object]) -> Iterator[tuple[str, object, object]]:
    """`ex` is what `mailgate explain --json` prints for the message: subject, sender, Message-ID and bounce
    are taken from it; attachments, bodies and recipients (not in explain's output) from parse/guards."""
    for key, want in exp.items():
        if key.startswith("_"):
            continue
        if key == "subject":
            # RT stores at most 200 characters of a subject (its column width); compare what it can hold.
            subject = str(ex["subject"])
            yield key, want, subject[:200] if source == "rt" else subject
        elif key == "message_id":
            yield key, want, ex["message_id"]
        elif key == "from_email":
            yield key, want, ex["from"]
        elif key in ("from", "to", "cc") and source == "otobo":
            # OTOBO asserts the decoded header text (GetParam, re-quoted its own way): compare the
            # (name, address) pairs read from its text and from the gateway's decoded header.
            yield key, getaddresses([str(want)]), getaddresses(p.header_values(key))
        elif key == "from":
            pairs = _pairs(want)
            yield "from.address", pairs[0][1] if pairs else None, ex["from"]
            if pairs and pairs[0][0]:
                yield "from.name", pairs[0][0], p.from_name
        elif key in ("to", "cc", "reply_to"):
            got = {"to": p.to, "cc": p.cc, "reply_to": p.reply_to}[key]
            yield key, [a for _, a in _pairs(want)], got
        elif key == "to_count":
            yield key, want, len(p.to)
        elif key == "to_first_email":
            yield key, want, p.to[0] if p.to else None
        elif key == "date_utc":
            yield key, want, p.date.astimezone(UTC).isoformat() if p.date else None
        elif key == "attachments":
            yield key, want, len(p.attachments)
        elif key == "attachment_filenames" and source == "otobo":
            # OTOBO's tests assert the named attachments they care about: each must be among ours.
            wanted = Counter(_name(str(n)) for n in want)  # type: ignore[union-attr]
            yield key, sorted(wanted.elements()), sorted((wanted & Counter(_name(n) for n in _att_names(p))).elements())
        elif key == "attachment_filenames":
            yield key, sorted(_name(str(n)) for n in want), sorted(_name(n) for n in _att_names(p))  # type: ignore[union-attr]
        elif key == "attachment_files":
            yield from _attachment_file_facts(p, want)  # type: ignore[arg-type]
        elif key in ("has_defects",):
            yield key, want, bool(p.defects)
        elif key in ("defects_categories", "defects_categories_contains"):
            yield key, sorted(want), sorted(set(want) & set(p.defects))  # type: ignore[arg-type]
        elif key == "is_outlook_msg":
            yield "unreadable(outlook .msg)", want, not p.readable
        elif key == "body_contains":
            yield key, want, re.search(str(want), p.text + "\n" + (p.html or "")) is not None and want
        elif key == "body_nonempty":
            yield key, want, bool(p.text.strip())
        elif key == "body_content_type":
            yield key, want, p.body_type
        elif key == "is_bounce":
            yield key, want, ex["bounce"]
        elif key == "bounce_kind" and exp.get("is_bounce"):
            # "temporary (delay warning)" and "temporary" are the same kind
            yield key, str(want).split()[0], v.bounce_kind
        elif key == "failed_recipients":
            # every asserted address is among the gateway's (shown: the asserted ones it found)
            wanted = sorted({str(a).lower() for a in want})  # type: ignore[union-attr]
            yield key, wanted, sorted(set(wanted) & set(v.bounced_recipients))
        elif key == "failed_recipient_count":
            yield key, want, len(v.bounced_recipients)
        elif key == "is_auto_reply":
            # sisimai's "vacation": an automatic answer that is not a bounce, nor an ARF feedback report,
            # nor a delivery report that says the mail arrived
            reports = {"feedback_report", "delivery_report:delivered"}
            yield key, want, v.auto_reply and not v.bounce and not reports & set(v.reasons)
        elif key == "is_auto_generated":
            yield key, want, v.no_auto_answer


def _corpus() -> Iterator[tuple[str, Path, dict[str, object]]]:
    for expected_file in sorted(CORPUS.glob("*/expected.json")):
        source = expected_file.parent
        expected = json.loads(expected_file.read_text())
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source).as_posix()
            if not path.is_file() or rel in ("expected.json", "EXPECTED.md") or rel.startswith("LICENSE"):
                continue
            yield f"{source.name}/{rel}", path, expected.get(rel, {})


@pytest.fixture(scope="module")
def results() -> tuple[list[Fact], list[str], int]:
    config = parse_config(tomllib.loads(CONFIG), "<conformance>", Path("."))
    rules = load_rules(config.rules_path)
    facts: list[Fact] = []
    crashes: list[str] = []
    count = 0
    for name, path, exp in _corpus():
        count += 1
        try:
            raw = path.read_bytes()
            explained = explain_bytes(raw, rules, config, KEY, True)  # the explain path, as the CLI runs it
            json.loads(to_json(_Explained(name, explained)))
            p = parse_message(raw)
            v = inspect(p, own_addresses={config.gateway.address}, key=KEY)
            found = _facts(name.split("/", 1)[0], exp, p, v, explained)
            facts.extend(Fact(name, k, want, got, want == got) for k, want, got in found)
        except Exception as exc:  # a crash is itself the finding
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
    return facts, crashes, count


def test_corpus_no_crash(results: tuple[list[Fact], list[str], int]) -> None:
    facts, crashes, count = results
    assert count > 800, f"expected the whole corpus, read {count} messages"
    assert crashes == []


def test_corpus_agreement(results: tuple[list[Fact], list[str], int], capsys: pytest.CaptureFixture[str]) -> None:
    facts, crashes, count = results
    bad = [f for f in facts if not f.ok]
    pct = 100.0 * (len(facts) - len(bad)) / len(facts)
    lines = [f"corpus conformance: {len(facts) - len(bad)}/{len(facts)} facts agree = {pct:.2f}% "
             f"over {count} messages, {len(crashes)} crashes"]
    lines += [f"DISAGREE {f.file} {f.key}: expected {f.expected!r} got {f.actual!r}" for f in bad]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    with capsys.disabled():  # shown in every run, not only on failure
        print("\n" + "\n".join(lines))
    assert len(facts) > 2000
    assert pct >= TARGET, f"{pct:.2f}% < {TARGET}% (see {REPORT})"
