"""XOAUTH2 for IMAP and SMTP: the SASL initial response, and where the bearer token comes from.

A `TokenProvider` has one method, `token() -> str`, returning a bearer token that is valid now. Providers
refresh before expiry themselves; callers ask again on every (re)connect and never cache the token.
Implemented here: a token file (re-read when it changes: an external agent such as a cron job or
oauth2l keeps it fresh) and a token command (run again when its token is near expiry). gateway.oauth adds
a client-credentials provider (msal) with the same one method.
"""

from __future__ import annotations

import base64
import json
import logging
import shlex
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger("mailgate.oauth")

# Ask for a new token this long before the old one expires, so a connection never starts with a token
# that dies during login.
REFRESH_MARGIN_SECONDS = 300.0
# A command that says nothing about expiry: assume tokens last this long (Microsoft and Google: ~1 hour).
DEFAULT_LIFETIME_SECONDS = 3000.0


class TokenError(Exception):
    """No usable token (the file is missing or empty, the command failed). Message never holds the token."""


class TokenProvider(Protocol):
    def token(self) -> str:
        """A bearer access token valid for at least a few minutes. Raise TokenError when none can be had."""
        ...


def sasl_string(username: str, token: str) -> str:
    """The XOAUTH2 initial client response, before base64: user=...^Aauth=Bearer ...^A^A."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def sasl_base64(username: str, token: str) -> str:
    return base64.b64encode(sasl_string(username, token).encode()).decode("ascii")


class FileTokenProvider:
    """Reads the token from a file, again whenever the file changes. The file holds the bare token, or JSON
    with `access_token` (the shape OAuth token endpoints return)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cached: tuple[float, str] | None = None

    def token(self) -> str:
        try:
            mtime = self.path.stat().st_mtime
        except OSError as exc:
            raise TokenError(f"token file {self.path} unreadable: {exc.strerror}") from None
        if self._cached and self._cached[0] == mtime:
            return self._cached[1]
        value = _token_from_text(self.path.read_text(encoding="utf-8"))[0]
        if not value:
            raise TokenError(f"token file {self.path} is empty")
        self._cached = (mtime, value)
        return value


class CommandTokenProvider:
    """Runs a command that prints a token (bare, or JSON with access_token and expires_in) and keeps it until
    REFRESH_MARGIN_SECONDS before it expires. Thread-safe: the IMAP watcher and SMTP sender share one."""

    def __init__(self, command: str, timeout: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise TokenError("token command is empty")
        self.timeout = timeout
        self._now = monotonic
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token and self._now() < self._expires_at - REFRESH_MARGIN_SECONDS:
                return self._token
            self._token, lifetime = self._run()
            self._expires_at = self._now() + lifetime
            log.info("oauth token refreshed", extra={"lifetime_seconds": int(lifetime)})
            return self._token

    def _run(self) -> tuple[str, float]:
        try:
            done = subprocess.run(self.argv, capture_output=True, timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TokenError(f"token command {self.argv[0]!r} failed to run: {type(exc).__name__}") from None
        if done.returncode != 0:
            raise TokenError(f"token command {self.argv[0]!r} exited {done.returncode}")
        value, lifetime = _token_from_text(done.stdout.decode("utf-8", "replace"))
        if not value:
            raise TokenError(f"token command {self.argv[0]!r} printed no token")
        return value, lifetime


def _token_from_text(text: str) -> tuple[str, float]:
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise TokenError("token is not valid JSON") from None
        lifetime = float(data.get("expires_in") or DEFAULT_LIFETIME_SECONDS)
        return str(data.get("access_token") or ""), lifetime
    return text, DEFAULT_LIFETIME_SECONDS


def provider_from_config(token_file: str, token_command: str) -> TokenProvider | None:
    """The file or command provider named by [oauth]; None when neither is set (msal is gateway.oauth's)."""
    if token_file:
        return FileTokenProvider(token_file)
    if token_command:
        return CommandTokenProvider(token_command)
    return None
