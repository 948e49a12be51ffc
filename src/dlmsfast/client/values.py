"""What the client hands back: readings, profiles and object-list entries, and the
plain Python form of received values (COSEM date-times become datetimes).

A reading of a register (class 3, 4, 5) carries the raw ``value`` and, from
its scaler_unit (attribute 3), ``scaler``, ``unit`` and the physical ``scaled``
value (exact: int or Decimal)::

    Reading(object=1.0.1.8.0.255, attribute=2, class_id=3, value=1960,
            scaler=-3, unit=Unit.ACTIVE_ENERGY (Wh), scaled=Decimal('1.960'))
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Optional

from ..axdr import Data, DataType, DateTime
from ..cosem.obis import Obis
from ..errors import DlmsError, UsageError

REGISTER_CLASSES = frozenset({3, 4, 5})
CLOCK_CLASS = 8


@dataclass(frozen=True, slots=True)
class Target:
    """One attribute to read: class, OBIS and attribute (2 when not given)."""

    class_id: Optional[int]
    obis: Obis
    attribute: int = 2

    def __str__(self) -> str:
        return f"{self.obis}:{self.attribute}"


def parse_target(text: Any, attribute: Optional[int] = None,
                 class_id: Optional[int] = None) -> Target:
    """``"1.0.1.8.0.255"``, ``"1.0.1.8.0.255:3"``, ``"1-0:1.8.0*255"``, an Obis, or a
    (class_id, obis, attribute) tuple."""
    if isinstance(text, Target):
        return text
    if isinstance(text, tuple) and len(text) == 3:
        return Target(text[0], Obis.parse(text[1]), text[2])
    if isinstance(text, Obis):
        return Target(class_id, text, 2 if attribute is None else attribute)
    if not isinstance(text, str):
        raise UsageError(f"an object is 'OBIS' or 'OBIS:ATTR', got {type(text).__name__}")
    obis_text, _, tail = text.rpartition(":")
    if obis_text and tail.isdigit():
        # "1-0:1.8.0*255" has a colon of its own: the suffix is an attribute only
        # when what stays in front is still a whole OBIS code
        try:
            obis = Obis.parse(obis_text)
        except DlmsError:
            obis = None
        if obis is not None:
            if attribute is not None and attribute != int(tail):
                raise UsageError(f"{text!r} names attribute {tail}, attribute={attribute} given")
            return Target(class_id, obis, int(tail))
    try:
        obis = Obis.parse(text)
    except DlmsError as exc:
        raise UsageError(f"not an object {text!r}: {exc} (OBIS or OBIS:ATTR)") from None
    return Target(class_id, obis, 2 if attribute is None else attribute)


def _is_date_time(octets: bytes) -> bool:
    """12 octets that read as a COSEM date-time (plausible fields, not just any 12 octets)."""
    if len(octets) != 12:
        return False
    year = (octets[0] << 8) | octets[1]
    month, day, weekday, hour, minute, second, hundredths = octets[2:9]
    deviation = int.from_bytes(octets[9:11], "big", signed=True)
    return (
        (year == 0xFFFF or 1970 <= year <= 2200)
        and (month in (0xFF, 0xFD, 0xFE) or 1 <= month <= 12)
        and (day in (0xFF, 0xFD, 0xFE) or 1 <= day <= 31)
        and (weekday == 0xFF or 1 <= weekday <= 7)
        and (hour == 0xFF or hour <= 23)
        and (minute == 0xFF or minute <= 59)
        and (second == 0xFF or second <= 59)
        and (hundredths == 0xFF or hundredths <= 99)
        and (deviation == -0x8000 or -720 <= deviation <= 840)
    )


_ZONES: dict[int, _dt.timezone] = {}


def date_time_value(octets: bytes) -> Any:
    """A COSEM date-time as a datetime (aware when the meter gives the deviation);
    a :class:`DateTime` with its unspecified fields when it is not a whole instant."""
    if len(octets) == 12:
        # the common case first, without building a DateTime: every field given
        month, day, hour, minute, second, hundredths = (octets[2], octets[3], octets[5],
                                                        octets[6], octets[7], octets[8])
        deviation = ((octets[9] << 8) | octets[10]) - ((octets[9] & 0x80) << 9)
        if (month <= 12 and day <= 31 and hour < 24 and minute < 60 and second < 60
                and deviation != -0x8000 and octets[0] != 0xFF):
            zone = _ZONES.get(deviation)
            if zone is None:
                zone = _ZONES[deviation] = _dt.timezone(_dt.timedelta(minutes=-deviation))
            try:
                return _dt.datetime((octets[0] << 8) | octets[1], month, day, hour, minute,
                                    second, 0 if hundredths == 0xFF else hundredths * 10000,
                                    zone)
            except ValueError:
                pass
    value = DateTime.from_bytes(octets)
    try:
        return value.to_datetime()
    except DlmsError:
        return value


def plain_value(data: Data, date_time: bool = False) -> Any:
    """The received Data as plain Python; octet-strings that are COSEM date-times
    (``date_time`` says so, or their shape does) become datetimes."""
    kind = data.type
    if kind is DataType.OCTET_STRING:
        octets = data.value
        if (date_time and len(octets) == 12) or _is_date_time(octets):
            return date_time_value(octets)
        return octets
    if kind is DataType.DATE_TIME:
        return date_time_value(data.value.to_bytes() if isinstance(data.value, DateTime)
                               else data.value)
    if kind in (DataType.STRUCTURE, DataType.ARRAY):
        members = [plain_value(m) for m in data.value]
        return tuple(members) if kind is DataType.STRUCTURE else members
    return data.to_plain()


@dataclass(frozen=True, slots=True)
class Reading:
    """One attribute as read: ``value`` plain Python, ``data`` as received;
    registers add ``scaler``, ``unit`` (a :class:`~dlmsfast.cosem.units.Unit`)
    and ``scaled`` (value × 10^scaler)."""

    object: Obis
    attribute: int
    class_id: Optional[int]
    value: Any
    data: Optional[Data] = field(default=None, repr=False)
    scaler: Optional[int] = None
    unit: Any = None
    scaled: Any = None


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a profile: the capture object (class, OBIS, attribute)."""

    class_id: int
    object: Obis
    attribute: int
    data_index: int = 0

    @property
    def name(self) -> str:
        return f"{self.object}:{self.attribute}"


@dataclass(frozen=True, slots=True)
class Profile:
    """A Profile Generic buffer: ``columns`` named by their capture objects and
    ``rows`` (tuples; clock columns as datetimes, register columns scaled when
    their scaler_unit is known)."""

    object: Obis
    columns: tuple[Column, ...]
    rows: list[tuple]
    scalers: dict = field(default_factory=dict, repr=False)

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One object of the association's object list."""

    class_id: int
    version: int
    object: Obis
    access_rights: Any = field(default=None, repr=False)


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


__all__ = [
    "Target", "parse_target", "Reading", "Column", "Profile", "ObjectEntry",
    "plain_value", "date_time_value", "REGISTER_CLASSES", "CLOCK_CLASS",
]
