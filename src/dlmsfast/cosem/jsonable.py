"""Attribute values as plain JSON (what ``dlmsfast read --json``, the results
store and the push listener write), one rule for every layer above:

==========================  ==============================================
value                       JSON
==========================  ==============================================
int, str, bool, None        itself
Decimal (scaled values)     a number; a string when a float would change it
float                       a number (NaN and infinities as strings)
bytes (octet-string)        upper-case hex
datetime                    ISO 8601
DateTime / Date / Time      ISO 8601 when complete (a DateTime without
                            deviation, a local time: without an offset,
                            ``2026-01-02T12:00:00``), else its fields (None =
                            not specified)
Obis                        dotted text, ``1.0.1.8.0.255``
Unit                        its Blue Book symbol (``"Wh"``), the code if unknown
other Blue Book enumeration its Blue Book name (``"read-only"``), the code
                            for a value the enumeration lacks
bit map (IntFlag)           its integer
BitString                   ``"0101..."``
dataclass (a structure)     an object of its fields
tuple, list                 a list
ProfileRows                 ``{"columns": [...], "rows": [[...], ...]}``
CosemObject                 an object of its attribute values by name
==========================  ==============================================
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import math
from decimal import Decimal
from typing import Any

from .._enum import BlueBookEnum
from ..axdr import BitString, Date, DateTime, DontCare, Time
from ..errors import UsageError
from .obis import Obis
from .timestamps import to_timestamp
from .units import Unit


# Values from a meter nest a handful of levels (the A-XDR decoder allows 64); a
# caller's value nested deeper is refused before Python's recursion limit ends it.
MAX_DEPTH = 100


def to_json(value: Any) -> Any:
    """``value`` (an attribute value, a profile cell, a reading) as plain JSON."""
    return _to_json(value, 0)


def _to_json(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise UsageError(f"a value nested deeper than {MAX_DEPTH} levels has no JSON form here")
    if value is None or isinstance(value, (bool, str)):
        return value
    if hasattr(value, "to_json"):  # ProfileRows, CosemObject
        return value.to_json()
    if isinstance(value, Unit):
        return value.symbol if value.known else int(value)
    if isinstance(value, BlueBookEnum):
        return value.blue_book_name
    if isinstance(value, enum.IntFlag):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        as_float = float(value)
        if math.isfinite(as_float) and Decimal(repr(as_float)) == value:
            return as_float
        return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex().upper()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, DateTime):
        stamp = to_timestamp(value)
        if isinstance(stamp, _dt.datetime):
            return stamp.isoformat()
        if value.deviation is None:
            # a local time (the meter's wall clock, zone unknown): ISO 8601 without an
            # offset, as the store keeps it; incomplete, its fields below
            try:
                return value.to_datetime().isoformat()
            except ValueError:  # UsageError: a field not specified or out of range
                pass
        return value.to_meaning()
    if isinstance(value, (Date, Time)):
        try:
            return (value.to_date() if isinstance(value, Date) else value.to_time()).isoformat()
        except ValueError:  # UsageError: a field not specified or out of range
            return value.to_meaning()
    if isinstance(value, Obis):
        return str(value)
    if isinstance(value, BitString):
        return str(value)
    if isinstance(value, DontCare):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name), depth + 1)
                for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_json(v, depth + 1) for v in value]
    return str(value)


__all__ = ["to_json"]
