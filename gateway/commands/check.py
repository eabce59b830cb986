"""`mailgate check --config F`: validate the configuration and the rules (all errors at once, exit 2)."""

from __future__ import annotations

import argparse
import sys

from gateway.config import ConfigInvalid
from gateway.rules import RuleError, load_rules
from gateway.runtime import add_common_options, config_from_args


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check", help="Validate the configuration and rules; test connections (sends nothing).",
                       description="Reports every configuration error at once (exit 2), then checks the "
                       "vendor rules.")
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigInvalid as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        print(f"{len(exc.errors)} configuration error(s)", file=sys.stderr)
        return 2
    print(f"config: ok ({config.source_file})")
    try:
        rules = load_rules(config.rules_path)
    except RuleError as exc:
        print(f"rules error: {exc}", file=sys.stderr)
        return 2
    print(f"rules: ok ({', '.join(sorted(rules))} from {config.rules_path})")
    return 0
