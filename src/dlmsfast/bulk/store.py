"""The results store: readings, sessions and runs in one SQLite file (stdlib sqlite3, WAL).

Embedded, nothing to start; the bulk reader and ``dlmsfast listen --store`` write
the same tables::

    runs      run_id PK | kind | started | ended | note
    sessions  session_id PK | run_id -> runs | meter_id | started | ended | result
              | error_class | error | bytes | exchanges
    readings  meter_id | object | attribute | capture_time | value | unit | scaled | status
              PRIMARY KEY (meter_id, object, attribute, capture_time), WITHOUT ROWID
    counters  meter_id PK | reserved_until | confirmed
    profiles  meter_id | object | last_capture        PK (meter_id, object)

``readings`` is one B-tree on its key (WITHOUT ROWID): an insert updates one
tree, not a table and a unique index, about half the work per reading (stores
made before keep their UNIQUE index; both refuse a second reading of a key).

Times are ISO 8601 text. ``capture_time`` follows one rule for every writer
(:func:`stored_time`), read from the meter's own date-time (its clock for
registers, the row's clock column for a profile, the notification's date-time
for a push):

- a date-time that names an instant (a deviation, or a pushed local time with
  ``listen --timezone``) is stored in UTC with its offset,
  ``2026-01-02T11:00:00+00:00``: one instant is one key whatever deviation the
  meter wrote;
- a date-time without deviation (0x8000, "not specified": a meter set to local
  time) is stored as the meter wrote it, ISO 8601 WITHOUT an offset,
  ``2026-01-02T12:00:00``: visibly a local time, never shifted by a guessed
  zone, still one key per reading (a row read again is the same row) and in
  order within the meter;
- no date-time at all (``bulk --no-clock``, a clock that failed or is
  incomplete, a push without one) gives the reception time, in UTC.

So a value with an offset is an instant and always ends ``+00:00``
(``capture_time LIKE '%+00:00'`` selects them); one without is the meter's
wall clock, and comparing it with an instant needs the meter's zone.
``profiles.last_capture`` follows the same rule; ``runs`` and ``sessions``
times are the reader's, in UTC.

``object`` is the dotted OBIS code, ``value`` the value
as the meter sent it, by one rule for every writer (:func:`stored_value`:
integer, real or text; an octet-string as hex, also one that reads as text;
a structure or array as JSON), ``scaled`` the physical value as a number where
there is one (:func:`stored_scaled`), ``unit`` the Blue Book symbol,
``status`` what is known of the reading's integrity (``authenticated``: a GCM
tag was checked; ``unauthenticated``).

Writes are batched (:meth:`Store.add_readings` buffers, :meth:`Store.flush`
commits one transaction) and idempotent: a reading already stored under the
same key is left as it is, so a retried batch or a pushed list received twice
is stored once. A reading whose key is stored with a DIFFERENT value (a meter
whose clock is stuck or was set back gives a new value the time of an old
one) is not stored either (the first is kept: it was read when the clock
still named it, and a store never rewrites what it handed out), but it does
not vanish: :meth:`Store.flush` counts it in :attr:`Store.conflicts`, and a
finished session of that meter in the same batch ends ``partial`` with
``error_class`` ``ConflictingReading`` and a message naming the first such
reading, both values and the capture time (``--resume`` reads it again).

The bulk reader adds :meth:`Store.add_session` (a finished session buffered
and committed in the same transaction as its readings: a session recorded
"ok" always has its readings stored, whenever the process dies) and the
invocation counters (:meth:`Store.reserve_counters`): ``reserved_until`` is
the first IC never handed out for the meter's client; every IC below it may
have been used, so the next session starts there, whatever became of the last.
A reservation is committed before any IC of it is used (write-ahead).
``confirmed`` is 1 once a meter accepted an association with a counter of
the store (:meth:`Store.confirm_counters`): a row with 0 is only a guess that
the meter refused, or that no session has tried yet (stores made before the
column count every row as confirmed).
``profiles`` holds the newest row stored per meter and Profile Generic (what
"since the last reading" starts after), committed with those rows.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple, Optional

from ..axdr import DateTime
from ..errors import ConfigurationError, DlmsError, StoreError, StoreInUse
from ..push.reading import OctetText, json_value

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
    PRIMARY KEY (meter_id, object, attribute, capture_time)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles (
    meter_id     TEXT NOT NULL,
    object       TEXT NOT NULL,
    last_capture TEXT NOT NULL,
    PRIMARY KEY (meter_id, object)
);
CREATE TABLE IF NOT EXISTS counters (
    meter_id       TEXT PRIMARY KEY,
    reserved_until INTEGER NOT NULL,
    confirmed      INTEGER NOT NULL DEFAULT 0
);
"""

