"""`mailgate demo` end to end: both sample escalations, linked by their threading headers."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gateway.demo import run_demo

ROOT = Path(__file__).resolve().parents[1]


def test_demo_builds_both_escalations_from_the_sample_mailbox(tmp_path: Path) -> None:
    with run_demo(tmp_path / "demo") as rt:
        by_vendor = {e.vendor: e for e in rt.store.list_escalations()}
        assert set(by_vendor) == {"idme", "offsite"}
        idme, offsite = by_vendor["idme"], by_vendor["offsite"]
        # ID.me closed its first ticket (unreachable), the agent's #reopen reopened it under a new number.
        assert (idme.zendesk_ticket, idme.vendor_ticket, idme.state) == ("48213", "7790001", "resolved")
        assert rt.store.vendor_tickets(idme.id) == ["7781234", "7790001"] and idme.reopen_count == 1
        # OffSite missed an update (nudged), closed for no response, reopened once the agent sent contact details.
        assert (offsite.zendesk_ticket, offsite.vendor_ticket, offsite.state) == ("48377", "20417", "acknowledged")
        assert offsite.miss_count == 1 and offsite.reopen_count == 1
        assert rt.store.next_deadline(offsite.id) is not None
        for esc, intake in ((idme, "drchrono.support@id.me"), (offsite, "support@offsite.inc.co")):
            sent = [i for i in rt.store.outbox_items(escalation_id=esc.id) if i.kind == "escalation"]
            assert len(sent) == 1 and sent[0].recipients == [intake] and sent[0].status == "sent"
            vendor_mail = [m for m in rt.store.messages_for_escalation(esc.id) if m["event"] != "escalation_request"]
            assert vendor_mail, "vendor replies must be linked to the escalation"
            # The vendors' first replies carry only threading headers to find the escalation.
            assert vendor_mail[0]["link_method"] == "references"
        # The forged "resolved" mail is recorded, changes nothing, and is set aside.
        reasons = [row["reason"] for row in rt.store.quarantine_items()]
        assert "untrusted" in reasons


def test_demo_command_prints_each_escalation(tmp_path: Path) -> None:
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "mailgate"), "demo", "--state-dir", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Zendesk #48213" in proc.stdout and "Zendesk #48377" in proc.stdout
    assert "7781234" in proc.stdout and "20417" in proc.stdout
    # It tells what it sent (scrubbed bodies), the Zendesk notes, and what it waits for next.
    assert "The escalation as sent to the vendor" in proc.stdout and "[patient name removed]" in proc.stdout
    assert "The note back to the agent" in proc.stdout and "Zendesk internal notes" in proc.stdout
    assert "Waiting for next:" in proc.stdout and "update_due" in proc.stdout
    # The file outbox holds what was sent.
    assert list((tmp_path / "d" / "outbox").glob("*.eml"))
