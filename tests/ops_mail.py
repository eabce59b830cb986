"""PHI-laden test mail for the operations tests (quarantine, retention, audit, PHI leaks).

Every PHI value is distinctive so that a search of logs, metrics, alerts and the database finds it only where
it truly is. Messages are CRLF bytes, as a mailbox delivers them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gateway.config import Config, parse_config
from gateway.runtime import Runtime

PATIENT = "Philomena Quarrington"
DOB = "03/17/1949"
MRN = "MRN-77341902"
SSN = "512-44-9087"
END_USER_EMAIL = "philomena.quarrington@lakeshore-clinic.example"
PHONE = "(503) 555-0148"
SUBJECT_PHI = "Quarrington prescription denied"
PHI = [PATIENT, "Quarrington", DOB, MRN, SSN, END_USER_EMAIL, PHONE, SUBJECT_PHI]

AUTH_PASS = ("Authentication-Results: mx.example.org; dkim=pass header.d={d}; spf=pass smtp.mailfrom={d};\r\n"
             " dmarc=pass header.from={d}\r\n")
AUTH_FAIL = "Authentication-Results: mx.example.org; dkim=none; spf=softfail smtp.mailfrom={d}; dmarc=fail\r\n"


def _mail(headers: str, body: str) -> bytes:
    return (headers + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


def phi_body() -> str:
    return (f"Patient: {PATIENT}\r\nDOB: {DOB}\r\n{MRN}\r\nSSN {SSN}\r\nEmail: {END_USER_EMAIL}\r\n"
            f"Phone: {PHONE}\r\n")


def agent_escalation(ticket: int = 48213, n: int = 1) -> bytes:
    """A trusted agent's ID.me escalation carrying the end user's PHI."""
    return _mail(
        AUTH_PASS.format(d="drchrono.com")
        + "From: Maria Lopez <maria.lopez@drchrono.com>\r\nTo: Escalations <escalations@example.org>\r\n"
        + f"Subject: ID.me escalation for Zendesk #{ticket} - {SUBJECT_PHI}\r\n"
        + "Date: Mon, 23 Nov 2026 17:00:00 +0000\r\n"
        + f"Message-ID: <agent-{ticket}-{n}@mail.drchrono.com>\r\n",
        f"Vendor: ID.me\r\nZendesk ticket: {ticket}\r\n\r\n"
        "Agent: Maria Lopez\r\nAgent email: maria.lopez@drchrono.com\r\nAgent phone: +1 415-555-0142\r\n"
        "Agent availability: 8 am-4 pm Pacific (PT), Monday-Friday\r\n"
        f"First name: Philomena\r\nLast name: Quarrington\r\nSign-up email: {END_USER_EMAIL}\r\nPhone: {PHONE}\r\n"
        "Preferred contact: phone call, 9-11 am Pacific\r\nIssue timestamp: 2026-11-23 08:32 PT\r\n"
        f"Description: cannot complete MFA. Prescription for {PATIENT}, DOB {DOB}, {MRN}, SSN {SSN}.\r\n")


def forged_vendor(n: int = 1) -> bytes:
    """Claims to be ID.me but fails DMARC: untrusted."""
    return _mail(
        AUTH_FAIL.format(d="id.me")
        + "From: ID.me Support <drchrono.support@id.me>\r\nTo: Escalations <escalations@example.org>\r\n"
        + f"Subject: [ID.me] Re: {SUBJECT_PHI}\r\nDate: Mon, 23 Nov 2026 18:00:00 +0000\r\n"
        + f"Message-ID: <forged-{n}@bulk.example>\r\n",
        "Request #7781234: This issue has been resolved and the ticket has been closed.\r\n" + phi_body())


def unknown_sender(n: int = 1) -> bytes:
    return _mail(
        f"From: {PATIENT} <{END_USER_EMAIL}>\r\nTo: Escalations <escalations@example.org>\r\n"
        f"Subject: {SUBJECT_PHI}\r\nDate: Mon, 23 Nov 2026 18:00:00 +0000\r\n"
        f"Message-ID: <stranger-{n}@lakeshore-clinic.example>\r\n",
        "Please help me with my prescription.\r\n" + phi_body())


def unreadable(n: int = 1) -> bytes:
    """Garbage with PHI inside: no usable header block, a broken MIME structure."""
    return (f"{PATIENT} {SSN} {DOB}\r\n\r\n\x00\x01\x02 {MRN} {END_USER_EMAIL} -- unreadable {n}\r\n").encode()


def store_and_process(rt: Runtime, content: bytes, key: str) -> tuple[int, str]:
    """Store a message as a source would, then run the pipeline on it. Returns (raw id, outcome)."""
    from gateway.pipeline import process_raw

    raw, _ = rt.store.add_raw(content, "test", key, None)
    return raw.id, process_raw(rt, raw.id)


AGENT_CONFIG = """\
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
agent_domains = ["drchrono.com"]
"""


def config_file(tmp_path: Path, state: Path, extra: str = "") -> Path:
    """The agents' test configuration as a file, with its state in `state`, plus `extra` TOML."""
    path = tmp_path / "config.toml"
    path.write_text(AGENT_CONFIG.replace("[gateway]\n", f'[gateway]\nstate_dir = "{state}"\n', 1) + extra + "\n")
    return path


def make_config(state_dir: Path, extra: str = "") -> Config:
    """The agents' test configuration plus `extra` TOML (whole sections), with its state in `state_dir`."""
    return parse_config(tomllib.loads(AGENT_CONFIG + extra), "<test>", state_dir, state_dir=str(state_dir))
