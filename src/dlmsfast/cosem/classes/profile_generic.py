"""Profile Generic (class_id 7, version 1): load profiles and logs, a buffer of
rows whose columns are the capture objects.

=====  ===============  ==========================  =======
index  attribute        type                        kind
=====  ===============  ==========================  =======
1      logical_name     octet-string                static
2      buffer           array of structure (rows)   dynamic
3      capture_objects  array of capture_object_d.  static
4      capture_period   double-long-unsigned        static (seconds, 0 = asynchronous)
5      sort_method      enum                        static
6      sort_object      capture_object_definition   static
7      entries_in_use   double-long-unsigned        dynamic
8      profile_entries  double-long-unsigned        static
=====  ===============  ==========================  =======

Methods 1 reset, 2 capture (integer(0)); short name offset 0x58.

A buffer as sent::

    array {                                  one structure per entry (row)
      structure { v(col 1), v(col 2), ... }  one value per capture object
      ...
    }

:meth:`ProfileGeneric.rows` turns it into :class:`ProfileRows`: the columns
named by their capture objects (class_id, OBIS, attribute, data index),
date-time columns as timestamps (see :mod:`dlmsfast.cosem.timestamps`: aware
datetimes, or the DateTime kept where the meter left fields out), register
columns scaled when the caller gives their scaler_unit. An entry whose
date-time is null-data (the Blue Book's compression of a regular profile) gets
the previous entry's time plus capture_period.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from ..._enum import BlueBookEnum
from ...axdr import Data, DataType, DateTime
from ...errors import DecodeError, UsageError
from ..descriptors import CaptureObjectDefinition, SelectiveAccessDescriptor
from ..interface import (
    Attribute,
    CosemObject,
    Member,
    Method,
    interface_class,
    scaler_unit_attribute,
)
from ..obis import Obis
from ..timestamps import from_timestamp, plausible_date_time, to_timestamp, to_timestamps
from ..types import (
    DATE_TIME,
    DOUBLE_LONG_UNSIGNED,
    INTEGER_ZERO,
    LOGICAL_NAME,
    ArrayOf,
    AttributeType,
    Choice,
    Enumerated,
    make_data,
)
from ..units import ScalerUnit, Unit
from ._common import CAPTURE_OBJECT
from ..._util import shown


class SortMethod(BlueBookEnum):
    FIFO = 1
    LIFO = 2
    LARGEST = 3
    SMALLEST = 4
    NEAREST_TO_ZERO = 5
    FAREST_FROM_ZERO = 6


class _Buffer(AttributeType):
    """array of rows: each row a tuple of plain values (a structure per row;
    a compact-array buffer is read too)."""

    tag = DataType.ARRAY
    name = "array of structure"
    keeps_data = True

    def decode(self, data: Data, what: str) -> tuple:
        if not isinstance(data, Data) or data.type not in (DataType.ARRAY, DataType.COMPACT_ARRAY):
            raise DecodeError(f"{what}: expected array, got {getattr(data, 'type', type(data).__name__)}")
        return tuple(_row(entry, f"{what}[{i}]") for i, entry in enumerate(data.to_plain()))

    def encode(self, value: Any, what: str, types: Sequence[DataType] | None = None) -> Data:
        if isinstance(value, Data):
            return value
        rows = []
        for i, row in enumerate(value):
            cells = []
            for j, cell in enumerate(row):
                where = f"{what}[{i}][{j}]"
                if isinstance(cell, Data):
                    cells.append(cell)
                elif isinstance(cell, DateTime):
                    # clock columns are octet-string(12), the clock's own type
                    cells.append(Data(DataType.OCTET_STRING, cell.to_bytes()))
                elif isinstance(cell, _dt.datetime):
                    cells.append(Data(DataType.OCTET_STRING, from_timestamp(cell).to_bytes()))
                elif types is not None and j < len(types) and types[j] is not None:
                    cells.append(make_data(types[j], cell, where))
                else:
                    cells.append(_CELL.encode(cell, where))
            rows.append(Data(DataType.STRUCTURE, tuple(cells)))
        return Data(DataType.ARRAY, tuple(rows))


def _row(entry: Any, what: str) -> tuple:
    if not isinstance(entry, (tuple, list)):
        raise DecodeError(f"{what}: a buffer entry is a structure, got {type(entry).__name__}")
    return tuple(entry)


_CELL = Choice()
BUFFER = _Buffer()


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a profile: its capture object and what is known of it."""

    capture_object: CaptureObjectDefinition
    date_time: bool = False
    scaler_unit: ScalerUnit | None = None

    @property
    def class_id(self) -> int:
        return self.capture_object.class_id

    @property
    def logical_name(self) -> Obis:
        return self.capture_object.logical_name

    @property
    def attribute_index(self) -> int:
        return self.capture_object.attribute_index

    @property
    def data_index(self) -> int:
        return self.capture_object.data_index

    @property
    def unit(self) -> Unit | None:
        return None if self.scaler_unit is None else self.scaler_unit.unit

    @property
    def name(self) -> str:
        """``OBIS:attribute`` (``:data_index`` appended when not 0), e.g. ``1.0.1.8.0.255:2``."""
        text = f"{self.logical_name}:{self.attribute_index}"
        return text if self.data_index == 0 else f"{text}:{self.data_index}"

    def to_meaning(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "object": str(self.logical_name),
            "attribute": self.attribute_index,
            "data_index": self.data_index,
            "unit": None if self.unit is None else self.unit.symbol,
        }


