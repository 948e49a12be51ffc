"""Readings out of the store: CSV (stdlib csv) or Parquet (pyarrow, the optional
extra ``parquet``), in the store's key order, streamed in batches so that a
store larger than memory exports too."""
from __future__ import annotations

import csv
import sqlite3
from pathlib import Path
from typing import Iterator

from ..errors import ConfigurationError

COLUMNS = ("meter_id", "object", "attribute", "capture_time", "value", "unit", "scaled", "status")
FORMATS = ("csv", "parquet")
_BATCH = 50_000


def _batches(path) -> Iterator[list[tuple]]:
    if not Path(path).is_file():
        raise ConfigurationError(f"no store at {str(path)!r}")
    try:
        db = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM readings "
                            "ORDER BY meter_id, capture_time, object, attribute")
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot read the store {str(path)!r}: {exc}") from None
    try:
        while True:
            rows = cursor.fetchmany(_BATCH)
            if not rows:
                return
            yield rows
    finally:
        db.close()


def export_readings(store, out, format: str = "csv") -> int:
    """Write every reading of ``store`` to ``out``; returns how many rows."""
    if format not in FORMATS:
        raise ConfigurationError(f"format must be csv or parquet, got {format!r}")
    if format == "csv":
        count = 0
        with open(out, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for rows in _batches(store):
                writer.writerows(rows)
                count += len(rows)
        return count
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigurationError("Parquet needs pyarrow: pip install 'dlmsfast[parquet]'") from None
    # value and scaled hold integers, reals or text row by row: text keeps every
    # value as the store has it; scaled (a number or nothing) is a double
    schema = pa.schema([("meter_id", pa.string()), ("object", pa.string()),
                        ("attribute", pa.int16()), ("capture_time", pa.string()),
                        ("value", pa.string()), ("unit", pa.string()),
                        ("scaled", pa.float64()), ("status", pa.string())])
    count = 0
    with pq.ParquetWriter(str(out), schema) as writer:
        for rows in _batches(store):
            columns: list[list] = [list(c) for c in zip(*rows)]
            columns[4] = [None if v is None else str(v) for v in columns[4]]
            columns[6] = [v if isinstance(v, (int, float)) else None for v in columns[6]]
            writer.write_table(pa.Table.from_arrays(
                [pa.array(c, type=f.type) for c, f in zip(columns, schema)], schema=schema))
            count += len(rows)
    return count


__all__ = ["COLUMNS", "FORMATS", "export_readings"]
