"""The command line: every command has --help; commands not built yet say so plainly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]


def test_top_level_help_lists_every_command() -> None:
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "mailgate"), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for name in COMMANDS:
        assert name in proc.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: mailgate" in capsys.readouterr().out


def test_replay_imports_history_once(tmp_path: Path) -> None:
    mail = tmp_path / "old"
    mail.mkdir()
    (mail / "1.eml").write_bytes(b"From: x@unknown.example\r\nSubject: hi\r\nMessage-ID: <h1@x>\r\n\r\nhello\r\n")
    cmd = [sys.executable, "-m", "gateway.cli", "replay", "--state-dir", str(tmp_path / "s"), str(mail)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stderr
    assert "1 new message(s) stored" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    assert "0 new message(s) stored" in second.stdout
