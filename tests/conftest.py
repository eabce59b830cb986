"""Shared fixtures. Engineers add fixtures in their own test modules or tests/<area>/conftest.py."""

from __future__ import annotations

import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.runtime import Runtime

AGENT_CONFIG = """\
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
agent_domains = ["drchrono.com"]
"""

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

# The real-server fixtures (the `dovecot` fixture) live in tests/integration/servers.py.
sys.path.insert(0, str(Path(__file__).parent / "integration"))
pytest_plugins = ["servers"]


def make_config(state_dir: Path, text: str = AGENT_CONFIG) -> Config:
    return parse_config(tomllib.loads(text), "<test>", state_dir, state_dir=str(state_dir))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # Monday 9 am Pacific


@pytest.fixture
def runtime(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    rt = Runtime.open(make_config(tmp_path / "state"), clock=clock)
    yield rt
    rt.close()
