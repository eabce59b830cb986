"""Structured logging that cannot carry PHI: one event a line, whitelisted fields only.

Three outputs, chosen by [logging] format:
- "json" (default): one JSON object a line on stderr. Under systemd (JOURNAL_STREAM set) journald stores each
  line as the MESSAGE of one entry, so `journalctl -u mailgate -o cat | jq` reads them back.
- "journald": the journal's native protocol over /run/systemd/journal/socket (stdlib socket only): each
  whitelisted field becomes a journal field (MAILGATE_RAW_ID=12, ...), so `journalctl MAILGATE_ESCALATION_ID=3`
  filters on it. Falls back to JSON on stderr when the socket is missing (not under systemd).
- "text": `ts level logger msg key=value ...` for a terminal; the same whitelist.

What keeps PHI out, whatever a caller passes:
- the message is `record.msg` as written in the code (a constant event name): `%` arguments are never
  interpolated, so `log.info("got %s", subject)` prints "got %s";
- only SAFE_FIELDS from `extra={...}` are emitted, and each value must be a number, a boolean, or a short token
  (letters, digits, `_ . : / + -`, no spaces, no `@`) else it is replaced by "<redacted>";
- an exception contributes its type name only, never its message or traceback (messages can quote mail);
- third-party loggers (imapclient, aiosmtplib, msal, presidio...) go through the same formatter at WARNING.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import sys
from collections.abc import Mapping
from datetime import UTC, datetime

SAFE_FIELDS = frozenset({
    "raw_id", "message_pk", "escalation_id", "outbox_id", "deadline_id", "job_id", "quarantine_id",
    "vendor", "event", "state", "from_state", "to_state", "kind", "outcome", "reason", "category", "count",
    "attempts", "delay_seconds", "duration_ms", "status", "code", "alert", "source", "uid", "uidvalidity",
    "method", "categories", "priority", "component", "error_type", "idle", "size", "old", "new",
    "lifetime_seconds", "actor", "action", "purged", "zendesk_ticket", "zendesk_job_id", "verified",
    "retry_after",
})
# Fields whose values may hold an '@': the gateway's own mailbox name ("imap:user@host/INBOX"), never mail data.
_AT_ALLOWED = frozenset({"source"})
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/+\-]{0,80}$")
_TOKEN_AT = re.compile(r"^[A-Za-z0-9_.:/+\-@]{0,120}$")
REDACTED = "<redacted>"
JOURNAL_SOCKET = "/run/systemd/journal/socket"


def _safe_value(key: str, value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_safe_value(key, v) for v in list(value)[:20]]
    if isinstance(value, str):
        pattern = _TOKEN_AT if key in _AT_ALLOWED else _TOKEN
        return value if pattern.match(value) else REDACTED
    return REDACTED


def _message(record: logging.LogRecord) -> str:
    # record.msg, never record.getMessage(): arguments are where a careless call would put mail data.
    if isinstance(record.msg, str):
        return record.msg if len(record.msg) <= 200 else record.msg[:200]
    return type(record.msg).__name__


def safe_fields(record: logging.LogRecord) -> dict[str, object]:
    """The whitelisted, value-checked fields of a record, plus the exception type if any."""
    fields = {key: _safe_value(key, record.__dict__[key]) for key in sorted(SAFE_FIELDS) if key in record.__dict__}
    if record.exc_info and record.exc_info[0] is not None:
        fields["error_type"] = record.exc_info[0].__name__
    return fields


class SafeJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _message(record),
        }
        entry.update(safe_fields(record))
        return json.dumps(entry, default=str)


class SafeTextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        pairs = " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in safe_fields(record).items())
        return f"{ts} {record.levelname.lower():<7} {record.name}: {_message(record)}" + (f" {pairs}" if pairs else "")


_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def journal_payload(record: logging.LogRecord) -> bytes:
    """One journal entry in the native protocol: KEY=value lines (values here never hold a newline)."""
    fields: dict[str, object] = {
        "MESSAGE": _message(record),
        "PRIORITY": _PRIORITY.get(record.levelno, 6),
        "SYSLOG_IDENTIFIER": "mailgate",
        "MAILGATE_LOGGER": record.name,
    }
    for key, value in safe_fields(record).items():
        fields[f"MAILGATE_{key.upper()}"] = ",".join(map(str, value)) if isinstance(value, list) else value
    lines = []
    for key, value in fields.items():
        text = str(value).replace("\n", " ")
        lines.append(f"{key}={text}")
    return ("\n".join(lines) + "\n").encode("utf-8")


class JournaldHandler(logging.Handler):
    """Sends each record to journald's native socket. One datagram per entry (ours are small)."""

    def __init__(self, path: str = JOURNAL_SOCKET) -> None:
        super().__init__()
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sock.sendto(journal_payload(record), self.path)
        except OSError:
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


def make_handler(fmt: str = "json", environ: Mapping[str, str] | None = None,
                 stream: object | None = None) -> logging.Handler:
    env = os.environ if environ is None else environ
    if fmt == "journald":
        path = env.get("MAILGATE_JOURNAL_SOCKET", JOURNAL_SOCKET)
        if os.path.exists(path):
            return JournaldHandler(path)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(SafeTextFormatter() if fmt == "text" else SafeJsonFormatter())
    return handler


def setup_logging(level: str = "INFO", fmt: str = "json", stream: object | None = None) -> logging.Handler:
    """Install the safe handler on the 'mailgate' logger (at `level`) and on the root logger (WARNING, for
    libraries), so nothing is printed by Python's last-resort handler, which would show raw messages."""
    handler = make_handler(fmt, stream=stream)
    ours = logging.getLogger("mailgate")
    ours.handlers[:] = [handler]
    ours.setLevel(level)
    ours.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    return handler
