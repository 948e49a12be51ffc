"""The COSEM objects of a simulated meter and the answers to GET and SET.

=================  ==========  =====================================  ==========
object             class (v)   attributes served                      values
=================  ==========  =====================================  ==========
0.0.1.0.0.255      Clock 8     1-9 (2 time: readable and writable)    now, UTC
0.0.42.0.0.255     Data 1      2 logical device name                  per meter
0.0.96.1.0.255     Data 1      2 serial number (ASCII digits)         per meter
0.0.96.10.1.255    Data 1      2 status (unsigned)                    0
0.0.96.11.0.255    Data 1      2 last event code (unsigned)           event log
0.0.43.1.0.255     Data 1      2 invocation counter (IDIS)            last IC + 1
1.0.1.8.0.255 ...  Register 3  2 value, 3 scaler_unit                 data.REGISTERS
1.0.99.1.0.255     Profile 7   1-8; buffer whole, by range, by entry  load profile
0.0.99.98.0.255    Profile 7   1-8; the same access                   event log
0.0.40.0.0.255     Assoc LN 15 1-9 (v1); 7 secret: no access          this association
  (short names)    Assoc SN 12 1-4 (v2), base name 0xFA00             the object list
0.0.43.0.0.255     Security 64 1-5 (v0)                               policy, titles
0.0.25.9.0.255     Push 40     1-7 (v0); method 1 push                :data:`PUSH_OBJECTS`
=================  ==========  =====================================  ==========

What a request that cannot be served gets (GET, SET, ACTION alike): a logical
name the meter does not have, object-undefined; one it has with another class,
object-class-inconsistent; an attribute or method the object list does not
grant, read-write-denied. The clock takes a date-time whose deviation is not
specified as the meter's local time, UTC (time_zone 0).

The meters' date-times (clock, load profile, event log) name instants
(deviation 0); a fleet with ``local_time`` sends them as meters set to local
time do, with the deviation "not specified" (0x8000): the same wall-clock
fields, no offset.

Setting the clock (clock synchronisation) moves that meter's clock attribute
only; its registers and profiles keep following the fleet's time, so that
:mod:`dlmsfast.simulator.data` still says what they hold.

A meter that speaks short names (``short_names``) lists its objects in
Association SN instead, each under a base name (0x0100, 0x0200, ... in the
order above; Association SN at 0xFA00, the Blue Book's name for the current
association); an attribute's short name is base + 8 * (index - 1), a method's
base + its class's offset (:meth:`~dlmsfast.cosem.CosemObject.method_short_name`).

What is the same for every meter of a fleet (capture objects, scaler_units,
the object list...) is encoded once in a :class:`Catalog`; a meter adds its
own few values and computes the dynamic ones per request from
:mod:`dlmsfast.simulator.data` (profile rows only for the entries asked).
"""
from __future__ import annotations

import datetime as _dt
import math
import time as _time
from functools import lru_cache
from typing import Any, Callable, Optional

from ..apdu import DataAccessResult
from ..axdr import BitString, Data, DataType, DateTime, TypeDescription, decode_typed, encode
from ..cosem import (
    AssociationLN,
    AssociationSN,
    AttributeAccessMode,
    CaptureObjectDefinition,
    Clock,
    DataObject,
    MethodAccessMode,
    Obis,
    ObjectListElement,
    ProfileGeneric,
    PushSetup,
    Register,
    ScalerUnit,
    SecuritySetup,
    SnAccessRight,
    SnObjectListElement,
    Unit,
)
from ..cosem.classes.association_ln import mechanism_name
from ..cosem.classes.clock import ClockBase
from ..cosem.classes.push_setup import MessageType, SendDestinationAndMethod, TransportService
from ..cosem.classes.security_setup import SecurityPolicy, SecuritySuite
from ..cosem.timestamps import to_timestamp
from ..errors import DlmsError
from . import data as d

