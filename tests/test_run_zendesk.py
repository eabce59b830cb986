"""`mailgate run --once` carries the Zendesk notes its events queued to Zendesk, once."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fake_zendesk import FakeZendesk, zendesk_toml
from ops_mail import config_file

from gateway.cli import main
from gateway.sources.maildir import deliver_to_maildir

TOKEN = "zd-run-token-81c2"
ENV = "MAILGATE_TEST_RUN_ZENDESK_TOKEN"


@pytest.fixture
def fake() -> Iterator[FakeZendesk]:
    with FakeZendesk(email="bot@example.org", token=TOKEN, tickets=(48213,)) as server:
        yield server


def test_run_once_posts_the_escalation_note_exactly_once(tmp_path: Path, fake: FakeZendesk,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    state = tmp_path / "state"
    config = config_file(tmp_path, state, "[metrics]\nenabled = false\n" + zendesk_toml(fake.url, token_env=ENV))
    template = resources.files("gateway.demo").joinpath("mailbox", "01-agent-idme.eml").read_text()
    mail = template.replace("{{date:0}}", "Mon, 23 Nov 2026 17:00:00 +0000").replace("\n", "\r\n")
    state.mkdir()
    deliver_to_maildir(state / "Maildir", mail.encode())

    assert main(["run", "--once", "--config", str(config)]) == 0
    notes = fake.notes(48213)
    assert len(notes) == 1 and "escalation sent" in notes[0]
    assert main(["run", "--once", "--config", str(config)]) == 0
    assert len(fake.notes(48213)) == 1  # nothing is posted twice
