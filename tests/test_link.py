"""Linking a message to its escalation, in the issue's order, never across vendors from subject or body."""

from __future__ import annotations

from classify_support import KEY, fixture, message, run

from gateway.link import find_escalation
from gateway.msgid import make_message_id
from gateway.store import Store

IDME = "ID.me Support <drchrono.support@id.me>"
OFFSITE = "OffSite Service Desk <support@offsite.inc.co>"


def _idme_and_offsite(store: Store) -> tuple[int, int]:
    with store.transaction():
        idme, _ = store.create_escalation(zendesk_ticket="48213", vendor="idme", state="sent",
                                          subject="DrChrono; 48213; dr.whitfield@clinic.example")
        offsite, _ = store.create_escalation(zendesk_ticket="48377", vendor="offsite", state="sent",
                                             subject="[DrChrono #48377] Image viewer down at Riverside")
        store.add_vendor_ticket(idme.id, "7781234", "idme")
        store.add_vendor_ticket(offsite.id, "20417", "offsite")
    return idme.id, offsite.id


def _sent(store: Store, escalation_id: int, message_id: str) -> None:
    with store.transaction():
        store.enqueue(kind="escalation", dedupe_key=f"esc:{escalation_id}", message_id=message_id,
                      mail_from="escalations@example.org", recipients=["x@vendor.example"], content=b"x",
                      escalation_id=escalation_id)


def link(store: Store, raw: bytes):  # type: ignore[no-untyped-def]
    a = run(raw)
    return find_escalation(store, a.parsed, a.decision, KEY)


def test_our_message_id_in_in_reply_to(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, _ = _idme_and_offsite(runtime.store)
    _sent(runtime.store, idme, "<sent-1@example.org>")
    found = link(runtime.store, message(IDME, "anything", "hello", headers="In-Reply-To: <sent-1@example.org>\n"))
    assert (found.escalation_id, found.method) == (idme, "references")


def test_message_id_beats_a_ticket_number_naming_another_escalation(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, offsite = _idme_and_offsite(runtime.store)
    _sent(runtime.store, offsite, "<sent-2@example.org>")
    raw = message(OFFSITE, "Re: [DrChrono #48213] x", "Ticket #20417", headers="References: <sent-2@example.org>\n")
    found = link(runtime.store, raw)
    assert (found.escalation_id, found.method) == (offsite, "references")


def test_signed_token_in_references_links_without_a_stored_message_id(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, _ = _idme_and_offsite(runtime.store)
    token = make_message_id(KEY, idme, "example.org")
    found = link(runtime.store, message(IDME, "no subject clue", "hello", headers=f"References: {token}\n"))
    assert (found.escalation_id, found.method) == (idme, "token")


def test_token_signed_with_another_key_is_ignored(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, _ = _idme_and_offsite(runtime.store)
    token = make_message_id(b"someone else's key", idme, "example.org")
    assert link(runtime.store, message(IDME, "no clue", "hello", headers=f"References: {token}\n")) is None


def test_vendor_ticket_links_only_for_that_vendor(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, _ = _idme_and_offsite(runtime.store)
    found = link(runtime.store, message(IDME, "Update", "Request #7781234: still working on it."))
    assert (found.escalation_id, found.method) == (idme, "vendor_ticket")
    # the same number from OffSite must not reach the ID.me escalation
    assert link(runtime.store, message(OFFSITE, "Update", "Ticket #7781234 is open.")) is None


def test_zendesk_ticket_in_the_vendor_subject_format_or_tag(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, offsite = _idme_and_offsite(runtime.store)
    found = link(runtime.store, message(IDME, "[ID.me] Re: DrChrono; 48213; dr.w@clinic.example", "Hello"))
    assert (found.escalation_id, found.method) == (idme, "zendesk_ticket")
    found = link(runtime.store, message(OFFSITE, "Re: [DrChrono #48377] viewer", "Hello"))
    assert (found.escalation_id, found.method) == (offsite, "zendesk_ticket")


def test_subject_collisions_across_vendors_do_not_link(runtime) -> None:  # type: ignore[no-untyped-def]
    _idme_and_offsite(runtime.store)
    # OffSite using ID.me's subject format, and our tag for a Zendesk ticket escalated to ID.me only
    assert link(runtime.store, message(OFFSITE, "Re: DrChrono; 48213; dr.w@clinic.example", "Hello")) is None
    assert link(runtime.store, message(OFFSITE, "Re: [DrChrono #48213] x", "Hello")) is None
    # ID.me quoting OffSite's escalation subject
    body = "> [DrChrono #48377] Image viewer down at Riverside\n"
    assert link(runtime.store, message(IDME, "Question", body)) is None


def test_original_subject_quoted_in_the_body(runtime) -> None:  # type: ignore[no-untyped-def]
    _, offsite = _idme_and_offsite(runtime.store)
    body = "We are on it.\n\n-----Original Message-----\nSubject: [DrChrono #48377] Image viewer down at\n Riverside\n"
    found = link(runtime.store, message(OFFSITE, "Your request", body))
    assert (found.escalation_id, found.method) == (offsite, "quoted_subject")


def test_bounce_links_by_the_bounced_message_id(runtime) -> None:  # type: ignore[no-untyped-def]
    _, offsite = _idme_and_offsite(runtime.store)
    _sent(runtime.store, offsite, "<mg.2.bbbbbbbbbbbb.111111111111@example.org>")
    found = link(runtime.store, fixture("bounce_of_escalation.eml"))
    assert (found.escalation_id, found.method) == (offsite, "bounced_message_id")


def test_agent_mail_links_by_zendesk_ticket_to_the_named_vendor(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, _ = _idme_and_offsite(runtime.store)
    found = link(runtime.store, message("Maria <maria.lopez@drchrono.com>", "ID.me #48213", "Vendor: ID.me"))
    assert (found.escalation_id, found.method) == (idme, "zendesk_ticket")


def test_unknown_sender_never_links_from_text(runtime) -> None:  # type: ignore[no-untyped-def]
    _idme_and_offsite(runtime.store)
    raw = message("x@random.example", "Re: DrChrono; 48213; dr.w@clinic.example", "Request #7781234")
    assert link(runtime.store, raw) is None


def test_vendor_mail_never_links_to_another_vendors_thread(runtime) -> None:  # type: ignore[no-untyped-def]
    idme, offsite = _idme_and_offsite(runtime.store)
    _sent(runtime.store, idme, "<sent-idme@example.org>")
    # an agent forwarded ID.me's thread to OffSite; OffSite's answer references it
    raw = message(OFFSITE, "Re: Fwd: DrChrono; 48213", "This ticket has been resolved.",
                  headers="References: <sent-idme@example.org>\n")
    assert link(runtime.store, raw) is None
    raw = message(OFFSITE, "Re: [DrChrono #48377] Fwd", "Hello", headers="References: <sent-idme@example.org>\n")
    found = link(runtime.store, raw)
    assert (found.escalation_id, found.method) == (offsite, "zendesk_ticket")
