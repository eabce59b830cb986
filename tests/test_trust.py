"""Trust (RFC 8601): only our authserv-ids vouch, for the From domain or an aligned DKIM domain."""

from __future__ import annotations

import pytest
from classify_support import fixture, run
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.parse import parse_message
from gateway.trust import authenticate, organisational_domain, parse_authentication_results

OURS = ["mx.example.org"]


def verdict(ar_lines: list[str], sender: str = "support@id.me"):  # type: ignore[no-untyped-def]
    raw = "".join(f"Authentication-Results: {line}\n" for line in ar_lines)
    raw += f"From: <{sender}>\nSubject: x\n\nbody\n"
    return authenticate(parse_message(raw.encode()), OURS)


def test_parser_reads_comments_quotes_versions_and_several_results() -> None:
    h = parse_authentication_results(
        'MX.Example.ORG 1 (our mx); dkim = pass (2048-bit) header.d=ID.me header.s="sel;1"; '
        'spf=pass smtp.mailfrom=id.me; dmarc/1=pass (p=reject; sp=none) header.from=id.me')
    assert h is not None
    assert (h.authserv_id, h.version) == ("mx.example.org", "1")
    assert [(r.method, r.result) for r in h.results] == [("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert h.results[0].props == {"header.d": "ID.me", "header.s": "sel;1"}


def test_quoted_authserv_id_and_no_result() -> None:
    h = parse_authentication_results('"mx.example.org"; none')
    assert h is not None and h.authserv_id == "mx.example.org" and h.results == []


def test_dmarc_pass_from_our_server_is_trusted() -> None:
    v = verdict(["mx.example.org; dmarc=pass header.from=id.me"])
    assert (v.trusted, v.method, v.domain, v.authserv_id) == (True, "dmarc", "id.me", "mx.example.org")


def test_dmarc_pass_for_another_domain_does_not_vouch_for_from() -> None:
    assert not verdict(["mx.example.org; dmarc=pass header.from=attacker.example"]).trusted


@pytest.mark.parametrize("ar", [
    "mx.example.org; dkim=pass header.d=id.me",
    "mx.example.org; dkim=pass header.d=mail.id.me",        # relaxed alignment: same organisational domain
    "mx.example.org; dkim=pass header.i=@help.id.me",
    "mx.example.org; dkim=fail header.d=other.example; dkim=pass header.d=ID.ME",
])
def test_aligned_dkim_pass_is_trusted(ar: str) -> None:
    v = verdict([ar], sender="santiago.espinosa@id.me")
    assert v.trusted and v.method == "dkim"


@pytest.mark.parametrize("ar", [
    "mx.example.org; dkim=pass header.d=zendesk.example",    # the helpdesk's own signature: not aligned
    "mx.example.org; dkim=fail header.d=id.me",
    "mx.example.org; spf=pass smtp.mailfrom=id.me",          # SPF alone is not enough
    "mx.example.org; dkim=pass header.d=id.me; dmarc=fail header.from=id.me",  # dmarc fail vetoes
])
def test_unaligned_or_failing_results_are_not_trusted(ar: str) -> None:
    assert not verdict([ar]).trusted


def test_other_authserv_ids_are_ignored() -> None:
    assert not verdict(["mx.attacker.example; dmarc=pass header.from=id.me",
                        "id.me; dkim=pass header.d=id.me"]).trusted


def test_only_the_topmost_header_of_our_id_counts() -> None:
    assert not verdict(["mx.example.org; dmarc=fail header.from=id.me",
                        "mx.example.org; dmarc=pass header.from=id.me"]).trusted


def test_organisational_domain_keeps_known_second_level_suffixes() -> None:
    assert organisational_domain("mail.support.example.co.uk") == "example.co.uk"
    assert organisational_domain("help.id.me") == "id.me"
    assert organisational_domain("offsite.inc.co") == "inc.co"


def test_organisational_domain_follows_the_bundled_public_suffix_list() -> None:
    # Suffixes no short built-in list carries, and shared hosting whose tenants are different organisations.
    assert organisational_domain("mx.mail.example.com.mt") == "example.com.mt"
    assert organisational_domain("clinic-a.github.io") == "clinic-a.github.io"
    assert organisational_domain("mx.gateway.mailgate.example") == "mailgate.example"  # no listed suffix


def test_garbage_headers_never_raise() -> None:
    for junk in ["", ";;;", "(((", '"unterminated', "mx.example.org; =; dkim=", "mx.example.org (a (b) c"]:
        assert not verdict([junk]).trusted


@pytest.mark.parametrize("name", ["idme_forged_no_authres.eml", "idme_forged_foreign_authres.eml",
                                  "idme_forged_ours_below.eml"])
def test_forged_vendor_mail_is_untrusted_and_changes_nothing(name: str) -> None:
    a = run(fixture(name))
    assert a.decision.vendor == "idme"
    assert not a.trust.trusted
    assert a.decision.event == "other"


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_header_text_parses_without_raising(value: str) -> None:
    h = parse_authentication_results(value)
    assert h is None or isinstance(h.authserv_id, str)
    assert not verdict([value.replace("\n", " ").replace("\r", " ")], sender="x@id.me").trusted or "pass" in value
