"""The simulated meters' data: every value a function of the meter index and
the time, so that a test can compute what any meter must have answered.

Time runs in capture periods of 900 s counted from :data:`EPOCH` (2020-01-01
00:00 UTC): quarter ``q`` ends at ``EPOCH + 900·q``. Registers show the value
at the last capture (the quarter that ``now`` lies in), so a reading and the
profile row of the same quarter agree, and a read never depends on when in
the quarter it happened.

Meter k (0-based)::

    serial number           31000000 + k
    logical device name     "DFS" + 13 digits of the serial (16 octets)
    server system title     "DFS" + serial on 5 octets
    client system title     "DFC" + serial on 5 octets (the keys file's)
    A+  1.0.1.8.0.255       import_energy(k, q)   Wh, scaler 0
    A-  1.0.2.8.0.255       export_energy(k, q)   Wh, scaler 0
    U   1.0.32.7.0.255      voltage(k, q)         V,  scaler -1
    I   1.0.31.7.0.255      current(k, q)         A,  scaler -2
    P   1.0.1.7.0.255       active_power(k, q)    W,  scaler 0
    load profile row q      (time of q, status 0, A+(k, q), A-(k, q))
    event log               EVENTS rows, one a day, codes 1..30
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Optional

from .._util import shown
from ..errors import UsageError

UTC = _dt.timezone.utc
EPOCH = _dt.datetime(2020, 1, 1, tzinfo=UTC)
EPOCH_SECONDS = int(EPOCH.timestamp())
CAPTURE_PERIOD = 900
QUARTERS_A_DAY = 96
EVENTS = 10
SERIAL_BASE = 31_000_000
# sum of (q mod 96) over one day: the daily load shape's share
_DAY_SHAPE = QUARTERS_A_DAY * (QUARTERS_A_DAY - 1) // 2


def serial_number(k: int) -> int:
    return SERIAL_BASE + k


def logical_device_name(k: int) -> bytes:
    return b"DFS%013d" % serial_number(k)


def server_system_title(k: int) -> bytes:
    return b"DFS" + serial_number(k).to_bytes(5, "big")


def client_system_title(k: int) -> bytes:
    return b"DFC" + serial_number(k).to_bytes(5, "big")


def _derived(seed: int, k: int, what: bytes, length: int) -> bytes:
    return hashlib.sha256(b"dlmsfast-simulator|%s|%d|%d" % (what, seed, k)).digest()[:length]


def block_cipher_key(k: int, seed: int = 0) -> bytes:
    """Meter k's global unicast encryption key (EK), from the fleet's seed."""
    return _derived(seed, k, b"ek", 16)


def authentication_key(k: int, seed: int = 0) -> bytes:
    return _derived(seed, k, b"ak", 16)


def lls_password(k: int, seed: int = 0) -> bytes:
    return b"%08d" % (int.from_bytes(_derived(seed, k, b"pw", 4), "big") % 100_000_000)


def hls_secret(k: int, seed: int = 0) -> bytes:
    """Meter k's HLS secret for HLS-MD5, HLS-SHA-1 and HLS-SHA-256 (16 ASCII hex digits)."""
    return _derived(seed, k, b"hls", 8).hex().upper().encode()


