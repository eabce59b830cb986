"""`mailgate scrub [--config F] [--vendor NAME] [--keep VALUE]... [--json] FILE...|-`: scrub text as the gateway
does before sending. Every input shares one loaded engine; outputs come in input order."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scrub", help="Scrub PHI and unneeded PII from text, as the gateway does before sending.",
                       description="Scrub PHI and unneeded PII from each FILE (or - for standard input), keeping "
                       "the escalation's own contact fields (End user, Sign-up email, Phone, Alternate contact, "
                       "Agent ...), ticket numbers, times, error messages and the --keep values. Prints the "
                       "scrubbed text, or with --json one JSON object per input: {text, findings, kept}.")
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML); [scrub] model names the spaCy "
                   "model; default: $MAILGATE_CONFIG, /etc/mailgate/config.toml, else the embedded default")
    p.add_argument("--vendor", metavar="NAME", help="read field labels as this vendor's rule does (e.g. idme)")
    p.add_argument("--keep", metavar="VALUE", action="append", default=[],
                   help="a value to keep verbatim wherever it occurs (repeatable)")
    p.add_argument("--json", action="store_true", help="one JSON object per input, one per line")
    p.add_argument("files", nargs="+", metavar="FILE", help="text files to scrub; - reads standard input")
    p.set_defaults(func=run)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


def run(args: argparse.Namespace) -> int:
    from gateway.fields import extract_fields, label_map
    from gateway.rules import load_rules
    from gateway.runtime import config_from_args
    from gateway.scrub import ScrubConfigError, get_scrubber

    config = config_from_args(args)
    rule = None
    if args.vendor:
        rule = load_rules(config.rules_path).get(args.vendor)  # a RuleError is reported by gateway.cli (exit 2)
        if rule is None:
            print(f"mailgate scrub: unknown vendor {args.vendor!r}", file=sys.stderr)
            return 2
    try:
        scrubber = get_scrubber(config.scrub)
    except ScrubConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    labels = label_map(rule)
    failed = 0
    for i, path in enumerate(args.files):
        try:
            text = _read(path)
        except OSError as exc:
            failed += 1
            print(f"mailgate scrub: cannot read {path}: {exc.strerror}", file=sys.stderr)
            continue
        result = scrubber.scrub(text, keep=args.keep, fields=extract_fields(text, mapping=labels))
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            sys.stdout.write(("" if i == 0 else "\n") + result.text + ("" if result.text.endswith("\n") else "\n"))
        sys.stdout.flush()
    return 1 if failed else 0
