"""`mailgate status`, `show` and `reopen` on a state directory the lifecycle filled."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lifecycle_kit import CONFIG, deliver, open_runtime, outbox
from story_mail import agent_escalation, offsite

from gateway.cli import main
from gateway.clock import ManualClock

H = timedelta(hours=1)


@pytest.fixture
def acknowledged_offsite(tmp_path: Path) -> Path:
    """An acknowledged OffSite escalation (High priority); returns the config file."""
    state = tmp_path / "state"
    clock = ManualClock(datetime(2026, 11, 16, 15, 0, tzinfo=UTC))
    rt = open_runtime(state, clock)
    assert deliver(rt, agent_escalation("offsite", clock.now())) == "processed"
    (sent,) = outbox(rt, "escalation")
    subject = str(sent.msg["Subject"])
    clock.advance(H)
    assert deliver(rt, offsite("Ticket #20417 has been created and assigned to Jamison White.\n",
                               subject=f"Ticket #20417 created: {subject}", when=clock.now(),
                               reply_to=sent.message_id, refs=[sent.message_id], mid="<o1@offsite.inc.co>"))
    rt.close()
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace("[gateway]\n", f'[gateway]\nstate_dir = "{state}"\n', 1))
    return config


def test_status_lists_the_next_deadline_and_what_happens(acknowledged_offsite: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json", "--config", str(acknowledged_offsite)]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["zendesk_ticket"], row["vendor"], row["vendor_ticket"], row["state"], row["priority"]) == (
        "48377", "offsite", "20417", "acknowledged", "high")
    assert row["next_deadline"] == "2026-11-16T20:00:00+00:00" and row["kind"] == "update_due"
    assert "asks for status" in row["then"]
    assert main(["status", "--config", str(acknowledged_offsite)]) == 0
    assert "#48377" in capsys.readouterr().out


def test_show_prints_the_timeline_with_causes(acknowledged_offsite: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "48377", "--json", "--config", str(acknowledged_offsite)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [e["kind"] for e in shown["events"]] == ["sent", "ack"]
    assert shown["events"][1]["cause"] == "message"
    assert any(e["what"] == "waiting" and e["kind"] == "update_due" for e in shown["timeline"])
    assert main(["show", "99999", "--config", str(acknowledged_offsite)]) == 1


def test_reopen_refuses_an_open_ticket_then_reopens_a_closed_one(acknowledged_offsite: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reopen", "48377", "--note", "please call", "--config", str(acknowledged_offsite)]) == 1
    assert "not closed" in capsys.readouterr().out
    clock = ManualClock(datetime(2026, 11, 16, 18, 0, tzinfo=UTC))
    rt = open_runtime(tmp_path / "state", clock)
    assert deliver(rt, offsite("Ticket #20417 has been marked as closed due to no response.\n",
                               subject="Re: Ticket #20417", when=clock.now(), reply_to="<o1@offsite.inc.co>",
                               refs=["<o1@offsite.inc.co>"], mid="<o2@offsite.inc.co>")) == "processed"
    rt.close()
    assert main(["reopen", "48377", "--note", "The clinic IT is available all afternoon.",
                 "--config", str(acknowledged_offsite)]) == 0
    assert "Reopen reply sent" in capsys.readouterr().out
    rt = open_runtime(tmp_path / "state", clock)
    (reply,) = outbox(rt, "reopen")
    assert reply.to == ["support@offsite.inc.co"] and str(reply.msg["In-Reply-To"]) == "<o2@offsite.inc.co>"
    assert "available all afternoon" in reply.body
    rt.close()
