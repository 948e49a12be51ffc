"""What the client hands back: readings, profiles and object-list entries, and the
plain Python form of received values (COSEM date-times become datetimes).

A reading of a register's value (Register and Extended Register attribute 2,
scaled by attribute 3; Demand Register attributes 2 and 3, scaled by attribute
4: cosem's :data:`~dlmsfast.cosem.interface.SCALER_UNITS`) carries the raw
``value`` and, from its scaler_unit, ``scaler``, ``unit`` and the physical
``scaled`` value (exact: int or Decimal)::

    Reading(object=1.0.1.8.0.255, attribute=2, class_id=3, value=1960,
            scaler=-3, unit=Unit.ACTIVE_ENERGY (Wh), scaled=Decimal('1.960'))

A Profile Generic's buffer read as an object (attribute 2) comes as rows,
decoded with its capture objects as :meth:`AsyncClient.read_profile` does
(date-times as timestamps) but not scaled: ``value`` is what the meter holds.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Iterable, MutableMapping, Optional, Sequence

from ..axdr import Data, DataType, DateTime
from ..cosem import ProfileGeneric, make_object
from ..cosem.descriptors import CaptureObjectDefinition
from ..cosem.interface import SCALER_UNITS, scaler_unit_attribute
from ..cosem.obis import Obis
from ..cosem.timestamps import plausible_date_time, to_timestamp
from ..cosem.units import ScalerUnit
from ..errors import DlmsError, UsageError
from .._util import shown

CLOCK_CLASS = 8
PROFILE_GENERIC_CLASS = 7


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
_DECODE_ONCE = frozenset({(PROFILE_GENERIC_CLASS, 3)}
                         | {(class_id, held) for class_id, (held, _) in SCALER_UNITS.items()})
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


def buffer_rows(target: Target, buffer: Data, capture_objects: Any) -> Any:
    """A Profile Generic's buffer read as an object: a :class:`Profile`, its
    rows decoded with the capture_objects read beside it (``capture_objects``,
    a Data) as a profile read decodes them, clock columns as timestamps, values
    unscaled (no scaler_unit is read); where the capture objects could not be
    read or do not describe the buffer, the rows as :func:`plain_value` gives
    them (date-times known by their shape)."""
    if isinstance(capture_objects, Data):
        profile = ProfileGeneric(target.obis)
        try:
            profile.decode_attribute(3, capture_objects)
            decoded = profile.rows(buffer.to_plain())
        except DlmsError:
            pass
        else:
            return Profile(target.obis, decoded.columns, list(decoded.rows))
    return plain_value(buffer)


def scaler_holder(target: Target) -> Optional[Target]:
    """Where the scaler_unit of ``target`` is (class, OBIS, attribute), or None
    when ``target`` is no scaled value."""
    held = scaler_unit_attribute(target.class_id, target.attribute)
    return None if held is None else Target(target.class_id, target.obis, held)


def scaler_unit_of(holder: Target, data: Data) -> ScalerUnit:
    """The ScalerUnit that ``data``, read from ``holder`` (a scaler_unit
    attribute), says; any other shape is a DecodeError naming the object and
    the attribute."""
    found = attribute_value(holder, data)
    if type(found) is ScalerUnit:
        return found
    return ScalerUnit.from_data(data, f"{holder.obis} attribute {holder.attribute} scaler_unit")


def missing_scalers(captures: Iterable[CaptureObjectDefinition],
                    known: MutableMapping[Any, ScalerUnit]) -> list[Target]:
    """The scaler_unit attributes to read for the scaled columns of a profile
    (``captures``) whose ScalerUnit ``known`` (keyed by OBIS) does not hold yet,
    each object once; as Targets (class, OBIS, the attribute holding it)."""
    wanted: dict[Obis, Target] = {}
    for capture in captures:
        holder = scaler_holder(Target(capture.class_id, capture.logical_name,
                                      capture.attribute_index))
        if holder is not None and not capture.data_index and capture.logical_name not in known:
            wanted.setdefault(capture.logical_name, holder)
    return list(wanted.values())


def keep_scalers(wanted: Sequence[Target], got: Sequence[Any],
                 known: MutableMapping[Any, ScalerUnit]) -> None:
    """Keep in ``known`` (by OBIS) the scaler_units read for ``wanted`` (as
    :func:`missing_scalers` named them); a column whose read failed stays
    unscaled, a malformed answer is a DecodeError naming the object."""
    for holder, data in zip(wanted, got):
        if isinstance(data, Data):
            known[holder.obis] = scaler_unit_of(holder, data)


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
           "buffer_rows", "scaler_holder", "scaler_unit_of", "missing_scalers", "keep_scalers",
           "CLOCK_CLASS", "PROFILE_GENERIC_CLASS"]