CLOCK = Obis.parse("0.0.1.0.0.255")
LDN = Obis.parse("0.0.42.0.0.255")
SERIAL = Obis.parse("0.0.96.1.0.255")
STATUS = Obis.parse("0.0.96.10.1.255")
EVENT_CODE = Obis.parse("0.0.96.11.0.255")
INVOCATION_COUNTER = Obis.parse("0.0.43.1.0.255")
LOAD_PROFILE = Obis.parse(d.LOAD_PROFILE)
EVENT_LOG = Obis.parse(d.EVENT_LOG)
ASSOCIATION = Obis.parse("0.0.40.0.0.255")
SECURITY_SETUP = Obis.parse("0.0.43.0.0.255")
PUSH_SETUP = Obis.parse("0.0.25.9.0.255")
SN_ASSOCIATION_BASE = 0xFA00  # Association SN of the current association (Blue Book)

_REGISTER_TYPES = {
    "1.0.1.8.0.255": DataType.DOUBLE_LONG_UNSIGNED,
    "1.0.2.8.0.255": DataType.DOUBLE_LONG_UNSIGNED,
    "1.0.32.7.0.255": DataType.LONG_UNSIGNED,
    "1.0.31.7.0.255": DataType.LONG_UNSIGNED,
    "1.0.1.7.0.255": DataType.DOUBLE_LONG,
}
REGISTERS = tuple((Obis.parse(obis), scaler, unit, function, _REGISTER_TYPES[obis])
                  for obis, scaler, unit, _symbol, function in d.REGISTERS)

_LP_COLUMNS = (
    CaptureObjectDefinition(8, CLOCK, 2),
    CaptureObjectDefinition(1, STATUS, 2),
    CaptureObjectDefinition(3, Obis.parse("1.0.1.8.0.255"), 2),
    CaptureObjectDefinition(3, Obis.parse("1.0.2.8.0.255"), 2),
)
_LP_TYPES = (DataType.OCTET_STRING, DataType.UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED,
             DataType.DOUBLE_LONG_UNSIGNED)
_EL_COLUMNS = (CaptureObjectDefinition(8, CLOCK, 2), CaptureObjectDefinition(1, EVENT_CODE, 2))
_EL_TYPES = (DataType.OCTET_STRING, DataType.UNSIGNED)

# Push Setup attribute 2: what a push carries, in order. The list itself comes
# first, as meters in the field send it (the Energomera push of the HAN captures;
# the push quoted in scs/smartmeter-datacollector issue #31), so that a receiver
# names every value that follows without knowing the meter.
PUSH_OBJECTS = (
    CaptureObjectDefinition(40, PUSH_SETUP, 2),
    CaptureObjectDefinition(1, LDN, 2),
    CaptureObjectDefinition(8, CLOCK, 2),
    *(CaptureObjectDefinition(3, Obis.parse(obis), attribute)
      for obis in ("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.32.7.0.255") for attribute in (2, 3)),
)
# attribute 3 when the fleet is not told where to push: the DLMS port of this host
DEFAULT_PUSH_DESTINATION = SendDestinationAndMethod(
    TransportService.TCP, b"127.0.0.1:4059", MessageType.A_XDR_ENCODED_XDLMS_APDU)

_NOT_SPECIFIED = DateTime(None, None, None, None, None, None, None, None, None, None)
DENIED = DataAccessResult.READ_WRITE_DENIED
UNDEFINED = DataAccessResult.OBJECT_UNDEFINED
INCONSISTENT = DataAccessResult.OBJECT_CLASS_INCONSISTENT
OTHER = DataAccessResult.OTHER_REASON

