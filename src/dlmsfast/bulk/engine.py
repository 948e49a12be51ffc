"""The bulk engine: a fleet cut into shards, each shard read by one asyncio loop.

::

    run_bulk(meters, keys, plan, store)            the parent process
      ├── Store: begin (or resume) the run, skip the meters already read
      ├── shards: the remaining meters dealt round-robin, one per worker
      └── workers (processes, one per core)        read_shard(shard) -> ShardResult
            asyncio loop, `concurrency` sessions at once:
              reserve IC blocks (one commit) ─> session per meter ─> rows buffered
              ─> one transaction per batch: readings + finished sessions + profile marks

A :class:`Shard` is plain data (meter rows, plan, keys of those meters, store
path, settings) and :func:`read_shard` a plain function returning a plain
:class:`ShardResult`: a local process pool runs them today; Ray or Dask could
run the same shards elsewhere without a change here (with a server database
instead of the one SQLite file).

Writing: each worker writes its own batches into the one SQLite file (WAL,
``BEGIN IMMEDIATE`` with a long busy timeout). Rows are never shipped to the
parent: pickling them would cost about what inserting them costs, and a single
writer process would serialise all of it; with WAL a writer holds the lock only
while its batch is inserted, and readers never wait.

Sessions: per meter one connection at a time; a per-response timeout (also the
connect timeout), a whole-session timeout, and ``retries`` more attempts for
transport failures and malformed answers (exponential backoff with jitter);
refusals, security failures and error answers are final. Every meter ends
with one recorded session per attempt (result ``ok``, ``partial`` or
``failed`` with the error's class and message).

Invocation counters (write-ahead): before the first session the shard
reserves a block of ICs per ciphered meter in one committed transaction; each
session's :class:`~dlmsfast.security.SecurityContext` starts at its meter's
block and calls the hook ``on_invocation_counter`` before an APDU would carry
an IC past it, which commits a further block first. An IC is therefore always
durable before it goes out, and a killed run never makes the next one reuse it.
A meter the store has no counter for (a new store) starts at the keys file's
``invocation_counter`` (else 1), or, with ``EngineSettings.invocation_counter``
``meter``, at the one its public client reads (0.0.43.1.0.255): the client's
pre-read moves the context forward and the hook reserves it before use. When
such a meter refuses the association, its stored error says how to seed it.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import gc
import multiprocessing
import os
import queue as _queue
import random
import resource
import threading
import time
from collections import Counter, deque
from itertools import repeat
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Optional, Sequence, cast

from ..client import AsyncClient
from ..client.requests import REPLAY_HINT
from ..client.values import Target, keep_scalers, missing_scalers
from ..cosem import ProfileGeneric, make_object
from ..cosem.interface import scaler_unit_attribute
from ..cosem.timestamps import to_timestamp
from ..cosem.units import ScalerUnit
from ..errors import (AssociationRejected, ConfigurationError, DataAccessError, DecodeError,
                      DlmsError, TimeoutError, TransportError)
from ..security import SecurityContext
from ..transport.loop import run as run_loop
from .inputs import CLOCK_OBJECT, KeyRing, MeterRow, ReadPlan
from .store import Store, now, stored_scaled, stored_time, stored_value

UTC = _dt.timezone.utc
RUN_KIND = "bulk"
DEFAULT_SYSTEM_TITLE = b"DLMSFAST"
_RETRYABLE = (TransportError, DecodeError)
COUNTER_SOURCES = ("store", "meter", "meter-always")
_INT_ONLY = {int}
_GC_GEN0 = 20_000  # allocations between gen-0 collections in a shard's loop
BACKOFF_CAP = 60.0  # seconds: the longest wait before a retry, however many retries
# a range with one open end: the earliest or latest instant a date-time can say
_EARLIEST = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_LATEST = _dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=_dt.timezone.utc)

Progress = Callable[[int, int, int], None]
"""``progress(done, failed, in_flight)``: counts of the shard so far."""


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How a shard is read.

    ``concurrency`` sessions at once per worker; ``timeout`` seconds per
    answer; ``connect_timeout`` seconds to connect (``timeout`` when None);
    ``session_timeout`` for a whole session;
    ``retries`` further attempts after a transport failure, waiting
    ``backoff`` · 2^attempt seconds, at most :data:`BACKOFF_CAP` (60 s), (× a
    random 0.5..1.5); ``counter_block``
    ICs reserved per commit; ``batch_size`` readings per transaction, at
    least every ``flush_interval`` seconds. The first ``concurrency``
    sessions start ``start_rate`` per second (per worker), not all at once:
    sessions started together stay in step, every exchange of them at the
    same moment, and all end together at the end of the run, their readings
    then committed while the cores that read them sit idle; started a few
    at a time they end a few at a time, and the writes overlap the reads.
    ``invocation_counter`` says where a ciphered session's first IC comes
    from: ``store`` (the store's, else the keys file's ``invocation_counter``,
    else 1), ``meter`` (the same, but a meter the store knows no counter for
    is asked for its own first: the public client reads 0.0.43.1.0.255, as
    ``AsyncClient(invocation_counter="meter")`` does) or ``meter-always``
    (asked before every session); the IC only ever moves forward.
    """

    concurrency: int = 1000
    timeout: float = 10.0
    session_timeout: float = 120.0
    retries: int = 2
    backoff: float = 0.5
    counter_block: int = 256
    batch_size: int = 20_000
    flush_interval: float = 1.0
    progress_interval: float = 0.25
    start_rate: float = 2000.0
    connect_timeout: Optional[float] = None
    invocation_counter: str = "store"

    def __post_init__(self) -> None:
        if self.invocation_counter not in COUNTER_SOURCES:
            raise ConfigurationError(f"invocation_counter is one of {', '.join(COUNTER_SOURCES)}, "
                                     f"got {self.invocation_counter!r}")
        for name in ("concurrency", "counter_block", "batch_size"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(f"{name} must be a positive int, got {value!r}")
        if type(self.retries) is not int or self.retries < 0:
            raise ConfigurationError(f"retries must be an int >= 0, got {self.retries!r}")
        positive = [("timeout", "seconds"), ("session_timeout", "seconds"),
                    ("flush_interval", "seconds"), ("progress_interval", "seconds"),
                    ("start_rate", "sessions per second")]
        if self.connect_timeout is not None:  # None: the timeout bounds the connect too
            positive.append(("connect_timeout", "seconds"))
        for name, what in positive:
            value = getattr(self, name)
            if type(value) not in (int, float) or not 0 < value < float("inf"):
                raise ConfigurationError(f"{name} must be a positive number of {what}, "
                                         f"got {value!r}")
        if type(self.backoff) not in (int, float) or not 0 <= self.backoff < float("inf"):
            raise ConfigurationError(f"backoff must be a number of seconds >= 0, got {self.backoff!r}")


@dataclass(frozen=True, slots=True)
class Shard:
    """A piece of the fleet for one worker: what :func:`read_shard` needs, picklable."""

    run_id: int
    meters: tuple[MeterRow, ...]
    plan: ReadPlan
    store: str
    keys: KeyRing
    settings: EngineSettings = EngineSettings()


@dataclass(slots=True)
class ShardResult:
    """What a shard (or, merged, a whole run) did."""

    meters: int = 0
    succeeded: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    readings: int = 0
    values: int = 0
    bytes: int = 0
    exchanges: int = 0
    sessions: int = 0
    seconds: float = 0.0
    peak_rss_bytes: int = 0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def merge(self, other: "ShardResult") -> None:
        self.meters += other.meters
        self.succeeded += other.succeeded
        for reason, count in other.failures.items():
            self.failures[reason] = self.failures.get(reason, 0) + count
        self.readings += other.readings
        self.values += other.values
        self.bytes += other.bytes
        self.exchanges += other.exchanges
        self.sessions += other.sessions
        self.seconds = max(self.seconds, other.seconds)
        self.peak_rss_bytes += other.peak_rss_bytes


def peak_rss() -> int:
    """This process's peak resident set size, in octets (Linux counts KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def raise_file_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one; returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def is_ciphered(meter: MeterRow) -> bool:
    """Whether the meter's association uses a SecurityContext (and so ICs)."""
    return meter.security != "none" or meter.auth == "hls-gmac"


def _unit_symbol(unit: Any) -> Optional[str]:
    return None if unit is None else getattr(unit, "symbol", str(unit))


class _Traffic:
    """The trace hook: octets both ways, and answers received."""

    __slots__ = ("octets", "answers")

    def __init__(self) -> None:
        self.octets = 0
        self.answers = 0

    def __call__(self, direction: str, frame: bytes) -> None:
        self.octets += len(frame)
        if direction == "in":
            self.answers += 1


class _Counters:
    """The shard's invocation-counter reservations (write-ahead through the store)."""

    def __init__(self, store: Store, block: int, keys: KeyRing) -> None:
        self.store = store
        self.block = block
        self.keys = keys
        self.next: dict[str, int] = {}
        self.limit: dict[str, int] = {}
        # meters whose counter the store did not know (their first IC is a
        # guess until one association has been accepted), and that first IC
        self.fresh: dict[str, int] = {}

    def reserve_all(self, meters: Sequence[MeterRow]) -> None:
        ciphered = [m for m in meters if is_ciphered(m)]
        known = self.store.known_counters(m.id for m in ciphered)
        seeds = {}
        for meter in ciphered:
            if meter.id not in known:
                first = self.keys.first_counter(meter)
                if first is not None:
                    seeds[meter.id] = first
        reserved = self.store.reserve_counters([m.id for m in ciphered], self.block,
                                               at_least=seeds)
        for meter_id, first in reserved.items():
            self.next[meter_id] = first
            self.limit[meter_id] = first + self.block
            if meter_id not in known:
                self.fresh[meter_id] = first

    def refused_message(self, meter: MeterRow, message: str) -> str:
        """What to say when a fresh meter refused the association (its counter a
        guess): where the first IC came from and how to give the meter's, said
        once, in place of the client's general advice about the counter."""
        first = self.fresh[meter.id]
        source = "the keys file's invocation_counter" if self.keys.first_counter(meter) \
            is not None else "the default"
        ours = (f"the store held no invocation counter for this meter, so the first was "
                f"{first} ({source}); give the meter's counter as invocation_counter in the "
                "keys file, or read it from the meter with --invocation-counter meter")
        if REPLAY_HINT in message:
            return message.replace(REPLAY_HINT, ours)
        return (f"{message}; a meter read before (by another head-end or store) refuses "
                f"counters it has seen: {ours}")

    def hook(self, meter_id: str) -> Callable[[int], int]:
        def on_invocation_counter(ic: int) -> int:
            limit = self.limit[meter_id]
            if ic < limit:
                return limit
            first = self.store.reserve_counters([meter_id], self.block,
                                                at_least={meter_id: ic})[meter_id]
            self.limit[meter_id] = limit = first + self.block
            return limit

        return on_invocation_counter


Sink = Callable[[tuple], None]
"""``sink((readings, sessions, profile_marks))``: where a shard's batches go
instead of its own writer thread (the local pool's parent process)."""


class _Writer:
    """The shard's writes: batches handed to a ``sink``, or committed by a
    thread of their own with its own connection. Either way the event loop
    only buffers rows: neither an insert nor a wait for a write lock ever
    stops the sessions. Same interface as :class:`Store` for what the loop
    adds; a batch (readings, then the sessions and profile marks that follow
    them) is one transaction."""

    def __init__(self, path: str, batch_size: int, sink: Optional[Sink] = None) -> None:
        self.path = path
        self.batch_size = batch_size
        self.rows: list = []
        self.sessions: list = []
        self.marks: list = []
        self.batches: _queue.SimpleQueue = _queue.SimpleQueue()
        self.error: Optional[BaseException] = None
        self.written = 0
        self.sink = sink
        self.thread = None
        if sink is None:
            self.thread = threading.Thread(target=self._commit_batches, name="bulk-writer",
                                           daemon=True)
            self.thread.start()

    def add_readings(self, rows: list) -> None:
        self.rows += rows

    def add_profile_mark(self, meter_id: str, obis: str, last_capture: str) -> None:
        self.marks.append((meter_id, obis, last_capture))

    def add_session(self, run_id: int, meter_id: str, *, started: str, ended: str,
                    result: str, error_class: Optional[str] = None,
                    error: Optional[str] = None, bytes: int = 0, exchanges: int = 0) -> None:
        self.sessions.append((run_id, meter_id, started, ended, result, error_class, error,
                              bytes, exchanges))
        if len(self.rows) >= self.batch_size:
            self.hand_over()

    def hand_over(self) -> None:
        """Give what is buffered to the thread (a no-op when nothing is)."""
        if self.error is not None:
            raise self.error
        if self.rows or self.sessions or self.marks:
            batch = (self.rows, self.sessions, self.marks)
            self.rows, self.sessions, self.marks = [], [], []
            if self.sink is not None:
                self.sink(batch)
            else:
                self.batches.put(batch)

    @property
    def backlog(self) -> int:
        return self.batches.qsize()

    def close(self) -> None:
        """Commit everything and end the thread; raises what the thread met."""
        self.hand_over()
        if self.thread is not None:
            self.batches.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error

    def _commit_batches(self) -> None:
        store = Store(self.path, busy_timeout=600.0, batch_size=1 << 62)
        try:
            while True:
                batch = self.batches.get()
                if batch is None:
                    return
                commit_batch(store, batch)
                self.written = store.written
        except BaseException as exc:  # handed to the loop at its next hand-over
            self.error = exc
        finally:
            store.close()


def commit_batch(store: Store, batch: tuple) -> int:
    """Commit one batch of a shard (readings, sessions, profile marks) in one
    transaction; returns how many readings were new."""
    rows, sessions, marks = batch
    store.add_readings(rows)
    store.add_sessions(sessions)
    for mark in marks:
        store.add_profile_mark(*mark)
    return store.flush()


class _ShardReader:
    def __init__(self, shard: Shard, progress: Optional[Progress],
                 sink: Optional[Sink] = None) -> None:
        self.shard = shard
        self.sink = sink
        self.settings = shard.settings
        self.plan = shard.plan
        self.progress = progress
        self.result = ShardResult(meters=len(shard.meters))
        self.failures: Counter = Counter()
        self.done = 0
        self.in_flight = 0
        self.store: Optional[Store] = None
        self.since: dict[str, str] = {}
        self.times: dict[Any, str] = {}
        targets = [CLOCK_OBJECT] if self.plan.clock else []
        # a Profile Generic's buffer named as an object is read as the load
        # profile is (its rows stored one reading per cell), not in the with-list
        self.buffers = [o.obis for o in self.plan.objects if (o.class_id, o.attribute) == (7, 2)]
        targets += [o for o in self.plan.objects if (o.class_id, o.attribute) != (7, 2)]
        self.targets = [Target(o.class_id, o.obis, o.attribute) for o in targets]
        if self.plan.profile is not None:
            # the profile's capture objects ride in the same with-list request:
            # one exchange fewer per session than reading them on their own
            self.targets.append(Target(7, self.plan.profile, 3))

    async def run(self) -> ShardResult:
        started = time.perf_counter()
        shard = self.shard
        store = self.store = Store(shard.store, batch_size=self.settings.batch_size,
                                   busy_timeout=600.0)
        try:
            if self.plan.profile is not None and self.plan.since_last:
                self.since = store.profile_marks([m.id for m in shard.meters],
                                                 str(self.plan.profile))
            self.counters = _Counters(store, self.settings.counter_block, shard.keys)
            self.counters.reserve_all(shard.meters)
            pending = deque(shard.meters)
            writer = self.writer = _Writer(shard.store, self.settings.batch_size, self.sink)
            ticker = asyncio.ensure_future(self._tick())
            try:
                step = 1.0 / self.settings.start_rate
                workers = [asyncio.ensure_future(self._worker(pending, i * step))
                           for i in range(min(self.settings.concurrency, len(pending)) or 1)]
                await asyncio.gather(*workers)
            finally:
                ticker.cancel()
                writer.close()
                self.result.readings = writer.written
        finally:
            store.close()
        self.result.failures = dict(self.failures)
        self.result.seconds = time.perf_counter() - started
        self.result.peak_rss_bytes = peak_rss()
        self._report()
        return self.result

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, sum(self.failures.values()), self.in_flight)

    async def _tick(self) -> None:
        parent = os.getppid()
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(self.settings.progress_interval)
            if os.getppid() != parent:
                # the parent was killed (SIGKILL included): a worker left alone
                # would go on writing beside the next run; committed batches are kept
                os._exit(3)
            self._report()
            if time.monotonic() - last_flush >= self.settings.flush_interval:
                self.writer.hand_over()
                last_flush = time.monotonic()

    async def _worker(self, pending: deque, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        while pending:
            meter = pending.popleft()
            self.in_flight += 1
            try:
                await self._read_meter(meter)
            finally:
                self.in_flight -= 1
                self.done += 1

    async def _read_meter(self, meter: MeterRow) -> None:
        settings = self.settings
        store = self.writer
        while store.backlog > 4:
            # the writer is behind: read no more than it can commit
            await asyncio.sleep(0.05)
        attempt = 0
        while True:
            traffic = _Traffic()
            started = now()
            rows: list[tuple] = []
            marks: list[tuple[str, str, str]] = []
            error: Optional[BaseException] = None
            partial: Optional[BaseException] = None
            self.result.sessions += 1
            fresh = meter.id in self.counters.fresh
            pre_read = is_ciphered(meter) and (
                settings.invocation_counter == "meter-always"
                or (fresh and settings.invocation_counter == "meter"))
            try:
                partial = await _within(self._session(meter, traffic, rows, marks, pre_read),
                                        settings.session_timeout)
            except Exception as exc:  # a meter's fault must never end the shard
                error = exc
            self.result.bytes += traffic.octets
            self.result.exchanges += traffic.answers
            self.result.values += len(rows)
            if rows:
                store.add_readings(rows)
            for mark in marks:
                store.add_profile_mark(*mark)
            if error is None:
                result = "ok" if partial is None else "partial"
                store.add_session(self.shard.run_id, meter.id, started=started, ended=now(),
                                  result=result, error_class=_reason(partial),
                                  error=None if partial is None else str(partial),
                                  bytes=traffic.octets, exchanges=traffic.answers)
                if partial is None:
                    self.result.succeeded += 1
                else:
                    self.failures[_reason(partial)] += 1
                return
            message = str(error)
            if fresh and not pre_read and isinstance(error, AssociationRejected):
                message = self.counters.refused_message(meter, message)
            store.add_session(self.shard.run_id, meter.id, started=started, ended=now(),
                              result="failed", error_class=_reason(error), error=message,
                              bytes=traffic.octets, exchanges=traffic.answers)
            if attempt >= settings.retries or not isinstance(error, _RETRYABLE):
                self.failures[_reason(error)] += 1
                return
            await asyncio.sleep(min(settings.backoff * 2 ** attempt, BACKOFF_CAP)
                                * random.uniform(0.5, 1.5))
            attempt += 1

    def _client(self, meter: MeterRow, traffic: _Traffic,
                pre_read: bool = False) -> tuple[AsyncClient, Optional[SecurityContext]]:
        options = self.shard.keys.client_options(meter)
        context = None
        if is_ciphered(meter):
            counters = self.counters
            title = options.pop("system_title", None)
            context = SecurityContext(
                system_title=bytes.fromhex(title) if title else DEFAULT_SYSTEM_TITLE,
                block_cipher_key=options.pop("ek", None),
                authentication_key=options.pop("ak", None),
                invocation_counter=counters.next[meter.id],
                on_invocation_counter=counters.hook(meter.id))
        return AsyncClient(meter.url, framing=meter.framing, client=meter.client,
                           server=meter.server, auth=meter.auth, security=meter.security,
                           referencing=meter.referencing,
                           timeout=self.settings.timeout,
                           connect_timeout=self.settings.connect_timeout, trace=traffic,
                           security_context=context,
                           invocation_counter="meter" if pre_read else 0, **options), context

    async def _session(self, meter: MeterRow, traffic: _Traffic, rows: list[tuple],
                       marks: list[tuple[str, str, str]],
                       pre_read: bool = False) -> Optional[DlmsError]:
        """One association (its first IC read from the meter first with
        ``pre_read``): the plan's reads into ``rows`` (and the newest profile
        row into ``marks``); returns the first per-object error (the session
        goes on past it) or None."""
        plan = self.plan
        client, context = self._client(meter, traffic, pre_read)
        status = "authenticated" if meter.security in ("auth", "authenc") else "unauthenticated"
        partial: Optional[DlmsError] = None
        try:
            async with client:
                # accepted: the counter is the meter's from now on, no guess
                self.counters.fresh.pop(meter.id, None)
                readings = await client.read_many(self.targets)
                capture_objects = readings.pop() if plan.profile is not None else None
                clock = None
                if plan.clock:
                    clock = readings[0]
                    if isinstance(clock, DlmsError):
                        partial = clock
                        clock = None
                    else:
                        clock = clock.value
                # the meter's time (an instant in UTC, or its local time as it
                # wrote it: store.stored_time); the reading's own when it has none
                taken = stored_time(clock) or now()
                scalers: dict[Any, ScalerUnit] = {}
                for reading in readings:
                    if isinstance(reading, DlmsError):
                        partial = partial or reading
                        continue
                    if reading.scaler is not None and reading.unit is not None:
                        scalers[reading.object] = ScalerUnit(reading.scaler, reading.unit)
                    rows.append((
                        meter.id, str(reading.object), reading.attribute, taken,
                        stored_value(reading.value), _unit_symbol(reading.unit),
                        stored_scaled(reading.scaled if reading.scaled is not None else reading.value),
                        status))
                for obis in self.buffers:
                    try:
                        table = await client.read_profile(obis)
                    except DataAccessError as exc:
                        partial = partial or exc
                        continue
                    if any(c.date_time for c in table.columns):
                        self._profile_rows(meter, obis, table, status, rows, None)
                    else:  # no clock column to stamp each row: the rows as JSON
                        rows.append((meter.id, str(obis), 2, taken, stored_value(table.rows),
                                     None, None, status))
                if capture_objects is not None:
                    if isinstance(capture_objects, DlmsError):
                        raise capture_objects
                    await self._read_profile(client, meter, capture_objects, scalers, status,
                                             rows, marks)
                if plan.sync_clock is not None and isinstance(clock, _dt.datetime) and \
                        clock.tzinfo is not None and abs(
                            (clock - _dt.datetime.now(UTC)).total_seconds()) > plan.sync_clock:
                    await client.set_clock()
        finally:
            if context is not None:
                self.counters.next[meter.id] = context.invocation_counter
        return partial

    async def _read_profile(self, client: AsyncClient, meter: MeterRow, capture_objects,
                            scalers: dict, status: str, rows: list, marks: list) -> None:
        """The buffer by range (or whole), scaled with the scaler_units read in
        this session, plus those of register columns the plan did not read."""
        assert self.plan.profile is not None  # only called for a plan with a profile
        profile = cast(ProfileGeneric, make_object(7, self.plan.profile))
        definitions = capture_objects.value
        if type(definitions) is tuple:
            # the client read them with the class's own type (decoded once per
            # distinct answer): no second decode
            profile.set(3, definitions)
        else:
            definitions = tuple(profile.decode_attribute(3, capture_objects.data))
        start, end = self._range(meter)
        selection = None
        if start is not None or end is not None:
            selection = profile.range_access(start or _EARLIEST, end or _LATEST)
        # only the values are wanted: no typed tree of the buffer's every cell
        plain = cast(list, await client.get(7, profile.logical_name, 2, selection,
                                            plain=True))  # a buffer is an array: a list
        wanted = missing_scalers(definitions, scalers)
        if wanted:
            got = await client.get_many([(h.class_id, h.obis, h.attribute) for h in wanted])
            keep_scalers(wanted, got, scalers)
        if not self._plain_profile_rows(meter, profile.logical_name, definitions, plain, scalers,
                                        status, rows, marks):
            table = profile.rows(plain, scalers=scalers, access=selection)
            self._profile_rows(meter, profile.logical_name, table, status, rows, marks)

    def _plain_profile_rows(self, meter: MeterRow, profile_obis, definitions: tuple,
                            plain: list, scalers: dict, status: str, rows: list,
                            marks: list) -> bool:
        """The common profile straight from the plain buffer: one clock column whose
        every cell is a whole 12-octet date-time (no null-data compression), the
        others numbers. Date-times repeat from meter to meter (the same quarters),
        so each distinct one is turned into ISO text once. Returns False, having
        added nothing, for any other shape: cosem's rows() handles those."""
        clocks = [i for i, c in enumerate(definitions) if c.class_id == 8 and c.attribute_index == 2]
        if len(clocks) != 1 or not plain:
            return False
        when_at = clocks[0]
        cells = []
        for i, c in enumerate(definitions):
            if i == when_at:
                continue
            su = scalers.get(c.logical_name) if scaler_unit_attribute(
                c.class_id, c.attribute_index) is not None else None
            scaler = 0 if su is None else su.scaler
            cells.append((i, str(c.logical_name), c.attribute_index, scaler, 10 ** abs(scaler),
                          None if su is None else su.unit.symbol))
        times = self.times
        if len(times) > 100_000:
            times.clear()
        width = len(definitions)
        meter_id = meter.id
        takens = []
        try:
            for row in plain:
                if len(row) != width:
                    return False
                when = row[when_at]
                taken = times.get(when)
                if taken is None:
                    if when.__class__ is not bytes or len(when) != 12:
                        return False
                    taken = stored_time(to_timestamp(when))
                    if taken is None:
                        # an incomplete date-time: cosem's rows() names it
                        return False
                    times[when] = taken
                takens.append(taken)
        except TypeError:
            # a row that is no structure, or a clock cell that is one (unhashable):
            # not the common shape; cosem's rows() names what is wrong
            return False
        newest = max(takens)
        # column by column: zip() makes the row tuples without a Python step per cell
        count = len(takens)
        out: list[tuple] = []
        for i, obis, attribute, scaler, power, unit in cells:
            values = [row[i] for row in plain]
            if set(map(type, values)) != _INT_ONLY:
                return False
            # int / int and int -> float round correctly, as float(Decimal(value)
            # .scaleb(scaler)) does for these (at most 20-digit) integers: the
            # same float, without a Decimal per cell
            scaled = values if not scaler else [v / power for v in values] if scaler < 0 \
                else [float(v * power) for v in values]
            out += zip(repeat(meter_id, count), repeat(obis, count), repeat(attribute, count),
                       takens, values, repeat(unit, count), scaled, repeat(status, count))
        rows.extend(out)
        marks.append((meter_id, str(profile_obis), newest))
        self.since[meter_id] = newest
        return True

    def _range(self, meter: MeterRow) -> tuple[Optional[_dt.datetime], Optional[_dt.datetime]]:
        plan = self.plan
        if not plan.since_last:
            return plan.start, plan.end
        last = self.since.get(meter.id)
        if last is None:
            return None, None
        return _dt.datetime.fromisoformat(last) + _dt.timedelta(seconds=1), None

    def _profile_rows(self, meter: MeterRow, profile_obis, profile, status: str,
                      rows: list[tuple], marks: Optional[list]) -> None:
        """A profile's rows, one reading per cell stamped with the row's clock;
        ``marks`` None for a profile read whole (a plan object), which moves no
        "since the last reading" mark."""
        columns = profile.columns
        when_at = next((i for i, c in enumerate(columns) if c.date_time), None)
        if when_at is None:
            raise DecodeError(f"profile {profile_obis} has no date-time column")
        cells = []
        for i, column in enumerate(columns):
            if i == when_at:
                continue
            su = column.scaler_unit
            cells.append((i, str(column.logical_name), column.attribute_index,
                          None if su is None else su.scaler, _unit_symbol(column.unit)))
        newest = None
        meter_id = meter.id
        times = self.times
        if len(times) > 100_000:
            times.clear()
        append = rows.append
        # plain tuples (a StoredReading's fields, in order): this loop runs for
        # every cell of every profile row, the most frequent work of a session
        for row in profile.rows:
            when = row[when_at]
            taken = times.get(when)
            if taken is None:
                taken = stored_time(when)
                if taken is None:
                    continue
                times[when] = taken
            if newest is None or taken > newest:
                newest = taken
            for i, obis, attribute, scaler, unit in cells:
                value = row[i]
                if type(value) is int:
                    append((meter_id, obis, attribute, taken, value, unit, value, status))
                    continue
                raw = value
                if scaler and isinstance(value, Decimal):
                    raw = int(value.scaleb(-scaler))
                append((meter_id, obis, attribute, taken, stored_value(raw), unit, stored_scaled(value),
                        status))
        if newest is not None and marks is not None:
            marks.append((meter_id, str(profile_obis), newest))
            self.since[meter_id] = newest


async def _within(session: Any, seconds: float) -> Any:
    """Await ``session`` at most ``seconds``; past that it is cancelled and a
    :class:`~dlmsfast.errors.TimeoutError` saying so is raised. Told apart by a flag set when this
    deadline fires, not by the exception's class: since Python 3.11
    asyncio.TimeoutError is the builtin TimeoutError, which the client's own
    per-answer :class:`~dlmsfast.errors.TimeoutError` is too, and that one
    must keep its message."""
    task = asyncio.ensure_future(session)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    deadline = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await task
    except BaseException as exc:
        if not expired:
            raise
        # whatever the cancelled session raised on its way out, the deadline ended it
        raise TimeoutError(f"the session took longer than {seconds:g} s") from exc
    finally:
        deadline.cancel()


def _reason(error: Optional[BaseException]) -> Optional[str]:
    return None if error is None else type(error).__name__


def read_shard(shard: Shard, progress: Optional[Progress] = None,
               sink: Optional[Sink] = None) -> ShardResult:
    """Read every meter of ``shard`` on a new event loop (the worker's); the
    readings and sessions are in the store when this returns (or, with
    ``sink``, handed to it batch by batch: see :func:`commit_batch`)."""
    raise_file_limit()
    # A session allocates thousands of short-lived containers (events, rows,
    # futures); with the default gen-0 threshold (700) the collector runs
    # several times per session and walks the long-lived objects that every
    # run starts with (modules, the plan, the keys). Frozen, those are never
    # walked again; a larger gen-0 threshold collects the same garbage in
    # fewer passes. Put back as found: read_shard may run in the caller's process.
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(_GC_GEN0, *thresholds[1:])
    try:
        return run_loop(_ShardReader(shard, progress, sink).run())
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def make_shards(meters: Sequence[MeterRow], count: int, **fields) -> list[Shard]:
    """``count`` shards, meters dealt round-robin (slow or faulty meters, often
    neighbours in the file, spread over the workers); keys cut to each shard's."""
    keys: KeyRing = fields.pop("keys")
    shards = []
    for index in range(count):
        part = tuple(meters[index::count])
        if part:
            shards.append(Shard(meters=part, keys=keys.subset({m.key_id for m in part}),
                                **fields))
    return shards


def _worker_main(shard: Shard, index: int, channel) -> None:
    try:
        result = read_shard(shard, lambda d, f, i: channel.put(("progress", index, d, f, i)),
                            lambda batch: channel.put(("batch", index, batch)))
    except BaseException as exc:  # the parent records it; the worker ends
        channel.put(("error", index, f"{type(exc).__name__}: {exc}"))
        return
    channel.put(("result", index, result))


@dataclass(slots=True)
class BulkSummary:
    """A run as a whole: this invocation's work plus what an earlier, resumed
    invocation of the same run had read already (``meters``/``succeeded``/
    ``failures`` count each meter of the file once, by its last session)."""

    run_id: int
    meters: int
    succeeded: int
    failures: dict[str, int]
    readings: int
    values: int
    bytes: int
    exchanges: int
    sessions: int
    seconds: float
    peak_rss_bytes: int
    skipped: int = 0

    @property
    def failed(self) -> int:
        return self.meters - self.succeeded

    @property
    def sessions_per_s(self) -> float:
        return (self.meters - self.skipped) / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"meters": self.meters, "succeeded": self.succeeded, "failed": self.failed,
                "failures": dict(sorted(self.failures.items())), "readings": self.readings,
                "seconds": round(self.seconds, 3),
                "sessions_per_s": round(self.sessions_per_s, 1),
                "peak_rss_bytes": self.peak_rss_bytes, "run_id": self.run_id,
                "skipped": self.skipped, "bytes": self.bytes, "sessions": self.sessions}


