"""The three log outputs: JSON lines, text, and journald's native protocol over its datagram socket."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

import pytest

from gateway.logs import JournaldHandler, SafeJsonFormatter, make_handler, setup_logging


def test_json_lines_carry_event_name_and_ids(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", "json", stream=out)
    log = logging.getLogger("mailgate.pipeline")
    log.info("message processed", extra={"raw_id": 7, "escalation_id": 3, "outcome": "processed"})
    log.debug("not at INFO")
    (line,) = out.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["msg"] == "message processed" and entry["level"] == "info"
    assert entry["raw_id"] == 7 and entry["escalation_id"] == 3 and entry["outcome"] == "processed"
    assert entry["logger"] == "mailgate.pipeline" and entry["ts"].endswith("+00:00")


def test_text_format(restore_logging: None) -> None:
    out = io.StringIO()
    setup_logging("INFO", "text", stream=out)
    logging.getLogger("mailgate.outbox").warning("outbox retry", extra={"outbox_id": 4, "delay_seconds": 30.0})
    assert out.getvalue().rstrip().endswith("mailgate.outbox: outbox retry delay_seconds=30.0 outbox_id=4")


def test_journald_native_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "journal.sock")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind(path)
    journal.settimeout(5)
    monkeypatch.setenv("MAILGATE_JOURNAL_SOCKET", path)
    handler = make_handler("journald")
    assert isinstance(handler, JournaldHandler)
    logger = logging.getLogger("mailgate.test.journal")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise OSError("connection reset")
        except OSError:
            logger.error("outbox dead letter", exc_info=True, extra={"outbox_id": 9, "kind": "nudge"})
        fields = dict(line.split("=", 1) for line in journal.recv(65536).decode().splitlines())
    finally:
        logger.removeHandler(handler)
        handler.close()
        journal.close()
    assert fields["MESSAGE"] == "outbox dead letter" and fields["PRIORITY"] == "3"
    assert fields["SYSLOG_IDENTIFIER"] == "mailgate"
    assert fields["MAILGATE_OUTBOX_ID"] == "9" and fields["MAILGATE_KIND"] == "nudge"
    assert fields["MAILGATE_ERROR_TYPE"] == "OSError" and "connection reset" not in str(fields)


def test_journald_falls_back_to_json_without_a_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILGATE_JOURNAL_SOCKET", str(tmp_path / "absent.sock"))
    handler = make_handler("journald")
    assert isinstance(handler.formatter, SafeJsonFormatter)