# per-meter and per-request values: (class, OBIS, attribute) -> MeterModel method name
_DYNAMIC = {
    (8, CLOCK, 2): "_clock_time",
    (1, LDN, 2): "_ldn",
    (1, SERIAL, 2): "_serial",
    (1, EVENT_CODE, 2): "_event_code",
    (1, INVOCATION_COUNTER, 2): "_invocation_counter",
    (7, LOAD_PROFILE, 2): "_load_profile",
    (7, LOAD_PROFILE, 7): "_profile_entries_in_use",
    (7, EVENT_LOG, 2): "_event_log",
    (7, EVENT_LOG, 7): "_events_in_use",
    (15, ASSOCIATION, 3): "_partners",
    (15, ASSOCIATION, 4): "_context_name",
    (15, ASSOCIATION, 6): "_mechanism_name",
    (15, ASSOCIATION, 7): "_secret",
    (15, ASSOCIATION, 8): "_association_status",
    (64, SECURITY_SETUP, 4): "_client_title",
    (64, SECURITY_SETUP, 5): "_server_title",
}
_DYNAMIC.update({(3, obis, 2): "_register" for obis, *_ in REGISTERS})
_REGISTER_VALUES = {obis: (function, kind) for obis, _scaler, _unit, function, kind in REGISTERS}


@lru_cache(maxsize=1 << 16)
def date_time_octets(seconds: int, local: bool = False) -> bytes:
    """The COSEM date-time (octet-string(12), status 0) of a POSIX time: UTC with
    deviation 0, or with ``local`` the same fields as a local time (UTC here)
    with the deviation not specified (0x8000)."""
    when = _dt.datetime.fromtimestamp(seconds, d.UTC)
    return (when.year.to_bytes(2, "big")
            + bytes((when.month, when.day, when.isoweekday(), when.hour, when.minute,
                     when.second, 0))
            + (b"\x80\x00\x00" if local else b"\x00\x00\x00"))


def _quarter_octets(q: int, local: bool = False) -> bytes:
    return date_time_octets(d.EPOCH_SECONDS + d.CAPTURE_PERIOD * q, local)


@lru_cache(maxsize=256)
def _times(first: int, count: int, local: bool = False) -> tuple[bytes, ...]:
    """The date-times of ``count`` consecutive quarters (the same for every meter)."""
    return tuple(_quarter_octets(q, local) for q in range(first, first + count))


@lru_cache(maxsize=64)
def _buffer_description(types: tuple) -> TypeDescription:
    return TypeDescription.array(TypeDescription.structure(*types))


