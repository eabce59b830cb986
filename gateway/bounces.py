"""Reading delivery failures: RFC 3464 delivery reports with the stdlib, the common non-standard formats
with flufl.bounce, and the Message-ID of the message that bounced. Never raises.

Order: (1) a message/delivery-status part (RFC 3464, also when it arrived as plain text), read per
recipient with Action and Status; (2) flufl.bounce's detectors (Exim, qmail, Postfix, Yahoo, Exchange...)
when the message looks like a bounce; (3) the delivery-report fields and MTA conventions found in the
text (X-Failed-Recipients, "<addr>:" blocks, "Final-Recipient:" lines).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.message import Message

from gateway.charsets import decode_bytes
from gateway.payloads import payload_bytes

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_ADDR = re.compile(r"(?:\"[^\"\r\n]{1,64}\"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+)@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_MSGID_LINE = re.compile(r"^\s*(?:X-)?(?:Original-)?Message-I[Dd]\s*:\s*(<[^>\s]+>)", re.IGNORECASE | re.MULTILINE)
# Where a plain-text bounce starts quoting the original message.
_COPY_START = re.compile(
    r"^\s*-*\s*(?:original message|this is a copy|below (?:this line )?is a copy|unsent message|the header"
    r"|message headers? follow|returned message|original message follows|\S*-+ ?original|original message:)"
    r"|^Received: ?from|^Return-Path:",
    re.IGNORECASE | re.MULTILINE)
# qmail: the failed address alone on its line, in angle brackets, followed by a colon.
_QMAIL = re.compile(r"^<(" + _ADDR.pattern + r")>:\s*$", re.MULTILINE)
# A failure line: an SMTP reply code or a reason next to the address.
_FAIL_WORDS = re.compile(
    r"\b[45]\d\d\b|\b[45]\.\d{1,3}\.\d{1,3}\b|unknown|not found|no such|invalid|rejected|denied|full|quota"
    r"|does not exist|doesn't exist|unavailable|disabled|inactive|refused|error|failed|failure|could not"
    r"|couldn't|not (be )?delivered|undeliverable|blocked|expired|timeout|timed out|deferred|unrouteable"
    r"|not member|too large|exceeded",
    re.IGNORECASE)
_INTRO = re.compile(r"could not be delivered to|following (?:address|recipient)|delivery to the following"
                    r"|failed recipient|not be delivered to|undeliverable to|delivery has failed to"
                    r"|recipient(?:s)?:|destinataire|empf[äa]nger|delivering your mail to|failure reasons?",
                    re.IGNORECASE)
_DAEMON_LOCALS = ("mailer-daemon", "mail-daemon", "maildaemon", "postmaster", "post_master", "mailerdaemon",
                  "mail.daemon",
                  "mdaemon", "mailer_daemon", "bounce", "bounces", "nobody", "mail-delivery-system")
_DAEMON_NAME = re.compile(r"mailer-daemon|mail delivery (sub)?system|postmaster", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status )?notification|delivery failure|delivery has failed|returned mail"
    r"|mail delivery (failed|system|subsystem)|failure notice|non[- ]?deliver|delivery (report|problem)"
    r"|could not be delivered|returned to sender|unzustellbar|non remis|no se puede entregar|mail system error"
    r"|delivery notification|rejected|message not delivered|delayed mail|warning: could not send"
    r"|mail could not be delivered|permanent error|delivery failed|unable to deliver|failed delivery"
    r"|\bbounce|kann nicht zugestellt|mail failure|mail returned|delivery error|error sending message",
    re.IGNORECASE)
_BOUNCE_BODY = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|undeliverable|delivery (to the following|"
    r"has failed|failed|status notification)|permanent (error|failure|fatal)|user unknown|unknown user"
    r"|mailbox (unavailable|not found|is full|full)|no such (user|mailbox|recipient)|recipient address rejected"
    r"|host or domain name not found|this is the mail system at|this message was created automatically by"
    r"|unable to deliver|i'm afraid i wasn't able to deliver|returned mail|message could not be sent"
    r"|following (address|recipient)s? (had|failed)|\b55\d[ -]\d\.\d|\b5\.\d\.\d\b|delivery attempts"
    r"|not be delivered|transient failure|temporarily deferred|delivery (is )?delayed|has not yet been delivered"
    r"|error delivering your mail|could not deliver",
    re.IGNORECASE)
# The only non-ASCII characters IGNORECASE matches to ASCII letters (İ ı ſ K). A text without them matches an
# all-lower-case pattern case-insensitively exactly where its lower-cased copy matches the pattern as is,
# which the regex engine searches about four times faster (gateway.bounce_detectors relies on the same fact).
FOLDS_TO_ASCII = "\u0130\u0131\u017f\u212a"
_BOUNCE_BODY_LOWER = re.compile(_BOUNCE_BODY.pattern)
assert _BOUNCE_BODY.pattern == _BOUNCE_BODY.pattern.lower()  # no upper-case escapes (\S, \W) to break


def _bounce_body_hit(text: str) -> bool:
    if any(ch in text for ch in FOLDS_TO_ASCII):
        return _BOUNCE_BODY.search(text) is not None
    return _BOUNCE_BODY_LOWER.search(text.lower()) is not None


_TEMPORARY = re.compile(r"\bdelay|warning|will (be )?retr|still trying|temporar|deferred|not yet been delivered"
                        r"|transient", re.IGNORECASE)


@dataclass
class BounceReport:
    is_bounce: bool = False
    kind: str | None = None                    # "permanent" / "temporary"
    recipients: list[str] = field(default_factory=list)
    original_message_id: str | None = None
    feedback_report: bool = False               # ARF (RFC 5965) abuse/opt-out report: not a bounce
    success_report: bool = False                # a DSN that only reports delivery
    evidence: list[str] = field(default_factory=list)


def _part_text(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n\n".join("".join(f"{k}: {v}\n" for k, v in block.raw_items())
                           for block in payload if isinstance(block, Message))
    return decode_bytes(payload_bytes(part), part.get_content_charset())[0]


def _blocks(text: str) -> list[dict[str, str]]:
    """Delivery-status text -> header blocks (lower-cased field name -> value), unfolding continuations."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, ""
            continue
        if line[:1] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip() and " " not in name.strip():
            last = name.strip().lower()
            if last == "final-recipient" and last in current:  # some MTAs omit the blank line
                blocks.append(current)
                current = {}
            current.setdefault(last, value.strip())
    if current:
        blocks.append(current)
    return blocks


