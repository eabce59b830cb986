"""`mailgate explain`: one answer per file in input order, exit codes, no store, no Presidio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from classify_support import CONFIG_TOML, FIXTURES

from gateway.cli import main
from gateway.explain import UNVERIFIED_HIT
from gateway.msgid import make_message_id

KEYS = ["file", "message_id", "in_reply_to", "references", "from", "subject", "date", "vendor", "trusted", "event",
        "vendor_ticket", "zendesk_ticket", "end_user_email", "ticket_numbers", "auto_reply", "out_of_office",
        "bounce", "bounced_message_id", "defects", "rule_hits"]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_TOML)
    return path


def _json_lines(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_json_one_object_per_file_in_input_order(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [FIXTURES / "offsite_ack_update_you.eml", FIXTURES / "bounce_of_escalation.eml",
             FIXTURES / "idme_ack_autosubmitted.eml"]
    assert main(["explain", "--config", str(cfg), "--json", *map(str, files)]) == 0
    objs = _json_lines(capsys.readouterr().out)
    assert [o["file"] for o in objs] == [str(f) for f in files]
    assert all(list(o) == KEYS for o in objs)
    ack, bounce, idme = objs
    assert (ack["vendor"], ack["event"], ack["vendor_ticket"], ack["zendesk_ticket"]) == ("offsite", "ack", "20417",
                                                                                        "48377")
    assert ack["ticket_numbers"] == [{"system": "generic", "number": "20417"}]
    assert ack["date"] == "2026-11-20T17:00:00+00:00"
    assert bounce["bounce"] and bounce["bounced_message_id"] == "<mg.2.bbbbbbbbbbbb.111111111111@example.org>"
    assert idme["auto_reply"] and idme["event"] == "ack" and idme["end_user_email"] == "dr.whitfield@clinic.example"
    assert any(h.startswith("event:ack") for h in idme["rule_hits"])


def test_readable_block(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--config", str(cfg), str(FIXTURES / "idme_out_of_office_person.eml")]) == 0
    out = capsys.readouterr().out
    assert "event:           other" in out
    assert "guards:          auto_reply, out_of_office" in out
    assert "skip:out_of_office" in out


def test_missing_file_is_reported_and_the_others_still_answered(cfg: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.eml"
    rc = main(["explain", "--config", str(cfg), "--json", str(missing), str(FIXTURES / "offsite_newsletter.eml")])
    captured = capsys.readouterr()
    assert rc == 1
    assert str(missing) in captured.err
    assert [o["file"] for o in _json_lines(captured.out)] == [str(FIXTURES / "offsite_newsletter.eml")]


def test_unreadable_bytes_are_answered_with_defects(cfg: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff\xfe" * 50)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    assert main(["explain", "--config", str(cfg), "--json", str(junk), str(empty)]) == 0
    objs = _json_lines(capsys.readouterr().out)
    assert len(objs) == 2 and all(o["event"] == "other" for o in objs)
    assert objs[1]["defects"]


def test_without_token_key_explain_says_it_cannot_verify_our_tokens(cfg: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    main(["explain", "--config", str(cfg), "--json", str(FIXTURES / "offsite_ack_update_you.eml")])
    assert UNVERIFIED_HIT in _json_lines(capsys.readouterr().out)[0]["rule_hits"]


def test_with_token_key_our_own_mail_is_recognised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MG_TEST_TOKEN_KEY", "k" * 32)
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG_TOML.replace("[trust]", 'token_key = "${MG_TEST_TOKEN_KEY}"\n[trust]'))
    own = make_message_id(b"k" * 32, 7, "example.org")
    eml = tmp_path / "own.eml"
    eml.write_bytes(f"From: someone@vendor.example\nMessage-ID: {own}\nSubject: x\n\nbody\n".encode())
    assert main(["explain", "--config", str(cfg), "--json", str(eml)]) == 0
    hits = _json_lines(capsys.readouterr().out)[0]["rule_hits"]
    assert UNVERIFIED_HIT not in hits
    assert "own_mail" in hits and "guard:loop:own_message_id" in hits


def test_explain_imports_no_presidio_and_creates_no_state(tmp_path: Path, cfg: Path) -> None:
    probe = (
        "import sys\n"
        "from gateway.cli import main\n"
        f"rc = main(['explain', '--config', {str(cfg)!r}, '--json', {str(FIXTURES / 'agent_commands.eml')!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('presidio_analyzer', 'presidio_anonymizer',"
        " 'spacy', 'thinc'))\n"
        "print('HEAVY', heavy, 'RC', rc)\n"
    )
    env = {**os.environ, "MAILGATE_STATE_DIR": str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "HEAVY [] RC 0" in out
    assert not (tmp_path / "state").exists() and not (tmp_path / "var").exists()


def test_standard_input(cfg: Path) -> None:
    raw = (FIXTURES / "offsite_ack_update_you.eml").read_bytes()
    out = subprocess.run([sys.executable, "-m", "gateway.cli", "explain", "--config", str(cfg), "--json", "-"],
                         input=raw, capture_output=True, check=True).stdout
    (obj,) = _json_lines(out.decode())
    assert obj["file"] == "-" and obj["event"] == "ack"
