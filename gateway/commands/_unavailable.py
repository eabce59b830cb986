"""For commands whose capability lands in a later issue: say so plainly, never fake output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from gateway.cli import EXIT_UNAVAILABLE


def not_yet(what: str) -> Callable[[argparse.Namespace], int]:
    def run(_args: argparse.Namespace) -> int:
        print(f"not available yet: {what}", file=sys.stderr)
        return EXIT_UNAVAILABLE

    return run
