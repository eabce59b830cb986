"""`mailgate quarantine`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("quarantine", help="List, show, release or drop messages the gateway set aside.", description="List, show, release or drop messages the gateway set aside.")
    add_common_options(p)
    p.set_defaults(func=not_yet("the quarantine command arrives with the operations issue (#8)"))
