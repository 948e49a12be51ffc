"""From a data-notification's body to readings.

Meters shape the body in a few ways; each is recognised from the data itself::

    objects     structure/array of  { OBIS, value [, scaler_unit] }
                (Aidon, Iskra, Landis+Gyr, Kaifa Austria)
    flat        structure { [lead...] OBIS, value [, scaler_unit], OBIS, value ... [trail...] }
                (Kamstrup, Landis+Gyr E450, Kaifa/EVN over M-Bus)
    described   structure { push_object_list (array of {class, OBIS, attribute,
                data-index ...}), value of object 2, value of object 3 ... }
                (the push setup's own list first: Energomera)
    classed     ... { class-id, OBIS, attribute, value } ... (Czech DSOs)
    positional  structure { value, value, ... } with no OBIS at all: named by a
                list layout (Kaifa in Norway, NEK lists)

Octet-strings that are printable text become ``str``; a 12-octet one that is
the value of a clock object (or a date-time in the list) becomes a
``datetime``.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Optional, Sequence

from ..axdr import Data, DataType, DateTime
from ..cosem.obis import Obis
from ..cosem.units import ScalerUnit, Unit
from ..errors import DlmsError, ProtocolError
from .layouts import Layout
from .reading import Reading

_OCTET_STRING = DataType.OCTET_STRING
_STRUCTURE = DataType.STRUCTURE
_ARRAY = DataType.ARRAY
_CONTAINERS = (DataType.STRUCTURE, DataType.ARRAY)
_SCALER_TYPES = frozenset((DataType.INTEGER, DataType.LONG, DataType.UNSIGNED))
_UNIT_TYPES = frozenset((DataType.ENUM, DataType.UNSIGNED))
_CLASS_TYPES = frozenset((DataType.LONG_UNSIGNED, DataType.UNSIGNED))
_ATTRIBUTE_TYPES = frozenset((DataType.INTEGER, DataType.UNSIGNED))
_TEXT_TYPES = frozenset((DataType.VISIBLE_STRING, DataType.UTF8_STRING))
_CLOCK = Obis(0, 0, 1, 0, 0, 255)
_LIST_ID = Obis(1, 1, 0, 2, 129, 255)  # NEK's "OBIS list version identifier"
_PUSH_SETUP_CLASS = 40
_PRINTABLE = frozenset(range(0x20, 0x7F))


def is_obis(node: Data) -> bool:
    return node.type is _OCTET_STRING and len(node.value) == 6


def _is_scaler_unit(node: Data) -> bool:
    if node.type is not _STRUCTURE or len(node.value) != 2:
        return False
    scaler, unit = node.value
    return scaler.type in _SCALER_TYPES and unit.type in _UNIT_TYPES and -128 <= scaler.value <= 127


def _scaler_unit(node: Data) -> ScalerUnit:
    scaler, unit = node.value
    return ScalerUnit(scaler.value, Unit(unit.value))


def _is_clock(obis: Obis) -> bool:
    return obis.c == 1 and obis.d == 0


def _date_time(octets: bytes) -> Optional[_dt.datetime]:
    try:
        return DateTime.from_bytes(octets).to_datetime()
    except DlmsError:
        return None


def plain_value(node: Data, *, date_time: bool = False) -> Any:
    """The value of one Data node as a reading holds it."""
    kind = node.type
    if kind is _OCTET_STRING:
        octets = node.value
        if date_time and len(octets) == 12:
            when = _date_time(octets)
            if when is not None:
                return when
        text = octets.rstrip(b"\x00")
        if text and all(b in _PRINTABLE for b in text):
            return text.decode("ascii")
        return octets
    if kind in _TEXT_TYPES:
        value = node.value
        return value.decode("latin-1") if isinstance(value, bytes) else value
    if kind is DataType.DATE_TIME:
        try:
            return node.value.to_datetime()
        except DlmsError:
            return node.value
    return node.to_plain()


class ReadingBuilder:
    """Makes the readings of one notification (shared timestamp and authentication)."""

    __slots__ = ("timestamp", "authenticated", "readings", "unnamed", "layout")

    def __init__(self, timestamp: Optional[_dt.datetime], authenticated: bool) -> None:
        self.timestamp = timestamp
        self.authenticated = authenticated
        self.readings: list[Reading] = []
        self.unnamed: list[Any] = []
        self.layout: Optional[Layout] = None

    def add(self, obis: Obis, node: Data, scaler_unit: Optional[ScalerUnit] = None,
            attribute: int = 2, *, date_time: bool = False) -> None:
        value = plain_value(node, date_time=date_time or _is_clock(obis))
        if scaler_unit is None:
            self.readings.append(Reading(obis, value, value, None, None, None, self.timestamp,
                                         self.authenticated, attribute))
            return
        unit = scaler_unit.unit
        self.readings.append(Reading(
            obis, value, scaler_unit.scale(value), unit.symbol, int(unit), scaler_unit.scaler,
            self.timestamp, self.authenticated, attribute))

    # -- shapes ----------------------------------------------------------------

    def body(self, body: Data, layouts: Sequence[Layout]) -> None:
        if body.type not in _CONTAINERS:
            self._positional([body], layouts)
            return
        elements = body.value
        if self._described(elements):
            return
        if any(is_obis(e) for e in elements):
            self._flat(elements, layouts)
            return
        named = False
        rest = []
        for element in elements:
            if self._object(element):
                named = True
            elif element.type in _CONTAINERS and self._nested(element):
                named = True
            else:
                rest.append(element)
        if not named:
            self._positional(elements, layouts)
        else:
            self.unnamed.extend(plain_value(e) for e in rest)

    def _nested(self, container: Data) -> bool:
        """A list of object structures one level down (e.g. {enum, array of {...}})."""
        found = False
        for element in container.value:
            if self._object(element):
                found = True
            else:
                self.unnamed.append(plain_value(element))
        return found

    def _object(self, node: Data) -> bool:
        """{OBIS, value [, scaler_unit]} or {class-id, OBIS, attribute, value}."""
        if node.type is not _STRUCTURE:
            return False
        members = node.value
        n = len(members)
        if n in (2, 3) and is_obis(members[0]):
            scaler_unit = None
            if n == 3:
                if not _is_scaler_unit(members[2]):
                    return False
                scaler_unit = _scaler_unit(members[2])
            self.add(Obis.from_bytes(members[0].value), members[1], scaler_unit)
            return True
        if (n == 4 and members[0].type in _CLASS_TYPES and is_obis(members[1])
                and members[2].type in _ATTRIBUTE_TYPES and 0 < members[2].value < 128):
            self.add(Obis.from_bytes(members[1].value), members[3], None, members[2].value)
            return True
        return False

    def _described(self, elements: Sequence[Data]) -> bool:
        """The push setup's push_object_list first, then one value per object."""
        first = elements[0] if elements else None
        if first is None or first.type is not _ARRAY or len(first.value) != len(elements):
            return False
        descriptors = []
        for descriptor in first.value:
            members = descriptor.value if descriptor.type is _STRUCTURE else ()
            if (len(members) < 3 or members[0].type not in _CLASS_TYPES or not is_obis(members[1])
                    or members[2].type not in _ATTRIBUTE_TYPES):
                return False
            descriptors.append((members[0].value, Obis.from_bytes(members[1].value), members[2].value))
        for (class_id, obis, attribute), value in zip(descriptors, elements):
            if class_id == _PUSH_SETUP_CLASS:
                continue  # its value is the list just read
            self.add(obis, value, None, attribute)
        return True

    def _flat(self, elements: Sequence[Data], layouts: Sequence[Layout]) -> None:
        layout = self._match(elements, layouts, positional=False)
        units = layout.units if layout is not None else {}
        lead: list[Data] = []
        trail: list[Data] = []
        i, n = 0, len(elements)
        while i < n:
            element = elements[i]
            if element.type is _STRUCTURE and self._object(element):
                i += 1
            elif is_obis(element) and i + 1 < n:
                obis = Obis.from_bytes(element.value)
                scaler_unit = None
                if i + 2 < n and _is_scaler_unit(elements[i + 2]):
                    scaler_unit = _scaler_unit(elements[i + 2])
                    i += 3
                else:
                    i += 2
                self.add(obis, elements[i - 1] if scaler_unit is None else elements[i - 2],
                         scaler_unit or units.get(obis))
            else:
                (trail if self.readings else lead).append(element)
                i += 1
        self._unpaired(lead, layout.lead if layout else ())
        self._unpaired(trail, layout.trail if layout else ())

    def _unpaired(self, nodes: list[Data], names: Sequence[Obis]) -> None:
        for index, node in enumerate(nodes):
            if index < len(names):
                self.add(names[index], node)
            elif node.type is _OCTET_STRING and len(node.value) == 12 and _date_time(node.value):
                self.add(_CLOCK, node, date_time=True)
            elif node.type in _TEXT_TYPES and index == 0:
                self.add(_LIST_ID, node)
            else:
                self.unnamed.append(plain_value(node))

    def _positional(self, elements: Sequence[Data], layouts: Sequence[Layout]) -> None:
        layout = self._match(elements, layouts, positional=True)
        if layout is None:
            raise ProtocolError(
                f"a list of {len(elements)} values without OBIS codes, and no list layout "
                "matches it (add one: --layouts DIR, see dlmsfast.push.layouts)")
        for item, node in zip(layout.objects, elements):
            self.add(item.obis, node, item.scaler_unit, item.attribute, date_time=item.date_time)

    def _match(self, elements: Sequence[Data], layouts: Sequence[Layout], *,
               positional: bool) -> Optional[Layout]:
        plain = None
        for layout in layouts:
            if layout.positional != positional:
                continue
            if layout.count is not None and layout.count != len(elements):
                continue
            if plain is None:
                plain = [e.value if e.type is _OCTET_STRING or e.type in _TEXT_TYPES
                         else e.to_plain() for e in elements]
            if layout.matches(plain):
                self.layout = layout
                return layout
        return None


__all__ = ["ReadingBuilder", "is_obis", "plain_value"]
