"""Message sources: where inbound mail comes from. One small interface, several implementations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class IncomingMessage:
    source: str        # stable name of the source, e.g. "maildir:/var/lib/mailgate/Maildir"
    key: str           # stable key of the message within the source (Maildir key, "<uidvalidity>:<uid>", path)
    content: bytes


class SeenIndex(Protocol):
    """What a source asks the store: has this key been stored already?"""

    def is_seen(self, source: str, source_key: str) -> bool: ...


class MessageSource(Protocol):
    name: str

    def fetch_new(self, seen: SeenIndex) -> Iterator[IncomingMessage]:
        """Yield messages not yet stored, oldest first. Must not change the mailbox."""
        ...

    def acknowledge(self, message: IncomingMessage) -> None:
        """Called after the message is committed to the store (flag / move per config; never delete)."""
        ...
