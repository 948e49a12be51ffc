"""Attribute and method-parameter types of the interface classes: each turns
the A-XDR :class:`~dlmsfast.axdr.Data` a peer sent into a Python value and back.

One object per Blue Book type, declared once and shared by the class tables
(``cosem/classes/*``):

=====================  ===================================  ======================
type                   Blue Book                            Python value
=====================  ===================================  ======================
``Simple(tag)``        boolean, unsigned, long, octet-       int / bool / bytes /
                       string, visible-string, bit-string,   str / BitString ...
                       float32 ...
``Integer(tag)``       the integer types; a meter may send   int
                       another integer tag, the value counts
``Enumerated(E)``      enum with Blue Book names             member of E (an int
                                                             for a code E lacks)
``LOGICAL_NAME``       octet-string(6)                       :class:`Obis`
``DATE_TIME``          octet-string(12) or date-time         :class:`DateTime` (a
                                                             datetime is taken)
``Choice()``           CHOICE / "instance specific"          the plain value; the
                                                             Data tag is kept
``ANY_DATA``           CHOICE inside a structure or array    the Data itself
``ArrayOf(t)``         array of t                            tuple
``Record(cls, ...)``   structure {named members}             a frozen dataclass
=====================  ===================================  ======================

Decoding takes untrusted Data: every mismatch raises
:class:`~dlmsfast.errors.DecodeError` whose message starts with ``what`` (the
object and attribute being decoded), never a bare exception. Encoding checks
the value and raises :class:`~dlmsfast.errors.EncodeError` naming ``what``.
"""
from __future__ import annotations

import abc
import dataclasses
import datetime as _dt
from collections.abc import Callable, Sequence
from typing import Any

from .._enum import BlueBookEnum
from ..axdr import BitString, Data, DataType, Date, DateTime, Time
from ..errors import DecodeError, DlmsError, EncodeError
from .obis import Obis
from .._util import shown

INTEGER_TYPES = frozenset(
    (
        DataType.INTEGER, DataType.LONG, DataType.DOUBLE_LONG, DataType.LONG64,
        DataType.UNSIGNED, DataType.LONG_UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED,
        DataType.LONG64_UNSIGNED,
    )
)


def _tag_name(value: Any) -> str:
    if isinstance(value, Data):
        return value.type.blue_book_name
    return type(value).__name__


def _expect(data: Any, tag: DataType, what: str) -> Any:
    if not isinstance(data, Data) or data.type is not tag:
        raise DecodeError(f"{what}: expected {tag.blue_book_name}, got {_tag_name(data)}")
    return data.value


def make_data(tag: DataType, value: Any, what: str) -> Data:
    """A Data node whose value the compiled codec checks; its EncodeError gets ``what``."""
    try:
        return Data(tag, value)
    except EncodeError as exc:
        raise EncodeError(f"{what}: {exc}") from None
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"{what}: {tag.blue_book_name} cannot hold {shown(value)} ({exc})") from None


class AttributeType(abc.ABC):
    """Base of the types: ``decode(data, what)`` and ``encode(value, what)``.

    ``name`` is the Blue Book spelling shown in tables; ``tag`` the Data tag on
    the wire (None where the standard leaves it open: CHOICE).
    """

    name: str = ""
    tag: DataType | None = None
    #: the object holding the value keeps the Data it came in, and sends that
    #: back while the value is unchanged (plain values lose their tags)
    keeps_data: bool = False

    @abc.abstractmethod
    def decode(self, data: Data, what: str) -> Any:
        """The value of ``data`` received for ``what``."""

    @abc.abstractmethod
    def encode(self, value: Any, what: str) -> Data:
        """The Data that carries ``value`` for ``what``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class Simple(AttributeType):
    """A simple type checked by its tag; the value is the codec's plain value."""

    def __init__(self, tag: DataType, name: str | None = None) -> None:
        self.tag = tag
        self.name = name or tag.blue_book_name

    def decode(self, data: Data, what: str) -> Any:
        return _expect(data, self.tag, what)

    def encode(self, value: Any, what: str) -> Data:
        return make_data(self.tag, value, what)


