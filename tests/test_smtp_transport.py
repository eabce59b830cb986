"""SmtpTransport against an in-process aiosmtpd: results per recipient, 4xx/5xx mapping, the DATA journal,
password and XOAUTH2 login."""

from __future__ import annotations

import base64
import contextlib
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from servers import free_port, make_self_signed

from gateway.config import SmtpSection
from gateway.config_schema import Secret
from gateway.transport import PermanentSendError, TransientSendError
from gateway.transport.smtp import SmtpTransport

MSG = b"From: a@example.org\r\nTo: v@example.net\r\nMessage-ID: <m1@example.org>\r\nSubject: t\r\n\r\nbody\r\n"


class Peer:
    def __init__(self) -> None:
        self.rcpt_answers: dict[str, str] = {}
        self.data_answer = "250 OK"
        self.received: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        answer = self.rcpt_answers.get(address, "250 OK")
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_answer.startswith("250"):
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return self.data_answer


class OAuthPeer(Peer):
    async def auth_XOAUTH2(self, server, args):  # noqa: N802 (aiosmtpd finds auth_<MECH> on the handler)
        decoded = base64.b64decode(args[1]).decode()
        self.logins.append(("xoauth2", decoded))
        ok = decoded.startswith("user=gw@example.org\x01auth=Bearer tok-1\x01")
        return AuthResult(success=ok, message=None if ok else "535 5.7.8 token rejected")


def _authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"right"
    return AuthResult(success=ok)


