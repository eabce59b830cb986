"""`mailgate quarantine list|show|release|drop` on what the pipeline really set aside."""

from __future__ import annotations

import json
from pathlib import Path

import ops_mail as m
import pytest

from gateway import pipeline
from gateway.cli import main
from gateway.runtime import Runtime
from gateway.store import Store


@pytest.fixture
def held(tmp_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """One item per pipeline reason, with the raw id of each."""
    raws = {}
    raws["untrusted"], _ = m.store_and_process(runtime, m.forged_vendor(), "1")
    raws["unknown_sender"], _ = m.store_and_process(runtime, m.unknown_sender(), "2")
    raws["unreadable"], _ = m.store_and_process(runtime, m.unreadable(), "3")

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError(f"stage failed on {m.PATIENT}")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "analyze", broken)
        raws["processing_error"], outcome = m.store_and_process(runtime, m.agent_escalation(), "4")
    assert outcome == "quarantined"
    return raws


def _cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, runtime: Runtime, *args: str) -> tuple[int, str, str]:
    code = main(["quarantine", "--config", str(m.config_file(tmp_path, runtime.store.state_dir)), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _item_for(store: Store, raw_id: int) -> int:
    return next(int(r["id"]) for r in store.quarantine_items(None) if r["raw_id"] == raw_id)


def test_list_shows_each_item_with_its_reason(held: dict[str, int], tmp_path: Path, runtime: Runtime,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, tmp_path, runtime, "list")
    assert code == 0
    for reason, raw_id in held.items():
        assert any(reason in line and f"raw:{raw_id}" in line for line in out.splitlines()), reason
    assert not any(phi in out for phi in m.PHI)


def test_show_is_phi_free_unless_raw_is_asked(held: dict[str, int], tmp_path: Path, runtime: Runtime,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    item = _item_for(runtime.store, held["unknown_sender"])
    code, out, _ = _cli(capsys, tmp_path, runtime, "show", str(item))
    assert code == 0
    assert "unknown_sender" in out and "From domain:  lakeshore-clinic.example" in out
    assert "Subject:      (present, hidden" in out
    assert not any(phi in out for phi in m.PHI)
    code, out, _ = _cli(capsys, tmp_path, runtime, "show", str(item), "--raw")
    assert code == 0 and m.PATIENT in out and m.SSN in out
    assert any(e["action"] == "quarantine:show_raw" for e in map(dict, runtime.store.audit_entries()))


def test_release_reruns_the_pipeline_and_is_audited(held: dict[str, int], tmp_path: Path, runtime: Runtime,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw_id = held["processing_error"]
    item = _item_for(runtime.store, raw_id)
    code, out, _ = _cli(capsys, tmp_path, runtime, "release", str(item))
    assert code == 0 and "processed" in out
    assert runtime.store.raw(raw_id).status == "processed"
    assert runtime.store.quarantine_item(item)["status"] == "released"
    assert [e.zendesk_ticket for e in runtime.store.list_escalations()] == ["48213"]
    actions = [(e["actor"], e["action"], e["cause_ref"]) for e in runtime.store.audit_entries()]
    assert any(a.startswith("cli:") and act == "quarantine:release" and ref == f"raw:{raw_id}"
               for a, act, ref in actions)
    assert ("gateway", "reprocess:processed", f"quarantine:{item}") in actions  # caused by the release
    # Released twice is refused: it is no longer held.
    assert _cli(capsys, tmp_path, runtime, "release", str(item))[0] == 1


def test_release_of_a_message_that_is_still_bad_holds_it_again(held: dict[str, int], tmp_path: Path,
                                                                runtime: Runtime,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    item = _item_for(runtime.store, held["untrusted"])
    code, out, _ = _cli(capsys, tmp_path, runtime, "release", str(item))
    assert code == 0 and "quarantined" in out and "held again" in out
    again = [r for r in runtime.store.quarantine_items("held") if r["raw_id"] == held["untrusted"]]
    assert len(again) == 1 and again[0]["reason"] == "untrusted" and int(again[0]["id"]) != item


def test_drop_keeps_the_content_until_retention(held: dict[str, int], tmp_path: Path, runtime: Runtime,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    raw_id = held["unreadable"]
    item = _item_for(runtime.store, raw_id)
    code, out, _ = _cli(capsys, tmp_path, runtime, "drop", str(item))
    assert code == 0 and "dropped" in out
    assert runtime.store.quarantine_item(item)["status"] == "dropped"
    assert runtime.store.raw(raw_id).content is not None
    entry = [dict(e) for e in runtime.store.audit_entries() if e["action"] == "quarantine:drop"]
    assert entry and entry[0]["actor"].startswith("cli:") and json.loads(entry[0]["detail"]) == {
        "reason": "unreadable"}
    code, out, _ = _cli(capsys, tmp_path, runtime, "list")
    assert f"#{item} " not in out
    code, out, _ = _cli(capsys, tmp_path, runtime, "list", "--all")
    assert f"#{item} " in out and "dropped" in out


def test_held_outbox_rows_release_by_requeue_and_scrub_holds_need_force(runtime: Runtime, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    oid, _ = runtime.store.enqueue(kind="escalation", dedupe_key="t:1", message_id="<t1@example.org>",
                                   mail_from="escalations@example.org", recipients=["drchrono.support@id.me"],
                                   content=b"Subject: x\r\n\r\nbody\r\n", status="held")
    item = runtime.store.quarantine_add(reason="scrub_failure", detail="presidio unavailable", outbox_id=oid)
    code, _, err = _cli(capsys, tmp_path, runtime, "release", str(item))
    assert code == 1 and "--force" in err
    assert runtime.store.outbox_item(oid).status == "held"
    code, out, _ = _cli(capsys, tmp_path, runtime, "release", str(item), "--force")
    assert code == 0 and "queued" in out
    assert runtime.store.outbox_item(oid).status == "pending"


def test_every_quarantine_is_on_the_audit_trail(held: dict[str, int], runtime: Runtime) -> None:
    entries = [dict(e) for e in runtime.store.audit_entries()]
    for reason, raw_id in held.items():
        assert any(e["action"] == f"quarantine:{reason}" and e["cause_ref"] == f"raw:{raw_id}"
                   and e["actor"] == "gateway" for e in entries), reason