_INTEGER_RANGES = {
    DataType.INTEGER: (-0x80, 0x7F),
    DataType.LONG: (-0x8000, 0x7FFF),
    DataType.DOUBLE_LONG: (-0x80000000, 0x7FFFFFFF),
    DataType.LONG64: (-(1 << 63), (1 << 63) - 1),
    DataType.UNSIGNED: (0, 0xFF),
    DataType.LONG_UNSIGNED: (0, 0xFFFF),
    DataType.DOUBLE_LONG_UNSIGNED: (0, 0xFFFFFFFF),
    DataType.LONG64_UNSIGNED: (0, (1 << 64) - 1),
}


class Integer(Simple):
    """An integer type. Meters are known to send a neighbouring integer tag
    (long-unsigned for unsigned ...): any integer tag is read as long as the
    value lies in the declared type's range (so that it can be sent back with
    the declared tag); outside it, the value is a DecodeError."""

    def decode(self, data: Data, what: str) -> int:
        if not isinstance(data, Data) or data.type not in INTEGER_TYPES:
            raise DecodeError(f"{what}: expected {self.name}, got {_tag_name(data)}")
        low, high = _INTEGER_RANGES[self.tag]
        if not low <= data.value <= high:
            raise DecodeError(f"{what}: {data.value} is outside {self.name} ({low}..{high})")
        return data.value


class Enumerated(AttributeType):
    """enum with the Blue Book's names: a member of ``enum``; a code that the
    enumeration lacks (manufacturer-specific values) is kept as a plain int."""

    tag = DataType.ENUM

    def __init__(self, enum: type[BlueBookEnum], name: str = "enum") -> None:
        self.enum = enum
        self.name = name

    def decode(self, data: Data, what: str) -> Any:
        if not isinstance(data, Data) or data.type not in (DataType.ENUM, DataType.UNSIGNED):
            raise DecodeError(f"{what}: expected enum, got {_tag_name(data)}")
        try:
            return self.enum(data.value)
        except ValueError:
            return data.value

    def encode(self, value: Any, what: str) -> Data:
        if type(value) is bool or not isinstance(value, int):
            raise EncodeError(f"{what}: an enum takes an int or a {self.enum.__name__}, not {shown(value)}")
        return make_data(DataType.ENUM, int(value), what)


class _LogicalName(AttributeType):
    tag = DataType.OCTET_STRING
    name = "octet-string(6)"

    def decode(self, data: Data, what: str) -> Obis:
        raw = _expect(data, DataType.OCTET_STRING, what)
        if len(raw) != 6:
            raise DecodeError(f"{what}: a logical name has 6 octets, got {len(raw)}")
        return Obis.from_bytes(raw)

    def encode(self, value: Any, what: str) -> Data:
        try:
            obis = Obis.parse(value)
        except DlmsError as exc:
            raise EncodeError(f"{what}: {exc}") from None
        return Data(DataType.OCTET_STRING, obis.to_bytes())


class _ClockValue(AttributeType):
    """A clock value held in an octet-string (the Blue Book's usual form) or in
    its own tag (date-time, date, time); either is read, the octet-string is
    written unless the value came with the other tag."""

    tag = DataType.OCTET_STRING

    def __init__(self, kind: type, own_tag: DataType, size: int) -> None:
        self.kind = kind
        self.own_tag = own_tag
        self.size = size
        self.name = f"octet-string({size})"

    def decode(self, data: Data, what: str) -> Any:
        if isinstance(data, Data) and data.type is self.own_tag:
            return data.value
        raw = _expect(data, DataType.OCTET_STRING, what)
        if len(raw) != self.size:
            raise DecodeError(
                f"{what}: a COSEM {self.own_tag.blue_book_name} has {self.size} octets, got {len(raw)}")
        return self.kind.from_bytes(raw)

    def encode(self, value: Any, what: str) -> Data:
        value = _from_python_clock(value, self.kind)
        if not isinstance(value, self.kind):
            raise EncodeError(f"{what}: expected a {self.kind.__name__}, not {type(value).__name__}")
        try:
            return Data(DataType.OCTET_STRING, value.to_bytes())
        except EncodeError as exc:
            raise EncodeError(f"{what}: {exc}") from None


