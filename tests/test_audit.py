"""`mailgate audit`: who did what, when, to what, and the message/deadline/command that caused it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.clock import ManualClock
from gateway.commands.audit import parse_since
from gateway.demo import run_demo

DEMO_CONFIG = str(Path(__file__).resolve().parents[1] / "gateway" / "demo" / "demo.toml")


@pytest.fixture(scope="module")
def demo_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("demo")
    run_demo(state).close()
    return state


def _audit(capsys: pytest.CaptureFixture[str], state: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["audit", "--config", DEMO_CONFIG, "--state-dir", str(state), "--json", *args])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_trail_names_actor_action_target_and_cause(demo_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, entries = _audit(capsys, demo_state)
    assert code == 0 and entries
    for e in entries:
        assert set(e) == {"at", "actor", "action", "target", "cause_type", "cause_ref", "detail"}
        datetime.fromisoformat(str(e["at"]))
    sent = [e for e in entries if e["action"] == "outbox:sent:escalation"]
    assert len(sent) == 2 and all(e["actor"] == "gateway" and e["cause_ref"] for e in sent)
    acks = [e for e in entries if e["action"] == "event:ack"]
    assert acks and acks[0]["cause_type"] == "message" and str(acks[0]["cause_ref"]).startswith("msg:")
    assert acks[0]["detail"]["change"] == "sent->acknowledged"  # type: ignore[index]
    forged = [e for e in entries if e["action"] == "quarantine:untrusted"]
    assert len(forged) == 1 and forged[0]["cause_type"] == "message"
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)  # type: ignore[type-var]


def test_since_filters_by_time(demo_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, everything = _audit(capsys, demo_state)
    _, later = _audit(capsys, demo_state, "--since", "2026-11-21T00:00:00+00:00")
    assert later and len(later) < len(everything)
    assert all(str(e["at"]) >= "2026-11-21T00:00:00+00:00" for e in later)
    _, none = _audit(capsys, demo_state, "--since", "2999-01-01")
    assert none == []


def test_commands_an_operator_runs_are_on_the_trail(demo_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = main(["quarantine", "--config", DEMO_CONFIG, "--state-dir", str(demo_state), "list"])
    listing = capsys.readouterr().out
    assert held == 0 and "untrusted" in listing
    item = listing.split()[0].lstrip("#")
    assert main(["quarantine", "--config", DEMO_CONFIG, "--state-dir", str(demo_state), "drop", item]) == 0
    capsys.readouterr()
    _, entries = _audit(capsys, demo_state)
    drop = [e for e in entries if e["action"] == "quarantine:drop"]
    assert len(drop) == 1 and str(drop[0]["actor"]).startswith("cli:") and drop[0]["cause_type"] == "command"
    assert drop[0]["target"] == f"quarantine:{item}"


def test_plain_output_and_bad_since(demo_state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--config", DEMO_CONFIG, "--state-dir", str(demo_state)]) == 0
    out = capsys.readouterr().out
    assert "outbox:sent:escalation" in out and "cause=message:msg:" in out
    assert main(["audit", "--config", DEMO_CONFIG, "--state-dir", str(demo_state), "--since", "yesterday"]) == 2
    assert "--since" in capsys.readouterr().err


def test_parse_since_accepts_durations_and_iso() -> None:
    clock = ManualClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert parse_since("24h", clock) == "2026-11-22T12:00:00+00:00"
    assert parse_since("90m", clock) == "2026-11-23T10:30:00+00:00"
    assert parse_since("2w", clock) == "2026-11-09T12:00:00+00:00"
    assert parse_since("2026-11-20", clock) == "2026-11-20T00:00:00+00:00"
    assert parse_since("2026-11-20T08:00:00-08:00", clock) == "2026-11-20T16:00:00+00:00"
    with pytest.raises(ValueError):
        parse_since("last tuesday", clock)
