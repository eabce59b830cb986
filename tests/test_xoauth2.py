"""XOAUTH2: the SASL string, and token providers that refresh before expiry."""

from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import pytest

from gateway.xoauth2 import (
    REFRESH_MARGIN_SECONDS,
    CommandTokenProvider,
    FileTokenProvider,
    TokenError,
    provider_from_config,
    sasl_base64,
    sasl_string,
)


def test_sasl_string_matches_the_xoauth2_format():
    assert sasl_string("box@example.org", "ya29.tok") == "user=box@example.org\x01auth=Bearer ya29.tok\x01\x01"
    assert base64.b64decode(sasl_base64("u", "t")) == b"user=u\x01auth=Bearer t\x01\x01"


def test_file_provider_reads_bare_or_json_and_rereads_when_the_file_changes(tmp_path: Path):
    f = tmp_path / "token"
    f.write_text("first-token\n")
    p = FileTokenProvider(f)
    assert p.token() == "first-token"
    f.write_text('{"access_token": "second-token", "expires_in": 3599}')
    os.utime(f, (1, 2_000_000_000))  # a new mtime, as an external refresher would leave
    assert p.token() == "second-token"


def test_file_provider_errors_name_the_file_not_the_token(tmp_path: Path):
    with pytest.raises(TokenError, match="unreadable"):
        FileTokenProvider(tmp_path / "missing").token()
    (tmp_path / "empty").write_text("  \n")
    with pytest.raises(TokenError, match="empty"):
        FileTokenProvider(tmp_path / "empty").token()


def _counting_command(tmp_path: Path, expires_in: int) -> str:
    script = tmp_path / "issue.py"
    script.write_text(
        "import pathlib, json\n"
        f"c = pathlib.Path({str(tmp_path / 'count')!r})\n"
        "n = int(c.read_text()) + 1 if c.exists() else 1\n"
        "c.write_text(str(n))\n"
        f"print(json.dumps({{'access_token': f'tok-{{n}}', 'expires_in': {expires_in}}}))\n")
    return f"{sys.executable} {script}"


def test_command_provider_keeps_the_token_until_shortly_before_expiry(tmp_path: Path):
    now = [1000.0]
    p = CommandTokenProvider(_counting_command(tmp_path, 3600), monotonic=lambda: now[0])
    assert p.token() == "tok-1"
    now[0] += 3600 - REFRESH_MARGIN_SECONDS - 1
    assert p.token() == "tok-1"
    now[0] += 2  # inside the refresh margin: a new token before the old one dies
    assert p.token() == "tok-2"


def test_command_provider_failure_is_a_token_error(tmp_path: Path):
    with pytest.raises(TokenError, match="exited 3"):
        CommandTokenProvider(f"{sys.executable} -c 'raise SystemExit(3)'").token()


def test_provider_from_config_prefers_the_file(tmp_path: Path):
    assert isinstance(provider_from_config(str(tmp_path / "t"), "echo x"), FileTokenProvider)
    assert isinstance(provider_from_config("", "echo x"), CommandTokenProvider)
    assert provider_from_config("", "") is None
