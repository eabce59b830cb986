"""`mailgate check`'s Zendesk line: is Zendesk reachable, and do the credentials work? Sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from gateway.config import Config
from gateway.zendesk.client import ZendeskAuthError, ZendeskError, classify


def check_connection(config: Config) -> tuple[bool, str]:
    """(ok, one line for an operator). GET /api/v2/users/me.json with the configured credentials.

    Zendesk answers an unauthenticated users/me with the anonymous user (id null) rather than 401, so the
    check also requires a real user id. The token is never part of the answer."""
    section = config.zendesk
    if section is None:
        return True, "zendesk: not configured (notes are kept locally; `mailgate show` lists them)"
    token = section.api_token.reveal() if section.api_token else ""
    where = section.url.rstrip("/")
    try:
        with httpx.Client(base_url=where, auth=httpx.BasicAuth(f"{section.email}/token", token),
                          timeout=section.timeout_seconds, follow_redirects=False) as http:
            response = http.get("/api/v2/users/me.json", headers={"Accept": "application/json"})
        classify(response, datetime.now(UTC))
        user = response.json().get("user") or {}
    except ZendeskAuthError:
        return False, f"zendesk: {where} refused the credentials of {section.email} (HTTP 401)"
    except ZendeskError as exc:
        return False, f"zendesk: {where} answered {exc}"
    except httpx.HTTPError as exc:
        return False, f"zendesk: {where} not reachable ({type(exc).__name__})"
    except ValueError:
        return False, f"zendesk: {where} did not answer with JSON (is url the Zendesk account?)"
    if user.get("id") is None:
        return False, f"zendesk: {where} reachable, but the credentials of {section.email} were not accepted"
    role = user.get("role") or "unknown role"
    if role not in ("agent", "admin"):
        return False, f"zendesk: {where} reachable as {section.email}, but role {role!r} cannot add internal notes"
    return True, f"zendesk: ok ({where}, authenticated as {section.email}, role {role})"
