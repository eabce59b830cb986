"""The store: migrations from empty and re-run, WAL mode, content addressing, idempotent events."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.store import Store
from gateway.store.core import _migrations

TABLES = {"raw_messages", "checkpoints", "source_seen", "messages", "escalations", "vendor_tickets",
          "message_links", "events", "outbox", "outbox_recipients", "deadlines", "zendesk_jobs", "quarantine",
          "audit_log", "kv", "schema_migrations"}


def test_migrations_from_empty_create_every_table_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path)
    names = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert TABLES <= names
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.schema_version() == max(v for v, _n, _s in _migrations())
    store.close()


def test_rerunning_migrations_is_a_noop(tmp_path: Path) -> None:
    store = Store(tmp_path)
    version = store.schema_version()
    assert store.migrate() == []
    store.close()
    again = Store(tmp_path)  # opening an existing store upgrades nothing
    assert again.schema_version() == version
    count = again.db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    assert count == len(_migrations())
    again.close()


def test_raw_messages_are_content_addressed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, created = store.add_raw(b"Subject: a\r\n\r\nbody", "maildir:x", "k1", "<a@x>")
    again, created_again = store.add_raw(b"Subject: a\r\n\r\nbody", "imap:y", "1:5", "<a@x>")
    assert created and not created_again and first.id == again.id
    assert store.is_seen("maildir:x", "k1") and store.is_seen("imap:y", "1:5")
    assert store.count_raw() == 1
    store.close()


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        with store.transaction():
            store.create_escalation(zendesk_ticket="1", vendor="idme", state="drafted")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.list_escalations() == []
    store.close()


def test_events_are_idempotent_per_cause(tmp_path: Path) -> None:
    store = Store(tmp_path)
    esc, _ = store.create_escalation(zendesk_ticket="48213", vendor="idme", state="sent")
    assert store.add_event(escalation_id=esc.id, kind="ack", cause_type="message", cause_ref="msg:1")
    assert not store.add_event(escalation_id=esc.id, kind="ack", cause_type="message", cause_ref="msg:1")
    assert [e.kind for e in store.events(esc.id)] == ["ack"]
    store.close()


def test_new_vendor_ticket_becomes_current(tmp_path: Path) -> None:
    store = Store(tmp_path)
    esc, _ = store.create_escalation(zendesk_ticket="48213", vendor="idme", state="sent")
    store.add_vendor_ticket(esc.id, "7781234", "idme")
    store.add_vendor_ticket(esc.id, "7790001", "idme")
    assert store.current_vendor_ticket(esc.id) == "7790001"
    assert store.vendor_tickets(esc.id) == ["7781234", "7790001"]
    found = store.escalation_by_vendor_ticket("7781234", "idme")
    assert found is not None and found.id == esc.id
    store.close()


def test_outbox_enqueue_is_once_per_dedupe_key(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, created = store.enqueue(kind="escalation", dedupe_key="k", message_id="<m1@x>", mail_from="a@x",
                                   recipients=["b@y"], content=b"x")
    second, created2 = store.enqueue(kind="escalation", dedupe_key="k", message_id="<m2@x>", mail_from="a@x",
                                     recipients=["b@y"], content=b"x")
    assert created and not created2 and first == second
    assert len(store.due_outbox()) == 1
    store.close()


def test_store_is_a_plain_sqlite_file_on_disk(tmp_path: Path) -> None:
    Store(tmp_path).close()
    db = sqlite3.connect(tmp_path / "mailgate.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_failed_inner_unit_rolls_back_alone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction():
        store.create_escalation(zendesk_ticket="1", vendor="idme", state="sent")
        try:
            with store.transaction():
                store.create_escalation(zendesk_ticket="2", vendor="idme", state="sent")
                raise RuntimeError("this message is bad")
        except RuntimeError:
            pass
        store.create_escalation(zendesk_ticket="3", vendor="idme", state="sent")
    assert [e.zendesk_ticket for e in store.list_escalations()] == ["1", "3"]
    store.close()


def test_holds_without_a_message_or_outbox_row_are_not_collapsed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = store.quarantine_add(reason="scrub_failure", detail="nudge for escalation 1")
    second = store.quarantine_add(reason="scrub_failure", detail="reopen for escalation 2")
    assert first != second
    raw, _ = store.add_raw(b"Subject: x\r\n\r\ny", "replay", "k", None)
    assert store.quarantine_add(reason="unreadable", raw_id=raw.id) == store.quarantine_add(reason="unreadable",
                                                                                             raw_id=raw.id)
    store.close()
