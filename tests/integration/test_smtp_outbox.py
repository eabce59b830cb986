"""The outbox against a real SMTP peer (aiosmtpd): retries deliver once, refusals dead-letter and alert."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import GatewayProcess, assert_escalations_delivered_once, outbox_counts, vendor_mail, wait_vendor_mail
from servers import Dovecot, SmtpPeer, append, escalation_request, wait_until

pytestmark = pytest.mark.integration

ALERTS = 'alert_address = "ops@example.org"'


def _wait_outbox(gw, expected: dict[str, int], timeout: float = 15) -> None:  # type: ignore[no-untyped-def]
    wait_until(lambda: outbox_counts(gw) == expected, timeout, f"outbox {expected}")


def _first_send_fails(make_gateway: Callable[..., GatewayProcess], dovecot: Dovecot, smtp_peer: SmtpPeer,
                      answer: str, ticket: int) -> GatewayProcess:
    """One escalation whose first send (the vendor email) gets `answer`; returns the stopped gateway."""
    smtp_peer.handler.plan = [answer]
    append(dovecot, [escalation_request(ticket)])
    gw = make_gateway()
    gw.start()
    wait_vendor_mail(smtp_peer, 1)
    _wait_outbox(gw, {"escalation:sent": 1, "agent_note:sent": 1})
    assert gw.terminate() == 0
    return gw


def test_4xx_then_success_delivers_exactly_one_copy(make_gateway, dovecot, smtp_peer):
    gw = _first_send_fails(make_gateway, dovecot, smtp_peer, "4xx", 1101)
    assert smtp_peer.handler.answers[0] == "4xx" and smtp_peer.handler.answers.count("4xx") == 1
    assert_escalations_delivered_once(gw, smtp_peer, 1)


def test_connection_dropped_after_data_is_checked_in_sent_folder_then_sent_once(make_gateway, dovecot,
                                                                                 smtp_peer):
    gw = _first_send_fails(make_gateway, dovecot, smtp_peer, "drop", 1201)
    assert smtp_peer.handler.answers.count("drop") == 1
    assert_escalations_delivered_once(gw, smtp_peer, 1)


def test_5xx_dead_letters_and_alerts(make_gateway, dovecot, smtp_peer):
    smtp_peer.handler.plan = ["5xx"]
    append(dovecot, [escalation_request(1301), escalation_request(1302)])
    gw = make_gateway(gateway=ALERTS)
    gw.start()
    # The refused escalation is dead, the other one and the alert about the first went out.
    wait_until(lambda: outbox_counts(gw).get("alert:sent") == 1 and outbox_counts(gw).get("escalation:sent") == 1,
               20, "the alert and the other escalation to leave")
    assert gw.terminate() == 0
    counts = outbox_counts(gw)
    assert counts["escalation:dead"] == 1
    alerts = [r for r in smtp_peer.handler.received if r["to"] == ["ops@example.org"]]
    assert len(alerts) == 1
    assert b"[mailgate alert] dead_letter" in alerts[0]["content"]
    assert len(vendor_mail(smtp_peer)) == 1


def test_redirect_all_to_sends_every_message_to_one_address(make_gateway, dovecot, smtp_peer):
    append(dovecot, [escalation_request(1401), escalation_request(1402)])
    gw = make_gateway(transport='redirect_all_to = "pilot@example.org"')
    assert gw.run_once() == 0
    assert outbox_counts(gw)["escalation:sent"] == 2
    assert smtp_peer.handler.received and all(r["to"] == ["pilot@example.org"] for r in smtp_peer.handler.received)


def test_dry_run_sends_nothing_marks_rows_and_leaves_the_mailbox(make_gateway, dovecot, smtp_peer):
    append(dovecot, [escalation_request(1501)])
    gw = make_gateway()
    assert gw.run_once("--dry-run") == 0
    assert smtp_peer.handler.received == []
    counts = outbox_counts(gw)
    assert counts["escalation:dry_run"] == 1 and set(counts) <= {"escalation:dry_run", "agent_note:dry_run"}