class Catalog:
    """What every meter of a fleet shares: the static attributes, encoded once.

    ``profile_rows`` the load profile's depth; ``security_policy`` the SC bits
    of the fleet's association (for Security Setup); ``max_pdu`` the meter's
    max receive PDU size (for Association LN's xDLMS_context_info);
    ``push_destination`` the Push Setup's send_destination_and_method and
    ``push_spread`` its randomisation_start_interval (seconds: how far into each
    push interval a meter's push may fall, see :mod:`dlmsfast.simulator.push`);
    ``local_time`` date-times without deviation (the module docstring).
    """

    def __init__(self, profile_rows: int = 96, security_policy: int = 0,
                 max_pdu: int = 1024, conformance: int = 0,
                 push_destination: SendDestinationAndMethod = DEFAULT_PUSH_DESTINATION,
                 push_spread: int = 0, short_names: bool = False,
                 local_time: bool = False) -> None:
        self.profile_rows = profile_rows
        self.local_time = local_time
        self.push_destination = push_destination
        self.short_names = short_names
        objects = self._objects(profile_rows, security_policy, max_pdu, conformance,
                                push_destination, push_spread)
        self.static: dict[tuple, Data] = {}
        self.classes: dict[Obis, int] = {}
        # short name -> ("attribute" | "method", class_id, logical name, index)
        self.names: dict[int, tuple[str, int, Obis, int]] = {}
        if short_names:
            objects = [obj for obj in objects if obj.class_id != 15]
        for obj in objects:
            self.classes[obj.logical_name] = obj.class_id
            for attribute in obj.attribute_table(obj.version):
                key = (obj.class_id, obj.logical_name, attribute.index)
                if key in _DYNAMIC:
                    continue
                try:
                    self.static[key] = obj.encode_attribute(attribute.index)
                except DlmsError:
                    continue
        elements = []
        for obj in objects:
            overrides: dict[tuple[str, int], AttributeAccessMode | MethodAccessMode] = {}
            if obj.class_id == 8:
                overrides[("attribute", 2)] = AttributeAccessMode.READ_AND_WRITE
            if obj.class_id == 15:
                overrides[("attribute", 7)] = AttributeAccessMode.NO_ACCESS
                overrides[("method", 1)] = MethodAccessMode.ACCESS
            if obj.class_id == 40:
                overrides[("method", 1)] = MethodAccessMode.ACCESS
            elements.append(ObjectListElement.of(obj, overrides=overrides))
        if short_names:
            self._list_short_names(objects, elements)
        else:
            association = AssociationLN(ASSOCIATION, version=1, object_list=tuple(elements))
            self.static[(15, ASSOCIATION, 2)] = association.encode_attribute(2)
        self.object_list = tuple(elements)
        # what a GET sends, A-XDR encoded once
        self.octets: dict[tuple, bytes] = {key: encode(value) for key, value in self.static.items()}

    def _list_short_names(self, objects: list, elements: list) -> None:
        """Association SN (version 2) in place of Association LN: the objects under
        their base names, the same access rights, and the short-name table."""
        bases = [0x0100 * (i + 1) for i in range(len(objects))]
        shell = AssociationSN(ASSOCIATION, version=2)
        objects = [*objects, shell]
        bases.append(SN_ASSOCIATION_BASE)
        rights = [element.access_rights for element in elements]
        # Association SN's own methods: reply_to_HLS_authentication (8) callable
        rights.append(ObjectListElement.of(
            shell, overrides={("method", 8): MethodAccessMode.ACCESS}).access_rights)
        association = AssociationSN(
            ASSOCIATION, version=2, security_setup_reference=SECURITY_SETUP,
            object_list=tuple(SnObjectListElement(base, obj.class_id, obj.version, obj.logical_name)
                              for base, obj in zip(bases, objects)),
            access_rights_list=tuple(SnAccessRight(base, right.attribute_access, right.method_access)
                                     for base, right in zip(bases, rights)))
        self.classes[ASSOCIATION] = 12
        for index in (1, 2, 3, 4):
            self.static[(12, ASSOCIATION, index)] = association.encode_attribute(index)
        for base, obj in zip(bases, objects):
            for attribute in obj.attribute_table(obj.version):
                self.names[obj.attribute_short_name(base, attribute.index)] = (
                    "attribute", obj.class_id, obj.logical_name, attribute.index)
            if obj.sn_first_method_offset is not None:
                for method in obj.method_table(obj.version):
                    self.names[obj.method_short_name(base, method.index)] = (
                        "method", obj.class_id, obj.logical_name, method.index)

    @staticmethod
    def _objects(rows: int, policy: int, max_pdu: int, conformance: int,
                 push_destination: SendDestinationAndMethod, push_spread: int) -> list:
        clock = Clock(CLOCK, time_zone=0, status=0, daylight_savings_begin=_NOT_SPECIFIED,
                      daylight_savings_end=_NOT_SPECIFIED, daylight_savings_deviation=0,
                      daylight_savings_enabled=False, clock_base=ClockBase(1))
        objects: list = [clock]
        for obis in (LDN, SERIAL, EVENT_CODE, INVOCATION_COUNTER):
            objects.append(DataObject(obis))
        objects.append(DataObject(STATUS, value=Data(DataType.UNSIGNED, 0)))
        for obis, scaler, unit, _function, _type in REGISTERS:
            objects.append(Register(obis, scaler_unit=ScalerUnit(scaler, Unit(unit))))
        objects.append(ProfileGeneric(LOAD_PROFILE, capture_objects=_LP_COLUMNS,
                                      capture_period=d.CAPTURE_PERIOD, sort_method=1,
                                      sort_object=_LP_COLUMNS[0], profile_entries=rows))
        objects.append(ProfileGeneric(EVENT_LOG, capture_objects=_EL_COLUMNS, capture_period=0,
                                      sort_method=1, sort_object=_EL_COLUMNS[0],
                                      profile_entries=d.EVENTS))
        objects.append(AssociationLN(
            ASSOCIATION, version=1, security_setup_reference=SECURITY_SETUP,
            xDLMS_context_info=Data(DataType.STRUCTURE, (
                Data(DataType.BIT_STRING, BitString(conformance.to_bytes(3, "big"), 24)),
                Data(DataType.LONG_UNSIGNED, max_pdu), Data(DataType.LONG_UNSIGNED, max_pdu),
                Data(DataType.UNSIGNED, 6), Data(DataType.INTEGER, 0),
                Data(DataType.OCTET_STRING, b"")))))
        objects.append(SecuritySetup(SECURITY_SETUP, version=0,
                                     security_policy=SecurityPolicy(policy >> 4),
                                     security_suite=SecuritySuite(0)))
        objects.append(PushSetup(
            PUSH_SETUP, version=0,
            push_object_list=PUSH_OBJECTS, send_destination_and_method=push_destination,
            # a push that cannot be delivered is not sent again (counted by the sender)
            communication_window=(), randomisation_start_interval=push_spread,
            number_of_retries=0, repetition_delay=0))
        return objects


