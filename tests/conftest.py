"""Shared fixtures. Engineers add fixtures in their own test modules or tests/<area>/conftest.py."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ops_mail import make_config

from gateway.clock import ManualClock
from gateway.runtime import Runtime

# The real-server fixtures (the `dovecot` fixture) live in tests/integration/servers.py.
sys.path.insert(0, str(Path(__file__).parent / "integration"))
pytest_plugins = ["servers"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # Monday 9 am Pacific


@pytest.fixture
def runtime(tmp_path: Path, clock: ManualClock):  # type: ignore[no-untyped-def]
    rt = Runtime.open(make_config(tmp_path / "state"), clock=clock)
    yield rt
    rt.close()
