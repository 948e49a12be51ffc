"""Readings out of the store: CSV (stdlib csv, UTF-8 whatever the locale) or
Parquet (pyarrow, the optional extra ``parquet``), in the store's key order,
streamed in batches so that a store larger than memory exports too.

OUT is a file, written beside its name and renamed over it at the end (whole
or not at all), or a stream written as it goes: ``-`` (standard output), or
an existing pipe, FIFO or device such as ``/dev/stdout``. A stream is never
opened to look at what it is (opening a FIFO for reading waits for a writer);
its format comes from ``format``, else from a ``.csv``/``.parquet``/``.pq``
name, and is required otherwise (a file's name without those suffixes means
CSV).

The columns are the store's. Every ``capture_time`` is written with one
precision, milliseconds (``2026-01-02T11:00:00.000+00:00``; a local time
without offset stays without): the store keeps a meter's time to the second
(or its hundredths) and a reception time to the millisecond. In Parquet
``value`` is text (the store holds integers, reals and text in that column;
text keeps each as CSV writes it) and ``scaled`` a double."""
from __future__ import annotations

import contextlib
import csv
import io
import os
import sqlite3
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator, Optional

from ..errors import ConfigurationError

COLUMNS = ("meter_id", "object", "attribute", "capture_time", "value", "unit", "scaled", "status")
FORMATS = ("csv", "parquet")
_BATCH = 50_000


STDOUT = "-"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
# capture_time with milliseconds, its offset (always +00:00 in a store: UTC) kept
_CAPTURE_TIME = ("coalesce(strftime('%Y-%m-%dT%H:%M:%f', capture_time) || CASE WHEN "
                 "length(capture_time) > 19 AND (substr(capture_time, -6, 1) IN ('+', '-') "
                 "OR substr(capture_time, -1) = 'Z') THEN '+00:00' ELSE '' END, capture_time)")


def format_of(out) -> str:
    """The format a file name asks for: Parquet for ``.parquet`` or ``.pq``, else CSV."""
    return _SUFFIXES.get(Path(out).suffix.lower(), "csv")


def is_stream(out) -> bool:
    """Whether OUT is written as a stream: ``-`` (standard output) or an existing
    file that is not a regular file or folder (a pipe, FIFO, terminal,
    ``/dev/stdout``). Only stat() is asked: nothing is opened."""
    if str(out) == STDOUT:
        return True
    try:
        mode = os.stat(out).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _is_sqlite(path: Path) -> bool:
    """Whether a regular file starts as a SQLite database does (never asked of
    a stream: opening a FIFO for reading would wait for a writer)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
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
    name), or any other SQLite file (arguments given the wrong way round);
    and one in a folder that is not there (named as given)."""
    target = Path(out)
    if target.is_dir():
        raise ConfigurationError(f"{str(out)!r} is a directory; OUT is the file to write")
    if not target.exists():
        folder = os.path.dirname(str(out)) or "."
        if not os.path.isdir(folder):
            raise ConfigurationError(f"no directory {folder!r} to write {str(out)!r} in")
        return
    if os.path.samefile(store, target):
        raise ConfigurationError(f"{str(out)!r} is the store itself; the arguments are "
                                 "STORE then OUT")
    if _is_sqlite(target):
        raise ConfigurationError(f"{str(out)!r} is a SQLite database, not overwritten (the "
                                 "arguments are STORE then OUT)")


def _batches(db: sqlite3.Connection) -> Iterator[list[tuple]]:
    selected = ", ".join(_CAPTURE_TIME if c == "capture_time" else c for c in COLUMNS)
    try:
        # ORDER BY names the stored column (the expression above has no alias)
        cursor = db.execute(f"SELECT {selected} FROM readings "
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
    for when ``format`` is None); returns how many rows. A file is written
    beside ``out`` and renamed over it at the end: a failure leaves ``out`` as
    it was. A stream (``-`` for standard output, a pipe, a FIFO: see
    :func:`is_stream`) is written as the rows come, and needs ``format`` unless
    its name ends ``.csv``, ``.parquet`` or ``.pq``. ``out`` may not be the
    store, nor any other SQLite file."""
    stream = is_stream(out)
    if format is None:
        format = _SUFFIXES.get(Path(out).suffix.lower()) if stream else format_of(out)
        if format is None:
            what = "standard output" if str(out) == STDOUT else f"{str(out)!r} (a pipe or device)"
            raise ConfigurationError(f"writing to {what} needs --format csv or --format "
                                     "parquet (no file name to take it from)")
    if format not in FORMATS:
        raise ConfigurationError(f"format must be csv or parquet, got {format!r}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401  (only whether it is there)
        except ImportError:
            raise ConfigurationError("Parquet needs pyarrow: pip install "
                                     "'dlmsfast[parquet]'") from None
    writer = _write_csv if format == "csv" else _write_parquet
    db = _open_store(store)
    try:
        if stream:
            if str(out) != STDOUT:
                _check_out(store, out)
            return _write_stream(db, out, writer)
        _check_out(store, out)
        # through a symbolic link, as open(out, "w") would write
        target = Path(os.path.realpath(out))
        handle, temporary = tempfile.mkstemp(dir=target.parent,
                                             prefix=f".{target.name}.", suffix=".part")
        try:
            with open(handle, "wb") as binary:
                count = writer(db, binary)
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


def _write_stream(db: sqlite3.Connection, out, writer) -> int:
    if str(out) == STDOUT:
        sys.stdout.flush()
        with open(sys.stdout.fileno(), "wb", closefd=False) as binary:
            return writer(db, binary)
    with open(out, "wb") as binary:
        return writer(db, binary)


def _write_csv(db: sqlite3.Connection, binary: IO[bytes]) -> int:
    count = 0
    # UTF-8 whatever the locale: a meter id or a visible-string in any script
    text = io.TextIOWrapper(binary, encoding="utf-8", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow(COLUMNS)
        for rows in _batches(db):
            writer.writerows(rows)
            count += len(rows)
        text.flush()
    finally:
        text.detach()  # the caller closes the file
    return count


def _write_parquet(db: sqlite3.Connection, binary: IO[bytes]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # value and scaled hold integers, reals or text row by row: text keeps every
    # value as the store has it; scaled (a number or nothing) is a double
    schema = pa.schema([("meter_id", pa.string()), ("object", pa.string()),
                        ("attribute", pa.int16()), ("capture_time", pa.string()),
                        ("value", pa.string()), ("unit", pa.string()),
                        ("scaled", pa.float64()), ("status", pa.string())])
    count = 0
    with pq.ParquetWriter(binary, schema) as writer:
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


__all__ = ["COLUMNS", "FORMATS", "STDOUT", "export_readings", "format_of", "is_stream"]
