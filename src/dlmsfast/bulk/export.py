"""Readings out of the store: CSV (stdlib csv) or Parquet (pyarrow, the optional
extra ``parquet``), in the store's key order, streamed in batches so that a
store larger than memory exports too."""
from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from ..errors import ConfigurationError

COLUMNS = ("meter_id", "object", "attribute", "capture_time", "value", "unit", "scaled", "status")
FORMATS = ("csv", "parquet")
_BATCH = 50_000


_SQLITE_MAGIC = b"SQLite format 3\x00"
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def format_of(out) -> str:
    """The format a file name asks for: Parquet for ``.parquet`` or ``.pq``, else CSV."""
    return _SUFFIXES.get(Path(out).suffix.lower(), "csv")


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def _open_store(path) -> sqlite3.Connection:
    """The store, read-only, once it is known to be a dlmsfast store (before
    anything is written anywhere)."""
    store = Path(path)
    if not store.is_file():
        raise ConfigurationError(f"no store at {str(path)!r}")
    if not _is_sqlite(store):
        raise ConfigurationError(f"{str(path)!r} is not a dlmsfast store (not a SQLite file)")
    try:
        db = sqlite3.connect(f"file:{store.resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot read the store {str(path)!r}: {exc}") from None
    try:
        found = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'readings'").fetchone()[0]
    except sqlite3.Error as exc:
        db.close()
        raise ConfigurationError(f"cannot read the store {str(path)!r}: {exc}") from None
    if not found:
        db.close()
        raise ConfigurationError(f"{str(path)!r} is not a dlmsfast store (no readings table)")
    return db


def _check_out(store, out) -> None:
    """Refuse an OUT that would destroy a store: the store itself (by any
    name), or any other SQLite file (arguments given the wrong way round)."""
    target = Path(out)
    if target.is_dir():
        raise ConfigurationError(f"{str(out)!r} is a directory; OUT is the file to write")
    if not target.exists():
        return
    if os.path.samefile(store, target):
        raise ConfigurationError(f"{str(out)!r} is the store itself; the arguments are "
                                 "STORE then OUT")
    if _is_sqlite(target):
        raise ConfigurationError(f"{str(out)!r} is a SQLite database, not overwritten (the "
                                 "arguments are STORE then OUT)")


def _batches(db: sqlite3.Connection) -> Iterator[list[tuple]]:
    try:
        cursor = db.execute(f"SELECT {', '.join(COLUMNS)} FROM readings "
                            "ORDER BY meter_id, capture_time, object, attribute")
        while True:
            rows = cursor.fetchmany(_BATCH)
            if not rows:
                return
            yield rows
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot read the store: {exc}") from None


def export_readings(store, out, format: Optional[str] = None) -> int:
    """Write every reading of ``store`` to ``out`` (in the format its name asks
    for when ``format`` is None); returns how many rows. The file is written
    beside ``out`` and renamed over it at the end: a failure leaves ``out`` as
    it was. ``out`` may not be the store, nor any other SQLite file."""
    format = format_of(out) if format is None else format
    if format not in FORMATS:
        raise ConfigurationError(f"format must be csv or parquet, got {format!r}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401  (only whether it is there)
        except ImportError:
            raise ConfigurationError("Parquet needs pyarrow: pip install "
                                     "'dlmsfast[parquet]'") from None
    db = _open_store(store)
    try:
        _check_out(store, out)
        # through a symbolic link, as open(out, "w") would write
        target = Path(os.path.realpath(out))
        handle, temporary = tempfile.mkstemp(dir=target.parent,
                                             prefix=f".{target.name}.", suffix=".part")
        os.close(handle)
        try:
            writer = _write_csv if format == "csv" else _write_parquet
            count = writer(db, temporary)
            # mkstemp made it owner-only: give it the mode a plain open() would
            umask = os.umask(0)
            os.umask(umask)
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    finally:
        db.close()
    return count


def _write_csv(db: sqlite3.Connection, path: str) -> int:
    count = 0
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for rows in _batches(db):
            writer.writerows(rows)
            count += len(rows)
    return count


def _write_parquet(db: sqlite3.Connection, path: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # value and scaled hold integers, reals or text row by row: text keeps every
    # value as the store has it; scaled (a number or nothing) is a double
    schema = pa.schema([("meter_id", pa.string()), ("object", pa.string()),
                        ("attribute", pa.int16()), ("capture_time", pa.string()),
                        ("value", pa.string()), ("unit", pa.string()),
                        ("scaled", pa.float64()), ("status", pa.string())])
    count = 0
    with pq.ParquetWriter(path, schema) as writer:
        for rows in _batches(db):
            columns: list[list] = [list(c) for c in zip(*rows)]
            columns[4] = [None if v is None else str(v) for v in columns[4]]
            columns[6] = [v if isinstance(v, (int, float)) else None for v in columns[6]]
            try:
                arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema)]
            except (pa.ArrowException, TypeError) as exc:
                # a row another program wrote into the store, outside its types
                raise ConfigurationError(f"a reading does not fit the Parquet schema: "
                                         f"{exc}") from None
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            count += len(rows)
    return count


__all__ = ["COLUMNS", "FORMATS", "export_readings", "format_of"]