_INSERT_READING = (
    "INSERT INTO readings (meter_id, object, attribute, capture_time, value, unit, scaled, status) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (meter_id, object, attribute, capture_time) DO NOTHING"
)


_INSERT_SESSION = (
    "INSERT INTO sessions (run_id, meter_id, started, ended, result, error_class, error, bytes, "
    "exchanges) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_UPSERT_MARK = (
    "INSERT INTO profiles (meter_id, object, last_capture) VALUES (?, ?, ?) "
    "ON CONFLICT (meter_id, object) DO UPDATE SET last_capture = "
    "max(last_capture, excluded.last_capture)"
)

# a buffered reading (its 8 fields) whose key is stored with another value,
# kept with the stored value: one statement run by executemany, no Python per row
_FIND_CONFLICT = (
    "INSERT INTO temp.conflicting SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, r.value FROM readings r "
    "WHERE r.meter_id = ?1 AND r.object = ?2 AND r.attribute = ?3 AND r.capture_time = ?4 "
    "AND (r.value IS NOT ?5 OR r.unit IS NOT ?6 OR r.scaled IS NOT ?7)"
)

CONFLICT = "ConflictingReading"
"""``sessions.error_class`` of a session some of whose readings differ from
those stored under the same key (kept; the session ends ``partial``)."""


CLOCK_HINT = "the meter's clock may be stuck or set back"


def _conflict(row: list, stored: Any) -> "Conflict":
    """A row of temp.conflicting (the buffered reading's fields) as a Conflict."""
    return Conflict(row[0], row[1], row[2], row[3], row[4], stored)


class Conflict(NamedTuple):
    """A reading not stored because its key holds another value (the stored
    one is kept); ``str()`` is the wording bulk's sessions and listen use."""

    meter_id: str
    object: str
    attribute: int
    capture_time: str
    value: Any
    stored: Any

    def __str__(self) -> str:
        return (f"{self.object}:{self.attribute} at {self.capture_time}: stored {self.stored!r}, "
                f"read {self.value!r}")


def stored_value(value: Any) -> Any:
    """A reading's value as the store keeps it, whichever job read it (bulk,
    listen): the Blue Book type decides. Integers, reals and text (a
    visible-string) as they are; an octet-string as hex, upper case, also one
    the push decoder shows as text (:class:`~dlmsfast.push.reading.OctetText`:
    a logical device name read by GET and pushed is stored the same); a
    Decimal as a number; a date-time as ISO 8601 (its fields as JSON when it
    names no time); a structure or array as JSON, a scaler_unit
    ``{"scaler": 0, "unit": "Wh"}`` (:func:`~dlmsfast.push.reading.json_value`)."""
    kind = type(value)
    if kind is int or kind is str or kind is float:
        return value
    plain = _plain(value)
    return json.dumps(plain) if isinstance(plain, (list, dict)) else plain


def _plain(value: Any) -> Any:
    if isinstance(value, OctetText):
        return value.octets.hex().upper()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return json_value(value)