class AssociationView:
    """What Association LN and Security Setup say about the current association."""

    __slots__ = ("client_address", "server_address", "mechanism", "ciphered", "client_title")

    def __init__(self, client_address: int, server_address: int) -> None:
        self.client_address = client_address
        self.server_address = server_address
        self.mechanism = 0
        self.ciphered = False
        self.client_title = b""


class MeterModel:
    """Meter ``index``'s objects: :meth:`get` answers a GET, :meth:`set` a SET.

    ``clock`` gives the POSIX time the meter lives in (time.time, or a fixed
    instant); ``counter`` the last invocation counter the meter accepted from
    its ciphered client (for 0.0.43.1.0.255).
    """

    def __init__(self, index: int, catalog: Catalog, clock: Callable[[], float] = _time.time,
                 counter: Callable[[], Optional[int]] = lambda: None) -> None:
        self.index = index
        self.catalog = catalog
        self.clock = clock
        self.counter = counter
        self.clock_offset = 0.0
        self._own = {
            "_ldn": Data(DataType.OCTET_STRING, d.logical_device_name(index)),
            "_serial": Data(DataType.OCTET_STRING, str(d.serial_number(index)).encode()),
            "_server_title": Data(DataType.OCTET_STRING, d.server_system_title(index)),
        }

    def quarter(self) -> int:
        return d.quarter_of(self.clock())

    def get(self, class_id: int, obis: Obis, attribute: int, selection=None,
            view: Optional[AssociationView] = None) -> Any:
        """What a GET answers: the A-XDR octets of a static attribute (encoded
        once per fleet) or of a profile buffer, a Data, or a DataAccessResult."""
        key = (class_id, obis, attribute)
        found = self.catalog.octets.get(key)
        if found is not None:
            return found
        return self._value(key, selection, view)

    def get_octets(self, class_id: int, obis: Obis, attribute: int, selection=None,
                   view: Optional[AssociationView] = None) -> bytes | DataAccessResult:
        """:meth:`get` as A-XDR octets or a DataAccessResult (what a with-list
        answer carries, encoded as the session takes it)."""
        value = self.get(class_id, obis, attribute, selection, view)
        return encode(value) if isinstance(value, Data) else value

    def get_data(self, class_id: int, obis: Obis, attribute: int, selection=None,
                 view: Optional[AssociationView] = None) -> Any:
        """:meth:`get` as a Data or a DataAccessResult (what with-list answers carry)."""
        key = (class_id, obis, attribute)
        found = self.catalog.static.get(key)
        if found is not None:
            return found
        value = self._value(key, selection, view)
        return decode_typed(value) if isinstance(value, bytes) else value

    def _value(self, key: tuple, selection, view) -> Any:
        class_id, obis, attribute = key
        name = _DYNAMIC.get(key)
        if name is None:
            return self.missing(class_id, obis) or (DENIED if attribute > 0 else UNDEFINED)
        own = self._own.get(name)
        if own is not None:
            return own
        try:
            return getattr(self, name)(obis, selection, view)
        except DlmsError:
            # selective access the meter cannot serve (malformed parameters)
            return OTHER

    def set(self, class_id: int, obis: Obis, attribute: int, value: Data) -> DataAccessResult:
        """Only the clock's time is writable (clock synchronisation)."""
        if (class_id, obis, attribute) == (8, CLOCK, 2):
            if value.type is not DataType.OCTET_STRING or len(value.value) != 12:
                return DataAccessResult.TYPE_UNMATCHED
            # a deviation "not specified" (0x8000) is the meter's local time, which
            # is UTC here (time_zone 0): dlms-cosem sends naive datetimes so
            when = to_timestamp(value.value, d.UTC)
            if not isinstance(when, _dt.datetime):
                return DataAccessResult.OTHER_REASON
            self.clock_offset = when.timestamp() - self.clock()
            return DataAccessResult.SUCCESS
        return self.missing(class_id, obis) or DENIED

    def missing(self, class_id: int, obis: Obis) -> Optional[DataAccessResult]:
        """Why a request names no object of this meter: object-undefined (no such
        logical name), object-class-inconsistent (it has another class: the Green
        Book's result for a class_id that does not match); None when it does."""
        found = self.catalog.classes.get(obis)
        if found == class_id:
            return None
        return UNDEFINED if found is None else INCONSISTENT

    # -- dynamic values ----------------------------------------------------------------

    def _clock_time(self, obis, selection, view) -> Data:
        return Data(DataType.OCTET_STRING, date_time_octets(int(self.clock() + self.clock_offset),
                                                            self.catalog.local_time))

    def _register(self, obis, selection, view) -> Data:
        function, kind = _REGISTER_VALUES[obis]  # _DYNAMIC sends the registers only
        return Data(kind, function(self.index, self.quarter()))

    def _event_code(self, obis, selection, view) -> Data:
        return Data(DataType.UNSIGNED, d.event(self.index, self.quarter(), d.EVENTS - 1)[1])

    def _invocation_counter(self, obis, selection, view) -> Data:
        last = self.counter()
        return Data(DataType.DOUBLE_LONG_UNSIGNED, 0 if last is None else min(last + 1, 0xFFFFFFFF))

    def _profile_entries_in_use(self, obis, selection, view) -> Data:
        return Data(DataType.DOUBLE_LONG_UNSIGNED,
                    len(d.profile_quarters(self.quarter(), self.catalog.profile_rows)))

    def _events_in_use(self, obis, selection, view) -> Data:
        return Data(DataType.DOUBLE_LONG_UNSIGNED, d.EVENTS)

    def _load_profile(self, obis, selection, view) -> Any:
        quarters = d.profile_quarters(self.quarter(), self.catalog.profile_rows)
        chosen = _select_rows(quarters, selection, d.EPOCH_SECONDS)
        columns = _chosen_columns(_LP_COLUMNS, selection)
        local = self.catalog.local_time
        if columns is None and isinstance(chosen, range) and 0 < len(chosen) <= d.SHARED_ROWS:
            octets = _profile_octets(self.index, chosen, local)
            if octets is not None:
                return octets
        plus, minus = d.profile_values(self.index, chosen)
        times = _times(chosen[0], len(chosen), local) if chosen else ()
        rows = list(zip(times, (0,) * len(chosen), plus, minus))
        return _buffer(rows, _LP_TYPES, columns)

    def _event_log(self, obis, selection, view) -> Any:
        q = self.quarter()
        entries = [d.event(self.index, q, j) for j in range(d.EVENTS)]
        by_quarter = {when: code for when, code in entries}
        chosen = _select_rows([when for when, _ in entries], selection, d.EPOCH_SECONDS)
        rows = [(_quarter_octets(when, self.catalog.local_time), by_quarter[when])
                for when in chosen]
        return _buffer(rows, _EL_TYPES, _chosen_columns(_EL_COLUMNS, selection))

    def _partners(self, obis, selection, view) -> Data:
        client, server = (view.client_address, view.server_address) if view else (16, 1)
        return Data(DataType.STRUCTURE, (Data(DataType.INTEGER, client),
                                         Data(DataType.LONG_UNSIGNED, server)))

    def _context_name(self, obis, selection, view) -> Data:
        ciphered = bool(view and view.ciphered)
        name = bytes((0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 3 if ciphered else 1))
        return Data(DataType.OCTET_STRING, name)

    def _mechanism_name(self, obis, selection, view) -> Data:
        mechanism = mechanism_name(view.mechanism if view else 0)
        return Data(DataType.OCTET_STRING, bytes((0x60, 0x85, 0x74, 0x05, 0x08, 0x02,
                                                  mechanism[-1])))

    def _secret(self, obis, selection, view):
        return DENIED

    def _association_status(self, obis, selection, view) -> Data:
        return Data(DataType.ENUM, 2)

    def _client_title(self, obis, selection, view) -> Data:
        return Data(DataType.OCTET_STRING, view.client_title if view else b"")


