"""`mailgate check`'s Zendesk probe and the [zendesk] configuration checks."""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_zendesk import FakeZendesk, zendesk_toml

from gateway.config import Config, ConfigInvalid, parse_config
from gateway.zendesk.check import check_connection

TOKEN = "zd-check-token-77aa"
ENV = "MAILGATE_TEST_ZENDESK_TOKEN"
BASE = '[gateway]\naddress = "escalations@example.org"\n[trust]\nauthserv_ids = ["mx.example.org"]\n'


def config(tmp_path: Path, extra: str) -> Config:
    return parse_config(tomllib.loads(BASE + extra), "<test>", tmp_path, state_dir=str(tmp_path))


@pytest.fixture
def fake() -> Iterator[FakeZendesk]:
    with FakeZendesk(email="bot@example.org", token=TOKEN) as server:
        yield server


def test_reachable_with_working_credentials(tmp_path: Path, fake: FakeZendesk,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    ok, text = check_connection(config(tmp_path, zendesk_toml(fake.url, token_env=ENV)))
    assert ok and "authenticated as bot@example.org" in text and TOKEN not in text


def test_wrong_token_is_reported_without_printing_it(tmp_path: Path, fake: FakeZendesk,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "wrong-token-123")
    ok, text = check_connection(config(tmp_path, zendesk_toml(fake.url, token_env=ENV)))
    assert not ok and "401" in text and "wrong-token-123" not in text


def test_a_user_who_cannot_add_internal_notes(tmp_path: Path, fake: FakeZendesk,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, TOKEN)
    fake.user_role = "end-user"
    ok, text = check_connection(config(tmp_path, zendesk_toml(fake.url, token_env=ENV)))
    assert not ok and "cannot add internal notes" in text


def test_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(ENV, TOKEN)
    ok, text = check_connection(config(tmp_path, zendesk_toml(f"http://127.0.0.1:{port}", token_env=ENV)))
    assert not ok and "not reachable" in text


def test_not_configured_is_fine(tmp_path: Path) -> None:
    ok, text = check_connection(config(tmp_path, ""))
    assert ok and "not configured" in text


def test_configuration_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        config(tmp_path, '[zendesk]\nurl = "example.zendesk.com"\nemail = "bot@example.org"\n'
                         "[zendesk.fields]\nvendor_tiket = 1\n")
    keys = {e.key for e in caught.value.errors}
    assert {"zendesk.url", "zendesk.api_token", "zendesk.fields"} <= keys


def test_a_literal_token_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        config(tmp_path, '[zendesk]\nurl = "https://x.zendesk.com"\nemail = "bot@example.org"\n'
                         'api_token = "plain-secret"\n')
    assert any(e.key == "zendesk.api_token" and "plain-secret" not in str(e) for e in caught.value.errors)
