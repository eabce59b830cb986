"""`mailgate explain [--config F] [--json] FILE...`: how the gateway reads each message.

Starts fast and writes nothing: no store, no state directory, and no Presidio (it is never imported here)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain",
                       help="Show how the gateway reads each message: vendor, event, tickets, guards, trust.",
                       description="For each FILE (a raw message), in order: vendor, event, tickets, guards, "
                       "trust and the rules that decided. Exit 0 when every file was read, 1 otherwise.")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML); default: $MAILGATE_CONFIG, "
                   "/etc/mailgate/config.toml, else the embedded offline default")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of readable blocks")
    p.add_argument("files", nargs="+", metavar="FILE", help="a raw message (RFC 5322); - reads standard input")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gateway.explain import explain_paths, render_block, to_json
    from gateway.rules import load_rules
    from gateway.runtime import config_from_args

    config = config_from_args(args)
    rules = load_rules(config.rules_path)  # a RuleError is reported by gateway.cli (exit 2)
    failed = 0
    first = True
    for item in explain_paths(args.files, rules, config):
        if item.facts is None:
            failed += 1
            print(f"mailgate explain: cannot read {item.path}: {item.error}", file=sys.stderr)
            continue
        if args.json:
            print(to_json(item))
        else:
            print(("" if first else "\n") + render_block(item))
            first = False
        sys.stdout.flush()
    return 1 if failed else 0