@dataclass(frozen=True, slots=True)
class ProfileRows:
    """Decoded profile entries: ``columns`` and ``rows`` (tuples, one value per
    column). Iterating gives the rows; :meth:`as_dicts` names each value."""

    columns: tuple[Column, ...]
    rows: tuple[tuple, ...]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> tuple:
        return self.rows[index]

    def column_index(self, key: str | Obis | CaptureObjectDefinition) -> int:
        """The position of a column given by its name, its OBIS (first column of
        that object) or its capture object."""
        for i, column in enumerate(self.columns):
            if key == column.capture_object or key == column.name:
                return i
        obis = key if isinstance(key, Obis) else _maybe_obis(key)
        if obis is not None:
            for i, column in enumerate(self.columns):
                if column.logical_name == obis:
                    return i
        raise UsageError(f"no column {shown(key)} in this profile")

    def column(self, key: str | Obis | CaptureObjectDefinition) -> list:
        i = self.column_index(key)
        return [row[i] for row in self.rows]

    def to_json(self) -> dict[str, Any]:
        """``{"columns": [{class_id, object, attribute, data_index, unit}], "rows": [[...]]}``
        with the values as plain JSON (timestamps ISO 8601)."""
        from ..jsonable import to_json

        return {"columns": [c.to_meaning() for c in self.columns],
                "rows": [[to_json(v) for v in row] for row in self.rows]}

    def as_dicts(self) -> list[dict[str, Any]]:
        names = [c.name for c in self.columns]
        return [dict(zip(names, row)) for row in self.rows]


def _maybe_obis(key: Any) -> Obis | None:
    if isinstance(key, str):
        try:
            return Obis.parse(key)
        except UsageError:
            return None
    return None


def _is_date_time_attribute(capture: CaptureObjectDefinition) -> bool:
    if capture.data_index:
        return False
    cls = interface_class(capture.class_id)
    if cls is None:
        return False
    for attribute in cls.attributes:
        if attribute.index == capture.attribute_index:
            return attribute.type is DATE_TIME
    return False


ScalerKey = Union[CaptureObjectDefinition, Obis, str]


def _scaler_for(capture: CaptureObjectDefinition,
                scalers: Mapping[Any, ScalerUnit]) -> ScalerUnit | None:
    found = scalers.get(capture)
    if found is not None:
        return found
    # keyed by OBIS alone, a scaler_unit applies to the object's scaled values
    if scaler_unit_attribute(capture.class_id, capture.attribute_index) is None or capture.data_index:
        return None
    found = scalers.get(capture.logical_name)
    if found is None:
        found = scalers.get(str(capture.logical_name))
    return found


