"""`mailgate explain`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("explain", help="Show how the gateway reads each message: vendor, event, tickets, guards, trust.", description="Show how the gateway reads each message: vendor, event, tickets, guards, trust.")
    add_common_options(p)
    p.set_defaults(func=not_yet("explain arrives with the inbound issue (#3)"))