def quarter_of(when: _dt.datetime | float) -> int:
    """The index of the capture period ``when`` lies in (0 at EPOCH; never negative)."""
    seconds = when.timestamp() if isinstance(when, _dt.datetime) else when
    return max(0, (int(seconds) - EPOCH_SECONDS) // CAPTURE_PERIOD)


def quarter_time(q: int) -> _dt.datetime:
    return EPOCH + _dt.timedelta(seconds=CAPTURE_PERIOD * q)


def import_energy(k: int, q: int) -> int:
    """A+ (Wh) at the end of quarter q: a base per meter plus 100 + k mod 50 Wh
    a quarter and a daily shape of (q mod 96) Wh."""
    days, rest = divmod(q, QUARTERS_A_DAY)
    return (1000 * k + q * (100 + k % 50) + _DAY_SHAPE * days
            + rest * (rest - 1) // 2)


def export_energy(k: int, q: int) -> int:
    return 10 * k + q * (k % 7)


def profile_values(k: int, quarters: range | tuple[int, ...]) -> tuple[list[int], list[int]]:
    """The A+ and A- columns of the profile rows of ``quarters``: :func:`import_energy`
    and :func:`export_energy` in one pass (the hot path of a profile read)."""
    if not isinstance(quarters, range):
        quarters = tuple(quarters)
    plus_base, minus_base = profile_bases(k)
    plus_rate, minus_rate = profile_rates(k)
    return (list(map(plus_base.__add__, import_steps(quarters, plus_rate))),
            list(map(minus_base.__add__, export_steps(quarters, minus_rate))))


# A+ = 1000·k + (rate·q + daily shape) and A- = 10·k + export_rate·q: the part after
# the meter's base depends on k only through its rates (50 import rates, 7 export
# rates), so the fleet's meters share it for the rows they all show.

def profile_bases(k: int) -> tuple[int, int]:
    """Meter k's own part of its A+ and A- (what it adds to the shared steps)."""
    return 1000 * k, 10 * k


def profile_rates(k: int) -> tuple[int, int]:
    """Meter k's import and export rates (the keys of the steps it shares)."""
    return 100 + k % 50, k % 7


SHARED_ROWS = 4096
"""Steps of at most this many quarters are kept for the meters that share them
(the caches hold a few ranges of them); longer ones are computed per call."""


def import_steps(quarters: range | tuple[int, ...], rate: int) -> tuple[int, ...]:
    """A+ of each quarter less the base, for the meters of this import rate."""
    if len(quarters) <= SHARED_ROWS:
        return _import_steps(quarters, rate)
    return _import_steps.__wrapped__(quarters, rate)


def export_steps(quarters: range | tuple[int, ...], rate: int) -> tuple[int, ...]:
    """A- of each quarter less the base, for the meters of this export rate."""
    if len(quarters) <= SHARED_ROWS:
        return _export_steps(quarters, rate)
    return _export_steps.__wrapped__(quarters, rate)


@lru_cache(maxsize=128)  # 50 import rates: two ranges of quarters
def _import_steps(quarters: range | tuple[int, ...], rate: int) -> tuple[int, ...]:
    day, shape = QUARTERS_A_DAY, _DAY_SHAPE
    return tuple(q * rate + shape * (q // day) + (q % day) * (q % day - 1) // 2
                 for q in quarters)


@lru_cache(maxsize=32)  # 7 export rates
def _export_steps(quarters: range | tuple[int, ...], rate: int) -> tuple[int, ...]:
    return tuple(q * rate for q in quarters)


def voltage(k: int, q: int) -> int:
    return 2290 + (13 * k + q) % 21


def current(k: int, q: int) -> int:
    return 500 + (7 * k + q) % 300


def active_power(k: int, q: int) -> int:
    # U (0.1 V) x I (0.01 A) -> W
    return voltage(k, q) * current(k, q) // 1000


def event(k: int, q: int, j: int) -> tuple[int, int]:
    """(quarter, event code) of entry j (0 oldest) of the event log seen in quarter q."""
    when = q - (EVENTS - 1 - j) * QUARTERS_A_DAY - (37 * k) % QUARTERS_A_DAY
    return max(0, when), 1 + (k + j) % 30


def profile_quarters(q: int, rows: int) -> range:
    """The quarters of the load profile's rows seen in quarter q (oldest first):
    ``rows`` of them, ending with q, never before EPOCH."""
    return range(max(0, q - rows + 1), q + 1)


# (OBIS, attribute 3 scaler, unit id, unit symbol, value function)
REGISTERS = (
    ("1.0.1.8.0.255", 0, 30, "Wh", import_energy),
    ("1.0.2.8.0.255", 0, 30, "Wh", export_energy),
    ("1.0.32.7.0.255", -1, 35, "V", voltage),
    ("1.0.31.7.0.255", -2, 33, "A", current),
    ("1.0.1.7.0.255", 0, 27, "W", active_power),
)
LOAD_PROFILE = "1.0.99.1.0.255"
EVENT_LOG = "0.0.99.98.0.255"


@dataclass(frozen=True, slots=True)
class ExpectedReading:
    """One value a meter must give: ``object`` (dotted OBIS), ``attribute``,
    ``capture_time`` (the row's time for profile cells, the read's quarter for
    registers), raw ``value``, ``unit`` symbol (or None) and ``scaled`` value."""

    object: str
    attribute: int
    capture_time: Optional[_dt.datetime]
    value: Any
    unit: Optional[str] = None
    scaled: Any = None


def _scaled(value: int, scaler: int) -> Any:
    return value if scaler == 0 else Decimal(value).scaleb(scaler)


def _meter_index(k: Any) -> int:
    if type(k) is not int or k < 0:
        raise UsageError(f"a meter index is an int >= 0, got {shown(k)}")
    return k


def _instant(value: Any, what: str) -> _dt.datetime:
    # aware only: the meters' clocks are UTC, and a naive instant cannot be compared
    if not isinstance(value, _dt.datetime) or value.tzinfo is None:
        raise UsageError(f"{what} is an aware datetime, got {shown(value)}")
    return value


@lru_cache(maxsize=16)
def _register_table() -> dict:
    return {obis: (scaler, unit, symbol, function)
            for obis, scaler, unit, symbol, function in REGISTERS}


def expected_register(k: int, obis: str, at: _dt.datetime) -> ExpectedReading:
    """What register ``obis`` of meter k reads at time ``at``."""
    _meter_index(k)
    if not isinstance(obis, str) or obis not in _register_table():
        raise UsageError(f"not a register of the simulated meters: {shown(obis)}")
    scaler, _, symbol, function = _register_table()[obis]
    q = quarter_of(_instant(at, "at"))
    value = function(k, q)
    return ExpectedReading(obis, 2, quarter_time(q), value, symbol, _scaled(value, scaler))


def expected_profile(k: int, at: _dt.datetime, rows: int = 96,
                     start: Optional[_dt.datetime] = None,
                     end: Optional[_dt.datetime] = None) -> list[tuple]:
    """The load profile rows of meter k as read at ``at``: ``(time, status, A+, A-)``,
    oldest first, restricted to [start, end] (inclusive) when given."""
    _meter_index(k)
    _instant(at, "at")
    if type(rows) is not int or rows < 0:
        raise UsageError(f"rows is an int >= 0, got {shown(rows)}")
    if start is not None:
        _instant(start, "start")
    if end is not None:
        _instant(end, "end")
    out = []
    for q in profile_quarters(quarter_of(at), rows):
        when = quarter_time(q)
        if (start is None or when >= start) and (end is None or when <= end):
            out.append((when, 0, import_energy(k, q), export_energy(k, q)))
    return out


def expected_events(k: int, at: _dt.datetime) -> list[tuple[_dt.datetime, int]]:
    """The event log of meter k as read at ``at``: ``(time, event code)``, oldest first."""
    _meter_index(k)
    q = quarter_of(_instant(at, "at"))
    return [(quarter_time(when), code) for when, code in (event(k, q, j) for j in range(EVENTS))]


def expected_readings(meter_index: int, at: _dt.datetime, *, profile_rows: int = 96,
                      start: Optional[_dt.datetime] = None,
                      end: Optional[_dt.datetime] = None,
                      registers: Optional[tuple[str, ...]] = None,
                      profile: bool = True) -> list[ExpectedReading]:
    """Every reading a session at time ``at`` gets from meter ``meter_index``:
    the registers (all of :data:`REGISTERS` unless ``registers`` names some)
    and, with ``profile``, one reading per register cell of each load profile
    row (A+ and A-, capture_time the row's time) within [start, end]."""
    k = meter_index
    if registers is not None and not isinstance(registers, (tuple, list)):
        raise UsageError(f"registers is a tuple of OBIS strings, got {shown(registers)}")
    names = registers if registers is not None else tuple(r[0] for r in REGISTERS)
    out = [expected_register(k, obis, at) for obis in names]
    if profile:
        for when, _status, plus, minus in expected_profile(k, at, profile_rows, start, end):
            out.append(ExpectedReading("1.0.1.8.0.255", 2, when, plus, "Wh", plus))
            out.append(ExpectedReading("1.0.2.8.0.255", 2, when, minus, "Wh", minus))
    return out


__all__ = [
    "CAPTURE_PERIOD",
    "EPOCH",
    "EVENTS",
    "EVENT_LOG",
    "LOAD_PROFILE",
    "REGISTERS",
    "SHARED_ROWS",
    "ExpectedReading",
    "active_power",
    "authentication_key",
    "block_cipher_key",
    "client_system_title",
    "current",
    "event",
    "expected_events",
    "expected_profile",
    "expected_readings",
    "expected_register",
    "export_energy",
    "export_steps",
    "import_energy",
    "import_steps",
    "hls_secret",
    "lls_password",
    "logical_device_name",
    "profile_bases",
    "profile_quarters",
    "profile_rates",
    "profile_values",
    "quarter_of",
    "quarter_time",
    "serial_number",
    "server_system_title",
    "voltage",
]
