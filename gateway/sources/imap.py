"""The IMAP mailbox source: incremental UID fetch from a (UIDVALIDITY, last UID) checkpoint, IDLE with a
polling fallback, and the mailbox left as people expect it (BODY.PEEK keeps read state; never delete).

Blocking by design (imapclient is synchronous): the service runs `connect` and `wait_for_mail` in a worker
thread and the fetch inside the pipeline's `ingest` on its pipeline thread, the one that owns the store
connection. Source keys are "<uidvalidity>:<uid>".
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Iterator
from email.parser import BytesHeaderParser

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from gateway.config import ImapSection
from gateway.msgid import header_message_id
from gateway.sources import IncomingMessage, SeenIndex
from gateway.store import Store
from gateway.xoauth2 import TokenProvider

log = logging.getLogger("mailgate.imap")

HANDLED_KEYWORD = "$MailgateHandled"
UID_BATCH = 200                 # UIDs per FETCH of sizes
BODY_BATCH_BYTES = 8_000_000    # bodies per FETCH, so memory stays flat however long the backlog
BODY_BATCH_COUNT = 100
IDLE_CHECK_SECONDS = 1.0        # how often an IDLE wait looks at the stop flag
INSTANT_SECONDS = 0.05          # an idle_check that returns empty faster than this saw EOF, not a timeout


class ConnectionLost(Exception):
    """The server said BYE, closed the socket, or stopped answering: reconnect."""


def tls_context(cfg: ImapSection) -> ssl.SSLContext | None:
    """The client TLS context [mailbox.imap] needs (None for plain). Building one loads the CA store (~25 ms):
    callers that connect per message keep theirs."""
    return None if cfg.security == "plain" else ssl.create_default_context()


def open_imap(cfg: ImapSection, tokens: TokenProvider | None = None,
              context: ssl.SSLContext | None = None) -> IMAPClient:
    """Connect and log in per [mailbox.imap]: implicit TLS, STARTTLS, or plain (loopback only)."""
    if not cfg.host:
        raise ValueError("[mailbox.imap] host is empty")
    if context is None:
        context = tls_context(cfg)
    client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "tls",
                        ssl_context=context if cfg.security == "tls" else None,
                        timeout=float(cfg.timeout_seconds))
    try:
        if cfg.security == "starttls":
            client.starttls(context)
        if cfg.auth == "xoauth2":
            if tokens is None:
                raise ValueError("[mailbox.imap] auth = 'xoauth2' needs [oauth] token_file, token_command "
                                 "or client credentials")
            client.oauth2_login(cfg.username, tokens.token())
        else:
            client.login(cfg.username, cfg.password.reveal() if cfg.password else "")
    except BaseException:
        _quiet_logout(client)
        raise
    return client


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is being thrown away; nothing useful to do with the error
        try:
            client.shutdown()
        except Exception:
            pass


def _is_bye(responses: list[tuple]) -> bool:
    return any(len(r) > 0 and r[0] == b"BYE" or len(r) > 1 and r[1] == b"BYE" for r in responses)


class ImapSource:
    """One folder of one mailbox. Implements gateway.sources.MessageSource."""

    def __init__(self, cfg: ImapSection, store: Store, tokens: TokenProvider | None = None) -> None:
        self.cfg = cfg
        self.store = store
        self.tokens = tokens
        self.name = f"imap:{cfg.username}@{cfg.host}/{cfg.folder}"
        self.client: IMAPClient | None = None
        self.uidvalidity = 0
        self.has_idle = False
        self._can_keyword = False
        self._can_move = False
        # UIDs of the current pass in order, and those done with (stored, seen before, vanished, too large);
        # the checkpoint only moves over a prefix that is entirely done.
        self._pass: list[int] = []
        self._done: set[int] = set()
        self._to_mark: list[int] = []
        # Set by the service on shutdown: a long catch-up ends after the message in hand.
        self.stop = threading.Event()
        self._highest_listed = 0  # the highest UID the last SEARCH knew of

    # -- connection -----------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.close()
        client = open_imap(self.cfg, self.tokens)
        try:
            caps = set(client.capabilities())
            info = client.select_folder(self.cfg.folder)
            if self.cfg.after_handling == "move" and not client.folder_exists(self.cfg.move_to):
                client.create_folder(self.cfg.move_to)
        except BaseException:
            _quiet_logout(client)
            raise
        self.client = client
        self.uidvalidity = int(info[b"UIDVALIDITY"])
        self.has_idle = b"IDLE" in caps
        self._can_move = b"MOVE" in caps
        self._can_keyword = b"\\*" in tuple(info.get(b"PERMANENTFLAGS", ()))
        log.info("imap connected", extra={"source": self.name, "idle": self.has_idle})

    def close(self) -> None:
        if self.client is not None:
            _quiet_logout(self.client)
            self.client = None

    def _c(self) -> IMAPClient:
        if self.client is None:
            raise ConnectionLost("not connected")
        return self.client

    # -- reading --------------------------------------------------------------------------------------------
    def _start_uid(self) -> int:
        cp_validity, last_uid = self.store.checkpoint(self.name)
        if cp_validity is None:
            return 1
        if cp_validity != self.uidvalidity:
            # The server renumbered the folder: read it all again. Keys carry the new UIDVALIDITY, and the
            # store deduplicates on the content hash (the pipeline on Message-ID), so nothing is handled twice.
            log.warning("imap uidvalidity changed; rescanning",
                        extra={"source": self.name, "old": cp_validity, "new": self.uidvalidity})
            return 1
        return int(last_uid or 0) + 1

    def fetch_new(self, seen: SeenIndex) -> Iterator[IncomingMessage]:
        client = self._c()
        start = self._start_uid()
        # "n:*" always matches the highest UID even when it is below n; filter.
        uids = sorted(u for u in client.search(["UID", f"{start}:*"]) if u >= start)
        self._highest_listed = max([start - 1, *uids])
        self._pass, self._done, self._to_mark = uids, set(), []
        try:
            for i in range(0, len(uids), UID_BATCH):
                if self.stop.is_set():
                    return
                yield from self._fetch_chunk(uids[i:i + UID_BATCH], seen)
                self._flush()
        finally:
            self._flush()

    def _fetch_chunk(self, chunk: list[int], seen: SeenIndex) -> Iterator[IncomingMessage]:
        client = self._c()
        sizes = client.fetch(chunk, ["RFC822.SIZE"])
        wanted: list[tuple[int, int]] = []
        for uid in chunk:
            if uid not in sizes:  # expunged by someone since the SEARCH
                self._done.add(uid)
                continue
            size = int(sizes[uid].get(b"RFC822.SIZE", 0))
            if seen.is_seen(self.name, self._key(uid)):
                # Stored before a crash that came before the flag/checkpoint: finish the job now.
                self.mark_handled(uid)
            elif size > self.cfg.max_message_bytes:
                self._quarantine_too_large(uid, size)
                self.mark_handled(uid)
            else:
                wanted.append((uid, size))
        for group in _by_size(wanted, BODY_BATCH_BYTES, BODY_BATCH_COUNT):
            bodies = client.fetch(group, ["BODY.PEEK[]"])
            messages = []
            for uid in group:
                content = bodies.get(uid, {}).get(b"BODY[]")
                if content is None:
                    self._done.add(uid)
                    continue
                messages.append(IncomingMessage(self.name, self._key(uid), bytes(content)))
            self._commit_group(messages)
            for message in messages:
                if self.stop.is_set():
                    return
                yield message

    def _commit_group(self, messages: list[IncomingMessage]) -> None:
        """Group commit: store the whole fetched group (raw + source key) in one transaction, one fsync instead
        of one per message. The pipeline's ingest then finds each message stored (its add_raw is a no-op) and
        acknowledges it; nothing is flagged or moved before this commit."""
        with self.store.transaction():
            for m in messages:
                self.store.add_raw(m.content, m.source, m.key, header_message_id(m.content))

    def _key(self, uid: int) -> str:
        return f"{self.uidvalidity}:{uid}"

    def _quarantine_too_large(self, uid: int, size: int) -> None:
        """Keep the headers only, so an operator can see what it was; the body is never downloaded."""
        header = bytes(self._c().fetch([uid], ["BODY.PEEK[HEADER]"]).get(uid, {}).get(b"BODY[HEADER]", b""))
        message_id = BytesHeaderParser().parsebytes(header).get("Message-ID")
        with self.store.transaction():
            raw, created = self.store.add_raw(header, self.name, self._key(uid), message_id)
            if created:
                self.store.set_raw_status(raw.id, "quarantined")
                self.store.quarantine_add(reason="too_large", detail=f"{size} bytes", raw_id=raw.id)
        log.warning("imap message too large; quarantined from its headers",
                    extra={"source": self.name, "uid": uid, "size": size})

    # -- after a message is committed -------------------------------------------------------------------------
    def acknowledge(self, message: IncomingMessage) -> None:
        validity, _, uid = message.key.partition(":")
        if int(validity) == self.uidvalidity:
            self.mark_handled(int(uid))

    def mark_handled(self, uid: int) -> None:
        """Batched: flags/moves and the checkpoint are written per chunk, not per message."""
        self._done.add(uid)
        self._to_mark.append(uid)

    def _flush(self) -> None:
        marks, self._to_mark = self._to_mark, []
        if marks and self.client is not None:
            self._apply_after_handling(marks)
        last = 0
        for uid in self._pass:
            if uid not in self._done:
                break
            last = uid
        if last:
            self.store.set_checkpoint(self.name, self.uidvalidity, max(last, self._checkpoint_uid()))

    def _checkpoint_uid(self) -> int:
        validity, last = self.store.checkpoint(self.name)
        return int(last or 0) if validity == self.uidvalidity else 0

    def _apply_after_handling(self, uids: list[int]) -> None:
        client = self._c()
        mode = self.cfg.after_handling
        if mode == "move" and self._can_move:
            client.move(uids, self.cfg.move_to)
        elif mode == "move":  # no MOVE: copy, and mark the original; never \Deleted, never EXPUNGE
            client.copy(uids, self.cfg.move_to)
            if self._can_keyword:
                client.add_flags(uids, [HANDLED_KEYWORD], silent=True)
        elif mode == "flag" and self._can_keyword:
            client.add_flags(uids, [HANDLED_KEYWORD], silent=True)

    # -- waiting ----------------------------------------------------------------------------------------------
    def wait_for_mail(self, stop: threading.Event) -> None:
        """Return when the folder may have changed, after idle_restart_seconds (IDLE) or poll_seconds
        (polling), or soon after `stop` is set. Raise ConnectionLost when the connection is dead."""
        try:
            if self.has_idle:
                if not self._arrived_since_search():
                    self._idle(stop)
            else:
                stop.wait(self.cfg.poll_seconds)
                self._c().noop()
        except (OSError, IMAPClientError) as exc:
            raise ConnectionLost(type(exc).__name__) from exc

    def _arrived_since_search(self) -> bool:
        """Mail that arrived while the last pass ran was announced (EXISTS) in the answer to some other
        command, where imapclient keeps it to itself, and IDLE will not announce it again: ask for UIDNEXT."""
        status = self._c().folder_status(self.cfg.folder, [b"UIDNEXT"])
        return int(status.get(b"UIDNEXT", 0)) - 1 > self._highest_listed

    def _idle(self, stop: threading.Event) -> None:
        client = self._c()
        client.idle()
        deadline = time.monotonic() + self.cfg.idle_restart_seconds
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                began = time.monotonic()
                responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
                if _is_bye(responses):
                    raise ConnectionLost("server said BYE")
                if responses:
                    return
                if time.monotonic() - began < INSTANT_SECONDS:
                    raise ConnectionLost("idle_check returned at once with nothing: socket closed")
        finally:
            if self.client is not None and self.client is client:  # not when closed meanwhile
                try:
                    client.idle_done()
                except (OSError, IMAPClientError) as exc:
                    raise ConnectionLost(f"leaving IDLE failed: {type(exc).__name__}") from exc


def _by_size(items: list[tuple[int, int]], max_bytes: int, max_count: int) -> Iterator[list[int]]:
    group: list[int] = []
    total = 0
    for uid, size in items:
        if group and (total + size > max_bytes or len(group) >= max_count):
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


class SentFolder:
    """Proof of delivery for the SMTP transport: is a Message-ID in the Sent folder? Uses its own short
    connection, so it never disturbs the watcher's IDLE."""

    def __init__(self, cfg: ImapSection, tokens: TokenProvider | None = None) -> None:
        self.cfg = cfg
        self.tokens = tokens
        self._tls = tls_context(cfg)  # one for every connection: they come one per message

    def contains(self, message_id: str) -> bool:
        client = open_imap(self.cfg, self.tokens, self._tls)
        try:
            client.select_folder(self.cfg.sent_folder, readonly=True)
            return bool(client.search(["HEADER", "Message-ID", message_id]))
        finally:
            _quiet_logout(client)

    def append(self, content: bytes) -> None:
        client = open_imap(self.cfg, self.tokens, self._tls)
        try:
            client.append(self.cfg.sent_folder, content, flags=[b"\\Seen"])
        finally:
            _quiet_logout(client)
