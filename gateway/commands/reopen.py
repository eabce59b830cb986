"""`mailgate reopen`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("reopen", help="Reply on the vendor's thread to reopen a closed vendor ticket.", description="Reply on the vendor's thread to reopen a closed vendor ticket.")
    add_common_options(p)
    p.set_defaults(func=not_yet("reopen arrives with the lifecycle issue (#6)"))
