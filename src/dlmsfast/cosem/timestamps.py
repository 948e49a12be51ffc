"""COSEM date-times as timestamps: the one rule for turning a received clock
value into a :class:`datetime.datetime` (profile rows, clock reads, pushed
notifications).

A received value becomes an **aware** ``datetime`` when it names one instant:
year, month, day, hour, minute and second specified and valid, and the
deviation specified (minutes from local time to UTC, so -60 is UTC+01:00;
unspecified hundredths count as 0). When the meter leaves the deviation out
(0x8000) the caller may say which zone its local time is in (``local_tz``, a
``datetime.tzinfo`` such as ``zoneinfo.ZoneInfo("Europe/Oslo")``); without it
the value is **kept as the** :class:`~dlmsfast.axdr.DateTime` **it was**, with
``None`` in the fields the meter did not specify, so nothing is invented and
nothing is lost. Wildcards (0xFD/0xFE days of daylight-savings dates), a date
or time left out, or fields out of their calendar range also keep the
``DateTime``. The clock_status octet is not part of a ``datetime``: read it
from the ``DateTime`` (``clock_status``) where it matters; but when a local
time is put in ``local_tz`` and the zone makes it ambiguous (the hour repeated
in autumn) or skips it (the spring gap), its "daylight saving active" bit
(0x80) chooses the offset (``fold``): set, the daylight-saving one (the first
02:30 of the autumn night); clear, the standard one. A clock_status not
specified (0xFF) leaves the zone's default (``fold=0``).
"""
from __future__ import annotations

import datetime as _dt
import struct
from collections.abc import Iterable
from typing import Any

from .._util import as_bytes, require
from ..axdr import DateTime

_NEEDED = ("year", "month", "day", "hour", "minute", "second")
_DAYLIGHT_SAVING_ACTIVE = 0x80  # clock_status bit 7 (IEC 62056-6-2 4.1.6.1)


_LAYOUT = struct.Struct(">HBBBBBBBhB")
# deviation -> timezone, made once each (at most 2879 of them)
_ZONES: dict[int, _dt.tzinfo] = {}


def _zone(deviation: int) -> _dt.tzinfo:
    zone = _ZONES.get(deviation)
    if zone is None:
        zone = _ZONES[deviation] = _dt.timezone(_dt.timedelta(minutes=-deviation))
    return zone


def to_timestamp(value: DateTime | bytes | None,
                 local_tz: _dt.tzinfo | None = None) -> _dt.datetime | DateTime | None:
    """An aware datetime for a complete date-time, else the DateTime kept as is.

    ``value`` is a :class:`DateTime` or the 12 octets of one (octet-string
    clock values); None stays None. Malformed octets raise DecodeError.
    """
    if value is None:
        return None
    if not isinstance(value, DateTime):
        if type(value) is not bytes:
            value = as_bytes(value, "a date-time")
        if len(value) == 12:
            return to_timestamps((value,), local_tz)[0]
        value = DateTime.from_bytes(value)
    return _from_date_time(value, local_tz)


def to_timestamps(cells: Iterable[bytes], local_tz: _dt.tzinfo | None = None) -> list:
    """:func:`to_timestamp` of each cell of a column of 12-octet date-times
    (``bytes`` each): the hot path of a profile read, one loop and no call per
    cell where the cell names one instant."""
    unpack = _LAYOUT.unpack
    zones = _ZONES
    datetime = _dt.datetime
    out: list[_dt.datetime | DateTime] = []
    append = out.append
    for cell in cells:
        year, month, day, _, hour, minute, second, hundredths, deviation, _ = unpack(cell)
        if (year != 0xFFFF and hour < 24 and minute < 60 and second < 60
                and (hundredths < 100 or hundredths == 0xFF) and -1439 <= deviation <= 1439):
            try:
                append(datetime(year, month, day, hour, minute, second,
                                0 if hundredths == 0xFF else hundredths * 10000,
                                zones.get(deviation) or _zone(deviation)))
                continue
            except ValueError:
                pass
        append(_from_date_time(DateTime.from_bytes(cell), local_tz))
    return out


def _from_date_time(value: DateTime, local_tz: _dt.tzinfo | None) -> _dt.datetime | DateTime:
    if any(getattr(value, name) is None for name in _NEEDED):
        return value
    if value.deviation is None:
        if local_tz is None:
            return value
        require(local_tz, _dt.tzinfo, "local_tz")
        tzinfo: _dt.tzinfo = local_tz
    elif -1439 <= value.deviation <= 1439:
        # timezone() takes less than a day; the Blue Book range is -720..720
        tzinfo = _zone(value.deviation)
    else:
        return value
    hundredths = value.hundredths or 0
    if hundredths > 99:
        return value
    try:
        stamp = _dt.datetime(value.year, value.month, value.day, value.hour,  # type: ignore[arg-type]
                             value.minute, value.second, hundredths * 10000,  # type: ignore[arg-type]
                             tzinfo)
    except ValueError:
        return value
    if value.deviation is None and value.clock_status is not None:
        return _daylight_saving_said(stamp, bool(value.clock_status & _DAYLIGHT_SAVING_ACTIVE))
    return stamp


def _daylight_saving_said(stamp: _dt.datetime, active: bool) -> _dt.datetime:
    """Of the two readings of a local time the zone makes ambiguous (the hour
    repeated in autumn) or skips (the spring gap), the one whose daylight
    saving agrees with the meter's clock_status bit; other times as they are."""
    other = stamp.replace(fold=1 - stamp.fold)
    if other.utcoffset() == stamp.utcoffset():
        return stamp
    if bool(stamp.dst()) != active and bool(other.dst()) == active:
        return other
    return stamp


def from_timestamp(value: _dt.datetime | DateTime, clock_status: int | None = 0) -> DateTime:
    """The DateTime to send for a datetime (aware: with its deviation; naive:
    deviation not specified). A DateTime is returned unchanged."""
    if isinstance(value, DateTime):
        return value
    if not isinstance(value, _dt.datetime):
        from ..errors import UsageError

        raise UsageError(f"a date-time is a datetime or a DateTime, not {type(value).__name__}")
    return DateTime.from_datetime(value, clock_status=clock_status)


def plausible_date_time(raw: Any) -> bool:
    """Whether 12 octets read like a COSEM date-time (each field in its range
    or "not specified"); used where a column's type does not say it is one."""
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != 12:
        return False
    year = (raw[0] << 8) | raw[1]
    month, day, dow, hour, minute, second, hundredths = raw[2:9]
    deviation = int.from_bytes(raw[9:11], "big", signed=True)
    return (
        year != 0
        and (1 <= month <= 12 or month >= 0xFD)
        and (1 <= day <= 31 or day >= 0xFD)
        and (1 <= dow <= 7 or dow == 0xFF)
        and (hour <= 23 or hour == 0xFF)
        and (minute <= 59 or minute == 0xFF)
        and (second <= 59 or second == 0xFF)
        and (hundredths <= 99 or hundredths == 0xFF)
        and (-720 <= deviation <= 720 or deviation == -0x8000)
    )


__all__ = ["from_timestamp", "plausible_date_time", "to_timestamp", "to_timestamps"]