def _address_of(value: str) -> str | None:
    # "rfc822; <user@example.com>" / "RFC822;user@example.com" / "<user@example.com>"
    value = value.split(";", 1)[1] if ";" in value else value
    m = _ADDR.search(value)
    return m.group(0).lower().strip(".") if m else None


def _read_delivery_status(text: str, report: BounceReport) -> None:
    failed = delayed = delivered = 0
    for block in _blocks(text):
        final, original = block.get("final-recipient", ""), block.get("original-recipient", "")
        if not (final or original):
            continue
        action = block.get("action", "").lower()
        m = _STATUS.search(block.get("status", ""))
        klass = m.group(1) if m else ""
        if action.startswith(("deliver", "relayed", "expanded")) or (klass == "2" and not action):
            delivered += 1
            continue
        addr = _address_of(original) or _address_of(final)  # the address we wrote to, when given
        if addr is None:
            continue
        if action.startswith("delayed") or (klass == "4" and not action.startswith(("fail", "error"))):
            delayed += 1
        else:
            failed += 1
        if addr not in report.recipients:
            report.recipients.append(addr)
    if failed or delayed:
        report.is_bounce = True
        report.kind = "permanent" if failed else "temporary"
        report.evidence.append("delivery_status")
    elif delivered:
        report.success_report = True


def _original_message_id(msg: Message, texts: list[str]) -> str | None:
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                value = str(inner[0].get("Message-ID", "") or "")
                m = re.search(r"<[^>\s]+>", value)
                if m:
                    return m.group(0)
        if ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            m = _MSGID_LINE.search(_part_text(part))
            if m:
                return m.group(1)
    for text in texts:  # the original quoted in a plain-text bounce
        m = _MSGID_LINE.search(text)
        if m:
            return m.group(1)
    return None