def _select_rows(quarters, selection, epoch: int):
    """The quarters (row keys, oldest first) a buffer read selects: all, those
    whose time lies in the range (selector 1), or entries i..j (selector 2).
    A range of quarters gives a range (consecutive rows), a list a list."""
    if selection is None:
        return quarters
    if selection.access_selector == 1:
        parameters = selection.range_parameters()
        low = _bound_seconds(parameters.from_value) - epoch
        high = _bound_seconds(parameters.to_value) - epoch
        if isinstance(quarters, range):
            first = max(quarters.start, math.ceil(low / d.CAPTURE_PERIOD))
            last = min(quarters.stop, math.floor(high / d.CAPTURE_PERIOD) + 1)
            return range(first, max(first, last))
        return [q for q in quarters if low <= d.CAPTURE_PERIOD * q <= high]
    if selection.access_selector == 2:
        entry = selection.entry_parameters()
        first = max(entry.from_entry, 1) - 1
        last = entry.to_entry or len(quarters)
        return quarters[first:last]
    raise _Unserved()


class _Unserved(DlmsError):
    """A selective access this meter does not serve (answered other-reason)."""


def _bound_seconds(value: Data) -> float:
    if value.type not in (DataType.OCTET_STRING, DataType.DATE_TIME):
        raise _Unserved()
    octets = value.value if isinstance(value.value, bytes) else value.value.to_bytes()
    # a bound without deviation is the meter's local time, UTC here (time_zone
    # 0), as for a clock SET
    when = to_timestamp(octets, d.UTC)
    if not isinstance(when, _dt.datetime):
        raise _Unserved()
    return when.timestamp()


