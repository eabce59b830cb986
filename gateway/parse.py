"""Parsing raw bytes into a ParsedMessage. Never raises: an unreadable message comes back with
readable=False and its defects, and the pipeline quarantines it.

Choice of parsers (measured on the shared corpus mix, ~11 KB per message, one core of this machine):
  stdlib policy.default parse + get_body ~ 500 msg/s, stdlib compat32 FeedParser ~ 1,800-2,100 msg/s,
  gateway.mime_tree (the same compat32 tree) ~ 6,000-6,600 msg/s, mail-parser's full MailParser ~ 800 msg/s (it also
  parses every Received hop, which the gateway never needs).
So the MIME tree is the stdlib's compat32 tree (it keeps raw header values, with 8-bit bytes as surrogate
escapes, which is exactly what charset repair needs), built by gateway.mime_tree where it can certify the
result and by the stdlib FeedParser otherwise; header text is decoded by gateway.charsets (RFC 2047, raw 8-bit,
mislabelled charsets, charset_normalizer for undeclared 8-bit bodies); addresses come from gateway.addresses
(quick forms, else mail-parser's address scanner); and mail-parser's full MailParser runs only on a message
whose first boundary is missing (StartBoundaryNotFoundDefect), where it recovers the parts the stdlib leaves in
the epilogue. policy.default is not used on the hot path: its header objects are what makes it four times
slower.
"""

from __future__ import annotations

import binascii
import email
import email.message
import email.policy
import email.utils
import hashlib
import logging
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import TypeVar

from gateway.addresses import address_pairs
from gateway.charsets import decode_bytes, decode_header_value, guess_charset
from gateway.mime_tree import compat32_tree
from gateway.payloads import REPORT_BLOCKS, html_to_text, payload_bytes
from gateway.replies import new_text as _new_text

T = TypeVar("T")

# mail-parser and flufl.bounce log header values and decoding failures of the mail they read: that is
# message content (PHI) and must never reach a log line, so their loggers are closed here.
for _noisy in ("mailparser", "flufl.bounce"):
    _logger = logging.getLogger(_noisy)
    _logger.addHandler(logging.NullHandler())
    _logger.propagate = False
    _logger.setLevel(logging.CRITICAL + 1)
_MAX_PARTS = 500          # a bomb of tiny parts is read up to here, then flagged
_KEEP_TEXT_BYTES = 1 << 20  # text attachments keep their content up to 1 MiB
_RECOVERABLE = {"StartBoundaryNotFoundDefect"}  # mail-parser recovers parts from the epilogue
# Machine-readable parts of delivery/feedback reports: read by the guards from the tree, and not files a
# person attached, so a nameless one is not listed as an attachment.
_REPORT_PARTS = REPORT_BLOCKS + ("message/rfc822-headers", "text/rfc822-headers", "message/global-headers",
                                  "message/feedback-report")


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes = field(repr=False, default=b"")  # kept for text attachments only
    disposition: str = ""     # "attachment", "inline" or ""
    content_id: str | None = None

    @property
    def is_text(self) -> bool:
        return self.content_type.startswith("text/")


@dataclass
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    from_addr: str | None = None
    from_name: str = ""
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""            # the whole text body (HTML turned into text when it is the only body)
    new_text: str = ""        # the new part of a reply, quoted history removed
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    readable: bool = True
    # The stdlib compat32 tree: raw header values (8-bit bytes as surrogate escapes) and all parts, for
    # guards (delivery reports) and trust. Read headers through header_values(), which decodes them.
    headers: Message | None = field(default=None, repr=False)
    body_charset: str | None = None
    content_type: str = "text/plain"  # of the whole message
    body_type: str = ""               # "text/plain" or "text/html" (the text was made from HTML), "" if none
    _index: dict[str, list[str]] | None = field(default=None, repr=False, compare=False)

    @property
    def reply_text(self) -> str:
        """What the sender wrote now: the new text of a reply, or the whole text when none was told apart."""
        return self.new_text or self.text

    def header_values(self, name: str) -> list[str]:
        """Every value of header `name`, decoded to text (RFC 2047, raw 8-bit), in message order."""
        if self.headers is None:
            return []
        try:
            return [decode_header_value(v, self.body_charset) for v in self.raw_values(name)]
        except Exception:
            return []

    def raw_values(self, name: str) -> list[str]:
        """Header values as received (8-bit bytes kept as surrogate escapes), without decoding."""
        if self.headers is None:
            return []
        if self._index is None:  # one pass over the headers; guards ask for many names
            self._index = {}
            for key, value in self.headers.raw_items():
                self._index.setdefault(str(key).lower(), []).append(str(value))
        return self._index.get(name.lower(), [])

    def header(self, name: str) -> str:
        values = self.header_values(name)
        return values[0] if values else ""


def parse_message(raw: bytes) -> ParsedMessage:
    try:
        return _parse(bytes(raw))
    except RecursionError:
        return ParsedMessage(readable=False, defects=["unparseable: nesting too deep"])
    except Exception as exc:  # parsing must never raise
        return ParsedMessage(readable=False, defects=[f"unparseable: {type(exc).__name__}"])


