"""Shared fixtures. Engineers add fixtures in their own test modules or tests/<area>/conftest.py."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
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


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`mailgate run` (and the logging tests) install the safe handler and stop propagation on the 'mailgate'
    logger; put both loggers back so later tests (caplog) see the records."""
    root, ours = logging.getLogger(), logging.getLogger("mailgate")
    saved = (root.handlers[:], root.level, ours.handlers[:], ours.level, ours.propagate)
    yield
    root.handlers[:], ours.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    ours.setLevel(saved[3])
    ours.propagate = saved[4]
