"""Classification of vendor and agent mail: vendor, event, tickets, and why (rule hits)."""

from __future__ import annotations

import pytest
from classify_support import fixture, message, run

IDME = "ID.me Support <drchrono.support@id.me>"
IDME_SUBJECT = "[ID.me] Re: DrChrono; 48213; dr.whitfield@clinic.example"
OFFSITE = "OffSite Service Desk <support@offsite.inc.co>"
OFFSITE_SUBJECT = "Re: Ticket #20417: [DrChrono #48377] Image viewer down"


@pytest.mark.parametrize("name, vendor, event, vendor_ticket, zendesk_ticket", [
    ("idme_ack_autosubmitted.eml", "idme", "ack", "7781234", "48213"),
    ("idme_zendesk_history_progress.eml", "idme", "progress", "7781234", "48213"),
    ("idme_closed_unreachable.eml", "idme", "closed_unreachable", "7781234", "48213"),
    ("idme_out_of_office_person.eml", "idme", "other", None, "48213"),
    ("idme_forged_no_authres.eml", "idme", "other", "7781234", "48213"),
    ("offsite_ack_update_you.eml", "offsite", "ack", "20417", "48377"),
    ("offsite_newsletter.eml", "offsite", "other", "99999", None),
    ("bounce_of_escalation.eml", None, "other", None, None),
    ("agent_plus_address.eml", "idme", "escalation_request", None, "48213"),
    ("agent_cc_to_vendor.eml", "offsite", "escalation_request", None, "48377"),
    ("agent_commands.eml", None, "other", None, "48377"),
])
def test_fixtures(name: str, vendor: str | None, event: str, vendor_ticket: str | None,
                  zendesk_ticket: str | None) -> None:
    d = run(fixture(name)).decision
    assert (d.vendor, d.event, d.vendor_ticket, d.zendesk_ticket) == (vendor, event, vendor_ticket, zendesk_ticket)


# -- event phrases and precedence ------------------------------------------------------------------------
@pytest.mark.parametrize("body, event", [
    ("Ticket #20417 has been created and assigned to Jamison White.\nWe will update you at least every four "
     "business hours until it is resolved.", "ack"),
    ("Ticket #20417 has been resolved. Please let us know if you have any other questions.", "resolved"),
    ("We need additional information: please provide the clinic's public IP range.", "need_info"),
    ("We are still investigating the viewer errors with our engineering team.", "progress"),
    ("Ticket #20417 has been closed due to no response from your team. Reply to this email to reopen it.",
     "closed_no_response"),
    ("After review, this is not an OffSite issue: the problem lies with the clinic's firewall.",
     "not_vendor_issue"),
    ("The ticket will not be resolved until the clinic's IT replies.", "other"),
])
def test_offsite_events(body: str, event: str) -> None:
    assert run(message(OFFSITE, OFFSITE_SUBJECT, body)).decision.event == event


@pytest.mark.parametrize("body, event", [
    ("We were unable to reach the end user after three attempts and have closed the ticket. Please reply "
     "to this email thread which will reopen the ticket, and please provide a better phone number.",
     "closed_unreachable"),
    ("This issue has been resolved and the ticket has been closed.", "resolved"),
    ("We could not locate an ID.me account for that email. Could you please confirm the sign-up email?",
     "need_info"),
    ("We attempted to reach the prescriber again today and left a voicemail.", "progress"),
    ("After investigating, this is not an ID.me issue; the problem is on the DrChrono side.",
     "not_vendor_issue"),
    ("We were unable to reach the end user today; we will try again tomorrow.", "other"),  # no closure yet
])
def test_idme_events(body: str, event: str) -> None:
    assert run(message(IDME, IDME_SUBJECT, body)).decision.event == event


def test_new_text_wins_over_quoted_history() -> None:
    body = ("Could you please confirm the prescriber's cell number?\n\n"
            "On Fri, Nov 20, 2026 at 9:00 AM ID.me Support <drchrono.support@id.me> wrote:\n"
            "> This issue has been resolved and the ticket has been closed.\n")
    d = run(message(IDME, IDME_SUBJECT, body)).decision
    assert d.event == "need_info"


