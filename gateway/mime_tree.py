"""The compat32 MIME tree for well-formed mail, built without the stdlib's line-by-line FeedParser.

Why: on the gateway's mail mix the FeedParser is half of the whole inbound cost. It reads every line through
a stack of end-of-part predicates, and it compiles a fresh regular expression for each multipart's boundary
(boundaries are unique per message, so the `re` cache never helps). Here a part's text is cut at its
delimiter lines with `str.find`, and a header block is read field by field with anchored regex matches.

Contract: `fast_tree(raw)` returns either None ("not certain: ask the stdlib") or exactly the tree
`FeedParser(policy=compat32)` builds from the same bytes: the same classes, headers (raw values, surrogate
escapes kept), payload strings, preambles, epilogues, default types and defects. The FeedParser's commonest
defects are reproduced (missing start or close boundary, no boundary, missing header/body separator, a
multipart with a transfer encoding); where it would do something not modelled here (lone CR line ends,
misplaced envelope lines, a continuation or a colon first in a header block, adjacent delimiter lines, a
boundary reused by an enclosing part, a delivery-status block with a body) this returns None, so such mail
is still read by the stdlib and keeps the stdlib's own defect report. tests/test_mime_tree.py
holds the two parsers to the same trees on the corpus, the fixtures and generated MIME.
"""

from __future__ import annotations

import email.policy
import re
from email import errors
from email.feedparser import FeedParser
from email.message import Message

_CLEAN_CTE = ("7bit", "8bit", "binary")
_BLANK_LINE = re.compile(r"\n\r?\n")
# A header field: a name of printable ASCII but ":" and space, then its value and folded lines (not the final
# line ending). Contiguous matches up to the blank line are a block the FeedParser reads without defects.
_FIELD = re.compile(r"([!-9;-~]+):([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")


class _Unsure(Exception):
    """The FeedParser would note a defect here, or do something this reader does not model."""


def compat32_tree(raw: bytes) -> Message:
    """What email.message_from_bytes(raw, policy=compat32) builds: fast_tree where it can vouch for the result,
    else the stdlib FeedParser."""
    tree = fast_tree(raw)
    return tree if tree is not None else stdlib_tree(raw)


def stdlib_tree(raw: bytes) -> Message:
    """The stdlib FeedParser's compat32 tree, fed in one piece (the same tree as 8 KiB chunks, less time)."""
    parser = FeedParser(policy=email.policy.compat32)
    parser.feed(raw.decode("ascii", "surrogateescape"))
    return parser.close()


def fast_tree(raw: bytes) -> Message | None:
    text = raw.decode("ascii", "surrogateescape")
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # a lone CR ends a line for the stdlib's reader; not modelled
    try:
        msg = _message(text, "text/plain", ())[0]
    except (_Unsure, RecursionError):
        return None
    if not msg.is_multipart() and msg.get_content_maintype() == "multipart":
        msg.defects.append(errors.MultipartInvariantViolationDefect())
    return msg


