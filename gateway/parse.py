"""Parsing raw bytes into a ParsedMessage. Never raises: an unreadable message comes back with
readable=False and its defects, and the pipeline quarantines it.

(Skeleton version on the stdlib alone; the inbound issue extends it with mail-parser.)
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    content: bytes = field(repr=False, default=b"")

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
    text: str = ""            # the whole text body
    new_text: str = ""        # the new part of a reply, quoted history removed
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    readable: bool = True
    headers: EmailMessage | None = field(default=None, repr=False)  # for guards and trust

    def header_values(self, name: str) -> list[str]:
        if self.headers is None:
            return []
        try:
            return [str(v) for v in (self.headers.get_all(name) or [])]
        except Exception:
            return []


def _ids(value: str | None) -> list[str]:
    return [t for t in (value or "").split() if t.startswith("<") and t.endswith(">")]


def parse_message(raw: bytes) -> ParsedMessage:
    try:
        return _parse(raw)
    except Exception as exc:  # parsing must never raise
        return ParsedMessage(readable=False, defects=[f"unparseable: {type(exc).__name__}"])


def _parse(raw: bytes) -> ParsedMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    p = ParsedMessage(headers=msg)
    p.defects = [type(d).__name__ for d in msg.defects]
    p.message_id = (_ids(str(msg.get("Message-ID", ""))) or [None])[0]
    p.in_reply_to = (_ids(str(msg.get("In-Reply-To", ""))) or [None])[0]
    p.references = _ids(str(msg.get("References", "")))
    name, addr = parseaddr(str(msg.get("From", "")))
    p.from_name, p.from_addr = name, (addr.lower() or None)
    p.reply_to = [a.lower() for _, a in getaddresses([str(v) for v in msg.get_all("Reply-To", [])]) if a]
    p.to = [a.lower() for _, a in getaddresses([str(v) for v in msg.get_all("To", [])]) if a]
    p.cc = [a.lower() for _, a in getaddresses([str(v) for v in msg.get_all("Cc", [])]) if a]
    p.subject = str(msg.get("Subject", "")).strip()
    try:
        p.date = parsedate_to_datetime(str(msg["Date"])) if msg["Date"] else None
    except (TypeError, ValueError):
        p.defects.append("InvalidDateDefect")
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = body.get_content()
        if body.get_content_subtype() == "html":
            p.html = content
        else:
            p.text = content
    p.new_text = _new_text(p.text)
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True) or b""
        p.attachments.append(Attachment(part.get_filename() or "", part.get_content_type(), len(data),
                                        hashlib.sha256(data).hexdigest(), data))
    return p


def _new_text(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith(">") or (line.startswith("On ") and line.rstrip().endswith("wrote:")):
            break
        lines.append(line)
    return "\n".join(lines).strip()