def _parse(raw: bytes) -> ParsedMessage:
    if not raw.strip():
        return ParsedMessage(readable=False, defects=["EmptyMessage"])
    msg = compat32_tree(raw)
    p = ParsedMessage(headers=msg)
    if not msg.keys():
        p.defects.append("NoHeaders")
        p.readable = False
    declared: str | None = None
    for part in msg.walk():  # every part, attached messages included: defects and the first text charset
        if part.defects:
            p.defects.extend(type(d).__name__ for d in part.defects)
        if declared is None and part.get_content_maintype() == "text":
            declared = part.get_content_charset()
    p.content_type = _safe(msg.get_content_type, "text/plain")
    p.body_charset = declared or _guessed_charset(msg)
    _read_headers(msg, p)
    _read_parts(msg, p)
    if _RECOVERABLE & set(p.defects):
        _recover_with_mailparser(msg, p)
    p.new_text = _new_text(p.text)
    if not p.readable and not p.text and not p.subject:
        p.defects.append("Unreadable")
    return p


def _safe(fn: Callable[[], T], default: T) -> T:
    try:
        return fn()
    except Exception:
        return default


# --- headers --------------------------------------------------------------------------------------------

def _ids(value: str) -> list[str]:
    tokens = [t for t in value.replace(">", "> ").split() if t.startswith("<") and t.endswith(">") and "@" in t]
    if not tokens and value.strip() and " " not in value.strip() and "@" in value:
        tokens = [f"<{value.strip().strip('<>')}>"]  # some mailers drop the angle brackets
    return tokens


def _addresses(p: ParsedMessage, name: str, charset: str | None) -> list[tuple[str, str]]:
    return [pair for text in p.raw_values(name) for pair in address_pairs(text, charset)]


def _read_headers(msg: Message, p: ParsedMessage) -> None:
    cs = p.body_charset
    p.subject = p.header("Subject")
    p.message_id = next(iter(_ids(p.header("Message-ID"))), None)
    p.in_reply_to = next(iter(_ids(p.header("In-Reply-To"))), None)
    p.references = _ids(" ".join(p.header_values("References")))
    sender = _addresses(p, "From", cs) or _addresses(p, "Sender", cs)
    if sender:
        p.from_name, p.from_addr = sender[0]
    p.reply_to = [a for _, a in _addresses(p, "Reply-To", cs)]
    p.to = [a for _, a in _addresses(p, "To", cs)]
    p.cc = [a for _, a in _addresses(p, "Cc", cs)]
    p.date = _date(p)


def _date(p: ParsedMessage) -> datetime | None:
    raw = p.header("Date")
    if not raw:
        return None
    try:
        value = email.utils.parsedate_to_datetime(raw)
    except Exception:
        value = None
    if value is None:
        p.defects.append("InvalidDateDefect")
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- parts ----------------------------------------------------------------------------------------------

def _guessed_charset(msg: Message) -> str | None:
    """For undeclared 8-bit header bytes when no text part declares a charset: a guess from the message's
    own 8-bit body (a longer sample than any header)."""
    if msg.is_multipart():
        return None
    body = payload_bytes(msg)
    return None if body.isascii() else guess_charset(body)


def _filename(part: Message, charset: str | None) -> str:
    # get_filename and get_param("name") both read only these two headers' parameters: no "name" in them,
    # no file name (RFC 2231 "filename*0*=" still contains it). Parsing the parameters is the costly part.
    params = f"{part.get('Content-Disposition', '')}{part.get('Content-Type', '')}"
    if "name" not in params.lower():
        return ""
    name = _safe(part.get_filename, None) or _safe(lambda: part.get_param("name"), None)
    if isinstance(name, tuple):  # an RFC 2231 value get_param left undecoded
        name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return ""
    text = decode_header_value(str(name), charset)
    text = "".join(ch for ch in text if ch >= " " and ch != "\x7f")  # no CR/LF/control chars in names
    return unicodedata.normalize("NFC", text).strip()


def _disposition(part: Message) -> str:
    value = str(part.get("Content-Disposition", "") or "")
    return value.split(";", 1)[0].strip().lower()


def _text_of(part: Message, data: bytes, p: ParsedMessage) -> str:
    # A part that declares no charset most likely shares its siblings' (HTML twin of a declared plain part).
    text, clean = decode_bytes(data, part.get_content_charset() or p.body_charset)
    if not clean:
        p.defects.append("CharsetDecodeDefect")
    return text


