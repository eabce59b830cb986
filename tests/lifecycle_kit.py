"""Helpers for the lifecycle tests and stories: a runtime on a ManualClock, mail builders, delivery through the
real pipeline, and a look at what the gateway queued.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from gateway.clock import ManualClock
from gateway.config import parse_config
from gateway.pipeline import process_raw
from gateway.runtime import Runtime

CONFIG = """\
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
agent_domains = ["drchrono.com"]
[vendors.idme]
after_hours_alert = "alert@idmeinc.pagerduty.com"
max_reopens = 2
[[vendors.idme.contacts]]
name = "Blake Burlage"
email = "blake.burlage@id.me"
role = "leadership"
[[vendors.idme.contacts]]
name = "Santi Espinosa"
email = "santiago.espinosa@id.me"
role = "leadership"
[[vendors.idme.contacts]]
name = "Anthony Spriggs"
email = "anthony.spriggs@id.me"
role = "technical"
[vendors.offsite]
phones = ["816-232-7483", "816-676-0434"]
max_reopens = 1
auto_reopen = true
[[vendors.offsite.contacts]]
name = "Jamison White"
email = "jamison.white@offsite.inc.co"
role = "leadership"
"""

_seq = itertools.count(1)


def open_runtime(state: Path, clock: ManualClock, text: str = CONFIG) -> Runtime:
    cfg = parse_config(tomllib.loads(text), "<test>", state, state_dir=str(state))
    return Runtime.open(cfg, clock=clock)


def _auth(domain: str) -> str:
    return (f"mx.example.org; dkim=pass header.d={domain}; spf=pass smtp.mailfrom={domain};"
            f" dmarc=pass header.from={domain}")


def mail(*, sender: str, subject: str, body: str, when: datetime, to: str = "escalations@example.org",
         cc: str | None = None, in_reply_to: str | None = None, references: list[str] | None = None,
         message_id: str | None = None, trusted: bool = True, extra: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    domain = sender.rsplit("@", 1)[1].rstrip(">")
    msg["Authentication-Results"] = _auth(domain) if trusted else "mx.example.org; dkim=none; spf=softfail; dmarc=fail"
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id or f"<t{next(_seq)}.{int(when.timestamp())}@{domain}>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content(body)
    return bytes(msg)


def deliver(rt: Runtime, raw: bytes) -> str:
    """Store and process one message the way the daemon does. Returns the pipeline outcome."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    row, _ = rt.store.add_raw(raw, "test", f"k{next(_seq)}", str(parsed["Message-ID"]))
    return process_raw(rt, row.id)


@dataclass
class Sent:
    kind: str
    to: list[str]
    msg: EmailMessage
    message_id: str
    status: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> str:
        part = self.msg.get_body(("plain",))
        return part.get_content() if part is not None else ""


def outbox(rt: Runtime, kind: str | None = None) -> list[Sent]:
    found = []
    for item in rt.store.outbox_items():
        if kind is not None and item.kind != kind:
            continue
        msg = email.message_from_bytes(item.content, policy=email.policy.default)
        found.append(Sent(item.kind, list(item.recipients), msg, item.message_id, item.status))  # type: ignore[arg-type]
    return found


def events(rt: Runtime, esc_id: int) -> list[str]:
    return [e.kind for e in rt.store.events(esc_id)]


def pending(rt: Runtime, esc_id: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in rt.store.deadlines_for(esc_id, "pending"):
        out.setdefault(d.kind, []).append(d.due_at)
    return out
