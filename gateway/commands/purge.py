"""`mailgate purge`."""

from __future__ import annotations

import argparse

from gateway.commands._unavailable import not_yet
from gateway.runtime import add_common_options


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("purge", help="Remove raw message content older than the retention age.", description="Remove raw message content older than the retention age.")
    add_common_options(p)
    p.set_defaults(func=not_yet("retention arrives with the operations issue (#8)"))
