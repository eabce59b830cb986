"""`mailgate scrub`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("scrub", help="Scrub PHI and unneeded PII from text, as the gateway does before sending.", description="Scrub PHI and unneeded PII from text, as the gateway does before sending.")
    add_common_options(p)
    p.set_defaults(func=not_yet("scrubbing arrives with the outbound-safety issue (#4)"))
