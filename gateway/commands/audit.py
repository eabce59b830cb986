"""`mailgate audit`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="Print the audit trail.", description="Print the audit trail.")
    add_common_options(p)
    p.set_defaults(func=not_yet("the audit command arrives with the operations issue (#8)"))
