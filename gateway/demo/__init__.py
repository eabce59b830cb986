"""`mailgate demo`: a realistic sample mailbox run through the real pipeline with the file outbox.

The sample mailbox (gateway/demo/mailbox) holds the agents' mail and the vendors' replies. Replies are
templates: {{sent:<vendor>}} and {{subject:<vendor>}} are filled with the Message-ID and subject of the
escalation the gateway actually sent, {{sent:<vendor>:<kind>}} with the Message-ID of the latest outgoing mail
of that kind (a reopen reply, a notice to the agent), the way a mail client threads its reply; {{date:N}} is
the demo clock N hours after the start. Between two messages the demo clock moves forward deadline by
deadline, the way the scheduler would fire them, so missed updates and reminders happen at their own time.
Each message is delivered into a fresh Maildir and handled like live mail.
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

from gateway.clock import ManualClock, iso
from gateway.config import Config, parse_config
from gateway.outbox_sender import OutboxSender
from gateway.pipeline import ingest, process_pending, run_due
from gateway.runtime import Runtime
from gateway.sources.maildir import MaildirSource, deliver_to_maildir
from gateway.transport.file import FileTransport

START = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # Friday, 8 am Pacific
STEP = timedelta(hours=1)
_PLACEHOLDER = re.compile(r"\{\{(sent|subject|date):([a-z0-9]+)(?::([a-z_]+))?\}\}")


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


def _sent_to_vendor(rt: Runtime, vendor: str, kind: str = "escalation") -> tuple[str, str] | None:
    """(Message-ID, subject) of the latest outgoing mail of `kind` for the vendor's escalation."""
    found = None
    for esc in rt.store.list_escalations():
        if esc.vendor != vendor:
            continue
        for item in rt.store.outbox_items(escalation_id=esc.id):
            if item.kind == kind:
                msg = email.message_from_bytes(item.content, policy=email.policy.default)
                found = item.message_id, str(msg["Subject"])
    return found


def render(template: str, rt: Runtime) -> str | None:
    """Fill the placeholders; None when the thread it answers does not exist (nothing was sent)."""
    missing = False

    def fill(m: re.Match[str]) -> str:
        nonlocal missing
        kind, arg, what = m.group(1), m.group(2), m.group(3) or "escalation"
        if kind == "date":
            return format_datetime(START + int(arg) * STEP)
        sent = _sent_to_vendor(rt, arg, what)
        if sent is None:
            missing = True
            return ""
        return sent[0] if kind == "sent" else sent[1]

    text = _PLACEHOLDER.sub(fill, template)
    return None if missing else text.replace("\r\n", "\n").replace("\n", "\r\n")


def advance_to(rt: Runtime, clock: ManualClock, target: datetime) -> None:
    """Move the clock to `target`, stopping at each deadline on the way to fire it at its own time."""
    while True:
        due = rt.store.due_deadlines(iso(target), limit=1)
        if not due:
            break
        clock.set(max(clock.now(), datetime.fromisoformat(due[0].due_at)))
        if run_due(rt) == 0 and rt.store.due_deadlines(iso(clock.now()), limit=1) == due:
            break  # nothing could fire (cannot happen with a sane store); never loop forever
    clock.set(max(clock.now(), target))
    run_due(rt)


def run_demo(state_dir: Path, out: list[str] | None = None) -> Runtime:
    """Run the sample mailbox through the gateway. Returns the runtime for reporting."""
    clock = ManualClock(START)
    rt = Runtime.open(demo_config(state_dir), clock=clock)
    source = MaildirSource(rt.config.maildir_path)
    sender = OutboxSender(rt.store, FileTransport(rt.config.outbox_path), rt.config, rt.key)
    for step, name, template in sample_messages():
        advance_to(rt, clock, START + step * STEP)
        asyncio.run(sender.drain())
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
