"""OAuth2 client credentials for Microsoft 365 shared mailboxes (msal), behind the one-method TokenProvider
protocol of gateway.xoauth2 (`token() -> str`).

Microsoft: an app registration with the Office 365 Exchange Online *application* permissions IMAP.AccessAsApp
and SMTP.SendAsApp (admin consent), a service principal registered in Exchange and mailbox permission on the
shared mailbox (see the operations README). The token is requested for https://outlook.office365.com/.default;
msal keeps it in a SerializableTokenCache that we persist in the state directory (oauth-token-cache.json,
0600), and hands out the cached token until five minutes before it expires, then fetches a new one.

Gmail has no client-credentials grant for mailboxes: use [oauth] token_command (a command printing a fresh
access token, e.g. `oauth2l fetch --credentials /etc/mailgate/google.json --scope https://mail.google.com/
--output_format bare`) or token_file; gateway.xoauth2 implements both.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import msal

from gateway.config import OAuthSection
from gateway.xoauth2 import TokenError, TokenProvider, provider_from_config

log = logging.getLogger("mailgate.oauth")

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/{tenant}"
CACHE_NAME = "oauth-token-cache.json"


class MsalTokenProvider:
    """Client-credentials tokens from Microsoft Entra ID. Thread-safe: the IMAP watcher and the SMTP sender
    share one provider. Errors name the failure (msal's error code), never the secret or the token."""

    def __init__(self, *, tenant: str, client_id: str, client_secret: str, scopes: list[str],
                 cache_path: Path | None = None, authority: str = "", verify: bool | str = True,
                 timeout: float = 30.0) -> None:
        if not (tenant or authority) or not client_id or not client_secret:
            raise TokenError("client credentials need [oauth] tenant, client_id and client_secret")
        self.scopes = list(scopes)
        self.cache_path = cache_path
        self._lock = threading.Lock()
        self._cache = msal.SerializableTokenCache()
        self._load_cache()
        self._authority = authority or MICROSOFT_AUTHORITY.format(tenant=tenant)
        self._app_args: dict[str, Any] = {
            "client_id": client_id, "client_credential": client_secret, "authority": self._authority,
            "token_cache": self._cache, "verify": verify, "timeout": timeout,
            # A non-Microsoft host (a sovereign cloud proxy, the tests' local endpoint) is trusted as given.
            "instance_discovery": authority == "",
        }
        self._app: msal.ConfidentialClientApplication | None = None

    def _application(self) -> msal.ConfidentialClientApplication:
        # Built on first use: msal fetches the OpenID configuration when the application is created.
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(**self._app_args)
            except (ValueError, OSError) as exc:
                raise TokenError(f"cannot reach the authority {self._authority}: {type(exc).__name__}") from None
        return self._app

    def token(self) -> str:
        with self._lock:
            try:
                result = self._application().acquire_token_for_client(scopes=self.scopes)
            except TokenError:
                raise
            except Exception as exc:  # network errors surface as requests exceptions
                raise TokenError(f"token request failed: {type(exc).__name__}") from None
            self._save_cache()
        if not result or "access_token" not in result:
            error = (result or {}).get("error", "no_token")
            raise TokenError(f"token request refused: {error}")
        if result.get("token_source") == "identity_provider":
            log.info("oauth token refreshed", extra={"lifetime_seconds": int(result.get("expires_in") or 0)})
        return str(result["access_token"])

    # -- the persistent cache -------------------------------------------------------------------------------
    def _load_cache(self) -> None:
        if self.cache_path is None or not self.cache_path.exists():
            return
        try:
            self._cache.deserialize(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("oauth token cache unreadable; starting empty")

    def _save_cache(self) -> None:
        if self.cache_path is None or not self._cache.has_state_changed:
            return
        write_private(self.cache_path, self._cache.serialize())
        self._cache.has_state_changed = False


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte (the file holds bearer tokens)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def msal_provider(oauth: OAuthSection, state_dir: Path | None = None, verify: bool | str = True) -> MsalTokenProvider:
    """The client-credentials provider for [oauth]. The cache lives in `state_dir` (in memory without one).
    [oauth] token_url, when set, replaces the authority https://login.microsoftonline.com/<tenant>: give the
    authority (https://login.microsoftonline.us/<tenant> for a sovereign cloud) or its token endpoint
    (.../<tenant>/oauth2/v2.0/token); msal discovers the endpoints from the authority."""
    if oauth.client_secret is None:
        raise TokenError("client credentials need [oauth] client_secret (client_secret_file or \"${ENV}\")")
    return MsalTokenProvider(tenant=oauth.tenant, client_id=oauth.client_id,
                             client_secret=oauth.client_secret.reveal(), scopes=oauth.scopes,
                             cache_path=state_dir / CACHE_NAME if state_dir else None,
                             authority=authority_from_token_url(oauth.token_url), verify=verify)


def authority_from_token_url(token_url: str) -> str:
    url = token_url.strip().rstrip("/")
    for suffix in ("/oauth2/v2.0/token", "/oauth2/token"):
        url = url.removesuffix(suffix)
    return url


def token_provider(oauth: OAuthSection | None, state_dir: Path | None = None) -> TokenProvider | None:
    """Whatever [oauth] names: a token file, a token command, or Microsoft client credentials."""
    if oauth is None:
        return None
    provider = provider_from_config(oauth.token_file, oauth.token_command)
    if provider is not None:
        return provider
    if oauth.client_id:
        return msal_provider(oauth, state_dir)
    return None

