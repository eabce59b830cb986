"""`mailgate demo`: a realistic sample mailbox run through the real pipeline with the file outbox.

The sample mailbox (gateway/demo/mailbox) holds the agents' escalations and the vendors' replies. Vendor
replies are templates: {{sent:<vendor>}} and {{subject:<vendor>}} are filled with the Message-ID and subject
the gateway actually sent, the way a vendor's mail client would thread its reply; {{date:N}} is the demo
clock N steps after the start. Each message is delivered into a fresh Maildir and handled like live mail.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import tomllib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from pathlib import Path

from gateway.clock import ManualClock
from gateway.config import Config, parse_config
from gateway.outbox_sender import OutboxSender
from gateway.pipeline import ingest, process_pending, run_due
from gateway.runtime import Runtime
from gateway.sources.maildir import MaildirSource, deliver_to_maildir
from gateway.transport.file import FileTransport

START = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday, 8 am Pacific
STEP = timedelta(hours=6)
_PLACEHOLDER = re.compile(r"\{\{(sent|subject|date):([a-z0-9]+)\}\}")


def demo_config(state_dir: Path) -> Config:
    text = resources.files("gateway.demo").joinpath("demo.toml").read_text(encoding="utf-8")
    return parse_config(tomllib.loads(text), "<demo config>", state_dir, state_dir=str(state_dir))


def sample_messages() -> list[tuple[int, str, str]]:
    """(date step, file name, template text), in delivery order."""
    box = resources.files("gateway.demo").joinpath("mailbox")
    items = []
    for entry in box.iterdir():
        if entry.name.endswith(".eml"):
            text = entry.read_text(encoding="utf-8")
            m = re.search(r"\{\{date:(\d+)\}\}", text)
            items.append((int(m.group(1)) if m else 0, entry.name, text))
    return sorted(items)


def _sent_to_vendor(rt: Runtime, vendor: str) -> tuple[str, str] | None:
    for esc in rt.store.list_escalations():
        if esc.vendor != vendor:
            continue
        for item in rt.store.outbox_items(escalation_id=esc.id):
            if item.kind == "escalation":
                msg = email.message_from_bytes(item.content, policy=email.policy.default)
                return item.message_id, str(msg["Subject"])
    return None


def render(template: str, rt: Runtime) -> str | None:
    """Fill the placeholders; None when the thread it answers does not exist (nothing was sent)."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        kind, arg = m.group(1), m.group(2)
        if kind == "date":
            return format_datetime(START + int(arg) * STEP)
        sent = _sent_to_vendor(rt, arg)
        if sent is None:
            missing = True
            return ""
        return sent[0] if kind == "sent" else sent[1]

    text = _PLACEHOLDER.sub(fill, template)
    return None if missing else text.replace("\r\n", "\n").replace("\n", "\r\n")


def run_demo(state_dir: Path, out: list[str] | None = None) -> Runtime:
    """Run the sample mailbox through the gateway. Returns the runtime for reporting."""
    clock = ManualClock(START)
    rt = Runtime.open(demo_config(state_dir), clock=clock)
    source = MaildirSource(rt.config.maildir_path)
    sender = OutboxSender(rt.store, FileTransport(rt.config.outbox_path), rt.config, rt.key)
    for step, name, template in sample_messages():
        clock.set(max(clock.now(), START + step * STEP))
        run_due(rt)
        text = render(template, rt)
        if text is None:
            if out is not None:
                out.append(f"skipped {name}: the gateway sent nothing for it to answer")
            continue
        deliver_to_maildir(source.path, text.encode("utf-8"))
        ingest(rt, source)
        process_pending(rt)
        asyncio.run(sender.drain())
    return rt
