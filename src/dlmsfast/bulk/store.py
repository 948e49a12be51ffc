"""The results store: readings, sessions and runs in one SQLite file (stdlib sqlite3, WAL).

Embedded, nothing to start; the bulk reader and ``dlmsfast listen --store`` write
the same tables::

    runs      run_id PK | kind | started | ended | note
    sessions  session_id PK | run_id -> runs | meter_id | started | ended | result
              | error_class | error | bytes | exchanges
    readings  meter_id | object | attribute | capture_time | value | unit | scaled | status
              UNIQUE (meter_id, object, attribute, capture_time)

Times are ISO 8601 text. ``object`` is the dotted OBIS code, ``value`` the value
as the meter sent it (integer, real or text; octets as hex), ``scaled`` the
physical value as a number where there is one, ``unit`` the Blue Book symbol,
``status`` what is known of the reading's integrity (``authenticated``: a GCM
tag was checked; ``unauthenticated``).

Writes are batched (:meth:`Store.add_readings` buffers, :meth:`Store.flush`
commits one transaction) and idempotent: a reading already stored under the
same key is left as it is, so a retried batch or a pushed list received twice
is stored once.
"""
from __future__ import annotations

import datetime as _dt
import sqlite3
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Optional

from ..errors import ConfigurationError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    started     TEXT NOT NULL,
    ended       TEXT,
    note        TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id  INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs(run_id),
    meter_id    TEXT NOT NULL,
    started     TEXT NOT NULL,
    ended       TEXT,
    result      TEXT,
    error_class TEXT,
    error       TEXT,
    bytes       INTEGER NOT NULL DEFAULT 0,
    exchanges   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_by_run ON sessions(run_id, meter_id);
CREATE TABLE IF NOT EXISTS readings (
    meter_id     TEXT NOT NULL,
    object       TEXT NOT NULL,
    attribute    INTEGER NOT NULL,
    capture_time TEXT NOT NULL,
    value,
    unit         TEXT,
    scaled,
    status       TEXT NOT NULL,
    UNIQUE (meter_id, object, attribute, capture_time)
);
"""

_INSERT_READING = (
    "INSERT INTO readings (meter_id, object, attribute, capture_time, value, unit, scaled, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (meter_id, object, attribute, capture_time) DO NOTHING"
)


class StoredReading(NamedTuple):
    """One row of ``readings``."""

    meter_id: str
    object: str
    attribute: int
    capture_time: str
    value: Any
    unit: Optional[str]
    scaled: Any
    status: str


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid


def now() -> str:
    """The current UTC time as the store writes it."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """``Store(path)``: open (and create) the store; use as a context manager or
    call :meth:`close`. ``batch_size`` readings are buffered before a commit."""

    def __init__(self, path, *, batch_size: int = 500) -> None:
        if type(batch_size) is not int or batch_size < 1:
            raise ConfigurationError(f"batch_size must be a positive int, got {batch_size!r}")
        self.path = Path(path)
        self.batch_size = batch_size
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigurationError(f"cannot open the store {str(self.path)!r}: {exc}") from None
        self._pending: list[StoredReading] = []
        self.written = 0

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, pending={len(self._pending)}, written={self.written})"

    # -- runs and sessions ---------------------------------------------------------

    def begin_run(self, kind: str, note: str = "") -> int:
        """A new run (one bulk pass, one listen); returns its run_id."""
        cursor = self._db.execute("INSERT INTO runs (kind, started, note) VALUES (?, ?, ?)",
                                  (kind, now(), note))
        return _row_id(cursor)

    def end_run(self, run_id: int) -> None:
        self.flush()
        self._db.execute("UPDATE runs SET ended = ? WHERE run_id = ?", (now(), run_id))

    def begin_session(self, run_id: int, meter_id: str) -> int:
        """A session with one meter (or one push source); returns its session_id."""
        cursor = self._db.execute(
            "INSERT INTO sessions (run_id, meter_id, started) VALUES (?, ?, ?)",
            (run_id, meter_id, now()))
        return _row_id(cursor)

    def end_session(self, session_id: int, *, result: str, error: BaseException | None = None,
                    bytes: int = 0, exchanges: int = 0) -> None:
        """Record how a session ended: ``result`` ("ok", "failed"...), the error if
        any (its class name and message), the octets received and exchanges."""
        self.flush()
        self._db.execute(
            "UPDATE sessions SET ended = ?, result = ?, error_class = ?, error = ?, bytes = ?, "
            "exchanges = ? WHERE session_id = ?",
            (now(), result, None if error is None else type(error).__name__,
             None if error is None else str(error), bytes, exchanges, session_id))

    # -- readings ------------------------------------------------------------------

    def add_readings(self, rows: Iterable[StoredReading]) -> None:
        """Buffer readings; a full batch is committed at once."""
        self._pending.extend(rows)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> int:
        """Commit the buffered readings in one transaction; returns how many were new."""
        if not self._pending:
            return 0
        db = self._db
        before = db.total_changes
        db.execute("BEGIN")
        try:
            db.executemany(_INSERT_READING, self._pending)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._pending.clear()
        new = db.total_changes - before
        self.written += new
        return new

    def readings(self, meter_id: Optional[str] = None) -> list[StoredReading]:
        """The stored readings (of one meter), in key order."""
        query = "SELECT meter_id, object, attribute, capture_time, value, unit, scaled, status FROM readings"
        args: tuple = ()
        if meter_id is not None:
            query += " WHERE meter_id = ?"
            args = (meter_id,)
        query += " ORDER BY meter_id, capture_time, object, attribute"
        return [StoredReading(*row) for row in self._db.execute(query, args)]

    def close(self) -> None:
        if self._db is None:
            return
        try:
            self.flush()
        finally:
            self._db.close()
            self._db = None  # type: ignore[assignment]


__all__ = ["SCHEMA", "Store", "StoredReading", "now"]
