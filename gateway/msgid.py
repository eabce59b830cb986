"""Our outbound Message-IDs carry a signed token naming the escalation, so replies map back even when a
vendor's helpdesk drops In-Reply-To and References but keeps the original Message-ID somewhere."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from gateway.store.core import StoreCore

_TOKEN = re.compile(r"<?mg\.(\d+)\.([a-z0-9]+)\.([a-f0-9]{12})@([^>\s]+)>?", re.IGNORECASE)


def _sign(key: bytes, escalation_id: int, nonce: str) -> str:
    return hmac.new(key, f"{escalation_id}.{nonce}".encode(), hashlib.sha256).hexdigest()[:12]


def make_message_id(key: bytes, escalation_id: int | None, domain: str) -> str:
    nonce = secrets.token_hex(6)
    if escalation_id is None:
        return f"<mg.0.{nonce}.{_sign(key, 0, nonce)}@{domain}>"
    return f"<mg.{escalation_id}.{nonce}.{_sign(key, escalation_id, nonce)}@{domain}>"


def escalation_from_token(key: bytes, text: str) -> int | None:
    """Find a valid token of ours anywhere in `text` (a header value) and return its escalation id."""
    for m in _TOKEN.finditer(text or ""):
        esc, nonce, sig = int(m.group(1)), m.group(2), m.group(3).lower()
        if esc and hmac.compare_digest(sig, _sign(key, esc, nonce)):
            return esc
    return None


def is_ours(key: bytes, message_id: str) -> bool:
    m = _TOKEN.search(message_id or "")
    if m is None:
        return False
    return hmac.compare_digest(m.group(3).lower(), _sign(key, int(m.group(1)), m.group(2)))


def token_key(store: StoreCore, configured: str | None) -> bytes:
    """The HMAC key: the configured secret, else a random key generated once and kept in the store."""
    if configured:
        return configured.encode()
    return store.kv_set_default("message_id_token_key", secrets.token_hex(32)).encode()


def header_message_id(content: bytes) -> str | None:
    """A cheap look at a raw message's Message-ID for dedup bookkeeping; the full parse comes later."""
    head = content[:16384].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line[:11].lower() == b"message-id:":
            value = line[11:].strip().decode("ascii", "replace")
            return value or None
    return None
