"""The Maildir source and its checkpoint: nothing handled twice, new mail picked up, mailbox untouched."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.pipeline import ingest
from gateway.runtime import Runtime
from gateway.sources.maildir import DirectorySource, MaildirSource, deliver_to_maildir


def msg(n: int) -> bytes:
    return (f"From: someone@example.net\r\nTo: escalations@example.org\r\nSubject: note {n}\r\n"
            f"Message-ID: <n{n}@example.net>\r\n\r\nbody {n}\r\n").encode()


def snapshot(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


def test_each_message_is_stored_once_and_new_ones_are_picked_up(runtime: Runtime, tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    source = MaildirSource(box)
    deliver_to_maildir(box, msg(1))
    deliver_to_maildir(box, msg(2))
    assert ingest(runtime, source) == 2
    assert ingest(runtime, source) == 0
    deliver_to_maildir(box, msg(3))
    assert ingest(runtime, source) == 1
    assert runtime.store.count_raw() == 3


def test_a_reader_moving_mail_to_cur_does_not_make_it_new(runtime: Runtime, tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    source = MaildirSource(box)
    key = deliver_to_maildir(box, msg(1))
    assert ingest(runtime, source) == 1
    os.rename(box / "new" / key, box / "cur" / f"{key}:2,S")  # a person read it in their mail client
    assert ingest(runtime, source) == 0


def test_the_checkpoint_survives_a_restart(tmp_path: Path, runtime: Runtime) -> None:
    box = tmp_path / "Maildir"
    deliver_to_maildir(box, msg(1))
    assert ingest(runtime, MaildirSource(box)) == 1
    runtime.store.close()
    reopened = Runtime.open(runtime.config, clock=runtime.clock)
    try:
        deliver_to_maildir(box, msg(2))
        assert ingest(reopened, MaildirSource(box)) == 1
        assert reopened.store.count_raw() == 2
    finally:
        reopened.close()


def test_the_mailbox_is_never_modified(runtime: Runtime, tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    for n in range(3):
        deliver_to_maildir(box, msg(n))
    before = snapshot(box)
    ingest(runtime, MaildirSource(box))
    assert snapshot(box) == before


def test_directory_source_reads_files_dirs_and_maildirs(runtime: Runtime, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.eml").write_bytes(msg(10))
    (plain / "sub").mkdir()
    (plain / "sub" / "b.eml").write_bytes(msg(11))
    single = tmp_path / "c.eml"
    single.write_bytes(msg(12))
    box = tmp_path / "Maildir"
    deliver_to_maildir(box, msg(13))
    source = DirectorySource([plain, single, box])
    assert ingest(runtime, source) == 4
    assert ingest(runtime, source) == 0
