"""Transports: how outbound mail leaves. One small interface: send a complete message, report per recipient."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class TransientSendError(Exception):
    """Try again later (4xx, timeout, dropped connection)."""


class PermanentSendError(Exception):
    """Never try again (5xx for every recipient, malformed message)."""


@dataclass
class SendResult:
    accepted: list[str] = field(default_factory=list)
    # recipient -> (SMTP code, server text); a partial refusal still counts as sent for the others
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


class Transport(Protocol):
    name: str

    async def send(self, *, mail_from: str, recipients: list[str], content: bytes, message_id: str) -> SendResult:
        """Deliver once. Raise TransientSendError or PermanentSendError on failure."""
        ...

    async def already_delivered(self, message_id: str) -> bool | None:
        """After a crash mid-send: did the message with this Message-ID already leave? True / False when the
        transport can tell either way, None when it cannot (the sender then holds the row for an operator)."""
        ...

    async def close(self) -> None: ...