class ProfileGeneric(CosemObject):
    class_id = 7
    blue_book_name = "Profile Generic"
    versions = (1,)
    sn_first_method_offset = 0x58
    # buffer: range_descriptor (1), entry_descriptor (2)
    selective_access = {2: frozenset({1, 2})}
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "buffer", BUFFER, static=False),
        Attribute(3, "capture_objects", ArrayOf(CAPTURE_OBJECT)),
        Attribute(4, "capture_period", DOUBLE_LONG_UNSIGNED),
        Attribute(5, "sort_method", Enumerated(SortMethod)),
        Attribute(6, "sort_object", CAPTURE_OBJECT),
        Attribute(7, "entries_in_use", DOUBLE_LONG_UNSIGNED, static=False),
        Attribute(8, "profile_entries", DOUBLE_LONG_UNSIGNED),
    )
    methods = (
        Method(1, "reset", INTEGER_ZERO),
        Method(2, "capture", INTEGER_ZERO),
    )

    #: the Data tag of each column when a server encodes plain values
    #: (None: guessed from the value); set it to serve exact types.
    buffer_types: Sequence[DataType | None] | None = None

    def encode_attribute(self, member: Member) -> Data:
        attribute = self.attribute(member)
        if attribute.index == 2 and self.buffer is not None:
            kept = self._kept_data(2)
            if kept is not None:
                return kept
            return BUFFER.encode(self.buffer, self._what(attribute), self.buffer_types)
        return super().encode_attribute(member)

    # --- reading the buffer ----------------------------------------------------

    def columns(self, selected: Iterable[CaptureObjectDefinition] | None = None,
                scalers: Mapping[Any, ScalerUnit] | None = None) -> tuple[Column, ...]:
        """The columns of the buffer: ``selected`` (the capture objects a
        selective read asked for) or capture_objects."""
        captures = tuple(selected) if selected is not None else self.capture_objects
        if captures is None:
            raise UsageError(f"{self._label()}: capture_objects not read, so the columns are unknown")
        scalers = scalers or {}
        return tuple(
            Column(c, _is_date_time_attribute(c), _scaler_for(c, scalers)) for c in captures
        )

    def selected_columns(self, access: SelectiveAccessDescriptor | None
                         ) -> tuple[CaptureObjectDefinition, ...] | None:
        """The capture objects a buffer read with ``access`` returns."""
        if access is None:
            return None
        if access.access_selector == 1:
            selected = access.range_parameters().selected_values
            return selected or None
        if access.access_selector == 2:
            entry = access.entry_parameters()
            if self.capture_objects is None:
                raise UsageError(f"{self._label()}: capture_objects not read, so the columns are unknown")
            first = max(entry.from_selected_value, 1) - 1
            last = entry.to_selected_value or len(self.capture_objects)
            return self.capture_objects[first:last]
        return None

    def rows(self, buffer: Any = None, *, scalers: Mapping[Any, ScalerUnit] | None = None,
             access: SelectiveAccessDescriptor | None = None,
             columns: Iterable[CaptureObjectDefinition] | None = None,
             local_tz: _dt.tzinfo | None = None) -> ProfileRows:
        """The buffer (attribute 2 as read, or ``buffer``: a Data, or the plain
        rows of :func:`dlmsfast.axdr.decode`) as :class:`ProfileRows`.

        ``scalers`` maps a capture object (or the OBIS of a register) to its
        ScalerUnit; ``access`` is the selective access the buffer was read with
        (it says which columns came); ``local_tz`` the zone of date-times the
        meter sends without deviation.
        """
        if buffer is None:
            buffer = self.buffer
            if buffer is None:
                raise UsageError(f"{self._label()}: buffer not read")
        what = f"{self._label()} attribute 2 buffer"
        if isinstance(buffer, Data):
            entries = BUFFER.decode(buffer, what)
        elif isinstance(buffer, (list, tuple)):
            for i, entry in enumerate(buffer):
                if not isinstance(entry, (tuple, list)):
                    raise DecodeError(f"{what}[{i}]: a buffer entry is a structure, got {type(entry).__name__}")
            entries = buffer
        else:
            raise UsageError(f"a buffer is a Data or a list of rows, not {type(buffer).__name__}")
        selected = columns if columns is not None else self.selected_columns(access)
        cols = self.columns(selected, scalers)
        period = self.capture_period or 0
        width = len(cols)
        for i, entry in enumerate(entries):
            if len(entry) != width:
                raise DecodeError(f"{what}[{i}]: {len(entry)} values for {width} capture objects")
        # Column by column: what to do with a column is decided once, and each
        # column is converted in one pass (the hot path of a profile read).
        values_by_column = list(zip(*entries)) if entries else [()] * width
        converted = []
        for j, (column, values) in enumerate(zip(cols, values_by_column)):
            where = f"{what}[%d][{j}]"
            if column.date_time:
                converted.append(_timestamps(values, period, local_tz, where))
            elif (column.data_index == 0 and _choice_column(column)
                  and scaler_unit_attribute(column.class_id, column.attribute_index) is None):
                converted.append(_maybe_timestamps(values, column.scaler_unit, period, local_tz, where))
            else:
                converted.append(_plain(values, column.scaler_unit, local_tz))
        rows = list(zip(*converted)) if entries else []
        return ProfileRows(cols, tuple(rows))

    # --- selective access ------------------------------------------------------

    def clock_column(self) -> CaptureObjectDefinition:
        """The capture object that a range is restricted on: the first date-time
        column, else the sort object, else the clock 0.0.1.0.0.255 attribute 2."""
        for capture in self.capture_objects or ():
            if _is_date_time_attribute(capture):
                return capture
        if self.sort_object is not None and self.sort_object.class_id:
            return self.sort_object
        return CaptureObjectDefinition(8, Obis(0, 0, 1, 0, 0, 255), 2, 0)

    def range_access(self, start: _dt.datetime | DateTime, end: _dt.datetime | DateTime,
                     columns: Sequence[CaptureObjectDefinition] = (),
                     restricting_object: CaptureObjectDefinition | None = None
                     ) -> SelectiveAccessDescriptor:
        """Selective access by range (selector 1): entries whose clock column is
        in [start, end]. An aware datetime carries its deviation; a naive one is
        sent with the deviation "not specified" (the meter's local time)."""
        restricting = restricting_object or self.clock_column()
        return SelectiveAccessDescriptor.range_descriptor(
            restricting, from_timestamp(start), from_timestamp(end), tuple(columns))

    @staticmethod
    def entry_access(from_entry: int = 1, to_entry: int = 0, from_column: int = 1,
                     to_column: int = 0) -> SelectiveAccessDescriptor:
        """Selective access by entry (selector 2), counted from 1; 0 = to the last."""
        return SelectiveAccessDescriptor.entry_descriptor(from_entry, to_entry, from_column, to_column)


