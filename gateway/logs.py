"""Structured logging: one JSON object a line (or journald fields). Only whitelisted fields are emitted,
so a careless `extra={...}` can never put a subject, body or address into the log.

Fields allowed: ids, counts, categories, durations, states. Messages passed to log calls must be constant
strings (event names), never formatted with values from mail.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

SAFE_FIELDS = frozenset({
    "raw_id", "message_pk", "escalation_id", "outbox_id", "deadline_id", "job_id", "quarantine_id",
    "vendor", "event", "state", "from_state", "to_state", "kind", "outcome", "reason", "category", "count",
    "attempts", "delay_seconds", "duration_ms", "status", "code", "alert", "source", "uid", "uidvalidity",
    "method", "categories", "priority", "component", "error_type",
})


class SafeJsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
        }
        for key in SAFE_FIELDS:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: exception messages can carry values from mail.
            entry["error_type"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def setup_logging(level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeJsonFormatter())
    root = logging.getLogger("mailgate")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
