"""The pipeline's per-message atomicity inside group commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import lifecycle, pipeline
from gateway.runtime import Runtime
from gateway.sources.maildir import MaildirSource, deliver_to_maildir

AUTH = "Authentication-Results: mx.example.org; dmarc=pass header.from=drchrono.com\r\n"


def agent_mail(n: int) -> bytes:
    return (AUTH + f"From: Agent <agent@drchrono.com>\r\nTo: escalations@example.org\r\n"
            f"Subject: status #{n}\r\nMessage-ID: <p{n}@drchrono.com>\r\n\r\n#status\r\n").encode()


def test_one_failing_message_rolls_back_alone(runtime: Runtime, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    box = tmp_path / "Maildir"
    for n in range(1, 6):
        deliver_to_maildir(box, agent_mail(n))
    pipeline.ingest(runtime, MaildirSource(box))
    real = lifecycle.on_message

    def flaky(rt: Runtime, *, message_pk: int, analysis, link) -> None:  # type: ignore[no-untyped-def]
        # Every message writes something first; the third then fails half-way.
        rt.store.create_escalation(zendesk_ticket=f"z{message_pk}", vendor="idme", state="sent")
        if analysis.parsed.message_id == "<p3@drchrono.com>":
            raise RuntimeError("boom")
        real(rt, message_pk=message_pk, analysis=analysis, link=link)

    monkeypatch.setattr(lifecycle, "on_message", flaky)
    monkeypatch.setattr(pipeline, "GROUP_COMMIT", 10)
    assert pipeline.process_pending(runtime) == 5
    statuses = [runtime.store.raw(i).status for i in range(1, 6)]  # type: ignore[union-attr]
    assert statuses == ["processed", "processed", "quarantined", "processed", "processed"]
    # The failing message's half-done write was rolled back; the others' writes were committed.
    assert len(runtime.store.list_escalations()) == 4
    assert [q["reason"] for q in runtime.store.quarantine_items()] == ["processing_error"]
