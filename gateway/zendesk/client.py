"""A thin async Zendesk client on httpx: the two calls the worker makes, with every outcome classified.

Why not zenpy: zenpy is synchronous (it would block the daemon's event loop or need a thread per call), it
retries rate-limited calls on its own by sleeping for Retry-After inside the call, and it folds HTTP statuses
into a few exception types. The gateway needs the opposite: each call made exactly once, its outcome reported
exactly (429 with its Retry-After, 5xx, timeout before or after the request went out, 401, other 4xx), so that
the durable job queue decides when to retry and can prove that a note was never posted twice. httpx is already
a dependency, and two endpoints do not need a library:

  PUT  /api/v2/tickets/{id}.json            internal note + custom fields + additional_tags/remove_tags
  GET  /api/v2/tickets/{id}/comments.json   newest first, to look for a note's idempotency marker

`mailgate check` probes GET /api/v2/users/me.json synchronously (gateway.zendesk.check), classified here too.

Authentication is an API token: Basic "{email}/token:{api_token}". The token never appears in a log line,
an exception message or the check's answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from gateway.config import ZendeskSection
from gateway.metrics import ZENDESK_CALLS

log = logging.getLogger("mailgate.zendesk")

DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 3600.0
MARKER_PAGES = 3  # a marker is looked for among the newest 300 comments: far more than one retry window adds


class ZendeskError(Exception):
    """Base class. Messages carry a status and a category only, never request or response bodies."""


class ZendeskTransient(ZendeskError):
    """Worth retrying later. `uncertain`: the request may have been carried out (5xx, read timeout)."""

    def __init__(self, category: str, *, uncertain: bool, retry_after: float | None = None) -> None:
        super().__init__(category)
        self.category = category
        self.uncertain = uncertain
        self.retry_after = retry_after


class ZendeskRateLimited(ZendeskTransient):
    """429: Zendesk refused the call (nothing was done); the whole account waits `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("http 429", uncertain=False, retry_after=retry_after)


class ZendeskAuthError(ZendeskError):
    """401: the credentials are wrong or revoked. A configuration problem, not a problem of one job."""


class ZendeskPermanent(ZendeskError):
    """Another 4xx: this request will never succeed as it is (ticket not found, validation refused, ...)."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"http {status} {code}".strip())
        self.status = status
        self.code = code


def parse_retry_after(value: str | None, now: datetime) -> float:
    """Seconds to wait: Retry-After is either delta-seconds or an HTTP date. Clamped to [1 s, 1 h]."""
    seconds = DEFAULT_RETRY_AFTER
    if value:
        value = value.strip()
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - now).total_seconds()
            except (TypeError, ValueError):
                seconds = DEFAULT_RETRY_AFTER
    return min(MAX_RETRY_AFTER, max(1.0, seconds))


def _error_code(response: httpx.Response) -> str:
    """Zendesk's short error identifier (RecordNotFound, RecordInvalid, ...); never free text from the body."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if isinstance(code, str) and code.isidentifier() and len(code) <= 40:
        return code
    return ""


def classify(response: httpx.Response, now: datetime) -> None:
    """Return for 2xx; raise the exception that says what to do otherwise."""
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 429:
        raise ZendeskRateLimited(parse_retry_after(response.headers.get("Retry-After"), now))
    if status == 401:
        raise ZendeskAuthError("http 401: credentials not accepted")
    if status >= 500:
        retry_after = response.headers.get("Retry-After")  # 503 during maintenance carries one
        raise ZendeskTransient(f"http {status}", uncertain=True,
                               retry_after=parse_retry_after(retry_after, now) if retry_after else None)
    if status in (408, 409):  # request timeout / update collision: nothing was applied, try again later
        raise ZendeskTransient(f"http {status}", uncertain=status == 408)
    raise ZendeskPermanent(status, _error_code(response))


def _result_label(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, ZendeskRateLimited):
        return "rate_limited"
    if isinstance(exc, ZendeskAuthError):
        return "auth_error"
    if isinstance(exc, ZendeskPermanent):
        return "client_error"
    if isinstance(exc, ZendeskTransient):
        if exc.category.startswith(("timeout", "network")):
            return exc.category.split(":")[0]
        return "server_error"
    return "error"


class ZendeskClient:
    """One connection pool for a drain. Use as `async with ZendeskClient(section) as zd:`."""

    def __init__(self, section: ZendeskSection, *, now: Callable[[], datetime] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        token = section.api_token.reveal() if section.api_token else ""
        self._now = now or (lambda: datetime.now(UTC))
        self._http = httpx.AsyncClient(
            base_url=section.url.rstrip("/"), auth=httpx.BasicAuth(f"{section.email}/token", token),
            timeout=httpx.Timeout(section.timeout_seconds), transport=transport,
            headers={"Accept": "application/json", "User-Agent": "mailgate"}, follow_redirects=False)

    async def __aenter__(self) -> ZendeskClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        error: BaseException | None = None
        try:
            try:
                response = await self._http.request(method, path, **kwargs)
            except (httpx.ConnectTimeout, httpx.ConnectError, httpx.PoolTimeout) as exc:
                # The request never left: nothing can have been done on the Zendesk side.
                raise ZendeskTransient("network: connect", uncertain=False) from exc
            except httpx.TimeoutException as exc:
                raise ZendeskTransient("timeout", uncertain=True) from exc
            except httpx.TransportError as exc:
                raise ZendeskTransient("network: interrupted", uncertain=True) from exc
            classify(response, self._now())
            return response
        except ZendeskError as exc:
            error = exc
            raise
        finally:
            ZENDESK_CALLS.labels(result=_result_label(error)).inc()

    async def update_ticket(self, ticket_id: int, ticket: dict[str, Any]) -> None:
        """One ticket update: the comment, custom fields and tags are applied together or not at all."""
        await self._call("PUT", f"/api/v2/tickets/{ticket_id}.json", json={"ticket": ticket})

    async def has_comment_with(self, ticket_id: int, marker: str) -> bool:
        """True when one of the ticket's newest comments contains `marker`."""
        params: dict[str, Any] | None = {"sort_order": "desc", "per_page": 100}
        path = f"/api/v2/tickets/{ticket_id}/comments.json"
        for _ in range(MARKER_PAGES):
            body = (await self._call("GET", path, params=params)).json()
            for comment in body.get("comments") or []:
                text = f"{comment.get('body') or ''}\n{comment.get('plain_body') or ''}"
                if marker in text:
                    return True
            next_page = body.get("next_page")
            if not next_page:
                return False
            path, params = str(next_page), None
        return False
