"""`mailgate run`: --once over a Maildir with the file outbox (no servers), --dry-run, and refusing to start
on a missing key, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ops_mail import AGENT_CONFIG
from servers import escalation_request

from gateway.cli import EXIT_CONFIG, main
from gateway.sources.maildir import deliver_to_maildir
from gateway.store import Store

CONFIG = AGENT_CONFIG + "[metrics]\nenabled = false\n"


def _setup(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    state = tmp_path / "state"
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG + extra)
    state.mkdir()
    deliver_to_maildir(state / "Maildir", escalation_request(4242))
    return cfg, state


def _kinds(state: Path) -> dict[str, str]:
    store = Store(state)
    try:
        return {item.kind: item.status for item in store.outbox_items()}
    finally:
        store.close()


def test_once_handles_the_waiting_mail_and_exits(tmp_path: Path):
    cfg, state = _setup(tmp_path)
    assert main(["run", "--config", str(cfg), "--state-dir", str(state), "--once"]) == 0
    assert _kinds(state)["escalation"] == "sent"
    assert len(list((state / "outbox").glob("*.eml"))) == len(_kinds(state))
    # A second --once finds nothing new and sends nothing again.
    assert main(["run", "--config", str(cfg), "--state-dir", str(state), "--once"]) == 0
    assert len(list((state / "outbox").glob("*.eml"))) == len(_kinds(state))


def test_dry_run_marks_rows_and_writes_nothing(tmp_path: Path):
    cfg, state = _setup(tmp_path)
    assert main(["run", "--config", str(cfg), "--state-dir", str(state), "--once", "--dry-run"]) == 0
    assert _kinds(state)["escalation"] == "dry_run"
    assert not list((state / "outbox").glob("*.eml"))


@pytest.mark.parametrize(("extra", "key"), [
    ('[mailbox]\nkind = "imap"\n', "mailbox.imap.host"),
    ('[transport]\nkind = "smtp"\n', "transport.smtp.host"),
    ('[mailbox]\nkind = "imap"\n[mailbox.imap]\nhost = "imap.example.org"\nusername = "u"\nauth = "xoauth2"\n',
     "oauth"),
    ('[mailbox]\nkind = "imap"\n[mailbox.imap]\nhost = "imap.example.org"\nusername = "u"\n'
     'password = "${MAILGATE_TEST_PW}"\nsecurity = "plain"\n', "mailbox.imap.security"),
])
def test_missing_or_unsafe_settings_refuse_the_start_naming_the_key(tmp_path: Path, capsys, monkeypatch,
                                                                    extra: str, key: str):
    monkeypatch.setenv("MAILGATE_TEST_PW", "pw")
    cfg, state = _setup(tmp_path, extra)
    assert main(["run", "--config", str(cfg), "--state-dir", str(state), "--once"]) == EXIT_CONFIG
    assert f": {key}: " in capsys.readouterr().err
