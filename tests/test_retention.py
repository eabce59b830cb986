"""Retention: raw content goes after [retention] raw_days, the escalation's facts stay, nothing lingers in the
database file, and unread mail is never purged."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import ops_mail as m
import pytest

from gateway.cli import main
from gateway.clock import ManualClock
from gateway.outbox_sender import OutboxSender
from gateway.retention import purge_due
from gateway.runtime import Runtime
from gateway.transport.file import FileTransport, file_name_for


def _escalate_and_send(rt: Runtime) -> int:
    raw_id, outcome = m.store_and_process(rt, m.agent_escalation(), "agent-1")
    assert outcome == "processed"
    asyncio.run(OutboxSender(rt.store, FileTransport(rt.config.outbox_path), rt.config, rt.key).drain())
    return raw_id


def _db_bytes(rt: Runtime) -> bytes:
    files = [rt.store.path, Path(str(rt.store.path) + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


def test_purge_removes_old_raw_and_sent_content_and_keeps_the_facts(runtime: Runtime, clock: ManualClock) -> None:
    raw_id = _escalate_and_send(runtime)
    quarantined, _ = m.store_and_process(runtime, m.unknown_sender(), "stranger-1")
    sent = runtime.store.outbox_items(status="sent")
    assert {i.kind for i in sent} >= {"escalation"}
    esc = runtime.store.list_escalations()[0]
    events_before = runtime.store.events(esc.id)
    days = runtime.config.retention.raw_days

    clock.advance(timedelta(days=days - 1))
    assert purge_due(runtime).total == 0  # younger than the retention age: kept

    clock.advance(timedelta(days=2))
    preview = purge_due(runtime, dry_run=True)
    assert sorted(preview.raw_ids) == sorted([raw_id, quarantined])
    assert preview.outbox_ids == [i.id for i in sent]
    assert runtime.store.raw(raw_id).content is not None  # a dry run changes nothing

    copies = [runtime.config.outbox_path / file_name_for(i.message_id) for i in sent]
    assert all(p.exists() for p in copies)
    report = purge_due(runtime)
    assert report.total == 2 + len(sent)
    assert report.files == len(sent) and not any(p.exists() for p in copies)
    for rid in (raw_id, quarantined):
        assert runtime.store.raw(rid).content is None
        assert runtime.store.raw_info(rid)["purged_at"] == runtime.store.now()
    for before in sent:
        item = runtime.store.outbox_item(before.id)
        assert item.content == b"" and item.status == "sent" and item.message_id == before.message_id
        assert item.recipients == before.recipients
    # The facts remain: the escalation, its thread, its events.
    assert runtime.store.escalation(esc.id).zendesk_ticket == "48213"
    assert runtime.store.events(esc.id) == events_before
    assert [r["raw_id"] for r in runtime.store.messages_for_escalation(esc.id)] == [raw_id]
    # And the PHI is gone from the database file and its WAL, not just unreferenced.
    data = _db_bytes(runtime)
    for phi in (m.SSN, m.MRN, m.DOB, m.PHONE, m.SUBJECT_PHI):
        assert phi.encode() not in data, phi
    # A stranger's address goes with the raw copy; the escalation keeps the end user's sign-up email (the
    # vendor process needs it for the life of the escalation).
    kept = runtime.store.escalation(esc.id)
    assert kept.end_user_email == m.END_USER_EMAIL
    in_escalation = sum((v or "").count(m.END_USER_EMAIL) for v in (kept.end_user_email, kept.subject))
    assert data.count(m.END_USER_EMAIL.encode()) == in_escalation
    audit = [dict(e) for e in runtime.store.audit_entries() if e["action"] == "retention:purge"]
    assert len(audit) == 1 and json.loads(audit[0]["detail"])["raw"] == 2
    assert purge_due(runtime).total == 0  # idempotent


def test_unread_mail_and_waiting_outbox_rows_are_never_purged(runtime: Runtime, clock: ManualClock) -> None:
    raw, _ = runtime.store.add_raw(m.agent_escalation(n=2), "test", "new-1", None)
    oid, _ = runtime.store.enqueue(kind="nudge", dedupe_key="waiting", message_id="<w@example.org>",
                                   mail_from="escalations@example.org", recipients=["drchrono.support@id.me"],
                                   content=b"Subject: x\r\n\r\nwaiting\r\n")
    clock.advance(timedelta(days=365))
    assert purge_due(runtime).total == 0
    assert runtime.store.raw(raw.id).content is not None
    assert runtime.store.outbox_item(oid).content != b""


def test_raw_days_zero_keeps_everything(tmp_path: Path, clock: ManualClock) -> None:

    rt = Runtime.open(m.make_config(tmp_path / "s", "[retention]\nraw_days = 0\n"), clock=clock)
    try:
        _escalate_and_send(rt)
        clock.advance(timedelta(days=3650))
        report = purge_due(rt)
        assert report.cutoff is None and report.total == 0
    finally:
        rt.close()


def test_purge_command_dry_run_and_real(runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The command runs on the system clock: age the rows by writing them "long ago" with the manual clock.
    runtime.store.clock = ManualClock(runtime.clock.now() - timedelta(days=400))
    raw_id = _escalate_and_send(runtime)
    sent = len(runtime.store.outbox_items(status="sent"))
    config = m.config_file(tmp_path, runtime.store.state_dir, "[retention]\nraw_days = 30\n")
    assert main(["purge", "--config", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"would remove the content of 1 raw message(s) and {sent} outbox row(s)" in out
    assert runtime.store.raw(raw_id).content is not None
    assert main(["purge", "--config", str(config)]) == 0
    assert "removed the content of 1 raw message(s)" in capsys.readouterr().out
    assert runtime.store.raw(raw_id).content is None
    actors = [e["actor"] for e in runtime.store.audit_entries() if e["action"] == "retention:purge"]
    assert len(actors) == 1 and actors[0].startswith("cli:")


def test_secure_state_tightens_the_directory_and_database(runtime: Runtime) -> None:
    import stat

    from gateway.retention import secure_state

    state = runtime.store.state_dir
    state.chmod(0o755)
    runtime.store.path.chmod(0o644)
    assert set(secure_state(state)) >= {state.name, runtime.store.path.name}
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE(runtime.store.path.stat().st_mode) == 0o600
    assert secure_state(state) == []  # already tight: nothing to do
