"""Command line: ``dlmsfast decode``, ``dlmsfast encrypt`` (filled in as the layers land)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("dlmsfast: the command line is not built yet", file=sys.stderr)
    return 2