def _chosen_columns(columns: tuple, selection) -> Optional[list[int]]:
    """The indexes of the columns a buffer read selects (None: all of them)."""
    if selection is not None and selection.access_selector == 1:
        selected = selection.range_parameters().selected_values
        if selected:
            try:
                return [columns.index(c) for c in selected]
            except ValueError:
                raise _Unserved() from None
    elif selection is not None and selection.access_selector == 2:
        entry = selection.entry_parameters()
        first = max(entry.from_selected_value, 1) - 1
        last = entry.to_selected_value or len(columns)
        return list(range(first, min(last, len(columns))))
    return None


def _buffer(rows: list, types: tuple, chosen: Optional[list[int]]) -> bytes:
    """The A-XDR octets of the rows, with the ``chosen`` columns only (None: all)."""
    if chosen is not None:
        rows = [tuple(row[i] for i in chosen) for row in rows]
        types = tuple(types[i] for i in chosen)
    return encode(rows, _buffer_description(types))


# A load profile row is 28 octets, the same for every meter but for A+ and A-:
#   02 04  09 0C time(12)  11 00  06 A+(4)  06 A-(4)
_LP_ROW = 28
_LP_PLUS_END = 23  # one past A+'s last octet, in the row
_LP_MINUS_END = 28


def _profile_octets(k: int, quarters: range, local: bool = False) -> Optional[bytes]:
    """The A-XDR octets of meter k's whole rows of ``quarters``, as :func:`_buffer`
    gives them, put together from octets other meters share: those of the rows
    with A+ only, of its import rate (one of 50), and with A- only, of its export
    rate (one of 7), less those with neither; then its own bases added into the
    A+ and A- fields. The octets are added as integers (no field overlaps
    another, none carries: checked); each base times a mask of its fields' last
    octets. None when a value would not fit its field (the caller then encodes
    row by row, and fails as that does)."""
    plus_rate, minus_rate = d.profile_rates(k)
    plus_octets, plus_room = _profile_column(quarters, 0, plus_rate, local)
    minus_octets, minus_room = _profile_column(quarters, 1, minus_rate, local)
    layout = _profile_layout(quarters, local)
    if layout is None:
        return None
    length, bare, plus_mask, minus_mask = layout
    plus_base, minus_base = d.profile_bases(k)
    if plus_base > plus_room or minus_base > minus_room:
        return None
    return (plus_octets + minus_octets - bare + plus_base * plus_mask
            + minus_base * minus_mask).to_bytes(length, "big")


