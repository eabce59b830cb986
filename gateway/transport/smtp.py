"""The SMTP transport (aiosmtplib): one connection per message, per-recipient results, and a durable mark
at the one moment a crash could leave the outcome unknown (between sending the message data and reading
the server's answer). See README "Never twice".
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Protocol

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPRecipientRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from gateway.config import SmtpSection
from gateway.sources.imap import SentFolder
from gateway.transport import PermanentSendError, SendResult, TransientSendError
from gateway.xoauth2 import TokenError, TokenProvider

log = logging.getLogger("mailgate.smtp")


class DeliveryJournal(Protocol):
    """Durable notes the transport takes around the DATA command (the OutboxSender keeps them in the store)."""

    def data_started(self, message_id: str) -> None:
        """Committed before the message data goes out: from here a crash leaves delivery uncertain."""
        ...

    def data_refused(self, message_id: str) -> None:
        """The server refused the data with a 4xx/5xx code: known not delivered. (After a 250 the note stays:
        until the sender commits 'sent', a crash must still look like "maybe delivered".)"""
        ...


def _transient_or_permanent(code: int, what: str) -> Exception:
    text = f"{what}: SMTP {code}"
    return PermanentSendError(text) if 500 <= code < 600 else TransientSendError(text)


class SmtpTransport:
    name = "smtp"

    def __init__(self, cfg: SmtpSection, tokens: TokenProvider | None = None,
                 sent_folder: SentFolder | None = None) -> None:
        if not cfg.host:
            raise ValueError("[transport.smtp] host is empty")
        if cfg.auth == "xoauth2" and tokens is None:
            raise ValueError("[transport.smtp] auth = 'xoauth2' needs [oauth] token_file, token_command or "
                             "client credentials")
        self.cfg = cfg
        self.tokens = tokens
        self.sent_folder = sent_folder
        self.journal: DeliveryJournal | None = None
        # aiosmtplib would build a default context (loading the CA store, ~25 ms) for every connection, and
        # there is one connection per message: build it once.
        self._tls = None if cfg.security == "plain" else ssl.create_default_context()

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(hostname=self.cfg.host, port=self.cfg.port, timeout=float(self.cfg.timeout_seconds),
                               use_tls=self.cfg.security == "tls", start_tls=self.cfg.security == "starttls",
                               tls_context=self._tls)

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        if self.cfg.auth == "none":
            return
        try:
            if self.cfg.auth == "xoauth2":
                assert self.tokens is not None
                token = await asyncio.to_thread(self.tokens.token)
                await smtp.auth_xoauth2(self.cfg.username, token)
            else:
                await smtp.login(self.cfg.username, self.cfg.password.reveal() if self.cfg.password else "")
        except (SMTPAuthenticationError, TokenError) as exc:
            # A credential problem is the operator's to fix, not the message's fault: retry, do not dead-letter.
            log.error("smtp login failed", extra={"error_type": type(exc).__name__})
            raise TransientSendError(f"login failed: {type(exc).__name__}") from None

    async def send(self, *, mail_from: str, recipients: list[str], content: bytes, message_id: str) -> SendResult:
        smtp = self._client()
        data_sent = False
        try:
            await smtp.connect()
            await self._login(smtp)
            await smtp.mail(mail_from)
            result = await self._recipients(smtp, recipients)
            if self.journal is not None:
                self.journal.data_started(message_id)
            data_sent = True
            await smtp.data(content)
        except SMTPResponseException as exc:
            if data_sent and self.journal is not None:
                self.journal.data_refused(message_id)
            stage = "data" if data_sent else "envelope"
            raise _transient_or_permanent(exc.code, f"{stage} refused") from None
        except (SMTPServerDisconnected, SMTPException, OSError, TimeoutError) as exc:
            raise TransientSendError(f"connection failed: {type(exc).__name__}") from None
        finally:
            await _quit(smtp)
        await self._append_to_sent(content)
        return result

    async def _recipients(self, smtp: aiosmtplib.SMTP, recipients: list[str]) -> SendResult:
        result = SendResult()
        for rcpt in recipients:
            try:
                await smtp.rcpt(rcpt)
                result.accepted.append(rcpt)
            except SMTPRecipientRefused as exc:
                result.refused[rcpt] = (exc.code, exc.message[:200])
        if not result.accepted:
            codes = [code for code, _ in result.refused.values()]
            if all(500 <= c < 600 for c in codes):
                raise PermanentSendError(f"every recipient refused: SMTP {sorted(set(codes))}")
            raise TransientSendError(f"no recipient accepted now: SMTP {sorted(set(codes))}")
        return result

    async def _append_to_sent(self, content: bytes) -> None:
        if not (self.cfg.append_to_sent and self.sent_folder is not None):
            return
        try:
            await asyncio.to_thread(self.sent_folder.append, content)
        except Exception as exc:  # the copy is a courtesy for people; the message itself has left
            log.warning("append to Sent failed", extra={"error_type": type(exc).__name__})

    async def already_delivered(self, message_id: str) -> bool | None:
        """True/False when the Sent folder is an authoritative record of what the server accepted (the server
        files submissions itself: Microsoft 365, Gmail); None when nothing can tell."""
        if not self.cfg.check_sent_folder or self.sent_folder is None or self.cfg.append_to_sent:
            return None
        try:
            return await asyncio.to_thread(self.sent_folder.contains, message_id)
        except Exception as exc:
            raise TransientSendError(f"Sent folder check failed: {type(exc).__name__}") from None

    async def close(self) -> None:
        return None


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (SMTPException, OSError, TimeoutError):
        smtp.close()