def _from_python_clock(value: Any, kind: type) -> Any:
    """A datetime / date / time given where a COSEM clock value is declared."""
    if kind is DateTime and isinstance(value, _dt.datetime):
        return DateTime.from_datetime(value)
    if kind is Date and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return Date.from_date(value)
    if kind is Time and isinstance(value, _dt.time):
        return Time.from_time(value)
    return value


class Choice(AttributeType):
    """CHOICE (an "instance specific" value): any Data; the value is its plain
    form (:meth:`Data.to_plain`). The tag is remembered by the object holding
    the value, so that a new value of the same attribute is sent with it."""

    name = "CHOICE"
    keeps_data = True

    def decode(self, data: Data, what: str) -> Any:
        if not isinstance(data, Data):
            raise DecodeError(f"{what}: expected a Data value, got {type(data).__name__}")
        return data.to_plain()

    def encode(self, value: Any, what: str, like: Data | None = None) -> Data:
        if isinstance(value, Data):
            return value
        if like is not None and like.type not in (DataType.ARRAY, DataType.STRUCTURE,
                                                  DataType.COMPACT_ARRAY):
            return make_data(like.type, value, what)
        return make_data(_guess_tag(value, what), value, what)


class AnyData(AttributeType):
    """A CHOICE inside a structure or an array, where no object can remember
    its tag: the value is the :class:`~dlmsfast.axdr.Data` node itself, sent
    back exactly as received."""

    name = "CHOICE (Data)"

    def decode(self, data: Data, what: str) -> Data:
        if not isinstance(data, Data):
            raise DecodeError(f"{what}: expected a Data value, got {type(data).__name__}")
        return data

    def encode(self, value: Any, what: str) -> Data:
        if isinstance(value, Data):
            return value
        return make_data(_guess_tag(value, what), value, what)


def _guess_tag(value: Any, what: str) -> DataType:
    """The tag of a plain value set without one; integers get the smallest
    of the usual register types that holds them."""
    if value is None:
        return DataType.NULL_DATA
    if type(value) is bool:
        return DataType.BOOLEAN
    if isinstance(value, int):
        if value >= 0:
            return DataType.DOUBLE_LONG_UNSIGNED if value <= 0xFFFFFFFF else DataType.LONG64_UNSIGNED
        return DataType.DOUBLE_LONG if value >= -0x80000000 else DataType.LONG64
    if isinstance(value, float):
        return DataType.FLOAT64
    if isinstance(value, (bytes, bytearray, memoryview)):
        return DataType.OCTET_STRING
    if isinstance(value, str):
        return DataType.VISIBLE_STRING
    if isinstance(value, BitString):
        return DataType.BIT_STRING
    if isinstance(value, DateTime):
        return DataType.DATE_TIME
    if isinstance(value, Date):
        return DataType.DATE
    if isinstance(value, Time):
        return DataType.TIME
    raise EncodeError(f"{what}: give a dlmsfast.axdr.Data for a {type(value).__name__} value")


class ArrayOf(AttributeType):
    """array of one element type; the value is a tuple."""

    tag = DataType.ARRAY

    def __init__(self, element: AttributeType, name: str | None = None) -> None:
        self.element = element
        self.name = name or f"array of {element.name}"

    def decode(self, data: Data, what: str) -> tuple:
        items = _expect(data, DataType.ARRAY, what)
        decode = self.element.decode
        try:
            # the place is named only when something is wrong: an object list
            # has thousands of members
            return tuple([decode(item, "") for item in items])
        except DecodeError as exc:
            index = next(i for i, item in enumerate(items) if _fails(decode, item))
            raise DecodeError(f"{what}[{index}]{exc.message}", exc.offset) from None

    def encode(self, value: Any, what: str) -> Data:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise EncodeError(f"{what}: an array takes a sequence, not {type(value).__name__}")
        element = self.element
        return Data(DataType.ARRAY, tuple(element.encode(v, f"{what}[{i}]") for i, v in enumerate(value)))