def _choice_column(column: Column) -> bool:
    """A column whose attribute type the tables leave open (CHOICE)."""
    cls = interface_class(column.class_id)
    if cls is None:
        return True
    for attribute in cls.attributes:
        if attribute.index == column.attribute_index:
            return isinstance(attribute.type, Choice)
    return True


def _timestamps(values: Sequence[Any], period: int, local_tz: _dt.tzinfo | None,
                where: str) -> list:
    """A date-time column; a null entry continues from the previous one."""
    if all(cell.__class__ is bytes and len(cell) == 12 for cell in values):
        return to_timestamps(values, local_tz)  # the common column, in one loop
    out = []
    previous = None
    for i, cell in enumerate(values):
        if cell.__class__ is bytes and len(cell) == 12:
            previous = to_timestamp(cell, local_tz)
        else:
            previous = _timestamp(cell, previous, period, local_tz, where % i)
        out.append(previous)
    return out


def _maybe_timestamps(values: Sequence[Any], scaler_unit: ScalerUnit | None, period: int,
                      local_tz: _dt.tzinfo | None, where: str) -> list:
    """A CHOICE column: date-times where the cells are ones, else values."""
    out = []
    previous = None
    for i, cell in enumerate(values):
        if cell.__class__ is DateTime or (cell.__class__ is bytes and len(cell) == 12
                                          and plausible_date_time(cell)):
            previous = value = _timestamp(cell, previous, period, local_tz, where % i)
        elif scaler_unit is not None:
            value = scaler_unit.scale(cell)
        else:
            value = cell
        out.append(value)
    return out


def _plain(values: Sequence[Any], scaler_unit: ScalerUnit | None, local_tz: _dt.tzinfo | None) -> Sequence:
    """A column of values, scaled when its scaler_unit is known; in an
    unscaled column a date-time tag still becomes a timestamp."""
    if scaler_unit is not None:
        return scaler_unit.scale_many(values)
    return [to_timestamp(v, local_tz) if v.__class__ is DateTime else v for v in values]


def _timestamp(cell: Any, previous: Any, period: int, local_tz: _dt.tzinfo | None,
               what: str) -> Any:
    if cell is None:
        if isinstance(previous, _dt.datetime) and period:
            return previous + _dt.timedelta(seconds=period)
        return None
    if isinstance(cell, (bytes, bytearray)):
        if len(cell) != 12:
            raise DecodeError(f"{what}: a date-time has 12 octets, got {len(cell)}")
        return to_timestamp(cell, local_tz)
    if isinstance(cell, DateTime):
        return to_timestamp(cell, local_tz)
    raise DecodeError(f"{what}: expected a date-time, got {type(cell).__name__}")


__all__ = ["BUFFER", "Column", "ProfileGeneric", "ProfileRows", "SortMethod"]
