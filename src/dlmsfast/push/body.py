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

The body is walked in its plain A-XDR form (:func:`dlmsfast.axdr.decode_from`:
a structure is a tuple, an array a list, an octet-string bytes). Octet-strings
that are printable text become ``str``; a 12-octet one that is the value of a
clock object (or a date-time in the list) becomes a timestamp by the one rule
of :func:`dlmsfast.cosem.timestamps.to_timestamp`: an aware ``datetime`` when it
names one instant (with ``local_tz`` for meters that send no deviation), else
the :class:`~dlmsfast.axdr.DateTime` as sent.
"""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Optional, Sequence

from ..axdr import DateTime
from ..cosem.interface import SCALER_UNITS
from ..cosem.obis import Obis
from ..cosem.timestamps import to_timestamp
from ..cosem.units import ScalerUnit, Unit
from ..errors import DlmsError, UsageError
from ._push import Unscaled, bind_reading, new_reading, object_readings
from .layouts import Layout, NoLayoutError
from .reading import OctetText, Reading

_CLOCK = Obis(0, 0, 1, 0, 0, 255)
_LIST_ID = Obis(1, 1, 0, 2, 129, 255)  # NEK's "OBIS list version identifier"
_PUSH_SETUP_CLASS = 40
_PRINTABLE = frozenset(range(0x20, 0x7F))
_CACHE_LIMIT = 4096

# Pushes repeat the same few OBIS codes, scaler_units and time zones: one object
# each, made once (the caches are bounded by _CACHE_LIMIT).
_obis_cache: dict[bytes, Obis] = {}
_scaler_unit_cache: dict[tuple, tuple] = {}


def obis_of(octets: bytes) -> Obis:
    obis = _obis_cache.get(octets)
    if obis is None:
        obis = Obis(*octets)
        if len(_obis_cache) < _CACHE_LIMIT:
            _obis_cache[bytes(octets)] = obis
    return obis


def _scaler_unit(pair: tuple) -> tuple:
    """(ScalerUnit, symbol, unit code, scaler, Unscaled) of a scaler_unit sent
    as (scaler, unit): what a reading takes from it (the last, what its
    ``scaled`` holds until first read)."""
    found = _scaler_unit_cache.get(pair)
    if found is None:
        scaler_unit = ScalerUnit(pair[0], Unit(pair[1]))
        found = (scaler_unit, scaler_unit.unit.symbol, int(scaler_unit.unit), scaler_unit.scaler,
                 Unscaled(scaler_unit))
        if len(_scaler_unit_cache) < _CACHE_LIMIT:
            _scaler_unit_cache[pair] = found
    return found


def prepared(scaler_unit: Optional[ScalerUnit]) -> Optional[tuple]:
    """What a reading takes from a scaler_unit, looked up once."""
    if scaler_unit is None:
        return None
    return _scaler_unit((scaler_unit.scaler, int(scaler_unit.unit)))


_symbol_codes: dict[Optional[str], int] = {}


def _unit_codes() -> dict[Optional[str], int]:
    """Blue Book unit code of each symbol (the first code that has it)."""
    if not _symbol_codes:
        for unit in Unit:
            _symbol_codes.setdefault(unit.symbol, int(unit))
        _symbol_codes.pop(None, None)
    return _symbol_codes


def is_obis(value: Any) -> bool:
    return type(value) is bytes and len(value) == 6


def _is_scaler_unit(value: Any) -> bool:
    return (type(value) is tuple and len(value) == 2 and type(value[0]) is int
            and type(value[1]) is int and -128 <= value[0] <= 127 and 0 <= value[1] <= 255)


def _is_clock(obis: Obis) -> bool:
    return obis.c == 1 and obis.d == 0


def is_date_time(value: Any) -> bool:
    """Whether 12 octets read as a calendar date-time (year, month and day given)."""
    if type(value) is not bytes or len(value) != 12:
        return False
    when = to_timestamp(value)
    return isinstance(when, _dt.datetime) or (
        when.year is not None and when.month is not None and when.day is not None
        and 1 <= when.month <= 12 and 1 <= when.day <= 31)


def plain_value(value: Any, date_time: bool = False, local_tz: Optional[_dt.tzinfo] = None) -> Any:
    """The value of one body element as a reading holds it (a date-time as
    :func:`dlmsfast.cosem.timestamps.to_timestamp` gives it)."""
    if type(value) is bytes:
        if date_time and len(value) == 12:
            return to_timestamp(value, local_tz)
        text = value.rstrip(b"\x00")
        if text and all(b in _PRINTABLE for b in text):
            return OctetText(value, text.decode("ascii"))
        return value
    if type(value) is DateTime:
        return to_timestamp(value, local_tz)
    return value


bind_reading(Reading)

# Meters that send no system title name themselves with one of these objects
_METER_ID_OCTETS = (bytes((0, 0, 96, 1, 0, 255)), bytes((0, 0, 42, 0, 0, 255)),
                    bytes((1, 1, 0, 0, 5, 255)), bytes((0, 0, 96, 1, 1, 255)))


class ReadingBuilder:
    """Makes the readings of one notification (shared timestamp and authentication)."""

    __slots__ = ("timestamp", "authenticated", "readings", "unnamed", "layout", "meter_ids",
                 "local_tz")

    def __init__(self, timestamp: Any, authenticated: bool,
                 local_tz: Optional[_dt.tzinfo] = None) -> None:
        self.local_tz = local_tz
        self.timestamp = timestamp
        self.authenticated = authenticated
        self.readings: list[Reading] = []
        self.unnamed: list[Any] = []
        self.layout: Optional[Layout] = None
        self.meter_ids: dict[bytes, str] = {}

    def add(self, obis: Obis, raw: Any, scaler_unit: Optional[tuple] = None,
            attribute: int = 2, date_time: bool = False) -> None:
        """One reading; ``scaler_unit`` as :func:`prepared` gives it."""
        if type(raw) is bytes or type(raw) is DateTime:
            value = plain_value(raw, date_time or (obis.c == 1 and obis.d == 0), self.local_tz)
        else:
            value = raw
        self.readings.append(new_reading(obis, value, scaler_unit, self.timestamp,
                                         self.authenticated, attribute))
        if isinstance(value, str):
            self._name(obis, value)

    def _name(self, obis: Obis, value: str) -> None:
        octets = obis.to_bytes()
        if octets in _METER_ID_OCTETS:
            self.meter_ids.setdefault(octets, value)

    def _leaf(self, obis: Obis, raw: Any) -> Any:
        """The value of a reading whose raw value is octets, a string or a date-time."""
        value = plain_value(raw, obis.c == 1 and obis.d == 0, self.local_tz) \
            if type(raw) is not str else raw
        if isinstance(value, str):
            self._name(obis, value)
        return value

    def objects_at(self, apdu: bytes, pos: int) -> bool:
        """The readings of a body of {OBIS, value[, scaler_unit]} objects at
        ``pos`` to the end of ``apdu`` (on a new builder), by the compiled walk of
        :mod:`dlmsfast.push._push`; False (nothing added) when the body is not
        of that shape, and :meth:`body` must decode it."""
        if self.readings or self.meter_ids:
            raise UsageError("objects_at decodes a whole body: call it on a new builder")
        # an error the walk meets is the general path's to report (it decodes first)
        try:
            readings = object_readings(apdu, pos, _obis_cache, obis_of, _scaler_unit,
                                       self.timestamp, self.authenticated, self._leaf)
        except DlmsError:
            readings = None
        if readings is None:
            self.meter_ids.clear()  # the names of a walk stopped part way
            return False
        self.readings = readings
        return True

    def add_text(self, obis: Obis, value: Any, symbol: Optional[str],
                 power: Optional[int]) -> None:
        """A reading from text (a DSMR telegram): ``value`` already read, in
        10**power of the unit ``symbol``."""
        scaled = value
        if power and isinstance(value, Decimal):
            scaled = value.scaleb(power)
        self.readings.append(Reading(obis, value, scaled, symbol, _unit_codes().get(symbol),
                                     power, self.timestamp, self.authenticated, 2))
        if type(value) is str:
            self._name(obis, value)

    def meter_id(self) -> Optional[str]:
        """The meter's own name among the readings (serial number, logical device name)."""
        if not self.meter_ids:
            return None
        for octets in _METER_ID_OCTETS:
            if octets in self.meter_ids:
                return self.meter_ids[octets]
        return None

    # -- shapes ----------------------------------------------------------------

    def body(self, body: Any, layouts: Sequence[Layout]) -> None:
        if type(body) is not tuple and type(body) is not list:
            self._positional([body], layouts)
            return
        if self._described(body):
            return
        for element in body:
            if type(element) is bytes and len(element) == 6:
                self._flat(body, layouts)
                return
        named = False
        rest = []
        for element in body:
            if self._object(element):
                named = True
            elif (type(element) is tuple or type(element) is list) and self._nested(element):
                named = True
            else:
                rest.append(element)
        if not named:
            self._positional(body, layouts)
        else:
            self.unnamed.extend(plain_value(e) for e in rest)

    def _nested(self, container: Sequence) -> bool:
        """A list of object structures one level down (e.g. {enum, array of {...}})."""
        found = False
        leftover = []
        for element in container:
            if self._object(element):
                found = True
            else:
                leftover.append(plain_value(element))
        if found:
            self.unnamed.extend(leftover)
        return found

    def _object(self, node: Any) -> bool:
        """{OBIS, value [, scaler_unit]} or {class-id, OBIS, attribute, value}."""
        if type(node) is not tuple:
            return False
        n = len(node)
        if n == 2 or n == 3:
            head = node[0]
            if type(head) is not bytes or len(head) != 6:
                return False
            obis = _obis_cache.get(head) or obis_of(head)
            if n == 3:
                pair = node[2]
                if type(pair) is not tuple or len(pair) != 2:
                    return False
                # a scaler_unit seen before is valid; only a new one is checked
                try:
                    scaler_unit = _scaler_unit_cache.get(pair)
                except TypeError:  # a member is an array: not a scaler_unit
                    return False
                if scaler_unit is None:
                    if (type(pair[0]) is not int or type(pair[1]) is not int
                            or not -128 <= pair[0] <= 127 or not 0 <= pair[1] <= 255):
                        return False
                    scaler_unit = _scaler_unit(pair)
                self.add(obis, node[1], scaler_unit)
            else:
                self.add(obis, node[1])
            return True
        if (n == 4 and type(node[0]) is int and is_obis(node[1]) and type(node[2]) is int
                and 0 < node[2] < 128):
            self.add(obis_of(node[1]), node[3], None, node[2])
            return True
        return False

    def _described(self, elements: Sequence) -> bool:
        """The push setup's push_object_list first, then one value per object."""
        first = elements[0] if elements else None
        if type(first) is not list or len(first) != len(elements):
            return False
        descriptors = []
        for descriptor in first:
            if (type(descriptor) is not tuple or len(descriptor) < 3 or type(descriptor[0]) is not int
                    or not is_obis(descriptor[1]) or type(descriptor[2]) is not int):
                return False
            descriptors.append((descriptor[0], obis_of(descriptor[1]), descriptor[2]))
        # a register's scaler_unit pushed beside its value scales that value
        # (Register and Extended Register: attribute 3 scales 2; Demand
        # Register: attribute 4 scales 2 and 3) instead of being a reading
        scalers: dict[tuple[int, Obis], tuple] = {}
        for (class_id, obis, attribute), value in zip(descriptors, elements):
            held = SCALER_UNITS.get(class_id)
            if held is not None and attribute == held[0] and _is_scaler_unit(value):
                scalers[class_id, obis] = value
        scaled: set[tuple[int, Obis]] = set()
        for (class_id, obis, attribute), value in zip(descriptors, elements):
            if class_id == _PUSH_SETUP_CLASS:
                continue  # its value is the list just read
            pair = scalers.get((class_id, obis))
            if pair is not None and attribute in SCALER_UNITS[class_id][1]:
                self.add(obis, value, _scaler_unit(pair), attribute)
                scaled.add((class_id, obis))
            elif pair is None or attribute != SCALER_UNITS[class_id][0]:
                self.add(obis, value, None, attribute)
        for (class_id, obis, attribute), value in zip(descriptors, elements):
            # a scaler_unit whose value was not pushed stays a reading of its own
            if (class_id, obis) in scalers and (class_id, obis) not in scaled and \
                    attribute == SCALER_UNITS[class_id][0]:
                self.add(obis, value, None, attribute)
        return True

    def _flat(self, elements: Sequence, layouts: Sequence[Layout]) -> None:
        layout = self._match(elements, layouts, positional=False)
        units = layout.units if layout is not None else {}
        lead: list = []
        trail: list = []
        i, n = 0, len(elements)
        while i < n:
            element = elements[i]
            if type(element) is tuple and self._object(element):
                i += 1
            elif is_obis(element) and i + 1 < n:
                obis = obis_of(element)
                if i + 2 < n and _is_scaler_unit(elements[i + 2]):
                    self.add(obis, elements[i + 1], _scaler_unit(elements[i + 2]))
                    i += 3
                else:
                    self.add(obis, elements[i + 1], prepared(units.get(obis)))
                    i += 2
            else:
                (trail if self.readings else lead).append(element)
                i += 1
        self._unpaired(lead, layout.lead if layout else ())
        self._unpaired(trail, layout.trail if layout else ())

    def _unpaired(self, values: list, names: Sequence[Obis]) -> None:
        for index, value in enumerate(values):
            if index < len(names):
                self.add(names[index], value)
            elif is_date_time(value):
                self.add(_CLOCK, value, date_time=True)
            elif type(value) is str and index == 0:
                self.add(_LIST_ID, value)
            else:
                self.unnamed.append(plain_value(value))

    def _positional(self, elements: Sequence, layouts: Sequence[Layout]) -> None:
        layout = self._match(elements, layouts, positional=True)
        if layout is None:
            raise NoLayoutError(
                f"a list of {len(elements)} values without OBIS codes, and no list layout "
                "matches it (add one: --layouts DIR, see dlmsfast.push.layouts)")
        for item, value in zip(layout.objects, elements):
            self.add(item.obis, value, prepared(item.scaler_unit), item.attribute, item.date_time)

    def _match(self, elements: Sequence, layouts: Sequence[Layout], *,
               positional: bool) -> Optional[Layout]:
        for layout in layouts:
            if layout.positional == positional and layout.matches(elements):
                self.layout = layout
                return layout
        return None


__all__ = ["ReadingBuilder", "is_date_time", "is_obis", "obis_of", "plain_value", "prepared"]
