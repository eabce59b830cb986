"""gateway.mime_tree must build exactly the tree the stdlib FeedParser (compat32) builds, or decline.

A wrong tree would change what every later step reads (bodies, attachments, delivery reports), so the two
parsers are compared part by part: on every corpus message and fixture, and on generated MIME full of the
things real mail gets wrong (missing or reused boundaries, blanks after delimiters, CRLF and LF mixed, lone
CRs, broken header lines, nested messages, delivery-status blocks, digests).
"""

from __future__ import annotations

from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from corpus_files import corpus_mail_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.mime_tree import fast_tree, stdlib_tree

ROOT = Path(__file__).resolve().parents[1]


def shape(msg: Message) -> tuple[Any, ...]:
    payload = msg._payload  # noqa: SLF001 - the stored payload, exactly as the parser left it
    return (type(msg).__name__, msg.get_unixfrom(), list(msg.raw_items()), msg.preamble, msg.epilogue,
            msg.get_default_type(), [type(d).__name__ for d in msg.defects],
            [shape(p) for p in payload] if isinstance(payload, list) else payload)


def same_or_declined(raw: bytes) -> bool:
    """True when fast_tree built the tree; fails the test when that tree differs from the stdlib's."""
    tree = fast_tree(raw)
    if tree is None:
        return False
    assert shape(tree) == shape(stdlib_tree(raw))
    return True


def mail_files() -> list[Path]:
    return sorted((ROOT / "tests" / "fixtures").rglob("*.eml")) + corpus_mail_files()


def test_corpus_and_fixtures_get_the_stdlib_tree_and_almost_all_take_the_fast_path() -> None:
    files = mail_files()
    built = sum(same_or_declined(p.read_bytes()) for p in files)
    assert files
    # Declining is allowed only for what the reader does not model (rare header faults): a fast path that
    # declined everything would pass the comparison and help nobody.
    assert built >= 0.97 * len(files), f"fast path took {built} of {len(files)}"


def test_a_typical_multipart_is_read_with_preamble_epilogue_and_attached_message() -> None:
    raw = (b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           b"preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1 \t\r\n"
           b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n--b1--\r\nafter\r\n")
    tree = fast_tree(raw)
    assert tree is not None
    text, attached = tree.get_payload()
    assert tree.preamble == "preamble" and tree.epilogue == "after\r\n"
    assert text.get_payload() == "hello"
    assert attached.get_payload(0)["Subject"] == "inner"
    assert shape(tree) == shape(stdlib_tree(raw))


def test_defects_match_the_stdlib_for_a_truncated_bounce() -> None:
    raw = (b"From: MAILER-DAEMON@example.com\nContent-Type: multipart/report; report-type=delivery-status;"
           b" boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n\n"
           b"Final-Recipient: rfc822; b@example.org\nStatus: 5.1.1\n\n--x\nContent-Type: message/rfc822\n\n"
           b"Message-ID: <m@example.com>\nContent-Type: multipart/alternative; boundary=y\n\n--y\n\ncut off")
    tree = fast_tree(raw)
    assert tree is not None
    assert [type(d).__name__ for d in tree.defects] == ["CloseBoundaryNotFoundDefect"]
    assert shape(tree) == shape(stdlib_tree(raw))


# --- generated MIME ----------------------------------------------------------------------------------------

EOLS = st.sampled_from(["\n", "\r\n", "\n", "\r\n", "\r"])
BOUNDARIES = st.sampled_from(["b", "b1", "b1x", "=_x", "b--", "(x)", "a b", ""])
TYPES = st.sampled_from(["text/plain", "text/html", "message/rfc822", "message/delivery-status",
                         "multipart/mixed", "multipart/digest", "multipart/alternative", "application/pdf",
                         "bogus", "message/partial"])
HEADER_LINES = st.sampled_from(["Subject: hi", "X-A:b", "X-Folded: a", "\tcontinued", " cont", "From x@y",
                                "From x@y Mon", "no colon here", ":empty name", "Bad Name: v", "X-8: \xe9",
                                "Reporting-MTA: dns; mx", "Status: 5.1.1", "Content-Transfer-Encoding: base64"])
TEXT_LINES = st.sampled_from(["hello", "", "--b", "--b1", "--b1--", "--b-- ", "--b1 x", "> --b", " ", "=3D",
                              "Final-Recipient: rfc822; x@y", "Content-Type: text/plain", "\xff\xfe"])


@st.composite
def lines(draw: Any, pool: Any, max_size: int = 4) -> str:
    eol = draw(EOLS)
    return "".join(line + draw(st.sampled_from([eol, eol, "\n"])) for line in draw(st.lists(pool, max_size=max_size)))


@st.composite
def mime(draw: Any, depth: int = 0) -> str:
    eol = draw(EOLS)
    ctype = draw(TYPES)
    head = draw(lines(HEADER_LINES, 3))
    if ctype.startswith("multipart/") and draw(st.booleans()):
        boundary = draw(BOUNDARIES)
        head += f'Content-Type: {ctype}; boundary="{boundary}"{eol}'
        body = draw(lines(TEXT_LINES, 2))
        for _ in range(draw(st.integers(0, 3))):
            body += f"--{boundary}{draw(st.sampled_from(['', ' ', '--', 'x']))}{eol}"
            body += draw(mime(depth + 1)) if depth < 2 else draw(lines(TEXT_LINES))
        if draw(st.booleans()):
            body += f"--{boundary}--{draw(st.sampled_from(['', ' ', eol]))}" + draw(lines(TEXT_LINES, 2))
    else:
        head += f"Content-Type: {ctype}{eol}" if draw(st.booleans()) else ""
        inner = ctype.startswith("message/") and depth < 2 and draw(st.booleans())
        body = draw(mime(depth + 1)) if inner else draw(lines(st.one_of(TEXT_LINES, HEADER_LINES)))
    return head + draw(st.sampled_from([eol, "", eol + eol])) + body


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime())
def test_generated_mime_gets_the_stdlib_tree_or_is_declined(text: str) -> None:
    same_or_declined(text.encode("utf-8", "surrogateescape"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_get_the_stdlib_tree_or_are_declined(raw: bytes) -> None:
    same_or_declined(raw)


@pytest.mark.parametrize("raw", [b"", b"\r", b"\n\n", b"From \n", b"Content-Type: multipart/mixed\n\n--\n"])
def test_edge_inputs_never_raise(raw: bytes) -> None:
    same_or_declined(raw)
