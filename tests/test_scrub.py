"""The scrubber on the labelled escalations of tests/scrub_cases: what must go goes, what must stay stays,
and a second scan of the result finds nothing. Plus offline operation and `mailgate scrub`."""

from __future__ import annotations

import io
import json
import socket
import tomllib
from pathlib import Path

import pytest

from gateway import public_suffix as offline_mod
from gateway.cli import main
from gateway.config import ScrubSection
from gateway.fields import extract_fields
from gateway.rules import load_rules
from gateway.scrub import Scrubber, get_scrubber

CASES_DIR = Path(__file__).parent / "scrub_cases"
RULES = load_rules(Path(__file__).resolve().parents[1] / "rules")


def _cases() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.toml")):
        cases.extend(tomllib.loads(path.read_text(encoding="utf-8"))["case"])
    return cases


CASES = _cases()


@pytest.fixture(scope="session")
def scrubber() -> Scrubber:
    return get_scrubber(ScrubSection())


def test_labelled_set_is_large_and_covers_both_vendors() -> None:
    assert len(CASES) >= 40
    assert {c["vendor"] for c in CASES} == {"idme", "offsite"}
    assert len({c["name"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_removes_and_keeps(scrubber: Scrubber, case: dict) -> None:
    fields = extract_fields(case["text"], RULES[case["vendor"]])
    result = scrubber.scrub(case["text"], keep=case.get("keep", []), fields=fields)
    leaked = [v for v in case["must_remove"] if v in result.text]
    lost = [v for v in case["must_keep"] if v not in result.text]
    assert not leaked, f"left in: {leaked}"
    assert not lost, f"removed but needed: {lost}"
    again = scrubber.scrub(result.text, keep=case.get("keep", []), fields=fields)
    assert again.findings == [], "a second scan still finds something"


def test_replacements_are_typed_and_findings_point_at_the_values(scrubber: Scrubber) -> None:
    text = "PIN 7302 for patient Jane Doe, DOB 04/12/1961, MRN 00482913, code 482 913."
    result = scrubber.scrub(text)
    for marker in ("[support PIN removed]", "[patient name removed]", "[date of birth removed]", "[MRN removed]",
                   "[MFA code removed]"):
        assert marker in result.text
    removed = {text[f.start:f.end]: f.entity_type for f in result.findings}
    assert removed == {"7302": "SUPPORT_PIN", "Jane Doe": "PATIENT_NAME", "04/12/1961": "DATE_OF_BIRTH",
                       "00482913": "MRN", "482 913": "MFA_CODE"}
    assert result.categories == ["support PIN", "patient name", "date of birth", "MRN", "MFA code"]


def test_keep_list_protects_contacts_but_never_secrets(scrubber: Scrubber) -> None:
    text = "Phone: 503-555-0187 PIN 7302\nCall Jane Doe at 503-555-0187 or janedoe@clinicmail.com."
    kept = scrubber.scrub(text, keep=["Jane Doe", "janedoe@clinicmail.com", "503-555-0187"])
    assert "Jane Doe" in kept.text and "janedoe@clinicmail.com" in kept.text
    assert kept.text.count("503-555-0187") == 2
    assert "7302" not in kept.text
    assert "janedoe@clinicmail.com" in kept.kept
    plain = scrubber.scrub(text)
    assert "janedoe@clinicmail.com" not in plain.text and "503-555-0187" not in plain.text


def test_stock_spacy_components_are_not_loaded(scrubber: Scrubber) -> None:
    # The small model ships tok2vec, tagger, parser, attribute_ruler, lemmatizer and ner; only NER is needed.
    assert scrubber._nlp.get_nlp("en").pipe_names == ["ner"]


def test_no_network_at_run_time(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    def no_dns(host: object, *args: object, **kwargs: object) -> list[object]:
        attempts.append(host)
        raise socket.gaierror("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    import tldextract.tldextract as tld

    # Without the offline switch tldextract tries to fetch the public suffix list (proves the guard works).
    monkeypatch.delenv("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", raising=False)
    tld.TLDExtract(cache_dir=None)("someone@clinic.co.uk")
    assert attempts, "expected the stock extractor to try the network"
    attempts.clear()
    monkeypatch.setattr(offline_mod, "_done", False)
    monkeypatch.setattr(tld, "TLD_EXTRACTOR", tld.TLD_EXTRACTOR)
    offline_mod.make_tldextract_offline()
    result = get_scrubber(ScrubSection()).scrub("Write to pat.ient@mail.co.uk today.")
    assert "pat.ient@mail.co.uk" not in result.text
    assert attempts == []


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_one_object_per_input_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    a = tmp_path / "a.txt"
    a.write_text("Patient Jane Doe, DOB 04/12/1961.\n")
    b = tmp_path / "b.txt"
    b.write_text("Sign-up email: dr.a@clinicmail.com\nNothing else.\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("support PIN 7302 for Bob Smith\n"))
    code, out, _ = _run_cli(["scrub", "--json", "--vendor", "idme", "--keep", "Bob Smith", str(a), "-", str(b)],
                            capsys)
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    assert len(objs) == 3
    assert "[patient name removed]" in objs[0]["text"]
    assert {f["entity_type"] for f in objs[0]["findings"]} == {"PATIENT_NAME", "DATE_OF_BIRTH"}
    assert set(objs[0]["findings"][0]) == {"entity_type", "start", "end", "score"}
    assert objs[1]["text"] == "support PIN [support PIN removed] for Bob Smith\n"
    assert objs[2]["findings"] == [] and objs[2]["kept"] == ["dr.a@clinicmail.com"]


def test_cli_text_output_and_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a.txt"
    a.write_text("MRN 12345678 for pt bob jones\n")
    code, out, err = _run_cli(["scrub", str(a), str(tmp_path / "missing.txt")], capsys)
    assert code == 1
    assert out == "MRN [MRN removed] for pt [patient name removed]\n"
    assert "cannot read" in err


def test_cli_unknown_model_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[gateway]\naddress = "gw@example.org"\n[trust]\nauthserv_ids = ["mx"]\n'
                   '[scrub]\nmodel = "no_such_model_xx"\n')
    (tmp_path / "t.txt").write_text("hello\n")
    code, out, err = _run_cli(["scrub", "--config", str(cfg), str(tmp_path / "t.txt")], capsys)
    assert code == 2 and out == ""
    assert "[scrub] model" in err and "no_such_model_xx" in err


def test_vocabulary_does_not_grow_with_each_message(scrubber: Scrubber) -> None:
    # A daemon scrubs mail for months: unseen tokens must not pile up in spaCy's string store.
    strings = scrubber._nlp.get_nlp("en").vocab.strings
    scrubber.scrub("warm up Zq0x1")
    before = len(strings)
    for i in range(20):
        scrubber.scrub(f"Ticket note Qz{i}unseen{i * 7919} for chart {i * 104729}")
    assert len(strings) == before