def _fails(decode: Callable[[Data, str], Any], item: Data) -> bool:
    try:
        decode(item, "")
    except DecodeError:
        return True
    return False


class Record(AttributeType):
    """structure {member: type, ...} read into the frozen dataclass ``cls``,
    whose fields are the members in order (the Blue Book's names)."""

    tag = DataType.STRUCTURE

    def __init__(self, cls: type, *members: AttributeType, name: str | None = None) -> None:
        fields = dataclasses.fields(cls)
        if len(fields) != len(members):
            raise TypeError(f"{cls.__name__} has {len(fields)} fields, {len(members)} member types given")
        self.cls = cls
        self.members = tuple((f.name, t) for f, t in zip(fields, members))
        self.name = name or cls.__name__

    def decode(self, data: Data, what: str) -> Any:
        items = _expect(data, DataType.STRUCTURE, what)
        if len(items) != len(self.members):
            raise DecodeError(
                f"{what}: {self.name} is a structure of {len(self.members)} members, got {len(items)}")
        values = []
        for (name, member_type), item in zip(self.members, items):
            try:
                values.append(member_type.decode(item, ""))
            except DecodeError as exc:
                raise DecodeError(f"{what}.{name}{exc.message}", exc.offset) from None
        try:
            return self.cls(*values)
        except DlmsError as exc:
            raise DecodeError(f"{what}: {exc}") from None

    def encode(self, value: Any, what: str) -> Data:
        if not isinstance(value, self.cls):
            raise EncodeError(f"{what}: expected a {self.cls.__name__}, not {type(value).__name__}")
        return Data(
            DataType.STRUCTURE,
            tuple(t.encode(getattr(value, name), f"{what}.{name}") for name, t in self.members),
        )


class Converted(AttributeType):
    """A type whose value class has its own ``from_data(data, what)`` and
    ``to_data()`` (ScalerUnit, CaptureObjectDefinition)."""

    def __init__(self, cls: type, tag: DataType, name: str,
                 read: Callable[[Data, str], Any] | None = None) -> None:
        self.cls = cls
        self.tag = tag
        self.name = name
        self._read = read

    def decode(self, data: Data, what: str) -> Any:
        if self._read is not None:
            # the reader names ``what`` in its own errors
            return self._read(data, what)
        try:
            return self.cls.from_data(data)
        except DecodeError as exc:
            raise DecodeError(f"{what}: {exc.message}") from None
        except DlmsError as exc:
            raise DecodeError(f"{what}: {exc}") from None

    def encode(self, value: Any, what: str) -> Data:
        if not isinstance(value, self.cls):
            raise EncodeError(f"{what}: expected a {self.cls.__name__}, not {type(value).__name__}")
        return value.to_data()


class ContextName(AttributeType):
    """application_context_name / authentication_mechanism_name: read from an
    octet-string holding the BER contents of the object identifier (Association
    LN version 1 and later, e.g. ``60 85 74 05 08 01 01``) or from the structure
    of seven numbers of version 0; the value is the OID as a tuple of ints,
    ``(2, 16, 756, 5, 8, 1, 1)``. Written as the form of ``structure_form``."""

    tag = None
    name = "context_name_type"

    def __init__(self, structure_form: bool) -> None:
        self.structure_form = structure_form
        self.tag = DataType.STRUCTURE if structure_form else DataType.OCTET_STRING

    def decode(self, data: Data, what: str) -> tuple[int, ...]:
        if isinstance(data, Data) and data.type is DataType.STRUCTURE:
            parts = data.value
            if len(parts) != 7 or any(p.type not in INTEGER_TYPES for p in parts):
                raise DecodeError(f"{what}: a context name structure has 7 integers")
            return tuple(p.value for p in parts)
        raw = _expect(data, DataType.OCTET_STRING, what)
        return _oid_from_ber(raw, what)

    def encode(self, value: Any, what: str) -> Data:
        oid = tuple(value)
        if len(oid) < 2 or any(type(n) is not int or n < 0 for n in oid):
            raise EncodeError(f"{what}: an object identifier is a sequence of ints >= 0, not {shown(value)}")
        if self.structure_form:
            if len(oid) != 7:
                raise EncodeError(f"{what}: the structure form holds exactly 7 arcs")
            tags = (DataType.UNSIGNED, DataType.UNSIGNED, DataType.LONG_UNSIGNED) + (DataType.UNSIGNED,) * 4
            return Data(DataType.STRUCTURE, tuple(make_data(t, n, what) for t, n in zip(tags, oid)))
        return Data(DataType.OCTET_STRING, _oid_to_ber(oid, what))


