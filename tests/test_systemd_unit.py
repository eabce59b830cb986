"""systemd/mailgate.service: the directives the operations section promises, and `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "mailgate.service"


def _service_lines() -> list[str]:
    return [line.strip() for line in UNIT.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_unit_declares_notify_watchdog_dynamic_user_credentials_and_hardening():
    lines = _service_lines()
    for wanted in ("Type=notify", "WatchdogSec=60s", "DynamicUser=yes", "StateDirectory=mailgate",
                   "ProtectSystem=strict", "ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes"):
        assert wanted in lines, wanted
    assert any(line.startswith("LoadCredential=imap-password:") for line in lines)
    exec_start = next(line for line in lines if line.startswith("ExecStart="))
    assert exec_start.split("=", 1)[1].split()[:2] == ["/opt/mailgate/.venv/bin/mailgate", "run"]


def test_unit_parses_as_ini_with_the_three_sections():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    assert parser.sections() == ["Unit", "Service", "Install"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_passes(tmp_path: Path):
    # verify checks that ExecStart exists; point it at this checkout's entry point instead of /opt/mailgate.
    mailgate = Path(sys.executable).with_name("mailgate")
    unit = tmp_path / "mailgate.service"
    unit.write_text(UNIT.read_text().replace("/opt/mailgate/.venv/bin/mailgate", str(mailgate)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "mailgate.service" not in done.stderr, done.stderr
