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
from ..cosem import make_object
from ..cosem.obis import Obis
from ..cosem.timestamps import plausible_date_time, to_timestamp
from ..errors import DlmsError, UsageError
from .._util import shown

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
                raise UsageError(f"{shown(text)} names attribute {tail}, attribute={attribute} given")
            return Target(class_id, obis, int(tail))
    try:
        obis = Obis.parse(text)
    except DlmsError as exc:
        raise UsageError(f"not an object {shown(text)}: {exc} (OBIS or OBIS:ATTR)") from None
    return Target(class_id, obis, 2 if attribute is None else attribute)


def plain_value(data: Data, date_time: bool = False) -> Any:
    """The received Data as plain Python; octet-strings that are COSEM date-times
    (``date_time`` says so, or their shape does) become timestamps (aware
    datetimes, or the DateTime kept where the meter left fields out)."""
    kind = data.type
    if kind is DataType.OCTET_STRING:
        octets = data.value
        if (date_time and len(octets) == 12) or plausible_date_time(octets):
            return to_timestamp(octets)
        return octets
    if kind is DataType.DATE_TIME:
        return to_timestamp(data.value)
    if kind in (DataType.STRUCTURE, DataType.ARRAY):
        members = [plain_value(m) for m in data.value]
        return tuple(members) if kind is DataType.STRUCTURE else members
    return data.to_plain()


# (class_id, attribute) whose decoded value is immutable (tuples of frozen
# dataclasses, a frozen ScalerUnit) and the same for equal Data: a reader asks
# every meter of a fleet for the same capture_objects and scaler_units
_DECODE_ONCE = frozenset({(7, 3), (3, 3), (4, 3), (5, 3)})
_DECODED_LIMIT = 256
_decoded: dict[tuple, Any] = {}


def attribute_value(target: Target, data: Data) -> Any:
    """An attribute's value as its interface class reads it (cosem's tables: a
    ScalerUnit for scaler_unit, enumerations by name...), with date-times as
    timestamps; the plain value where the meter's type is not the one the
    class declares (meters differ), or the class is not known."""
    kind = (target.class_id, target.attribute)
    once = kind in _DECODE_ONCE
    if once:
        value = _decoded.get((kind, data))
        if value is not None:
            return value
    try:
        value = make_object(target.class_id, target.obis).decode_attribute(target.attribute, data)
    except DlmsError:
        return plain_value(data, target.class_id == CLOCK_CLASS and target.attribute == 2)
    if isinstance(value, DateTime) or (type(value) is bytes and plausible_date_time(value)):
        return to_timestamp(value)
    if once:
        # kept only once the class's own type read it: Data equality compares
        # every node's tag and the leaves' values, and these types' leaves are
        # integers and octet-strings, so an equal Data decodes to an equal value
        if len(_decoded) >= _DECODED_LIMIT:
            _decoded.clear()
        _decoded[(kind, data)] = value
    return value


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
class Profile:
    """A Profile Generic buffer as read: ``columns`` (cosem
    :class:`~dlmsfast.cosem.classes.profile_generic.Column`: capture object,
    unit) and ``rows`` (tuples; clock columns as timestamps, register columns
    scaled when their scaler_unit is known)."""

    object: Obis
    columns: tuple
    rows: list[tuple]

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row)) for row in self.rows]


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


__all__ = ["Target", "parse_target", "Reading", "Profile", "attribute_value", "plain_value",
           "REGISTER_CLASSES", "CLOCK_CLASS"]
