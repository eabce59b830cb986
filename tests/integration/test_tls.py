"""IMAP over implicit TLS and STARTTLS against a Dovecot with its own certificate; an untrusted certificate
is refused (the gateway never falls back to plain text)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import GatewayProcess, assert_escalations_delivered_once
from servers import Dovecot, SmtpPeer, append, escalation_request, gateway_config

pytestmark = pytest.mark.integration


@pytest.fixture
def tls_dovecot() -> Iterator[Dovecot]:
    with Dovecot(tls=True) as server:
        yield server


def _gateway(tmp_path: Path, dovecot: Dovecot, peer: SmtpPeer, security: str) -> GatewayProcess:
    state = tmp_path / "state"
    state.mkdir()
    cfg = gateway_config(dovecot, peer, state)
    port = dovecot.tls_port if security == "tls" else dovecot.port
    text = cfg.read_text().replace(f'host = "127.0.0.1"\nport = {dovecot.port}\nsecurity = "plain"',
                                   f'host = "localhost"\nport = {port}\nsecurity = "{security}"', 1)
    assert f'security = "{security}"' in text
    cfg.write_text(text)
    return GatewayProcess(cfg, state)


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_imap_over_tls_and_starttls(tmp_path: Path, tls_dovecot: Dovecot, security: str):
    with SmtpPeer() as peer:
        append(tls_dovecot, [escalation_request(3101)])
        gw = _gateway(tmp_path, tls_dovecot, peer, security)
        assert gw.run_once(env={"SSL_CERT_FILE": str(tls_dovecot.ca_file)}) == 0
        assert_escalations_delivered_once(gw, peer, 1)


def test_untrusted_certificate_is_refused_and_nothing_is_read(tmp_path: Path, tls_dovecot: Dovecot):
    with SmtpPeer() as peer:
        append(tls_dovecot, [escalation_request(3201)])
        gw = _gateway(tmp_path, tls_dovecot, peer, "tls")
        env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"}
        env["SSL_CERT_FILE"] = str(tmp_path / "empty-ca.pem")
        (tmp_path / "empty-ca.pem").write_text("")
        assert gw.run_once(env=env) == 1
        assert "mailbox unreachable" in (gw.state_dir / "once.log").read_text()
        with gw.store() as store:
            assert store.count_raw() == 0
        assert peer.handler.received == []
