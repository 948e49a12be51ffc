"""Value classes of the A-XDR layer: data type tags, clock values, bit-strings,
type descriptions and the dont-care marker.

These are plain Python on purpose: they are made once per clock value or per
compact-array, never once per integer, so the compiled codec in ``_axdr``
imports them and calls ``from_bytes`` / ``to_bytes`` here rather than keeping a
second copy of the layouts.

Clock layouts (IEC 62056-6-2 4.1.6.1), every field as transmitted::

    date (5 octets)       year(2) month day day_of_week
    time (4 octets)       hour minute second hundredths
    date-time (12 octets) year(2) month day day_of_week hour minute second
                          hundredths deviation(2, signed) clock_status

"Not specified" is 0xFF in a one-octet field, 0xFFFF for the year, 0x8000 for
the deviation; these become ``None``. The deviation is in minutes from local
time to UTC, so ``-60`` means local time = UTC+01:00.

Type description (the contents-description of a compact-array)::

    simple type   tag
    array         01 | number-of-elements (2 octets) | element description
    structure     02 | count (A-XDR length) | element description ...
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple, Union

from .._enum import BlueBookEnum
from .._util import as_bytes, octets_argument, require, shown
from ..errors import DecodeError, EncodeError, UsageError


class DataType(BlueBookEnum):
    """The Data CHOICE tags of the Blue Book (IEC 62056-6-2)."""

    NULL_DATA = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    COMPACT_ARRAY = 19
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27
    DELTA_INTEGER = 28
    DELTA_LONG = 29
    DELTA_DOUBLE_LONG = 30
    DELTA_UNSIGNED = 31
    DELTA_LONG_UNSIGNED = 32
    DELTA_DOUBLE_LONG_UNSIGNED = 33
    DONT_CARE = 255

    @classmethod
    def from_blue_book_name(cls, name: str) -> "DataType":
        try:
            return cls[name.upper().replace("-", "_")]
        except (KeyError, AttributeError):
            raise UsageError(f"unknown DLMS data type name {shown(name)}") from None


class DontCare:
    """The value of a dont-care (tag 255) node; use the :data:`DONT_CARE` singleton."""

    __slots__ = ()
    _instance: Optional["DontCare"] = None

    def __new__(cls) -> "DontCare":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DONT_CARE"

    def __reduce__(self) -> str:
        return "DONT_CARE"


DONT_CARE = DontCare()


def _octet_field(value: Optional[int], name: str) -> int:
    """A one-octet clock field: None is "not specified" (0xFF)."""
    if value is None:
        return 0xFF
    if type(value) is not int or not 0 <= value <= 0xFE:
        raise EncodeError(f"{name} must be None or an int in 0..254, not {shown(value)}")
    return value


def _year_field(value: Optional[int]) -> bytes:
    if value is None:
        return b"\xff\xff"
    if type(value) is not int or not 0 <= value <= 0xFFFE:
        raise EncodeError(f"year must be None or an int in 0..65534, not {shown(value)}")
    return value.to_bytes(2, "big")


def _octet(value: int) -> Optional[int]:
    return None if value == 0xFF else value


def _hex_or_none(value: Optional[int]) -> Optional[str]:
    return None if value is None else f"{value:02X}"


def _need_fields(obj: object, names: Tuple[str, ...], what: str) -> None:
    missing = [n for n in names if getattr(obj, n) is None]
    if missing:
        raise UsageError(f"cannot convert to {what}: not specified: {', '.join(missing)}")


def _check_length(data: bytes, size: int, what: str) -> bytes:
    data = as_bytes(data, f"a {what}")
    if len(data) != size:
        raise DecodeError(f"{what} needs {size} octets, got {len(data)}", 0)
    return data


# IEC 62056-6-2 4.1.6.1 gives the deviation's range for the UTC offsets time
# zones use (-12 h .. +14 h: the Blue Book prints -720..+720 in older editions,
# -720..+840 later); the field counts minutes from local time to UTC, so UTC+14
# is -840, and New Zealand's summer time (UTC+13) -780. Both signs are taken up
# to 840 on encode: every real offset passes in either convention (some
# companion standards count UTC to local), and what no time zone gives (1000)
# does not. Received octets are kept as they are (DateTime.from_bytes).
MAX_DEVIATION = 840

_DATE_FIELDS = ("year", "month", "day", "day_of_week")
_TIME_FIELDS = ("hour", "minute", "second", "hundredths")
_DATE_TIME_FIELDS = _DATE_FIELDS + _TIME_FIELDS + ("deviation", "clock_status")


class _ClockFields:
    """The vector-schema form shared by the clock values: one key per field."""

    __slots__ = ()
    _FIELDS: Tuple[str, ...] = ()

    def to_meaning(self) -> dict:
        return {name: getattr(self, name) for name in self._FIELDS}

    @classmethod
    def from_meaning(cls, fields: dict):
        require(fields, dict, "the fields of a clock value")
        missing = [name for name in cls._FIELDS if name not in fields]
        if missing:
            raise UsageError(f"clock value fields missing: {', '.join(missing)}")
        return cls(*(fields[name] for name in cls._FIELDS))


@dataclass(frozen=True, slots=True)
class Date(_ClockFields):
    """A DLMS date; ``None`` in a field means "not specified"."""

    _FIELDS = _DATE_FIELDS

    year: Optional[int] = None
    month: Optional[int] = None
    day: Optional[int] = None
    day_of_week: Optional[int] = None

    @classmethod
    def from_bytes(cls, data: bytes) -> "Date":
        data = _check_length(data, 5, "date")
        year = int.from_bytes(data[0:2], "big")
        return cls(None if year == 0xFFFF else year, _octet(data[2]), _octet(data[3]),
                   _octet(data[4]))

    def to_bytes(self) -> bytes:
        return _year_field(self.year) + bytes((
            _octet_field(self.month, "month"),
            _octet_field(self.day, "day"),
            _octet_field(self.day_of_week, "day_of_week"),
        ))

    @classmethod
    def from_date(cls, value: _dt.date) -> "Date":
        require(value, _dt.date, "value")
        return cls(value.year, value.month, value.day, value.isoweekday())

    def to_date(self) -> _dt.date:
        """The :class:`datetime.date`; year, month and day must be specified."""
        _need_fields(self, ("year", "month", "day"), "date")
        try:
            return _dt.date(self.year, self.month, self.day)  # type: ignore[arg-type]
        except ValueError as exc:
            raise UsageError(f"not a calendar date: {exc}") from None



@dataclass(frozen=True, slots=True)
class Time(_ClockFields):
    """A DLMS time; ``None`` in a field means "not specified"."""

    _FIELDS = _TIME_FIELDS

    hour: Optional[int] = None
    minute: Optional[int] = None
    second: Optional[int] = None
    hundredths: Optional[int] = None

    @classmethod
    def from_bytes(cls, data: bytes) -> "Time":
        data = _check_length(data, 4, "time")
        return cls(*(_octet(b) for b in data))

    def to_bytes(self) -> bytes:
        return bytes(_octet_field(getattr(self, n), n) for n in _TIME_FIELDS)

    @classmethod
    def from_time(cls, value: _dt.time) -> "Time":
        require(value, _dt.time, "value")
        return cls(value.hour, value.minute, value.second, value.microsecond // 10000)

    def to_time(self) -> _dt.time:
        """The :class:`datetime.time`; hour, minute and second must be specified
        (unspecified hundredths count as 0)."""
        _need_fields(self, ("hour", "minute", "second"), "time")
        try:
            return _dt.time(self.hour, self.minute, self.second,  # type: ignore[arg-type]
                            (self.hundredths or 0) * 10000)
        except ValueError as exc:
            raise UsageError(f"not a time of day: {exc}") from None



@dataclass(frozen=True, slots=True)
class DateTime(_ClockFields):
    """A DLMS date-time (12 octets), fields as transmitted, ``None`` = not specified.

    ``deviation`` is minutes from local time to UTC (-60 means UTC+01:00);
    ``clock_status`` is the status octet (0x80 = daylight saving active).
    """

    _FIELDS = _DATE_TIME_FIELDS

    year: Optional[int] = None
    month: Optional[int] = None
    day: Optional[int] = None
    day_of_week: Optional[int] = None
    hour: Optional[int] = None
    minute: Optional[int] = None
    second: Optional[int] = None
    hundredths: Optional[int] = None
    deviation: Optional[int] = None
    clock_status: Optional[int] = None

    @classmethod
    def from_bytes(cls, data: bytes) -> "DateTime":
        """Read the 12 octets of a date-time (also how octet-string clock values are read).

        Fields are kept as transmitted, a deviation beyond
        ±:data:`MAX_DEVIATION` too (the standard gives the range, not what a
        receiver does with a value outside it): a profile or a push is not lost
        for one odd clock; :meth:`to_bytes` refuses to send it again, and
        :meth:`to_datetime` refuses a deviation of a day or more."""
        data = _check_length(data, 12, "date-time")
        year = int.from_bytes(data[0:2], "big")
        deviation = int.from_bytes(data[9:11], "big", signed=True)
        month, day, day_of_week, hour, minute, second, hundredths = (_octet(b) for b in data[2:9])
        return cls(
            None if year == 0xFFFF else year,
            month, day, day_of_week, hour, minute, second, hundredths,
            None if deviation == -0x8000 else deviation,
            _octet(data[11]),
        )

    def to_bytes(self) -> bytes:
        deviation = self.deviation
        if deviation is None:
            deviation = -0x8000
        elif type(deviation) is not int or not -MAX_DEVIATION <= deviation <= MAX_DEVIATION:
            raise EncodeError(f"deviation must be None (not specified) or minutes in "
                              f"-{MAX_DEVIATION}..{MAX_DEVIATION}, not {shown(deviation)}")
        return (
            _year_field(self.year)
            + bytes(_octet_field(getattr(self, n), n) for n in _DATE_TIME_FIELDS[1:8])
            + deviation.to_bytes(2, "big", signed=True)
            + bytes((_octet_field(self.clock_status, "clock_status"),))
        )

    @classmethod
    def from_datetime(cls, value: _dt.datetime, clock_status: Optional[int] = 0) -> "DateTime":
        """From a :class:`datetime.datetime`; an aware one gives the deviation."""
        require(value, _dt.datetime, "value")
        offset = value.utcoffset()
        deviation = None
        if offset is not None:
            minutes, rest = divmod(offset, _dt.timedelta(minutes=1))
            if rest:
                raise EncodeError(f"the UTC offset {offset} is not whole minutes: a "
                                  "date-time's deviation counts minutes")
            deviation = -minutes
            if not -MAX_DEVIATION <= deviation <= MAX_DEVIATION:
                raise EncodeError(f"the UTC offset {offset} is beyond the date-time "
                                  f"deviation's -{MAX_DEVIATION}..{MAX_DEVIATION} minutes")
        return cls(value.year, value.month, value.day, value.isoweekday(), value.hour,
                   value.minute, value.second, value.microsecond // 10000, deviation,
                   clock_status)

    def to_datetime(self) -> _dt.datetime:
        """The :class:`datetime.datetime`, aware when the deviation is specified.

        Year, month, day, hour, minute and second must be specified; unspecified
        hundredths count as 0.
        """
        _need_fields(self, ("year", "month", "day", "hour", "minute", "second"), "datetime")
        try:
            # a deviation of a day or more (possible in received octets) is no
            # UTC offset: timezone() refuses it with a ValueError
            tzinfo = None
            if self.deviation is not None:
                tzinfo = _dt.timezone(_dt.timedelta(minutes=-self.deviation))
            return _dt.datetime(self.year, self.month, self.day,  # type: ignore[arg-type]
                                self.hour, self.minute, self.second,  # type: ignore[arg-type]
                                (self.hundredths or 0) * 10000, tzinfo)
        except ValueError as exc:
            raise UsageError(f"not a calendar date and time: {exc}") from None

    @property
    def date(self) -> Date:
        return Date(self.year, self.month, self.day, self.day_of_week)

    @property
    def time(self) -> Time:
        return Time(self.hour, self.minute, self.second, self.hundredths)

    def to_meaning(self) -> dict:
        fields = _ClockFields.to_meaning(self)
        fields["clock_status"] = _hex_or_none(self.clock_status)
        return fields

    @classmethod
    def from_meaning(cls, fields: dict) -> "DateTime":
        require(fields, dict, "the fields of a date-time")
        status = fields.get("clock_status")
        if status is not None:
            if not isinstance(status, str) or not status or status.strip("0123456789abcdefABCDEF"):
                raise UsageError(f"clock_status must be hex or None, got {shown(status)}")
            status = int(status, 16)
        return super(DateTime, cls).from_meaning({**fields, "clock_status": status})


@dataclass(frozen=True, slots=True)
class BitString:
    """A bit-string: ``length`` bits held in ``data`` (first bit = MSB of octet 0).

    ``data`` keeps the padding bits as transmitted so a decoded value re-encodes
    to the same octets; ``str()`` gives the bits as ``"0"``/``"1"`` characters.
    """

    data: bytes
    length: int

    def __post_init__(self) -> None:
        if type(self.data) is not bytes:
            object.__setattr__(self, "data", octets_argument(self.data, "bit-string data", EncodeError))
        if type(self.length) is not int or self.length < 0:
            raise EncodeError(f"bit-string length must be an int >= 0, not {shown(self.length)}")
        if len(self.data) != (self.length + 7) // 8:
            raise EncodeError(
                f"bit-string of {self.length} bits needs {(self.length + 7) // 8} octets, "
                f"got {len(self.data)}")

    @classmethod
    def from_str(cls, bits: str, padding: str = "") -> "BitString":
        """From a string of ``0``/``1`` characters; the last octet is padded with
        ``padding`` (the bits after the last one, as transmitted), else zeros."""
        if not isinstance(bits, str) or not isinstance(padding, str) \
                or bits.strip("01") or padding.strip("01"):
            raise EncodeError(f"a bit-string is made of 0 and 1 characters, not {shown(bits)}")
        if len(padding) > -len(bits) % 8:
            raise EncodeError(f"{len(padding)} padding bits after {len(bits)} bits do not "
                              "fit the last octet")
        padded = bits + padding + "0" * (-(len(bits) + len(padding)) % 8)
        return cls(int(padded, 2).to_bytes(len(padded) // 8, "big") if padded else b"",
                   len(bits))

    def __str__(self) -> str:
        if not self.length:
            return ""
        return format(int.from_bytes(self.data, "big"), f"0{len(self.data) * 8}b")[:self.length]

    @property
    def padding(self) -> str:
        """The bits after the last one in the last octet, as transmitted."""
        total = len(self.data) * 8
        if total == self.length:
            return ""
        return format(int.from_bytes(self.data, "big"), f"0{total}b")[self.length:]

    def _significant(self) -> bytes:
        """``data`` with the padding bits cleared: what the value is."""
        spare = -self.length % 8
        if not spare:
            return self.data
        return self.data[:-1] + bytes((self.data[-1] & (0xFF << spare) & 0xFF,))

    # Equal bits are equal values whatever the padding (which keeps only what
    # was transmitted, for re-encoding): a0 and a1 both carry 101 in 3 bits.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitString):
            return NotImplemented
        return self.length == other.length and self._significant() == other._significant()

    def __hash__(self) -> int:
        return hash((self.length, self._significant()))

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bool]:
        return (c == "1" for c in str(self))

    def __getitem__(self, index: int) -> bool:
        if not -self.length <= index < self.length:
            raise IndexError("bit-string index out of range")
        index %= self.length
        return bool(self.data[index >> 3] & (0x80 >> (index & 7)))


DescriptionLike = Union[DataType, "TypeDescription"]


@dataclass(frozen=True, slots=True)
class TypeDescription:
    """What a value looks like without its tags (Blue Book TypeDescription).

    ``TypeDescription(DataType.UNSIGNED)`` for a simple type,
    ``TypeDescription.structure(a, b, ...)`` and ``TypeDescription.array(element, count)``
    for the constructed ones. For :func:`dlmsfast.axdr.encode` an array ``count``
    may be ``None`` ("as many as given"); a compact-array needs it. A description of
    type ``COMPACT_ARRAY`` (``TypeDescription.compact_array(contents)``) tells the plain
    encoder to write a compact-array with ``element`` as its contents-description.
    """

    type: DataType
    elements: Tuple["TypeDescription", ...] = ()
    element: Optional["TypeDescription"] = None
    count: Optional[int] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", DataType.given(self.type, "the type of a description"))
        require(self.elements, (tuple, list), "the elements of a type description")
        object.__setattr__(self, "elements", tuple(_as_description(e) for e in self.elements))
        if self.element is not None:
            object.__setattr__(self, "element", _as_description(self.element))
        kind = self.type
        if kind is DataType.STRUCTURE:
            if self.element is not None or self.count is not None:
                raise UsageError("a structure description has elements, not element/count")
        elif kind in (DataType.ARRAY, DataType.COMPACT_ARRAY):
            if self.element is None or self.elements:
                raise UsageError(f"a {kind.blue_book_name} description needs one element")
            if self.count is not None and (type(self.count) is not int
                                           or not 0 <= self.count <= 0xFFFF):
                raise UsageError(f"array count must be None or 0..65535, not {shown(self.count)}")
        elif self.elements or self.element is not None or self.count is not None:
            raise UsageError(f"{kind.blue_book_name} is a simple type")

    @classmethod
    def structure(cls, *elements: DescriptionLike) -> "TypeDescription":
        return cls(DataType.STRUCTURE, elements=tuple(_as_description(e) for e in elements))

    @classmethod
    def array(cls, element: DescriptionLike, count: Optional[int] = None) -> "TypeDescription":
        return cls(DataType.ARRAY, element=element, count=count)  # type: ignore[arg-type]

    @classmethod
    def compact_array(cls, contents: DescriptionLike) -> "TypeDescription":
        return cls(DataType.COMPACT_ARRAY, element=contents)  # type: ignore[arg-type]

    @classmethod
    def of(cls, node) -> "TypeDescription":
        """The description of a typed :class:`~dlmsfast.axdr.Data` node, e.g. of the
        first row of a buffer, to encode more rows like it. Arrays get no count;
        the first element of an array stands for all of them."""
        from ._axdr import Data  # the compiled codec imports this module while it loads

        require(node, Data, "node")
        try:
            return cls._of(node)
        except RecursionError:
            raise UsageError("a Data tree nested too deep to describe") from None

    @classmethod
    def _of(cls, node) -> "TypeDescription":
        kind = DataType(node.type)
        if kind is DataType.STRUCTURE:
            return cls.structure(*(cls._of(e) for e in node.value))
        if kind is DataType.ARRAY:
            if not node.value:
                raise UsageError("an empty array does not tell its element type")
            return cls.array(cls._of(node.value[0]))
        if kind is DataType.COMPACT_ARRAY:
            return cls.compact_array(node.contents_description)
        return cls(kind)

    def to_meaning(self) -> dict:
        if self.type is DataType.STRUCTURE:
            return {"type": "structure", "elements": [e.to_meaning() for e in self.elements]}
        if self.element is not None:
            return {"type": self.type.blue_book_name, "count": self.count,
                    "element": self.element.to_meaning()}
        return {"type": self.type.blue_book_name}

    @classmethod
    def from_meaning(cls, meaning: dict) -> "TypeDescription":
        require(meaning, dict, "a type description meaning")
        kind = DataType.from_blue_book_name(_field(meaning, "type", str))
        if kind is DataType.STRUCTURE:
            elements = _field(meaning, "elements", list)
            return cls(kind, elements=tuple(cls.from_meaning(e) for e in elements))
        if kind in (DataType.ARRAY, DataType.COMPACT_ARRAY):
            return cls(kind, element=cls.from_meaning(_field(meaning, "element", dict)),
                       count=meaning.get("count"))
        return cls(kind)


def _field(meaning: dict, name: str, kind: type):
    if name not in meaning:
        raise UsageError(f"a type description meaning needs {shown(name)}")
    require(meaning[name], kind, f"a type description's {name}")
    return meaning[name]


def _as_description(value: object) -> TypeDescription:
    if isinstance(value, TypeDescription):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return TypeDescription(DataType.given(value, "a type description"))
    raise UsageError(f"a type description is a DataType or a TypeDescription, not {shown(value)}")


__all__ = [
    "BlueBookEnum",
    "DataType",
    "DontCare",
    "DONT_CARE",
    "Date",
    "Time",
    "DateTime",
    "BitString",
    "TypeDescription",
]
