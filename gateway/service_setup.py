"""Builds what `mailgate run` needs from the configuration: the token provider, the mailbox source and the
transport, after checking the keys they need (a missing one refuses the start, naming the key)."""

from __future__ import annotations

import dataclasses

from gateway import oauth
from gateway.config import Config, ConfigError
from gateway.sources import MessageSource
from gateway.sources.imap import ImapSource, SentFolder
from gateway.sources.maildir import MaildirSource
from gateway.store import Store
from gateway.transport import Transport
from gateway.transport.file import FileTransport
from gateway.transport.smtp import SmtpTransport
from gateway.xoauth2 import TokenProvider


def service_config_problems(config: Config) -> list[ConfigError]:
    f = config.source_file
    errors: list[ConfigError] = []
    if config.mailbox.kind == "imap":
        imap = config.mailbox.imap
        for key in ("host", "username"):
            if not getattr(imap, key):
                errors.append(ConfigError(f, f"mailbox.imap.{key}", "required when [mailbox] kind = 'imap'"))
        if imap.auth == "password" and imap.password is None:
            errors.append(ConfigError(f, "mailbox.imap.password", "required when auth = 'password' "
                                      "(password_file = \"...\" or password = \"${ENV}\")"))
        if imap.security == "plain" and imap.host not in ("127.0.0.1", "::1", "localhost"):
            errors.append(ConfigError(f, "mailbox.imap.security", "'plain' is allowed on loopback only"))
    if config.transport.kind == "smtp":
        smtp = config.transport.smtp
        if not smtp.host:
            errors.append(ConfigError(f, "transport.smtp.host", "required when [transport] kind = 'smtp'"))
        if smtp.auth == "password" and smtp.password is None:
            errors.append(ConfigError(f, "transport.smtp.password", "required when auth = 'password'"))
        if smtp.security == "plain" and smtp.host not in ("127.0.0.1", "::1", "localhost"):
            errors.append(ConfigError(f, "transport.smtp.security", "'plain' is allowed on loopback only"))
    wants_oauth = (config.mailbox.kind == "imap" and config.mailbox.imap.auth == "xoauth2") or \
                  (config.transport.kind == "smtp" and config.transport.smtp.auth == "xoauth2")
    if wants_oauth and config.oauth is None:
        errors.append(ConfigError(f, "oauth", "auth = 'xoauth2' needs an [oauth] section"))
    return errors


def token_provider(config: Config) -> TokenProvider | None:
    """[oauth]: a token file or command (gateway.xoauth2), or client credentials (gateway.oauth, msal)."""
    return oauth.token_provider(config.oauth, config.state_path)


def build_source(config: Config, store: Store, tokens: TokenProvider | None, dry_run: bool) -> MessageSource:
    if config.mailbox.kind == "maildir":
        return MaildirSource(config.maildir_path)
    imap = config.mailbox.imap
    if dry_run:  # a dry run changes nothing outside the state directory, not even flags people can see
        imap = dataclasses.replace(imap, after_handling="leave")
    return ImapSource(imap, store, tokens)


def build_transport(config: Config, tokens: TokenProvider | None) -> Transport:
    if config.transport.kind == "file":
        return FileTransport(config.outbox_path)
    sent = SentFolder(config.mailbox.imap, tokens) if config.mailbox.kind == "imap" else None
    return SmtpTransport(config.transport.smtp, tokens, sent)


def register_service_tasks() -> None:
    """The long-lived tasks beside mailbox, outbox, scheduler and watchdog: the metrics/health server, the
    retention purge and the Zendesk worker. Registered once, explicitly."""
    from gateway import health, retention, service
    from gateway.zendesk.worker import zendesk_task

    known = {name for name, _ in service.EXTRA_TASKS}
    for name, factory in (("health", health.serve_health), ("retention", retention.purge_task),
                          ("zendesk", zendesk_task)):
        if name not in known:
            service.register_task(name, factory)
