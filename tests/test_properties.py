"""Property tests: parsing, guards and classification never raise, whatever the input."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.classify import EVENTS
from gateway.config import parse_config
from gateway.guards import GuardVerdict, inspect
from gateway.inbound import analyze
from gateway.parse import ParsedMessage, parse_message
from gateway.rules import load_rules

KEY = b"property-key"
OWN = {"gateway@mailgate.example"}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_header_name = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
                       min_size=1, max_size=30)
_interesting_names = st.sampled_from([
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
    "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Precedence",
    "Return-Path", "X-Failed-Recipients", "List-Id", "X-Autoreply", "Authentication-Results", "X-Mailgate-Id",
])
_header_value = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.sampled_from(["=?utf-8?B?w6k=?=", "=?bogus?Q?x=ZZ?=", "multipart/report; report-type=delivery-status; "
                     "boundary=b", "text/plain; charset=unknown-8bit", "base64", "<>", "auto-replied",
                     "=?utf-8?q?", "\"unterminated <a@b", "rfc822; <>"]),
)
_headers = st.lists(st.tuples(st.one_of(_interesting_names, _header_name), _header_value), max_size=15)


def _message(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def _check(raw: bytes) -> tuple[ParsedMessage, GuardVerdict]:
    p = parse_message(raw)
    assert isinstance(p, ParsedMessage)
    assert isinstance(p.defects, list)
    v = inspect(p, own_addresses=OWN, key=KEY)
    assert isinstance(v, GuardVerdict)
    if v.bounce:
        assert v.bounce_kind in ("permanent", "temporary")
    return p, v


@SETTINGS
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check(raw)


@SETTINGS
@given(_headers, st.binary(max_size=1500))
def test_arbitrary_headers_never_raise(headers: list[tuple[str, str]], body: bytes) -> None:
    p, _ = _check(_message(headers, body))
    for name, _value in headers:
        p.header_values(name)  # reading any header back never raises either


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["text/plain", "text/html", "message/delivery-status",
                                           "message/rfc822", "application/pdf", "multipart/alternative",
                                           "text/rfc822-headers"]),
                          st.sampled_from(["7bit", "base64", "quoted-printable", "x-uuencode", "bogus"]),
                          st.binary(max_size=300)), max_size=6))
def test_arbitrary_mime_trees_never_raise(parts: list[tuple[str, str, bytes]]) -> None:
    body = b"".join(b"--b\r\nContent-Type: " + ct.encode() + b"\r\nContent-Transfer-Encoding: " + cte.encode()
                    + b"\r\n\r\n" + data + b"\r\n" for ct, cte, data in parts) + b"--b--\r\n"
    raw = b"From: a@b.example\r\nContent-Type: multipart/report; boundary=b\r\n\r\n" + body
    _check(raw)


_ANALYSIS_CONFIG = """\
[gateway]
address = "gateway@mailgate.example"
[trust]
authserv_ids = ["mx.mailgate.example"]
agent_domains = ["desk.example"]
"""


@functools.cache
def _pipeline() -> tuple[dict[str, object], object]:
    config = parse_config(tomllib.loads(_ANALYSIS_CONFIG), "<properties>", Path("."))
    return load_rules(config.rules_path), config  # type: ignore[return-value]


@SETTINGS
@given(_headers, st.binary(max_size=1500))
def test_classification_and_analysis_never_raise(headers: list[tuple[str, str]], body: bytes) -> None:
    """gateway.inbound.analyze: parse -> guards -> trust -> classify, over arbitrary input."""
    rules, config = _pipeline()
    analysis = analyze(_message(headers, body), rules, config, KEY)  # type: ignore[arg-type]
    assert analysis.decision.event in EVENTS


@SETTINGS
@given(st.binary(max_size=3000))
def test_classification_of_arbitrary_bytes_never_raises(raw: bytes) -> None:
    rules, config = _pipeline()
    assert analyze(raw, rules, config, KEY).decision.event in EVENTS  # type: ignore[arg-type]