def _oid_from_ber(raw: bytes, what: str) -> tuple[int, ...]:
    # Some meters send the whole TLV (06 07 60 85 ...): the tag and length go.
    if len(raw) >= 2 and raw[0] == 0x06 and raw[1] == len(raw) - 2:
        raw = raw[2:]
    if not raw or raw[-1] & 0x80:
        raise DecodeError(f"{what}: not the encoding of an object identifier: {raw.hex()}")
    arcs: list[int] = []
    n = 0
    for octet in raw:
        n = (n << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(n)
            n = 0
    first = arcs[0]
    head = (2, first - 80) if first >= 80 else (first // 40, first % 40)
    return head + tuple(arcs[1:])


def _oid_to_ber(oid: tuple[int, ...], what: str) -> bytes:
    if oid[0] > 2 or (oid[0] < 2 and oid[1] >= 40):
        raise EncodeError(f"{what}: {oid} is not an object identifier")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1],) + oid[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


class _NullOrInteger(AttributeType):
    """The parameter of methods declared "data ::= integer(0)"; null-data is
    accepted too because several meters send that."""

    tag = DataType.INTEGER
    name = "integer(0)"

    def decode(self, data: Data, what: str) -> int:
        if isinstance(data, Data) and data.type is DataType.NULL_DATA:
            return 0
        if not isinstance(data, Data) or data.type not in INTEGER_TYPES:
            raise DecodeError(f"{what}: expected integer(0), got {_tag_name(data)}")
        return data.value

    def encode(self, value: Any, what: str) -> Data:
        return make_data(DataType.INTEGER, 0 if value is None else value, what)


BOOLEAN = Simple(DataType.BOOLEAN)
OCTET_STRING = Simple(DataType.OCTET_STRING)
VISIBLE_STRING = Simple(DataType.VISIBLE_STRING)
BIT_STRING = Simple(DataType.BIT_STRING)
INTEGER = Integer(DataType.INTEGER)
LONG = Integer(DataType.LONG)
DOUBLE_LONG = Integer(DataType.DOUBLE_LONG)
UNSIGNED = Integer(DataType.UNSIGNED)
LONG_UNSIGNED = Integer(DataType.LONG_UNSIGNED)
DOUBLE_LONG_UNSIGNED = Integer(DataType.DOUBLE_LONG_UNSIGNED)
LOGICAL_NAME = _LogicalName()
DATE_TIME = _ClockValue(DateTime, DataType.DATE_TIME, 12)
DATE = _ClockValue(Date, DataType.DATE, 5)
TIME = _ClockValue(Time, DataType.TIME, 4)
CHOICE = Choice()
ANY_DATA = AnyData()
INTEGER_ZERO = _NullOrInteger()


__all__ = [
    "BIT_STRING",
    "BOOLEAN",
    "CHOICE",
    "DATE",
    "DATE_TIME",
    "DOUBLE_LONG",
    "DOUBLE_LONG_UNSIGNED",
    "INTEGER",
    "INTEGER_TYPES",
    "INTEGER_ZERO",
    "LOGICAL_NAME",
    "LONG",
    "LONG_UNSIGNED",
    "OCTET_STRING",
    "TIME",
    "UNSIGNED",
    "VISIBLE_STRING",
    "ArrayOf",
    "AttributeType",
    "Choice",
    "ContextName",
    "Converted",
    "Enumerated",
    "Integer",
    "Record",
    "Simple",
    "make_data",
]
