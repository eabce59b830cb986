"""OAuth2 client credentials (msal) against a local HTTPS token endpoint: discovery, the client-credentials
grant, the persisted 0600 token cache, refresh before expiry, and errors that never show the secret."""

from __future__ import annotations

import json
import ssl
import stat
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import make_self_signed

from gateway.config import OAuthSection
from gateway.config_schema import Secret
from gateway.oauth import CACHE_NAME, MsalTokenProvider, msal_provider, token_provider
from gateway.xoauth2 import CommandTokenProvider, FileTokenProvider, TokenError

TENANT = "contoso-tenant"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t-client-value-never-printed"
SCOPE = "https://outlook.office365.com/.default"


class TokenEndpoint(ThreadingHTTPServer):
    """Serves the OpenID configuration and the token endpoint msal asks for; records each token request."""

    def __init__(self, cert: Path, key: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.token_requests: list[dict[str, list[str]]] = []
        self.expires_in = 3600
        self.refuse = False

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: TokenEndpoint

    def do_GET(self) -> None:  # noqa: N802
        base = self.server.base
        if self.path.startswith(f"/{TENANT}/v2.0/.well-known/openid-configuration"):
            self._json(200, {"issuer": f"{base}/{TENANT}/v2.0",
                             "authorization_endpoint": f"{base}/{TENANT}/oauth2/v2.0/authorize",
                             "token_endpoint": f"{base}/{TENANT}/oauth2/v2.0/token"})
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        if self.path != f"/{TENANT}/oauth2/v2.0/token":
            self._json(404, {"error": "not_found"})
            return
        self.server.token_requests.append(form)
        if self.server.refuse or form.get("client_secret") != [SECRET]:
            self._json(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"})
            return
        n = len(self.server.token_requests)
        self._json(200, {"token_type": "Bearer", "expires_in": self.server.expires_in, "access_token": f"at-{n}"})

    def _json(self, code: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    return make_self_signed(d), d / "key.pem"


@pytest.fixture
def endpoint(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenEndpoint]:
    # requests lets these variables override an explicit `verify`: the test CA must win.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    server = TokenEndpoint(*certificate)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def _provider(endpoint: TokenEndpoint, cert: Path, cache: Path | None, secret: str = SECRET) -> MsalTokenProvider:
    return MsalTokenProvider(tenant=TENANT, client_id=CLIENT_ID, client_secret=secret, scopes=[SCOPE],
                             cache_path=cache, authority=f"{endpoint.base}/{TENANT}", verify=str(cert))


def test_client_credentials_grant_for_the_exchange_scope(endpoint: TokenEndpoint, certificate: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    provider = _provider(endpoint, certificate[0], tmp_path / CACHE_NAME)
    assert provider.token() == "at-1"
    (form,) = endpoint.token_requests
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == [CLIENT_ID]
    assert SCOPE in form["scope"][0].split()


def test_token_is_reused_until_near_expiry_and_the_cache_persists_0600(endpoint: TokenEndpoint,
                                                                        certificate: tuple[Path, Path],
                                                                        tmp_path: Path) -> None:
    cache = tmp_path / "state" / CACHE_NAME
    first = _provider(endpoint, certificate[0], cache)
    assert first.token() == first.token() == "at-1"
    assert len(endpoint.token_requests) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "at-1" in cache.read_text()
    assert SECRET not in cache.read_text()
    # A restart (new provider, same state directory) uses the cached token: no new request.
    again = _provider(endpoint, certificate[0], cache)
    assert again.token() == "at-1"
    assert len(endpoint.token_requests) == 1


def test_a_token_close_to_expiry_is_refreshed(endpoint: TokenEndpoint, certificate: tuple[Path, Path],
                                              tmp_path: Path) -> None:
    endpoint.expires_in = 120  # inside msal's five-minute margin: never handed out from the cache
    provider = _provider(endpoint, certificate[0], tmp_path / CACHE_NAME)
    assert provider.token() == "at-1"
    assert provider.token() == "at-2"
    assert len(endpoint.token_requests) == 2


def test_a_refused_secret_raises_token_error_without_the_secret(endpoint: TokenEndpoint,
                                                                 certificate: tuple[Path, Path],
                                                                 tmp_path: Path) -> None:
    provider = _provider(endpoint, certificate[0], tmp_path / CACHE_NAME, secret="wrong-" + SECRET)
    with pytest.raises(TokenError) as info:
        provider.token()
    assert "invalid_client" in str(info.value)
    assert SECRET not in str(info.value)


def test_an_unreachable_authority_is_a_token_error(certificate: tuple[Path, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    provider = MsalTokenProvider(tenant=TENANT, client_id=CLIENT_ID, client_secret=SECRET, scopes=[SCOPE],
                                 authority=f"https://127.0.0.1:1/{TENANT}", verify=str(certificate[0]), timeout=2)
    with pytest.raises(TokenError) as info:
        provider.token()
    assert SECRET not in str(info.value)


def test_config_builds_the_right_provider(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("gmail-token\n")
    gmail = token_provider(OAuthSection(provider="google", token_file=str(token_file)), tmp_path)
    assert isinstance(gmail, FileTokenProvider) and gmail.token() == "gmail-token"
    command = token_provider(OAuthSection(provider="google", token_command="echo cmd-token"), tmp_path)
    assert isinstance(command, CommandTokenProvider) and command.token() == "cmd-token"
    ms = OAuthSection(tenant=TENANT, client_id=CLIENT_ID, client_secret=Secret(SECRET, "env:X"))
    built = token_provider(ms, tmp_path)
    assert isinstance(built, MsalTokenProvider)
    assert built.cache_path == tmp_path / CACHE_NAME
    assert built.scopes == ["https://outlook.office365.com/.default"]
    with pytest.raises(TokenError):
        msal_provider(OAuthSection(tenant=TENANT, client_id=CLIENT_ID))


def test_token_url_may_name_the_authority_or_its_token_endpoint(endpoint: TokenEndpoint,
                                                                certificate: tuple[Path, Path],
                                                                tmp_path: Path) -> None:
    from gateway.oauth import authority_from_token_url

    assert authority_from_token_url("https://login.microsoftonline.us/t1/oauth2/v2.0/token") == \
        "https://login.microsoftonline.us/t1"
    assert authority_from_token_url("https://login.microsoftonline.us/t1/") == "https://login.microsoftonline.us/t1"
    section = OAuthSection(tenant=TENANT, client_id=CLIENT_ID, client_secret=Secret(SECRET, "env:X"),
                           token_url=f"{endpoint.base}/{TENANT}/oauth2/v2.0/token")
    provider = msal_provider(section, tmp_path, verify=str(certificate[0]))  # the test CA
    assert provider.token() == "at-1"
    assert (tmp_path / CACHE_NAME).exists()