def run_bulk(meters: Sequence[MeterRow], keys: KeyRing, plan: ReadPlan, store_path,
             *, settings: EngineSettings = EngineSettings(), workers: Optional[int] = None,
             resume: bool = False, progress: Optional[Progress] = None,
             note: str = "") -> BulkSummary:
    """Read the fleet into the store at ``store_path`` and summarise the run.

    ``workers`` processes (every core by default; 1 reads in this process);
    ``resume`` continues the store's last bulk run: meters it read already are
    skipped, the profile is read since the last stored row. ``progress(done,
    failed, in_flight)`` sees the whole run's counts a few times a second.
    """
    started = time.perf_counter()
    for meter in meters:
        keys.client_options(meter)  # a missing key id is a mistake of the files: say it now
    with Store(store_path) as store:
        run_id = store.last_run(RUN_KIND) if resume else None
        if run_id is None:
            run_id = store.begin_run(RUN_KIND, note)
        done_before = store.succeeded(run_id)
    remaining = [m for m in meters if m.id not in done_before]
    skipped = len(meters) - len(remaining)
    if progress is not None and skipped:
        # counts of the whole run, as the summary's: the meters read before count as done
        shown, progress = progress, lambda done, failed, flight: shown(done + skipped, failed,
                                                                      flight)
    count = workers if workers is not None else (os.cpu_count() or 1)
    count = max(1, min(count, len(remaining)))
    shards = make_shards(remaining, count, run_id=run_id, plan=plan, store=str(store_path),
                         keys=keys, settings=settings)
    total = ShardResult()
    if len(shards) == 1:
        total.merge(read_shard(shards[0], progress))
    elif shards:
        with Store(store_path, busy_timeout=600.0, batch_size=1 << 62) as store:
            _run_workers(shards, total, progress, store)
    with Store(store_path) as store:
        results = {meter_id: (result, reason)
                   for meter_id, result, reason, *_ in store.session_results(run_id)}
        store.end_run(run_id)
    wanted = {m.id for m in meters}
    succeeded = sum(1 for m, (r, _) in results.items() if m in wanted and r == "ok")
    failures: Counter = Counter(reason or result for m, (result, reason) in results.items()
                                if m in wanted and result != "ok")
    unrecorded = len(wanted) - sum(1 for m in results if m in wanted)
    if unrecorded:
        failures["NotRead"] += unrecorded  # a worker died before recording them
    return BulkSummary(
        run_id=run_id, meters=len(meters), succeeded=succeeded, failures=dict(failures),
        readings=total.readings, values=total.values, bytes=total.bytes,
        exchanges=total.exchanges, sessions=total.sessions,
        seconds=time.perf_counter() - started,
        peak_rss_bytes=total.peak_rss_bytes + (peak_rss() if len(shards) > 1 else 0),
        skipped=skipped)