def _signals(msg: Message, sender: str, subject: str, body: str) -> tuple[bool, bool]:
    """(worth running the detectors, a bounce even if no recipient can be read)."""
    return_path = str(msg.get("Return-Path", "") or "").strip().strip("<>").lower()
    locals_ = {sender.split("@", 1)[0].lower(), return_path.split("@", 1)[0]}
    from_daemon = any(x in _DAEMON_LOCALS or x.startswith(("mailer-daemon", "postmaster")) for x in locals_ if x)
    # "MAILER-DAEMON <>": the daemon is named only in the display name
    from_daemon = from_daemon or _DAEMON_NAME.search(str(msg.get("From", "") or "")[:200]) is not None
    null = return_path == "" and msg.get("Return-Path") is not None
    subject_hit = _BOUNCE_SUBJECT.search(subject) is not None
    failed_header = msg.get("X-Failed-Recipients") is not None
    worth = failed_header or from_daemon or null or subject_hit or msg.get_content_type() == "multipart/report"
    if not worth:
        return False, False
    body_hit = _bounce_body_hit(body[:20000])
    strong = failed_header or (subject_hit and (from_daemon or null or body_hit)) or (
        (from_daemon or null) and body_hit)
    return True, strong


def looks_like_bounce(msg: Message, sender: str, subject: str, body: str) -> bool:
    """Whether the message reads as a delivery failure even without a machine-readable report."""
    return _signals(msg, sender, subject, body)[1]


def _own_parts(msg: Message) -> list[tuple[Message, str]]:
    """The report's own parts with their content types (each read once: every read scans the part's
    headers): an attached message (a bounce of a bounce) is not walked into."""
    out: list[tuple[Message, str]] = []
    stack = [msg]
    while stack and len(out) < 500:
        part = stack.pop(0)
        ctype = part.get_content_type()
        out.append((part, ctype))
        payload = part.get_payload()
        if not ctype.startswith("message/") and isinstance(payload, list):
            stack[0:0] = [c for c in payload if isinstance(c, Message)]
    return out


def _flufl(msg: Message, report: BounceReport, exclude: set[str]) -> None:
    try:
        from gateway.bounce_detectors import all_failures  # lazy: most mail is not a bounce
        temporary, permanent = all_failures(msg)
    except Exception:
        return
    for addr in sorted(permanent) + sorted(temporary):
        text = addr.decode("ascii", "replace").lower().strip("<>.")
        if "@" in text and text not in report.recipients and text not in exclude:
            report.recipients.append(text)
    if permanent or temporary:
        report.is_bounce = True
        report.kind = report.kind or ("permanent" if permanent else "temporary")
        report.evidence.append("flufl.bounce")


def _text_recipients(msg: Message, body: str, report: BounceReport, strict: set[str], exclude: set[str]) -> None:
    """MTA conventions in the human-readable part: X-Failed-Recipients, "Final-Recipient:" lines, then
    addresses on failure lines ("<a@b>... User unknown", "a@b: 550 ...") or right after an introduction
    ("could not be delivered to:") before the copy of the original message starts."""
    def add(addr: str, skip: set[str]) -> None:
        addr = addr.lower().strip(".<>")
        if addr not in skip and addr not in report.recipients:
            report.recipients.append(addr)

    for value in msg.get_all("X-Failed-Recipients") or []:
        for addr in _ADDR.findall(str(value)):
            add(addr, strict)
    if report.recipients:
        return
    for block in _blocks(body):
        addr = _address_of(block.get("original-recipient", "") or block.get("final-recipient", ""))
        if addr:
            add(addr, strict)
    for m in _QMAIL.finditer(body[:20000]):
        add(m.group(1), strict)
    if report.recipients:
        return
    head = _COPY_START.split(body[:20000], maxsplit=1)[0]
    lines = head.splitlines()
    intro_at = -10
    for i, line in enumerate(lines):
        if _INTRO.search(line):
            intro_at = i
        found = [m.group(0) for m in _ADDR.finditer(line)]
        if not found:
            continue
        if _FAIL_WORDS.search(line) or i - intro_at <= 3:
            for addr in found[:1] if len(set(a.lower() for a in found)) > 1 and "(" in line else found:
                add(addr, exclude)


