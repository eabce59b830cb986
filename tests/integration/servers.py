"""Real servers for the integration tests and benchmarks: a throwaway Dovecot (IMAP) and an aiosmtpd peer.

Dovecot facts that shape this file: as root it needs mail_uid set to an unprivileged user; unprivileged it
needs default_internal_user / default_login_user / default_internal_group set to the running user; and its auth
process cannot traverse a 0700 parent directory, so everything lives under a fresh 0755 directory in /tmp.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Self

import pytest
from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "gateway", "gateway-test-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


class Dovecot:
    """One Dovecot instance with one user and a Maildir, on a free loopback port (plain IMAP).
    `with Dovecot() as server:` starts it and removes it afterwards."""

    def __init__(self, root: Path | None = None, tls: bool = False) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="mailgate-dovecot-", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.port = free_port()
        self.tls = tls
        self.tls_port = free_port() if tls else 0
        self.ca_file = make_self_signed(self.root) if tls else None
        self.proc: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            self.mail_user, self.mail_group = "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
        else:
            self.mail_user = pwd.getpwuid(os.geteuid()).pw_name
            self.mail_group = grp.getgrgid(os.getegid()).gr_name
        self.home = self.root / "mail" / USER
        self.maildir = self.home / "Maildir"
        self._write_config()

    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    def _write_config(self) -> None:
        for d in ("run", "state", "mail"):
            (self.root / d).mkdir(exist_ok=True)
            os.chmod(self.root / d, 0o755)
        self.maildir.mkdir(parents=True, exist_ok=True)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        os.chmod(self.root / "passwd", 0o644)
        privilege = (f"mail_uid = {self.mail_user}\nmail_gid = {self.mail_group}\n" if os.geteuid() == 0 else
                     f"default_internal_user = {self.mail_user}\ndefault_login_user = {self.mail_user}\n"
                     f"default_internal_group = {self.mail_group}\n")
        self.conf.write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = mailgate-test-{self.port}
log_path = {self.root}/dovecot.log
{self._ssl_settings()}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
first_valid_uid = 1
{privilege}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    auto = subscribe
    special_use = \\Sent
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = home={self.home}
}}
""")
        self._chown_mail()

    def _ssl_settings(self) -> str:
        if not self.tls:
            return "ssl = no"
        return f"ssl = yes\nssl_cert = <{self.root}/cert.pem\nssl_key = <{self.root}/key.pem"

    def _chown_mail(self) -> None:
        if os.geteuid() != 0:
            return
        uid, gid = pwd.getpwnam(self.mail_user).pw_uid, grp.getgrnam(self.mail_group).gr_gid
        for dirpath, _dirs, files in os.walk(self.root / "mail"):
            os.chown(dirpath, uid, gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), uid, gid)

    def start(self) -> None:
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        try:
            wait_until(lambda: _port_open(self.port) or self.proc.poll() is not None, 15, "dovecot to listen")
        except TimeoutError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise RuntimeError(f"dovecot exited: {err}\n{self.log()}")

    def stop(self) -> None:
        """Kill the whole process group (master, imap, auth, ...) and wait for the port to close."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None
        wait_until(lambda: not _port_open(self.port), 10, "dovecot to stop listening")

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        p = self.root / "dovecot.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def reset_uidvalidity(self) -> None:
        """Throw away Dovecot's UID list and indexes (server stopped): the folder gets a new UIDVALIDITY."""
        assert self.proc is None, "stop the server first"
        for p in self.maildir.rglob("dovecot*"):
            if p.is_file():
                p.unlink()
        time.sleep(1.1)  # UIDVALIDITY is a timestamp in seconds; make sure the new one differs

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def make_self_signed(directory: Path) -> Path:
    """A certificate for "localhost" and 127.0.0.1 (cert.pem, key.pem); returns the path to trust."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (directory / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(directory / "key.pem", 0o600)
    return directory / "cert.pem"


# -- the SMTP peer ----------------------------------------------------------------------------------------------
class PeerHandler:
    """aiosmtpd handler: records what it accepts and answers per a plan the test sets.

    `plan` is consumed one entry per DATA: "ok", "4xx", "5xx" or "drop" (close the connection without an
    answer). When the plan is empty every message is accepted. With `sent_folder`, each accepted message is
    filed in that IMAP mailbox's Sent folder before the 250 goes out, the way Microsoft 365 and Gmail file
    submitted mail.
    """

    def __init__(self, sent_folder: Dovecot | None = None) -> None:
        self.plan: list[str] = []
        self.received: list[dict[str, object]] = []
        self.answers: list[str] = []
        self.sent_folder = sent_folder
        self._imap = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        action = self.plan.pop(0) if self.plan else "ok"
        self.answers.append(action)
        if action == "4xx":
            return "451 4.3.0 try again later"
        if action == "5xx":
            return "550 5.7.1 rejected"
        if action == "drop":
            server.transport.close()
            return "421 closing"
        content = bytes(envelope.original_content or envelope.content)
        if self.sent_folder is not None:
            try:
                self._file_in_sent(content)
            except Exception:  # the mail store is down (a test restarts it): a real server defers too
                self.answers[-1] = "4xx"
                return "451 4.3.0 mail store unavailable"
        self.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "content": content,
                              "message_id": _message_id(content), "at": time.monotonic()})
        return "250 2.0.0 queued"

    def _file_in_sent(self, content: bytes) -> None:
        assert self.sent_folder is not None
        with imap_login(self.sent_folder) as client:
            client.append("Sent", content, flags=[b"\\Seen"])

    def message_ids(self) -> list[str]:
        return [str(r["message_id"]) for r in self.received]


def _message_id(content: bytes) -> str:
    from email.parser import BytesHeaderParser

    return str(BytesHeaderParser().parsebytes(content).get("Message-ID", "")).strip()


class SmtpPeer:
    """The aiosmtpd peer on a free loopback port; `with SmtpPeer() as peer:` starts and stops it."""

    def __init__(self, sent_folder: Dovecot | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.handler = PeerHandler(sent_folder)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- mail the tests put into the mailbox --------------------------------------------------------------------------
AGENT_DOMAIN, GATEWAY_ADDRESS, AUTHSERV_ID = "drchrono.com", "escalations@example.org", "mx.example.org"


def escalation_request(ticket: int, vendor: str = "ID.me") -> bytes:
    """An agent's escalation (trusted: DMARC pass from our authserv-id), which makes the gateway queue exactly
    one vendor escalation email."""
    return (
        f"Authentication-Results: {AUTHSERV_ID}; dkim=pass header.d={AGENT_DOMAIN}; spf=pass "
        f"smtp.mailfrom={AGENT_DOMAIN};\r\n dmarc=pass header.from={AGENT_DOMAIN}\r\n"
        f"From: Test Agent <agent.{ticket}@{AGENT_DOMAIN}>\r\n"
        f"To: Escalations <{GATEWAY_ADDRESS}>\r\n"
        f"Subject: {vendor} escalation for Zendesk #{ticket}\r\n"
        "Date: Fri, 20 Nov 2026 16:00:00 +0000\r\n"
        f"Message-ID: <agent-{ticket}@mail.{AGENT_DOMAIN}>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Vendor: {vendor}\r\nZendesk ticket: {ticket}\r\n\r\n"
        f"Agent: Test Agent\r\nAgent email: agent.{ticket}@{AGENT_DOMAIN}\r\nAgent phone: +1 415-555-0142\r\n"
        "Agent availability: 8 am-4 pm Pacific (PT), Monday-Friday\r\n\r\n"
        "First name: Alan\r\nLast name: Example\r\nSign-up email: alan.example@example.net\r\n"
        "Phone: (503) 555-0187\r\nPreferred contact: phone call, 9-11 am Pacific\r\n\r\n"
        "Issue timestamp: 2026-11-20 14:32 PT\r\n"
        "Description: The provider cannot complete MFA when signing prescriptions; the push\r\n"
        "notification never arrives on the new phone.\r\n"
    ).encode()


VENDOR_ADDRESS = "drchrono.support@id.me"  # rules/idme.toml intake address


def imap_login(dovecot: Dovecot) -> IMAPClient:
    """The test user logged in over plain IMAP; use it in a `with` (leaving logs out)."""
    client = IMAPClient("127.0.0.1", dovecot.port, ssl=False, timeout=10)
    try:
        client.login(USER, PASSWORD)
    except BaseException:
        client.shutdown()
        raise
    return client


def append(dovecot: Dovecot, messages: list[bytes], folder: str = "INBOX") -> None:
    with imap_login(dovecot) as client:
        for m in messages:
            client.append(folder, m)


def gateway_config(dovecot: Dovecot, peer: SmtpPeer, state_dir: Path, **extra: str) -> Path:
    """A config file for `mailgate run` against these two servers. `extra` adds raw TOML lines per section
    name, e.g. transport='retry_initial_seconds = 0.2'."""
    (state_dir / "imap-password").write_text(PASSWORD)
    sections = {
        "gateway": f'address = "{GATEWAY_ADDRESS}"\nstate_dir = "{state_dir}"',
        "trust": f'authserv_ids = ["{AUTHSERV_ID}"]\nagent_domains = ["{AGENT_DOMAIN}"]',
        "logging": 'level = "INFO"',
        "mailbox": 'kind = "imap"',
        "mailbox.imap": (f'host = "127.0.0.1"\nport = {dovecot.port}\nsecurity = "plain"\nusername = "{USER}"\n'
                         f'password_file = "{state_dir / "imap-password"}"\ntimeout_seconds = 10\n'
                         'idle_restart_seconds = 60'),
        "transport": 'kind = "smtp"\nretry_initial_seconds = 0.2\nretry_max_seconds = 1.0',
        "metrics": f'listen = "127.0.0.1:{free_port()}"',
        "transport.smtp": (f'host = "127.0.0.1"\nport = {peer.port}\nsecurity = "plain"\nauth = "none"\n'
                           "timeout_seconds = 10"),
    }
    for name, lines in extra.items():
        key = name.replace("__", ".")
        sections[key] = sections.get(key, "") + "\n" + lines
    path = state_dir / "config.toml"
    path.write_text("".join(f"[{name}]\n{body}\n\n" for name, body in sections.items()))
    return path


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on a free loopback port. `make test` installs it; a missing server is a failure, not a
    skip, so that a run without it can never look green."""
    if not (shutil.which("dovecot") or os.path.exists(DOVECOT)):
        pytest.fail("dovecot is not installed: run `make sysdeps` (make test does it)")
    with Dovecot() as server:
        yield server
