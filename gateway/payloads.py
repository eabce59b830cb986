"""Bytes of a MIME part, tolerant of the ways real mail breaks them, and HTML turned into text."""

from __future__ import annotations

import binascii
from email.message import Message

# Machine-readable blocks of delivery/feedback reports: their payload is a list of header blocks.
REPORT_BLOCKS = ("message/delivery-status", "message/global-delivery-status", "message/disposition-notification")


_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64 = bytes(b for b in range(256) if b not in _BASE64_ALPHABET)


def _base64(part: Message) -> bytes | None:
    """Tolerant base64: junk lines dropped and a dangling final character ignored (the stdlib hands back
    the undecoded text when padding is wrong)."""
    raw = part.get_payload()
    if not isinstance(raw, str):
        return None
    # Every character outside the alphabet goes: non-ASCII ones in the encode, the rest in translate
    # (a C loop; a regex substitution here cost as much as the rest of reading the part).
    clean = raw.encode("ascii", "ignore").translate(None, _NOT_BASE64)
    clean = clean[: len(clean) - 1] if len(clean) % 4 == 1 else clean
    try:
        return binascii.a2b_base64(clean + b"=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return None


def payload_bytes(part: Message) -> bytes:
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        data = _base64(part)
        if data is not None:
            return data
    try:
        decoded: object = part.get_payload(decode=True)
    except Exception:
        decoded = None
    if isinstance(decoded, bytes):
        return decoded
    inner = part.get_payload()
    if isinstance(inner, list):  # an attached message: its own bytes, without the wrapping part's headers
        first = inner[0] if inner else None
        nested = part.get_content_type() not in REPORT_BLOCKS and isinstance(first, Message)
        target: Message = first if nested and isinstance(first, Message) else part
        try:
            return _flatten(target).encode("utf-8", "surrogateescape")
        except Exception:
            return b""
    return b""


def _flatten(part: Message, depth: int = 0) -> str:
    """The part's text as parsed (raw header values, line endings normalised). The stdlib generator
    re-folds every header and costs ~1 ms per attached message; this is what size and hash are taken of."""
    head = "".join(f"{name}: {value}\n" for name, value in part.raw_items())
    payload = part.get_payload()
    if not isinstance(payload, list) or depth > 20:
        return f"{head}\n{payload if isinstance(payload, str) else ''}"
    boundary = part.get_boundary() or ""
    body = "".join(f"--{boundary}\n{_flatten(c, depth + 1)}\n" for c in payload if isinstance(c, Message))
    return f"{head}\n{part.preamble or ''}{body}--{boundary}--\n{part.epilogue or ''}"


def html_to_text(html: str) -> str:
    try:
        import html2text  # imported on first HTML-only body: most vendor mail has a plain part

        conv = html2text.HTML2Text()
        conv.body_width = 0
        conv.ignore_images = True
        conv.ignore_emphasis = True
        return str(conv.handle(html)).strip()
    except Exception:
        return ""