def _ses_notification(body: str, report: BounceReport) -> None:
    """Amazon SES notifications delivered as JSON mail (via SNS, raw or in the SNS envelope): Bounce,
    Delivery, Complaint."""
    start, end = body.find("{"), body.rfind("}")
    try:
        data = json.loads(body[start:end + 1], strict=False) if 0 <= start < end else None
    except ValueError:
        return
    if isinstance(data, dict) and isinstance(data.get("Message"), str):  # wrapped in the SNS envelope
        try:
            data = json.loads(data["Message"], strict=False)
        except ValueError:
            return
    if not isinstance(data, dict):
        return
    kind = str(data.get("notificationType", ""))
    if kind == "Delivery":
        report.success_report = True
    elif kind == "Complaint":
        report.feedback_report = True
    elif kind == "Bounce" and isinstance(data.get("bounce"), dict):
        bounce = data["bounce"]
        for item in bounce.get("bouncedRecipients") or []:
            addr = _address_of(str(item.get("emailAddress", ""))) if isinstance(item, dict) else None
            if addr and addr not in report.recipients:
                report.recipients.append(addr)
        report.is_bounce = True
        report.kind = "temporary" if str(bounce.get("bounceType", "")).lower() == "transient" else "permanent"
        report.evidence.append("ses_notification")


def _original_recipients(msg: Message, body: str, report: BounceReport, strict: set[str]) -> None:
    """Last resort: the To of the returned original (attached, or quoted after the bounce text)."""
    value = ""
    for part, ctype in _own_parts(msg):
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        if ctype == "message/rfc822" and isinstance(first, Message):
            value = str(first.get("To", "") or "")
            break
    if not value:
        parts = _COPY_START.split(body[:20000], maxsplit=1)
        m = re.search(r"^To:[ \t]*(.+)$", parts[1], re.MULTILINE | re.IGNORECASE) if len(parts) > 1 else None
        value = m.group(1) if m else ""
    for addr in _ADDR.findall(value):
        addr = addr.lower()
        if addr not in strict and addr not in report.recipients:
            report.recipients.append(addr)


def read_bounce(msg: Message, *, sender: str, subject: str, body: str, own: set[str]) -> BounceReport:
    """Everything the message says about a failed delivery. `own` are addresses of the bounce itself
    (its From/To), which are never the failed recipient."""
    report = BounceReport()
    try:
        _read(msg, sender, subject, body, own, report)
    except Exception:
        report.evidence.append("bounce_reader_error")
    return report


def _read(msg: Message, sender: str, subject: str, body: str, own: set[str], report: BounceReport) -> None:
    texts = [body]
    parts = _own_parts(msg)
    if parts[0][1] == "multipart/report":
        rtype = (msg.get_param("report-type") or "")
        rtype = rtype.lower() if isinstance(rtype, str) else ""
        # the report's own parts: an abuse report quoted inside a bounce does not make the bounce one
        if rtype == "feedback-report" or any(ctype == "message/feedback-report" for _, ctype in parts):
            report.feedback_report = True
            return
    for part, ctype in parts:
        if ctype in ("message/delivery-status", "message/global-delivery-status", "text/delivery-status"):
            _read_delivery_status(_part_text(part), report)
    if not report.is_bounce and not report.success_report and "notificationType" in body[:2000]:
        _ses_notification(body, report)
    if (report.success_report or report.feedback_report) and not report.is_bounce:
        return
    worth, strong = _signals(msg, sender, subject, body)
    # Never the failed recipient: Message-IDs quoted in it and the bounce's sender; for the looser
    # readers (flufl's heuristics, failure lines) not its addressees either.
    strict = {sender.lower()} | {m.lower().strip("<>") for m in _MSGID_LINE.findall(body[:50000])}
    exclude = strict | own
    if (worth or report.is_bounce) and not report.recipients:
        _flufl(msg, report, exclude)
    if (strong or report.is_bounce) and not report.recipients:
        _text_recipients(msg, body, report, strict, exclude)
    if (strong or report.is_bounce) and not report.recipients:
        _original_recipients(msg, body, report, strict)
    if strong or report.is_bounce:
        report.is_bounce = True
        if report.kind is None:
            codes = _STATUS.findall(body[:20000])
            temporary = ("4" in codes and "5" not in codes) or _TEMPORARY.search(subject) is not None
            report.kind = "temporary" if temporary else "permanent"
        report.original_message_id = _original_message_id(msg, texts)
        if not report.evidence:
            report.evidence.append("bounce_heuristics")