def stored_scaled(value: Any) -> Any:
    """The ``scaled`` column: the physical value as a number (a Decimal as a
    float), None for anything that is none (text, octets, a boolean)."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is Decimal:
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def stored_time(when: Any) -> Optional[str]:
    """A capture time as the store keeps it, whichever job read it (bulk,
    listen; the module docstring): an instant as ISO 8601 in UTC, so that one
    instant is one key however the meter wrote its deviation; a date-time
    without deviation (a local time of unknown zone) as the meter's wall-clock
    time in ISO 8601 without an offset, never shifted by a guessed zone; None
    when it names no time (incomplete: the caller keeps the reception time)."""
    if isinstance(when, DateTime):
        try:
            when = when.to_datetime()
        except (DlmsError, ValueError):
            return None
    if not isinstance(when, _dt.datetime):
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=None).isoformat()
    return when.astimezone(_dt.timezone.utc).isoformat()


@contextlib.contextmanager
def run_lock(path) -> Iterator[None]:
    """Hold the store's run lock for the ``with`` block, or raise
    :class:`~dlmsfast.errors.StoreInUse` at once: two bulk runs on one store
    would interleave their invocation-counter blocks and each make the other's
    meters refuse. An ``flock`` on ``STORE.lock`` beside the store (kept: a lock
    file removed while another process waits on it would let a third take a
    second lock): the kernel releases it when the last process holding it ends,
    SIGKILL included, and the forked workers hold it with the run. The file
    says the holder's process id, for the message."""
    lock_path = f"{path}.lock"
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigurationError(f"cannot open the store's run lock {lock_path!r}: "
                                 f"{exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            by = f" (process {holder})" if holder.isdigit() else ""
            raise StoreInUse(f"the store {str(path)!r} is in use by another bulk run{by}: "
                             "wait for it to end, or give another --store") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


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


_NO_DISK = (13, 10)  # SQLITE_FULL, SQLITE_IOERR (sqlite3 names them from Python 3.11)


def _failing(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed for want of disk (full, an I/O error), not because
    of what it was given (a path that cannot be opened, a file that is no
    database): the primary result code, Python 3.11's ``sqlite_errorcode``."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _NO_DISK


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # an INSERT always sets it
    return cursor.lastrowid


def now() -> str:
    """The current UTC time as the store writes it."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    """``Store(path)``: open (and create) the store; use as a context manager or
    call :meth:`close`. ``batch_size`` readings are buffered before a commit."""

    def __init__(self, path, *, batch_size: int = 500, busy_timeout: float = 5.0) -> None:
        if type(batch_size) is not int or batch_size < 1:
            raise ConfigurationError(f"batch_size must be a positive int, got {batch_size!r}")
        self.path = Path(path)
        self.batch_size = batch_size
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # room for the key's B-tree pages that large batches touch
            self._db.execute("PRAGMA cache_size=-65536")
            self._db.execute("PRAGMA temp_store=MEMORY")  # (the conflicts of a batch)
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            self._db.executescript(SCHEMA)
            self._add_confirmed()
        except sqlite3.Error as exc:
            if _failing(exc):  # the store is there, the disk is not writable
                raise self.failed(exc) from exc
            raise ConfigurationError(f"cannot open the store {str(self.path)!r}: {exc}") from None
        self._pending: list[StoredReading] = []
        self._sessions: list[tuple] = []
        self._marks: list[tuple[str, str, str]] = []
        self._confirmed: list[tuple[str]] = []
        self.written = 0
        self.conflicts = 0
        self.last_conflicts: list[Conflict] = []
        """The conflicting readings the latest :meth:`flush` found (listen says each)."""

    def _add_confirmed(self) -> None:
        """A store made before ``counters.confirmed``: the column, 1 for its rows
        (they were trusted as the meters' counters; new rows say 0 themselves)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(counters)")}
        if "confirmed" in columns:
            return
        try:
            self._db.execute("ALTER TABLE counters ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):  # another process added it first
                raise

    def failed(self, exc: sqlite3.Error) -> StoreError:
        """The :class:`~dlmsfast.errors.StoreError` saying that SQLite failed on this store."""
        return StoreError(f"the store {str(self.path)!r} failed: {exc} "
                          f"(sqlite3.{type(exc).__name__})")

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

    def add_session(self, run_id: int, meter_id: str, *, started: str, ended: str, result: str,
                    error_class: Optional[str] = None, error: Optional[str] = None,
                    bytes: int = 0, exchanges: int = 0) -> None:
        """Buffer a finished session; it is committed with the readings buffered
        before it (so "ok" is never stored without them)."""
        self._sessions.append((run_id, meter_id, started, ended, result, error_class, error,
                               bytes, exchanges))

    def add_sessions(self, sessions: Iterable[tuple]) -> None:
        """Buffer finished sessions given as (run_id, meter_id, started, ended,
        result, error_class, error, bytes, exchanges)."""
        self._sessions.extend(sessions)

    def add_profile_mark(self, meter_id: str, obis: str, last_capture: str) -> None:
        """Buffer the newest stored row of a profile; committed with (or after)
        the readings buffered before it, never before them."""
        self._marks.append((meter_id, obis, last_capture))

    def profile_marks(self, meter_ids: Iterable[str], obis: str) -> dict[str, str]:
        """meter_id -> the newest stored row's capture_time of profile ``obis``."""
        wanted = set(meter_ids)
        return {m: t for m, t in self._db.execute(
            "SELECT meter_id, last_capture FROM profiles WHERE object = ?", (obis,))
            if m in wanted}

    def confirm_counters(self, meter_ids: Iterable[str]) -> None:
        """Buffer: these meters accepted an association with the store's counter
        (committed with the next batch; lost, the next run only asks again)."""
        self._confirmed.extend((m,) for m in meter_ids)

    def flush(self) -> int:
        """Commit the buffered readings (and finished sessions) in one
        transaction; returns how many readings were new. Raises
        :class:`~dlmsfast.errors.StoreError` when SQLite fails (nothing of the
        batch is stored; it stays buffered)."""
        if not self._pending and not self._sessions and not self._marks and not self._confirmed:
            return 0
        db = self._db
        before = db.total_changes
        self.last_conflicts = []
        try:
            # IMMEDIATE takes the write lock at once: with several writers (bulk
            # workers) a deferred transaction could not wait for it (busy_timeout)
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(_INSERT_READING, self._pending)
                new = db.total_changes - before
                sessions = self._sessions
                if new < len(self._pending):
                    # some keys were stored already: by the same value (a re-read,
                    # nothing to say) or another one (said in the meter's session)
                    sessions = self._conflicts(sessions)
                db.executemany(_INSERT_SESSION, sessions)
                db.executemany(_UPSERT_MARK, self._marks)
                db.executemany("UPDATE counters SET confirmed = 1 WHERE meter_id = ?",
                               self._confirmed)
            except BaseException:
                if db.in_transaction:  # SQLite may have rolled back already (disk full)
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self.failed(exc) from exc
        self._pending.clear()
        self._sessions.clear()
        self._marks.clear()
        self._confirmed.clear()
        self.written += new
        return new

    def _conflicts(self, sessions: list[tuple]) -> list[tuple]:
        """Count the buffered readings whose key is stored with another value
        (the stored one kept), and say so in the last buffered session of each
        such meter; returns the sessions to insert."""
        db = self._db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS conflicting (meter_id, object, attribute, "
                   "capture_time, value, unit, scaled, status, stored)")
        db.executemany(_FIND_CONFLICT, self._pending)
        found: dict[str, list] = {}
        for *row, stored in db.execute("SELECT * FROM temp.conflicting"):
            found.setdefault(row[0], []).append((row, stored))
        db.execute("DELETE FROM temp.conflicting")
        if not found:
            return sessions
        self.conflicts += sum(map(len, found.values()))
        self.last_conflicts = [_conflict(row, stored) for rows in found.values()
                               for row, stored in rows]
        last = {s[1]: i for i, s in enumerate(sessions)}
        sessions = list(sessions)
        for meter_id, rows in found.items():
            at = last.get(meter_id)
            if at is None:
                continue  # no session of this meter in the batch (listen): counted only
            row, was = rows[0]
            said = (f"{len(rows)} {'reading differs' if len(rows) == 1 else 'readings differ'} "
                    f"from what the store holds under the same key (kept; first: "
                    f"{_conflict(row, was)}); {CLOCK_HINT}")
            run_id, meter, started, ended, result, error_class, error, *rest = sessions[at]
            if result == "ok":
                result, error_class, error = "partial", CONFLICT, said
            else:
                error = f"{error}; {said}" if error else said
                error_class = error_class or CONFLICT
            sessions[at] = (run_id, meter, started, ended, result, error_class, error, *rest)
        return sessions

    # -- invocation counters (write-ahead) ------------------------------------------

    def reserve_counters(self, meter_ids: Iterable[str], block: int,
                         at_least: Optional[dict[str, int]] = None) -> dict[str, int]:
        """Reserve ``block`` invocation counters for each meter, committed before
        this returns; gives each meter's first IC of its new block (the old
        ``reserved_until``, or ``at_least[meter]`` when that is higher)."""
        if type(block) is not int or block < 1:
            raise ConfigurationError(f"block must be a positive int, got {block!r}")
        ids = list(meter_ids)
        at_least = at_least or {}
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                first: dict[str, int] = {}
                for chunk in range(0, len(ids), 500):
                    part = ids[chunk:chunk + 500]
                    marks = ",".join("?" * len(part))
                    first.update(db.execute(
                        f"SELECT meter_id, reserved_until FROM counters WHERE meter_id IN ({marks})",
                        part).fetchall())
                out = {m: max(first.get(m, 1), at_least.get(m, 0)) for m in ids}
                db.executemany(
                    "INSERT INTO counters (meter_id, reserved_until, confirmed) VALUES (?, ?, 0) "
                    "ON CONFLICT (meter_id) DO UPDATE SET reserved_until = excluded.reserved_until",
                    [(m, ic + block) for m, ic in out.items()])
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self.failed(exc) from exc
        return out

    def known_counters(self, meter_ids: Iterable[str]) -> set[str]:
        """Which of these meters the store holds a confirmed invocation counter
        for (one a meter accepted; a block reserved for a meter that refused
        it, or was never reached, is still a guess)."""
        ids = list(meter_ids)
        known: set[str] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            known.update(m for (m,) in self._db.execute(
                "SELECT meter_id FROM counters WHERE confirmed AND meter_id IN "
                f"({','.join('?' * len(part))})", part))
        return known

    def counters(self) -> dict[str, int]:
        """meter_id -> reserved_until."""
        return dict(self._db.execute("SELECT meter_id, reserved_until FROM counters"))

    # -- what a run has done -------------------------------------------------------------

    def last_run(self, kind: str) -> Optional[int]:
        row = self._db.execute("SELECT max(run_id) FROM runs WHERE kind = ?", (kind,)).fetchone()
        return row[0]

    def succeeded(self, run_id: int) -> set[str]:
        """The meters with a session "ok" in the run."""
        return {m for (m,) in self._db.execute(
            "SELECT DISTINCT meter_id FROM sessions WHERE run_id = ? AND result = 'ok'",
            (run_id,))}

    def session_results(self, run_id: int) -> list[tuple]:
        """(meter_id, result, error_class, bytes, exchanges) of each meter's last session in the run."""
        return self._db.execute(
            "SELECT meter_id, result, error_class, bytes, exchanges FROM sessions "
            "WHERE session_id IN (SELECT max(session_id) FROM sessions WHERE run_id = ? "
            "GROUP BY meter_id)", (run_id,)).fetchall()

    def count_readings(self) -> int:
        return self._db.execute("SELECT count(*) FROM readings").fetchone()[0]

    def readings(self, meter_id: Optional[str] = None) -> list[StoredReading]:
        """The stored readings (of one meter), in key order."""
        query = "SELECT meter_id, object, attribute, capture_time, value, unit, scaled, status FROM readings"
        args: tuple = ()
        if meter_id is not None:
            query += " WHERE meter_id = ?"
            args = (meter_id,)
        query += " ORDER BY meter_id, capture_time, object, attribute"
        return [StoredReading(*row) for row in self._db.execute(query, args)]

    def close(self, flush: bool = True) -> None:
        """Commit what is buffered (unless ``flush`` is False: after a failed
        flush, the batch is dropped rather than tried again) and close."""
        if self._db is None:
            return
        try:
            if flush:
                self.flush()
        finally:
            self._db.close()
            self._db = None  # type: ignore[assignment]


__all__ = ["CLOCK_HINT", "CONFLICT", "SCHEMA", "Conflict", "Store", "StoredReading", "now", "run_lock",
           "stored_scaled", "stored_value"]