def _profile_rows_octets(quarters: range, plus: tuple[int, ...], minus: tuple[int, ...],
                         local: bool) -> bytes:
    return _buffer(list(zip(_times(quarters[0], len(quarters), local), (0,) * len(quarters),
                            plus, minus)), _LP_TYPES, None)


@lru_cache(maxsize=128)  # 50 import and 7 export rates: two ranges of quarters
def _profile_column(quarters: range, column: int, rate: int, local: bool) -> tuple[int, int]:
    """(octets of the rows whose A+ (column 0) or A- (1) holds the steps of this
    rate and the other 0, as an int; how much a base may add to the steps
    without overflowing a field)."""
    zeros = (0,) * len(quarters)
    if column == 0:
        steps = d.import_steps(quarters, rate)
        octets = _profile_rows_octets(quarters, steps, zeros, local)
    else:
        steps = d.export_steps(quarters, rate)
        octets = _profile_rows_octets(quarters, zeros, steps, local)
    return int.from_bytes(octets, "big"), 0xFFFFFFFF - max(steps)


@lru_cache(maxsize=4)
def _profile_layout(quarters: range, local: bool) -> Optional[tuple[int, int, int, int]]:
    """(length, octets of the rows with A+ and A- 0 as an int, A+ and A- masks), or
    None when the octets are not laid out as :data:`_LP_ROW` says."""
    zeros = (0,) * len(quarters)
    octets = _profile_rows_octets(quarters, zeros, zeros, local)
    length = len(octets)
    plus_mask = minus_mask = 0
    for row in range(length - _LP_ROW * len(quarters), length, _LP_ROW):
        if octets[row + _LP_PLUS_END - 5] != 0x06 or octets[row + _LP_MINUS_END - 5] != 0x06:
            return None
        plus_mask |= 1 << 8 * (length - row - _LP_PLUS_END)
        minus_mask |= 1 << 8 * (length - row - _LP_MINUS_END)
    return length, int.from_bytes(octets, "big"), plus_mask, minus_mask


__all__ = ["AssociationView", "Catalog", "DEFAULT_PUSH_DESTINATION", "MeterModel", "PUSH_OBJECTS",
           "PUSH_SETUP", "date_time_octets"]
