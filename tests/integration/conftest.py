"""Fixtures for the integration tests: a real Dovecot, an aiosmtpd peer, and `mailgate run` as a real process.
Helpers live in harness.py and servers.py (import them from there, not from this module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import GatewayProcess
from servers import Dovecot, SmtpPeer, gateway_config


@pytest.fixture
def smtp_peer(dovecot: Dovecot) -> Iterator[SmtpPeer]:
    with SmtpPeer(sent_folder=dovecot) as peer:
        yield peer


@pytest.fixture
def make_gateway(tmp_path: Path, dovecot: Dovecot, smtp_peer: SmtpPeer) -> Iterator:
    made: list[GatewayProcess] = []

    def make(**extra: str) -> GatewayProcess:
        state = tmp_path / f"state{len(made)}"
        state.mkdir()
        gw = GatewayProcess(gateway_config(dovecot, smtp_peer, state, **extra), state)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.stop()