def test_subject_decides_only_when_the_body_says_nothing() -> None:
    d = run(message(OFFSITE, "Ticket #20417 created: [DrChrono #48377] viewer", "Jamison White\nOffSite")).decision
    assert d.event == "ack"
    assert any(h.startswith("event:ack:subject") for h in d.rule_hits)
    # a reply inherits the subject: it does not repeat the acknowledgement
    d = run(message(OFFSITE, "Re: Ticket #20417 created: [DrChrono #48377] viewer", "Thanks, Jamison")).decision
    assert d.event == "other"


# -- guards and trust ------------------------------------------------------------------------------------
def test_auto_submitted_zendesk_reply_from_the_helpdesk_is_classified() -> None:
    a = run(message(IDME, IDME_SUBJECT, "This issue has been resolved and the ticket has been closed.",
                    headers="Auto-Submitted: auto-generated\n"))
    assert a.guard.auto_reply and a.decision.event == "resolved"


def test_auto_reply_from_a_staff_address_is_not_an_update() -> None:
    a = run(message("Blake <blake.burlage@id.me>", IDME_SUBJECT, "Thanks, the ticket has been received.",
                    headers="Auto-Submitted: auto-replied\n"))
    assert a.decision.event == "other" and "skip:auto_reply" in a.decision.rule_hits


def test_autoreply_header_on_the_helpdesk_address_is_not_an_update() -> None:
    a = run(message(IDME, IDME_SUBJECT, "Your request (#7781234) has been received.",
                    headers="Auto-Submitted: auto-replied\nX-Autoreply: yes\n"))
    assert a.decision.event == "other"


def test_out_of_office_and_bounce_are_other() -> None:
    ooo = run(fixture("idme_out_of_office_person.eml"))
    assert ooo.guard.out_of_office and ooo.decision.event == "other"
    bounce = run(fixture("bounce_of_escalation.eml"))
    assert bounce.decision.event == "other"
    assert bounce.decision.bounced_message_id == "<mg.2.bbbbbbbbbbbb.111111111111@example.org>"


def test_untrusted_vendor_mail_keeps_its_facts_but_not_its_event() -> None:
    d = run(message(IDME, IDME_SUBJECT, "Request #7781234: this issue has been resolved.", trusted=False)).decision
    assert (d.vendor, d.trusted, d.event, d.vendor_ticket) == ("idme", False, "other", "7781234")


def test_unknown_sender_is_other_without_vendor() -> None:
    d = run(message("someone@random.example", "Ticket #12345 resolved", "Your ticket has been resolved.")).decision
    assert (d.vendor, d.event) == (None, "other") and "sender:unknown" in d.rule_hits


# -- tickets ---------------------------------------------------------------------------------------------
def test_vendor_ticket_is_never_our_zendesk_ticket() -> None:
    d = run(message(OFFSITE, "[DrChrono #48377] Image viewer down", "Ticket #48377 is being looked at.")).decision
    assert d.zendesk_ticket == "48377" and d.vendor_ticket is None


def test_cross_vendor_subject_format_is_not_read_for_another_vendor() -> None:
    d = run(message(OFFSITE, "Re: DrChrono; 48213; dr.whitfield@clinic.example", "Ticket #20417 is open.")).decision
    assert d.vendor == "offsite" and d.zendesk_ticket is None and d.end_user_email is None


def test_foreign_ticket_numbers_are_listed() -> None:
    d = run(message(IDME, IDME_SUBJECT, "Request #7781234 (see also INC0012345 at the clinic's IT).")).decision
    assert {(t.system, t.number) for t in d.ticket_numbers} >= {("zendesk", "7781234"), ("servicenow", "INC0012345")}
    assert d.vendor_ticket == "7781234"


# -- agents ----------------------------------------------------------------------------------------------
AGENT = "Maria Lopez <maria.lopez@drchrono.com>"


@pytest.mark.parametrize("subject, body, vendor, zendesk", [
    ("ID.me escalation for Zendesk #48213", "Vendor: ID.me\nDescription: x", "idme", "48213"),
    ("Escalation", "Vendor: OffSite\nZendesk ticket: 48377\nDescription: x", "offsite", "48377"),
    ("Escalation ZD-48213", "Vendor: idme\nDescription: x", "idme", "48213"),
    ("Zendesk 48213 needs ID.me", "Vendor: ID.me", "idme", "48213"),
    ("DrChrono; 48213; dr.whitfield@clinic.example", "Description: MFA fails", "idme", "48213"),
])
def test_agent_escalations(subject: str, body: str, vendor: str, zendesk: str) -> None:
    d = run(message(AGENT, subject, body)).decision
    assert (d.is_agent, d.event, d.vendor, d.zendesk_ticket) == (True, "escalation_request", vendor, zendesk)