def _add_attachment(part: Message, p: ParsedMessage, name: str, disposition: str) -> None:
    ctype = _safe(part.get_content_type, "application/octet-stream")
    data = payload_bytes(part)
    if not name and ctype == "message/rfc822":
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        inner_subject = str(first.get("Subject", "") or "") if isinstance(first, Message) else ""
        name = (decode_header_value(inner_subject) or "message") + ".eml"
    keep = data if ctype.startswith("text/") and len(data) <= _KEEP_TEXT_BYTES else b""
    cid = str(part.get("Content-ID", "") or "").strip() or None
    p.attachments.append(Attachment(name, ctype, len(data), hashlib.sha256(data).hexdigest(), keep,
                                    disposition, cid))


def _read_parts(msg: Message, p: ParsedMessage) -> None:
    plain: list[str] = []
    html: list[str] = []
    broken: list[str] = []
    for part, ctype in _body_walk(msg, p):
        disposition = _disposition(part)
        name = _filename(part, p.body_charset)
        is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and not name
        if not is_body_text and part is msg and ctype.startswith("text/"):
            is_body_text = True  # a single-part message is its own body, whatever it is called
        if is_body_text:
            text = _text_of(part, payload_bytes(part), p)
            (html if ctype == "text/html" else plain).append(text)
        elif ctype.startswith("multipart/"):
            p.defects.append("BrokenMultipart")  # its boundary was never found: its text is the fallback body
            broken.append(_text_of(part, payload_bytes(part), p))
        elif not (ctype in _REPORT_PARTS and not name):
            _add_attachment(part, p, name, disposition)
    if plain:
        p.text = "\n".join(t for t in plain if t.strip()) or plain[0]
        p.body_type = "text/plain"
    if html:
        p.html = html[0]
        if not p.text.strip():
            p.text = html_to_text(p.html)
            p.body_type = "text/html"
    if not p.text.strip() and broken:
        p.text = "\n".join(broken)
        p.body_type = "text/plain"


def _body_walk(msg: Message, p: ParsedMessage) -> Iterator[tuple[Message, str]]:
    """Leaf parts in order, each with its content type, without descending into attached messages, the
    non-preferred alternatives (an HTML alternative of a plain body is kept as p.html only) or past
    _MAX_PARTS. Each part's type is read once: every read scans the part's headers."""
    stack: list[tuple[Message, str]] = [(msg, _content_type(msg))]
    seen = 0
    while stack:
        part, ctype = stack.pop(0)
        seen += 1
        if seen > _MAX_PARTS:
            p.defects.append("TooManyParts")
            return
        payload = part.get_payload()
        if ctype.startswith("message/") or not isinstance(payload, list):
            yield part, ctype  # attached messages, delivery reports and header copies are leaves
            continue
        children = [(c, _content_type(c)) for c in payload if isinstance(c, Message)]
        if ctype.partition("/")[2] == "alternative":
            yield from _alternatives(children, p)
            continue
        stack[0:0] = children


def _content_type(part: Message) -> str:
    return _safe(part.get_content_type, "text/plain")


def _alternatives(children: list[tuple[Message, str]], p: ParsedMessage) -> Iterator[tuple[Message, str]]:
    """From multipart/alternative: the plain part is the body and the HTML part is kept for p.html. A nested
    multipart (related: HTML with its inline images) is walked for its HTML and images, but its plain
    text is another rendering of the same body and is skipped."""
    plain = [c for c in children if c[1] == "text/plain"]
    if not plain:
        nested = [c for c in children if c[0].is_multipart()]
        html = [c for c in children if c[1] == "text/html"]
        chosen = nested[-1] if nested else (html[0] if html else (children[-1] if children else None))
        if chosen is not None:
            yield from _body_walk(chosen[0], p)
        return
    yield plain[0]
    for child in children:
        if child[0] is plain[0][0]:
            continue
        if child[1] == "text/html":
            yield child
        elif child[0].is_multipart():
            yield from (leaf for leaf in _body_walk(child[0], p) if leaf[1] != "text/plain")


def _recover_with_mailparser(msg: Message, p: ParsedMessage) -> None:
    """A multipart whose first boundary never appears: the stdlib leaves it one opaque part, mail-parser
    digs the parts out of the epilogue. Adds the attachments (and body text) only it found."""
    try:
        from mailparser.core import MailParser

        mp = MailParser(msg)
        known = {a.filename for a in p.attachments}
        for item in mp.attachments:
            name = str(item.get("filename") or "")
            if not name or name in known:
                continue
            payload = item.get("payload") or ""
            data = binascii.a2b_base64(payload) if item.get("binary") else str(payload).encode("utf-8", "replace")
            ctype = str(item.get("mail_content_type") or "application/octet-stream")
            keep = data if ctype.startswith("text/") and len(data) <= _KEEP_TEXT_BYTES else b""
            p.attachments.append(Attachment(name, ctype, len(data), hashlib.sha256(data).hexdigest(), keep,
                                            "attachment", str(item.get("content-id") or "") or None))
        plain = "\n".join(mp.text_plain).strip()
        if plain and "BrokenMultipart" in p.defects:
            p.text, p.body_type = plain, "text/plain"
        p.defects.append("RecoveredByMailParser")
    except Exception:
        p.defects.append("MailParserRecoveryFailed")
