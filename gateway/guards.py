"""Guards (skeleton; the inbound issue completes it): flags that forbid automatic answers."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from gateway.msgid import is_ours
from gateway.parse import ParsedMessage


@dataclass
class GuardVerdict:
    auto_reply: bool = False
    out_of_office: bool = False
    bounce: bool = False
    bounce_kind: str | None = None
    bounced_message_id: str | None = None
    bounced_recipients: list[str] = field(default_factory=list)
    bulk: bool = False
    loop: bool = False
    no_auto_answer: bool = False
    reasons: list[str] = field(default_factory=list)


def inspect(parsed: ParsedMessage, *, own_addresses: Collection[str], key: bytes) -> GuardVerdict:
    v = GuardVerdict()
    auto = " ".join(parsed.header_values("Auto-Submitted")).lower()
    if auto and not auto.startswith("no"):
        v.auto_reply = True
        v.reasons.append("auto_submitted")
    if parsed.from_addr in own_addresses or (parsed.message_id and is_ours(key, parsed.message_id)):
        v.loop = True
        v.reasons.append("own_mail")
    v.no_auto_answer = v.auto_reply or v.loop or v.bounce or v.bulk
    return v
