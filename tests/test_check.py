"""`mailgate check`: every configuration error at once (exit 2, naming file, key and what was expected);
connections to IMAP, SMTP and Zendesk reported one line each (exit 1 on a failure); never a secret."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from gateway.cli import main

sys.path.insert(0, str(Path(__file__).parent / "integration"))
from fake_zendesk import FakeZendesk  # noqa: E402
from servers import PASSWORD, USER, Dovecot, SmtpPeer, free_port  # noqa: E402

IMAP_SECRET = "imap-Pa55word-that-must-never-print"
SMTP_SECRET = "smtp-Pa55word-that-must-never-print"
ZENDESK_SECRET = "zendesk-token-that-must-never-print"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def _write_config(tmp_path: Path, sections: str = "") -> Path:
    """A valid [gateway] and [trust] with the state under tmp_path, then the test's own sections."""
    return _write(tmp_path, f"""
[gateway]
address = "escalations@example.org"
state_dir = "{tmp_path / 'state'}"
[trust]
authserv_ids = ["mx.example.org"]
""" + sections)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_all_config_errors_at_once_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, f"""
[gateway]
address = "not-an-address"
state_dir = "{tmp_path / 'state'}"
colour = "blue"
[trust]
authserv_ids = ["mx.example.org"]
[desk_hours]
hours = "9 to 5"
[mailbox]
kind = "imap"
[mailbox.imap]
host = "imap.example.org"
password = "{IMAP_SECRET}"
""")
    code, out, err = _run(capsys, "--config", str(path))
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("config error:")]
    keys = {line.split(": ")[2] for line in lines}
    assert {"gateway.address", "gateway.colour", "desk_hours.hours", "mailbox.imap.password"} <= keys
    assert all(str(path) in line for line in lines)
    assert "expected HH:MM-HH:MM" in err and "unknown key" in err and "password_file" in err
    assert IMAP_SECRET not in out + err
    assert "config: ok" not in out


def test_service_keys_missing_for_the_chosen_mailbox_are_config_errors(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_config(tmp_path, """
[mailbox]
kind = "imap"
[transport]
kind = "smtp"
[scrub]
model = "no_such_spacy_model_xyz"
""")
    code, _, err = _run(capsys, "--config", str(path), "--no-connect")
    assert code == 2
    assert "mailbox.imap.host" in err and "transport.smtp.host" in err
    assert "scrub.model: spaCy model 'no_such_spacy_model_xyz' is not installed" in err


def test_failed_connections_are_reported_exit_1_without_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MG_TEST_SMTP_PASSWORD", SMTP_SECRET)
    (tmp_path / "imap-password").write_text(IMAP_SECRET)
    closed = free_port()
    path = _write_config(tmp_path, f"""
[mailbox]
kind = "imap"
[mailbox.imap]
host = "127.0.0.1"
port = {closed}
security = "plain"
username = "gateway"
password_file = "imap-password"
timeout_seconds = 3
[transport]
kind = "smtp"
[transport.smtp]
host = "127.0.0.1"
port = {closed}
security = "plain"
username = "gateway"
password = "${{MG_TEST_SMTP_PASSWORD}}"
timeout_seconds = 3
""")
    code, out, err = _run(capsys, "--config", str(path))
    assert code == 1
    assert "config: ok" in out
    assert f"imap: failed: cannot connect to 127.0.0.1:{closed}" in err
    assert f"smtp: failed: cannot talk to 127.0.0.1:{closed}" in err
    assert IMAP_SECRET not in out + err and SMTP_SECRET not in out + err


def test_a_file_outbox_and_maildir_need_no_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    os.chmod(state, 0o755)
    path = _write_config(tmp_path)
    code, out, _ = _run(capsys, "--config", str(path))
    assert code == 0
    assert "mailbox: " in out and "transport: ok (file outbox" in out
    assert "make it 0700" in out  # the state directory holds raw mail: a loose mode is called out


def _live_config(tmp_path: Path, dovecot: Dovecot, peer: SmtpPeer, zendesk: FakeZendesk, password: str) -> Path:
    (tmp_path / "imap-password").write_text(password)
    (tmp_path / "zendesk-token").write_text(ZENDESK_SECRET)
    return _write_config(tmp_path, f"""
[mailbox]
kind = "imap"
[mailbox.imap]
host = "127.0.0.1"
port = {dovecot.port}
security = "plain"
username = "{USER}"
password_file = "imap-password"
timeout_seconds = 10
[transport]
kind = "smtp"
[transport.smtp]
host = "127.0.0.1"
port = {peer.port}
security = "plain"
auth = "none"
timeout_seconds = 10
[zendesk]
url = "{zendesk.url}"
email = "bot@example.org"
api_token_file = "zendesk-token"
""")


@pytest.mark.integration
def test_live_servers_ok_and_nothing_sent(tmp_path: Path, dovecot: Dovecot, capsys: pytest.CaptureFixture[str]) -> None:
    peer = SmtpPeer()
    peer.start()
    try:
        with FakeZendesk(token=ZENDESK_SECRET) as zendesk:
            code, out, err = _run(capsys, "--config", str(_live_config(tmp_path, dovecot, peer, zendesk, PASSWORD)))
    finally:
        peer.stop()
    assert code == 0, err
    assert f"imap: ok (127.0.0.1:{dovecot.port}" in out and "folder 'INBOX'" in out
    assert f"smtp: ok (127.0.0.1:{peer.port}" in out and "sent nothing" in out
    assert "zendesk: ok" in out
    assert peer.handler.received == []
    assert PASSWORD not in out + err and ZENDESK_SECRET not in out + err


@pytest.mark.integration
def test_live_wrong_password_is_a_refused_login(tmp_path: Path, dovecot: Dovecot,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    peer = SmtpPeer()
    peer.start()
    try:
        with FakeZendesk(token="another-token") as zendesk:
            code, out, err = _run(capsys, "--config",
                                  str(_live_config(tmp_path, dovecot, peer, zendesk, IMAP_SECRET)))
    finally:
        peer.stop()
    assert code == 1
    assert f"imap: failed: login to 127.0.0.1:{dovecot.port}" in err
    assert "zendesk: " in err  # the wrong token is reported too
    assert "smtp: ok" in out
    assert IMAP_SECRET not in out + err and ZENDESK_SECRET not in out + err


def test_smtp_auth_is_tried_and_a_refusal_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server: object, session: object, envelope: object, mechanism: str, auth_data: object) -> object:
        ok = getattr(auth_data, "password", b"") == SMTP_SECRET.encode()
        return AuthResult(success=ok, handled=False)

    class Nothing:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            raise AssertionError("check must send nothing")

    port = free_port()
    controller = Controller(Nothing(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        for password, expect in ((SMTP_SECRET, 0), ("wrong-" + SMTP_SECRET, 1)):
            monkeypatch.setenv("MG_TEST_SMTP_PASSWORD", password)
            path = _write_config(tmp_path, f"""
[transport]
kind = "smtp"
[transport.smtp]
host = "127.0.0.1"
port = {port}
security = "plain"
username = "gateway"
password = "${{MG_TEST_SMTP_PASSWORD}}"
timeout_seconds = 5
""")
            code, out, err = _run(capsys, "--config", str(path))
            assert code == expect, out + err
            assert SMTP_SECRET not in out + err
            if expect == 0:
                assert f"smtp: ok (127.0.0.1:{port} (plain, auth password), sent nothing)" in out
            else:
                assert f"smtp: failed: 127.0.0.1:{port} (plain, auth password) answered 535" in err
    finally:
        controller.stop()
