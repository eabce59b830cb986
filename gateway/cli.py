"""The `mailgate` command line. Each command lives in gateway/commands/<name>.py and registers itself."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from gateway.config import ConfigInvalid
from gateway.rules import RuleError

# Order is the order --help lists them in.
COMMANDS = ["run", "check", "demo", "explain", "scrub", "replay", "status", "show", "reopen", "audit",
            "quarantine", "purge"]

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All commands, or just `only`: importing a command's module imports what it runs (the service, the
    pipeline, msal, httpx ...), so registering all twelve costs every invocation about half a second."""
    parser = argparse.ArgumentParser(
        prog="mailgate",
        description="Email gateway between the support desk (Zendesk) and the vendors it escalates to.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in [only] if only else COMMANDS:
        module = importlib.import_module(f"gateway.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The command is always the first word (the top level has no options but --help); anything else
    # (--help, a typo, nothing) gets the full parser so that help and errors list every command.
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        code = args.func(args)
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except RuleError as exc:
        print(f"rules error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        return EXIT_OK
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