def _line_end(text: str, pos: int) -> int:
    """Index just past the line starting at pos (its line ending included)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _strip_eol(s: str) -> str:
    if s.endswith("\r\n"):
        return s[:-2]
    if s.endswith("\n"):
        return s[:-1]
    return s


def _headers(text: str, msg: Message, stop_at_blank_only: bool) -> int:
    """Read the header block at the start of text into msg; returns where the body starts (past the blank
    separator line) or, for delivery-status blocks (stop_at_blank_only), where the blank line begins."""
    if text.startswith(("\n", "\r\n")):
        return 0 if stop_at_blank_only else _line_end(text, 0)
    # The common case: a block of well-formed fields, each read by one anchored match, up to a blank line.
    blank_line = _BLANK_LINE.search(text)
    blank = blank_line.start() + 1 if blank_line else len(text)
    fields, pos = [], 0
    while pos < blank and (field := _FIELD.match(text, pos, blank)) is not None:
        fields.append(field)
        pos = field.end()
    if pos < blank or not fields:
        return _header_lines(text, msg, stop_at_blank_only)  # a faulty line or an envelope line: the slow way
    for field in fields:
        msg.set_raw(field.group(1), field.group(2).lstrip(" \t").rstrip("\r\n"))
    return blank if stop_at_blank_only or blank == len(text) else _line_end(text, blank)


def _header_lines(text: str, msg: Message, stop_at_blank_only: bool) -> int:
    """The same, line by line, for blocks with a fault or an envelope line (the FeedParser's rules)."""
    pos, lineno, size = 0, 0, len(text)
    current: list[str] = []
    while pos < size:
        end = _line_end(text, pos)
        line = text[pos:end]
        first = line[0]
        if first == "\n" or line == "\r\n":
            if current:
                _store(msg, current)
            return pos if stop_at_blank_only else end
        if first in " \t":
            if not current:
                raise _Unsure  # FirstHeaderLineIsContinuationDefect
            current.append(line)
        else:
            if current:
                _store(msg, current)
                current = []
            if line.startswith("From "):
                if lineno != 0:
                    raise _Unsure  # a misplaced envelope line, or the body's first line
                msg.set_unixfrom(_strip_eol(line))
            else:
                colon = line.find(":")
                name = line[:colon]
                if colon == 0:
                    raise _Unsure  # InvalidHeaderDefect: the FeedParser drops the line
                if colon < 0 or not (name.isascii() and name.isprintable()) or " " in name:
                    if stop_at_blank_only:
                        raise _Unsure  # a delivery-status block with a body: not modelled
                    msg.defects.append(errors.MissingHeaderBodySeparatorDefect())
                    if current:
                        _store(msg, current)
                    return pos  # this line is the body's first
                current = [line]
        lineno += 1
        pos = end
    if current:
        _store(msg, current)
    return size


def _store(msg: Message, lines: list[str]) -> None:
    # compat32's header_source_parse: the value after the colon, leading blanks dropped, folding kept.
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    msg.set_raw(name, value.rstrip("\r\n"))


def _message(text: str, default_type: str, enclosing: tuple[str, ...]) -> tuple[Message, Message, bool]:
    """Parse one message or part. Returns it, the message whose trailing line ending belongs to the
    delimiter that follows it (the FeedParser's "last message created", see _trim_before_delimiter), and
    whether that one is a multipart (its type is read once here: each read scans the headers)."""
    msg = Message()
    if default_type != "text/plain":
        msg.set_default_type(default_type)
    body_at = _headers(text, msg, stop_at_blank_only=False)
    body = text[body_at:]
    ctype = msg.get_content_type()
    if ctype == "message/delivery-status":
        return msg, _status_blocks(body, msg), False
    if ctype.startswith("message/"):
        inner, last, last_multipart = _message(body, "text/plain", enclosing)
        msg.attach(inner)
        return msg, last, last_multipart
    if ctype.startswith("multipart/"):
        _multipart(body, msg, ctype, enclosing)
        return msg, msg, True
    msg.set_payload(body)
    return msg, msg, False


def _status_blocks(body: str, msg: Message) -> Message:
    """message/delivery-status: header blocks separated by blank lines, each its own Message."""
    pos, size = 0, len(body)
    while True:
        block = Message()
        used = _headers(body[pos:], block, stop_at_blank_only=True)
        if block.get_content_maintype() in ("message", "multipart"):
            raise _Unsure
        block.set_payload("")
        msg.attach(block)
        pos += used
        if pos < size:
            pos = _line_end(body, pos)  # the blank line between blocks
        if pos >= size:
            return block


def _delimiters(body: str, separator: str) -> list[tuple[int, int, bool]]:
    """Every delimiter line of this boundary: (start, end past its line ending, is the close delimiter).
    The FeedParser's test: the line is the separator, optionally "--", blanks, and one line ending."""
    found = []
    at = body.find(separator)
    while at >= 0:
        if at == 0 or body[at - 1] == "\n":
            end = _line_end(body, at)
            rest = body[at + len(separator):end]
            close = rest.startswith("--")
            if not _strip_eol(rest[2:] if close else rest).strip(" \t"):
                found.append((at, end, close))
        at = body.find(separator, at + 1)
    return found


def _multipart(body: str, msg: Message, ctype: str, enclosing: tuple[str, ...]) -> None:
    boundary = msg.get_boundary()
    if boundary is None:
        msg.defects.append(errors.NoBoundaryInMultipartDefect())
        msg.set_payload(body)
        return
    if not boundary or boundary in enclosing:
        raise _Unsure  # an empty boundary, or a nested part reusing an outer one
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in _CLEAN_CTE:
        msg.defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
    delims = _delimiters(body, "--" + boundary)
    if not delims or delims[0][2]:
        # No start delimiter: the text up to a close delimiter (or all of it) is the payload, the rest is lost.
        msg.defects.append(errors.StartBoundaryNotFoundDefect())
        msg.set_payload(body[:delims[0][0]] if delims else body)
        msg.epilogue = ""
        return
    if delims[0][0]:
        msg.preamble = _strip_eol(body[:delims[0][0]])
    child_type = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
    inner = enclosing + (boundary,)
    msg.set_payload([])
    # The body's end stands in for a missing close delimiter (CloseBoundaryNotFoundDefect: the last part
    # runs to the end, and there is no epilogue).
    ends = [*delims[1:], (len(body), len(body), False)]
    for (_, end, _), (nxt, nxt_end, nxt_close) in zip(delims, ends, strict=True):
        if nxt == end and nxt < len(body):
            raise _Unsure  # adjacent delimiter lines: the FeedParser skips them, not modelled
        part, last, last_multipart = _message(body[end:nxt], child_type, inner)
        _trim_before_delimiter(last, last_multipart)
        msg.attach(part)
        if nxt_close:
            msg.epilogue = body[nxt_end:]  # everything after the close delimiter line, up to the enclosing one
            return
    msg.defects.append(errors.CloseBoundaryNotFoundDefect())


def _trim_before_delimiter(last: Message, multipart: bool) -> None:
    """RFC 2046: the line ending before a delimiter belongs to the delimiter. The FeedParser takes it off
    the last message it created inside the part: a multipart's epilogue, or a leaf's payload."""
    if multipart:
        if last.epilogue == "":
            last.epilogue = None
        elif last.epilogue is not None:
            last.epilogue = _strip_eol(last.epilogue)
        return
    payload = vars(last).get("_payload")  # as stored: get_payload() would decode surrogate escapes
    if isinstance(payload, str):
        last.set_payload(_strip_eol(payload))