@contextlib.contextmanager
def _serve(handler: Peer, **options: Any) -> Iterator[int]:
    """Run `handler` on a free loopback port (aiosmtpd Controller `options`); yields the port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _serve_with_auth(handler: Peer) -> Iterator[tuple[Peer, int]]:
    with _serve(handler, authenticator=_authenticator, auth_require_tls=False,
                auth_exclude_mechanism=["LOGIN"]) as port:
        yield handler, port


@pytest.fixture
def peer() -> Iterator[tuple[Peer, int]]:
    yield from _serve_with_auth(Peer())


@pytest.fixture
def oauth_peer() -> Iterator[tuple[Peer, int]]:
    yield from _serve_with_auth(OAuthPeer())


class Journal:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def data_started(self, message_id: str) -> None:
        self.events.append(("started", message_id))

    def data_refused(self, message_id: str) -> None:
        self.events.append(("refused", message_id))


def _transport(port: int, **kw: object) -> SmtpTransport:
    cfg = SmtpSection(host="127.0.0.1", port=port, security="plain", auth="none", timeout_seconds=5)
    for k, v in kw.items():
        setattr(cfg, k, v)
    t = SmtpTransport(cfg)
    t.journal = Journal()
    return t


async def _send(t: SmtpTransport, rcpts: list[str]):  # type: ignore[no-untyped-def]
    return await t.send(mail_from="gw@example.org", recipients=rcpts, content=MSG, message_id="<m1@example.org>")


async def test_delivers_and_journals_the_data_start_only(peer):
    handler, port = peer
    t = _transport(port)
    result = await _send(t, ["v@example.net"])
    assert result.accepted == ["v@example.net"] and result.refused == {}
    assert handler.received == [("gw@example.org", ["v@example.net"])]
    # After a 250 the note stays: only the sender's commit of 'sent' closes the uncertain window.
    assert t.journal.events == [("started", "<m1@example.org>")]


async def test_partial_refusal_is_recorded_per_recipient(peer):
    handler, port = peer
    handler.rcpt_answers = {"gone@example.net": "550 5.1.1 no such user", "busy@example.net": "452 4.2.2 full"}
    result = await _send(_transport(port), ["v@example.net", "gone@example.net", "busy@example.net"])
    assert result.accepted == ["v@example.net"]
    assert result.refused == {"gone@example.net": (550, "5.1.1 no such user"), "busy@example.net": (452, "4.2.2 full")}
    assert handler.received == [("gw@example.org", ["v@example.net"])]


async def test_every_recipient_refused_permanently_is_permanent_and_sends_no_data(peer):
    handler, port = peer
    handler.rcpt_answers = {"gone@example.net": "550 5.1.1 no such user"}
    t = _transport(port)
    with pytest.raises(PermanentSendError):
        await _send(t, ["gone@example.net"])
    assert t.journal.events == [] and handler.received == []


async def test_a_4xx_recipient_among_refusals_makes_it_transient(peer):
    handler, port = peer
    handler.rcpt_answers = {"gone@example.net": "550 no", "busy@example.net": "451 later"}
    with pytest.raises(TransientSendError):
        await _send(_transport(port), ["gone@example.net", "busy@example.net"])


@pytest.mark.parametrize(("answer", "error"), [("451 4.3.0 later", TransientSendError),
                                               ("554 5.7.1 spam", PermanentSendError)])
async def test_data_refusal_maps_to_error_and_clears_the_note(peer, answer, error):
    handler, port = peer
    handler.data_answer = answer
    t = _transport(port)
    with pytest.raises(error):
        await _send(t, ["v@example.net"])
    assert t.journal.events == [("started", "<m1@example.org>"), ("refused", "<m1@example.org>")]


async def test_no_server_is_transient():
    with pytest.raises(TransientSendError):
        await _send(_transport(free_port()), ["v@example.net"])  # nobody listens there


async def test_password_login(peer):
    handler, port = peer
    t = _transport(port, auth="password", username="gw", password=Secret("right", "env:X"))
    assert (await _send(t, ["v@example.net"])).accepted == ["v@example.net"]


class Tokens:
    def __init__(self, value: str) -> None:
        self.value = value

    def token(self) -> str:
        return self.value


async def test_rejected_login_is_transient_not_a_dead_letter(peer, monkeypatch):
    # (aiosmtpd 1.4.6 never answers a failed AUTH, so the server's 535 is simulated at the client.)
    async def reject(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise aiosmtplib.SMTPAuthenticationError(535, "5.7.8 credentials invalid")

    monkeypatch.setattr(aiosmtplib.SMTP, "login", reject)
    handler, port = peer
    t = _transport(port, auth="password", username="gw", password=Secret("wrong", "env:X"))
    with pytest.raises(TransientSendError, match="login failed"):
        await _send(t, ["v@example.net"])
    assert handler.received == []


async def test_xoauth2_login_sends_the_bearer_token(oauth_peer):
    handler, port = oauth_peer
    cfg = SmtpSection(host="127.0.0.1", port=port, security="plain", auth="xoauth2", username="gw@example.org",
                      timeout_seconds=5)
    t = SmtpTransport(cfg, tokens=Tokens("tok-1"))
    assert (await _send(t, ["v@example.net"])).accepted == ["v@example.net"]
    assert handler.logins == [("xoauth2", "user=gw@example.org\x01auth=Bearer tok-1\x01\x01")]


async def test_without_a_sent_folder_delivery_cannot_be_proven():
    cfg = SmtpSection(host="127.0.0.1", port=1, security="plain", auth="none")
    assert await SmtpTransport(cfg).already_delivered("<m1@example.org>") is None


@pytest.fixture
def tls_files(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    ca = make_self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the transport trusts the system store; make it ours
    return tmp_path


def _tls_context(directory: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return ctx


async def test_starttls(tls_files: Path):
    handler = Peer()
    with _serve(handler, tls_context=_tls_context(tls_files), require_starttls=True) as port:
        t = _transport(port, security="starttls", host="localhost")
        assert (await _send(t, ["v@example.net"])).accepted == ["v@example.net"]
        assert len(handler.received) == 1


async def test_implicit_tls_and_an_untrusted_certificate_is_refused(tls_files: Path, monkeypatch):
    handler = Peer()
    with _serve(handler, ssl_context=_tls_context(tls_files)) as port:
        t = _transport(port, security="tls", host="localhost")
        assert (await _send(t, ["v@example.net"])).accepted == ["v@example.net"]
        monkeypatch.setenv("SSL_CERT_FILE", str(tls_files / "nothing.pem"))
        (tls_files / "nothing.pem").write_text("")
        with pytest.raises(TransientSendError, match="SMTPConnectError"):  # the TLS handshake fails
            await _send(_transport(port, security="tls", host="localhost"), ["v@example.net"])
        assert len(handler.received) == 1