def _run_workers(shards: list[Shard], total: ShardResult, progress: Optional[Progress],
                 store: Store) -> None:
    """One process per shard (fork: the plan and keys are not pickled again),
    each with its own loop; progress, batches and results come back on one
    queue, and this process commits the batches: one writer, so no worker
    ever waits for another's write lock, and the workers' CPU goes to the
    sessions (pickling a batch costs a fraction of inserting it). The queue is
    bounded: a writer that falls behind slows the workers down."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=64)
    processes = [context.Process(target=_worker_main, args=(shard, i, channel), daemon=True)
                 for i, shard in enumerate(shards)]
    for process in processes:
        process.start()
    counts = {i: (0, 0, 0) for i in range(len(shards))}
    finished: set[int] = set()
    errors: list[str] = []
    try:
        while len(finished) < len(shards):
            try:
                message = channel.get(timeout=0.5)
            except _queue.Empty:
                for i, process in enumerate(processes):
                    if i not in finished and process.exitcode is not None:
                        finished.add(i)
                        errors.append(f"worker {i} ended with status {process.exitcode}")
                continue
            kind, index = message[0], message[1]
            if kind == "progress":
                counts[index] = message[2:]
                if progress is not None:
                    progress(*(sum(c[j] for c in counts.values()) for j in range(3)))
            elif kind == "batch":
                total.readings += commit_batch(store, message[2])
            elif kind == "result":
                total.merge(message[2])
                finished.add(index)
            else:
                errors.append(message[2])
                finished.add(index)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    total.failures.update({"WorkerError": len(errors)} if errors else {})


__all__ = ["BulkSummary", "EngineSettings", "Shard", "ShardResult", "make_shards",
           "raise_file_limit", "read_shard", "run_bulk"]