def test_agent_end_user_email_from_subject_format_or_line() -> None:
    d = run(message(AGENT, "DrChrono; 48213; dr.w@clinic.example", "Description: x")).decision
    assert d.end_user_email == "dr.w@clinic.example"
    d = run(message(AGENT, "ID.me #48213", "Vendor: ID.me\nSign-up email: dr.w@clinic.example")).decision
    assert d.end_user_email == "dr.w@clinic.example"


def test_agent_writing_to_the_vendor_directly() -> None:
    d = run(fixture("agent_cc_to_vendor.eml")).decision
    assert d.agent_sent_to_vendor == "offsite" and d.event == "escalation_request" and d.priority == "high"


def test_agent_commands_from_new_text_only() -> None:
    d = run(fixture("agent_commands.eml")).decision
    assert d.commands == [("priority", "high"), ("note", "the clinic says two more users are affected")]
    assert d.event == "other"


def test_untrusted_agent_domain_is_not_an_agent() -> None:
    d = run(message(AGENT, "ID.me escalation #48213", "Vendor: ID.me", trusted=False)).decision
    assert not d.is_agent and d.event == "other" and d.vendor is None


def test_agent_without_vendor_is_other() -> None:
    d = run(message(AGENT, "Question about #48213", "Can someone look at this?")).decision
    assert d.event == "other" and "agent:incomplete:no_vendor" in d.rule_hits


@pytest.mark.parametrize("sender, body, event", [
    (IDME, "Thank you for contacting ID.me Support. We have received your request and a member of our team will "
     "respond shortly. Please provide your ticket number in any future correspondence.", "ack"),
    (IDME, "Your request (#7781234) has been received and is being reviewed by our support staff. Please provide "
     "any additional information by replying to this email.", "ack"),
    (IDME, "Hi Maria, this ticket has been marked as Solved. If you need further help, simply reply.", "resolved"),
    (IDME, "We have successfully verified the member and he can sign prescriptions again. We will now close this "
     "ticket.", "resolved"),
    (IDME, "If we do not hear back within 72 hours, we will close this ticket.", "other"),
    (IDME, "We have been unable to reach Dr. Whitfield after three attempts. This ticket is now closed; reply to "
     "this thread to reopen it.", "closed_unreachable"),
    (IDME, "Quick update: we spoke with the provider today and are waiting on his new device.", "progress"),
    (IDME, "We need the email address the provider used to register with ID.me in order to proceed.", "need_info"),
    (IDME, "The provider's identity is verified on our side; this appears to be an issue with the DrChrono EPCS "
     "configuration, so we're closing this ticket.", "not_vendor_issue"),
    (OFFSITE, "Hello, your ticket has been assigned to Lasha. We are reviewing your request and will update you "
     "within 8 business hours.", "ack"),
    (OFFSITE, "We are currently working with our hosting provider on the viewer issue.", "progress"),
    (OFFSITE, "This ticket has been closed. Please reply if the problem returns.", "resolved"),
    (OFFSITE, "We have not heard back from you in 48 hours, so we have closed this ticket.", "closed_no_response"),
    (OFFSITE, "Per our policy, if there is no response within 48 hours, the ticket may be marked as closed.", "other"),
    (OFFSITE, "Thanks, we will look into it.", "other"),
])
def test_realistic_phrasings(sender: str, body: str, event: str) -> None:
    subject = IDME_SUBJECT if "id.me" in sender else OFFSITE_SUBJECT
    assert run(message(sender, subject, body)).decision.event == event


def test_agent_subdomain_counts_as_agent() -> None:
    d = run(message("Maria <maria.lopez@mail.drchrono.com>", "ID.me #48213", "Vendor: ID.me")).decision
    assert d.is_agent and d.event == "escalation_request"


def test_vendor_with_a_format_answering_on_our_tag() -> None:
    d = run(message(IDME, "Re: [DrChrono #48213] MFA problem", "Request #7781234 is open.")).decision
    assert d.zendesk_ticket == "48213" and "subject:our_tag:idme" in d.rule_hits
