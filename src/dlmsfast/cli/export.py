"""``dlmsfast export readings.db OUT [--format csv|parquet]``: the readings of a store
as a file for other tools (Parquet through pyarrow: ``pip install 'dlmsfast[parquet]'``).
Without ``--format`` the name of OUT decides (``.parquet``/``.pq``: Parquet, else CSV).
OUT is written whole or not at all, and never over the store or another SQLite file.
``-`` is standard output; it, a pipe or a FIFO (``/dev/stdout``) is written as a
stream and needs ``--format`` unless its name ends .csv, .parquet or .pq. CSV is
UTF-8 whatever the locale. Exit status 0, or 2 for a missing store, an OUT
refused, an unknown or missing format, a missing pyarrow or a failed write."""
from __future__ import annotations

import argparse
import sys

from ..errors import DlmsError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("export", help="write a store's readings as CSV or Parquet",
                              description="Write every reading of STORE to OUT (a file is "
                                          "written beside OUT, then renamed over it; never "
                                          "over the store or another SQLite file). CSV is "
                                          "UTF-8 whatever the locale; capture_time has "
                                          "milliseconds.")
    p.add_argument("store", help="the SQLite store (dlmsfast bulk/listen --store)")
    p.add_argument("out", help="the file to write; '-' for standard output (a pipe or FIFO "
                               "is written as a stream too)")
    p.add_argument("--format", choices=("csv", "parquet"), default=None,
                   help="default: from OUT's name (.parquet or .pq: parquet; .csv or, for a "
                        "file, any other name: csv); required for '-' and for a pipe or "
                        "FIFO not named so")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..bulk.export import export_readings

    try:
        count = export_readings(args.store, args.out, args.format)
    except (DlmsError, OSError) as exc:
        print(f"dlmsfast export: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    where = "standard output" if args.out == "-" else args.out
    print(f"dlmsfast export: {count} readings to {where}", file=sys.stderr)
    return 0


__all__ = ["add_parser", "run"]
