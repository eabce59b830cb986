"""`mailgate check --config F`: validate the configuration and the rules (every error at once, exit 2), then
connect to what is configured (IMAP login + select, SMTP EHLO + TLS + AUTH then QUIT, Zendesk users/me) and
report each on one line. Sends nothing, changes nothing in the mailbox. Exit 1 when a connection fails.
No line ever carries a secret: reasons are exception types and server status texts, with every configured
secret value masked out in case a server echoes one."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from gateway.config import Config, ConfigError, ConfigInvalid, Secret
from gateway.rules import load_rules
from gateway.runtime import add_common_options, config_from_args

Result = tuple[bool, str]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="Validate the configuration and rules; test connections (sends nothing).",
                       description="Reports every configuration error at once (exit 2), checks the vendor rules, "
                       "then connects to the configured IMAP, SMTP and Zendesk and reports each (exit 1 when one "
                       "fails). Sends nothing.")
    add_common_options(p)
    p.add_argument("--no-connect", action="store_true", help="validate only; do not contact any server")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
        problems = _service_problems(config)
        if problems:
            raise ConfigInvalid(problems)
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        print(f"{len(exc.errors)} configuration error(s)", file=sys.stderr)
        return 2
    print(f"config: ok ({config.source_file})")
    rules = load_rules(config.rules_path)  # a RuleError is reported by gateway.cli (exit 2)
    from gateway.lifecycle.policy import check_policies  # the vendors' [clocks] and [desk_hours]

    clock_problems = check_policies(rules, config)
    for problem in clock_problems:
        print(f"rules error: {problem}", file=sys.stderr)
    if clock_problems:
        return 2
    print(f"rules: ok ({', '.join(sorted(rules))} from {config.rules_path})")
    print(state_line(config.state_path))
    if args.no_connect:
        return 0
    secrets = list(_secret_values(config))
    failed = False
    for name, probe in _probes(config):
        try:
            ok, line = probe()
        except Exception as exc:  # a probe's surprise is a failed check, never a traceback with a secret in it
            ok, line = False, f"{name}: failed: {type(exc).__name__}"
        failed |= not ok
        print(mask(line, secrets), file=sys.stdout if ok else sys.stderr)
    return 1 if failed else 0


def _service_problems(config: Config) -> list[ConfigError]:
    """What `mailgate run` would refuse: keys required by the chosen mailbox/transport, a scrub model that is
    not installed (checked without loading it)."""
    from gateway.scrub import model_problem
    from gateway.service_setup import service_config_problems

    problems = service_config_problems(config)
    model = model_problem(config.scrub.model)
    if model:
        problems.append(ConfigError(config.source_file, "scrub.model", model.removeprefix("[scrub] model: ")))
    return problems


def _secret_values(obj: object) -> Iterator[str]:
    if isinstance(obj, Secret):
        if obj.reveal():
            yield obj.reveal()
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from _secret_values(getattr(obj, f.name))
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _secret_values(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _secret_values(v)


def mask(text: str, secrets: list[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        if len(s) >= 4:
            text = text.replace(s, "<hidden>")
    return text


def state_line(state: Path) -> str:
    """The state directory should be 0700 and the database 0600 (they hold raw mail until retention)."""
    if not state.exists():
        return f"state: {state} does not exist yet (`mailgate run` creates it and keeps it 0700)"
    mode = stat.S_IMODE(state.stat().st_mode)
    if mode & 0o077:
        return f"state: warning: {state} is mode {mode:04o}; make it 0700 (it holds raw mail)"
    return f"state: ok ({state}, mode {mode:04o})"


def _probes(config: Config) -> list[tuple[str, Callable[[], Result]]]:
    probes: list[tuple[str, Callable[[], Result]]] = []
    if config.mailbox.kind == "imap":
        probes.append(("imap", lambda: check_imap(config)))
    else:
        probes.append(("mailbox", lambda: check_maildir(config.maildir_path)))
    if config.transport.kind == "smtp":
        probes.append(("smtp", lambda: asyncio.run(check_smtp(config))))
    else:
        probes.append(("transport", lambda: check_outbox_dir(config.outbox_path)))
    if config.zendesk is not None:
        probes.append(("zendesk", lambda: check_zendesk(config)))
    return probes


def check_imap(config: Config) -> Result:
    from imapclient.exceptions import IMAPClientError

    from gateway.service_setup import token_provider
    from gateway.sources.imap import open_imap
    from gateway.xoauth2 import TokenError

    cfg = config.mailbox.imap
    where = f"{cfg.host}:{cfg.port} ({cfg.security}, {cfg.auth})"
    try:
        client = open_imap(cfg, token_provider(config) if cfg.auth == "xoauth2" else None)
    except TokenError as exc:
        return False, f"imap: failed: no OAuth token ({exc})"
    except IMAPClientError as exc:
        return False, f"imap: failed: login to {where} refused ({_server_text(exc)})"
    except (OSError, TimeoutError) as exc:
        return False, f"imap: failed: cannot connect to {where} ({type(exc).__name__})"
    try:
        info = client.select_folder(cfg.folder, readonly=True)
        count = int(info.get(b"EXISTS", 0))
    except IMAPClientError as exc:
        return False, f"imap: failed: logged in to {where} but cannot select {cfg.folder!r} ({_server_text(exc)})"
    finally:
        try:
            client.logout()
        except Exception:  # the check is done; a rude goodbye changes nothing
            pass
    return True, f"imap: ok ({where}, {cfg.username}, folder {cfg.folder!r}: {count} message(s))"


def _server_text(exc: BaseException) -> str:
    text = str(exc).strip().replace("\n", " ")
    return text[:160] if text else type(exc).__name__


async def check_smtp(config: Config) -> Result:
    import aiosmtplib

    from gateway.service_setup import token_provider
    from gateway.xoauth2 import TokenError

    cfg = config.transport.smtp
    where = f"{cfg.host}:{cfg.port} ({cfg.security}, auth {cfg.auth})"
    smtp = aiosmtplib.SMTP(hostname=cfg.host, port=cfg.port, timeout=float(cfg.timeout_seconds),
                           use_tls=cfg.security == "tls", start_tls=cfg.security == "starttls")
    try:
        await smtp.connect()  # EHLO, and STARTTLS + EHLO again when configured
        if cfg.auth == "xoauth2":
            tokens = token_provider(config)
            await smtp.auth_xoauth2(cfg.username, tokens.token())  # type: ignore[union-attr]
        elif cfg.auth == "password":
            await smtp.login(cfg.username, cfg.password.reveal() if cfg.password else "")
    except TokenError as exc:
        return False, f"smtp: failed: no OAuth token ({exc})"
    except aiosmtplib.SMTPResponseException as exc:
        return False, f"smtp: failed: {where} answered {exc.code} {exc.message[:120]}"
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return False, f"smtp: failed: cannot talk to {where} ({type(exc).__name__})"
    finally:
        if smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()
    return True, f"smtp: ok ({where}, sent nothing)"


def check_zendesk(config: Config) -> Result:
    from gateway.zendesk.check import check_connection

    return check_connection(config)


def check_maildir(path: Path) -> Result:
    if not path.exists():
        return True, f"mailbox: Maildir {path} does not exist yet (created on first run)"
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        return False, f"mailbox: failed: Maildir {path} is not readable and writable by this user"
    return True, f"mailbox: ok (Maildir {path})"


def check_outbox_dir(path: Path) -> Result:
    probe = path if path.exists() else path.parent
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        return False, f"transport: failed: file outbox {path} is not writable by this user"
    return True, f"transport: ok (file outbox {path}; nothing leaves this machine)"
