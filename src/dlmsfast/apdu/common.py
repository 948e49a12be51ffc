"""Building blocks shared by the xDLMS APDUs (IEC 62056-5-3, Green Book ch. 9).

Invoke-Id-And-Priority (one octet, get/set/action)::

      bit 7      bit 6          bits 5-4   bits 3-0
    +----------+--------------+----------+-----------+
    | priority | service-class| reserved | invoke-id |
    | 1 = high | 1 = confirmed|          | 0..15     |
    +----------+--------------+----------+-----------+

Long-Invoke-Id-And-Priority (four octets, data-notification)::

    bit 31    30             29                 28               27-24     23-0
    priority  service-class  processing-option  self-descriptive reserved  invoke-id

Cosem-Attribute-Descriptor / Cosem-Method-Descriptor (9 octets)::

    +--------------+------------------+-----------------------------+
    | class-id (2) | instance-id (6)  | attribute-id / method-id (1)|
    +--------------+------------------+-----------------------------+

Selective-Access-Descriptor, after an OPTIONAL flag (00 absent, 01 present)::

    access-selector (Unsigned8) | access-parameters (A-XDR Data)

Get-Data-Result: CHOICE ``00`` + Data (data [0]) | ``01`` + enum (data-access-result [1]).

DataBlock-G / DataBlock-SA (block transfer of long GET / SET / ACTION)::

    last-block (BOOLEAN) | block-number (Unsigned32) |
        G:  00 + raw-data OCTET STRING  or  01 + data-access-result
        SA: raw-data OCTET STRING

OCTET STRINGs and SEQUENCE OF counts carry an A-XDR length (0x81/0x82 forms
from 128 up). Integers are big-endian.

Also here: the Data-Access-Result and Action-Result enumerations with their Blue
Book names; the Profile Generic selective access (range and entry descriptors,
built and read back); and the machinery of the get/set/action modules:
:class:`ServiceApdu` with :func:`variant` (tag, choice and invoke-id-and-priority
handled once, fields checked against their annotations), the cursor
(:class:`Reader`) that every decoder uses, so each
:class:`~dlmsfast.errors.DecodeError` carries the absolute offset in the APDU,
and its counterpart :class:`Writer`.
"""
from __future__ import annotations

import struct
import types
import typing
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any, ClassVar, Union

from ..axdr import Data, DataType, DateTime, decode_length_from, decode_typed_from, encode, encode_length
from .._enum import BlueBookEnum
from .._util import _check_range, as_bytes, octets_argument, require
from ..cosem.descriptors import (
    _DESCRIPTOR_CACHE,
    _DESCRIPTOR_CACHE_SIZE,
    _DESCRIPTOR_LAYOUT,
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    EntryDescriptor,
    RangeDescriptor,
    SelectiveAccessDescriptor,
    describe_attribute,
)
from ..cosem.obis import Obis
from ..errors import DecodeError, EncodeError, UsageError

_Buffer = Union[bytes, bytearray, memoryview]


class ServiceClass(BlueBookEnum):
    UNCONFIRMED = 0
    CONFIRMED = 1


class Priority(BlueBookEnum):
    NORMAL = 0
    HIGH = 1


class ProcessingOption(BlueBookEnum):
    CONTINUE_ON_ERROR = 0
    BREAK_ON_ERROR = 1


class DataAccessResult(BlueBookEnum):
    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250

    def describe(self) -> dict[str, Any]:
        return {"data_access_result": int(self), "name": self.blue_book_name}


class ActionResult(BlueBookEnum):
    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_ACTION_ABORTED = 15
    NO_LONG_ACTION_IN_PROGRESS = 16
    OTHER_REASON = 250


@dataclass(frozen=True, slots=True)
class InvokeIdAndPriority:
    """The first octet of every get/set/action APDU.

    ``reserved`` keeps bits 5-4 as received so that re-encoding is byte-exact.
    """

    invoke_id: int = 1
    service_class: ServiceClass = ServiceClass.CONFIRMED
    priority: Priority = Priority.HIGH
    reserved: int = 0
    value: int = field(init=False, repr=False, compare=False)
    """The octet as transmitted."""

    def __post_init__(self) -> None:
        _check_range("invoke_id", self.invoke_id, 0, 15)
        _check_range("reserved bits of invoke-id-and-priority", self.reserved, 0, 3)
        object.__setattr__(self, "service_class", ServiceClass.given(self.service_class, "service_class"))
        object.__setattr__(self, "priority", Priority.given(self.priority, "priority"))
        octet = self.priority << 7 | self.service_class << 6 | self.reserved << 4 | self.invoke_id
        object.__setattr__(self, "value", octet)

    @classmethod
    def from_byte(cls, value: int) -> "InvokeIdAndPriority":
        _check_range("invoke-id-and-priority", value, 0, 0xFF)
        return _INVOKE_ID_AND_PRIORITY[value]

    def describe(self) -> dict[str, Any]:
        return {
            "hex": f"{self.value:02X}",
            "invoke_id": self.invoke_id,
            "service_class": self.service_class.blue_book_name,
            "priority": self.priority.blue_book_name,
        }


_INVOKE_ID_AND_PRIORITY = tuple(
    InvokeIdAndPriority(b & 0x0F, ServiceClass(b >> 6 & 1), Priority(b >> 7), b >> 4 & 3)
    for b in range(256)
)
DEFAULT_INVOKE_ID_AND_PRIORITY = _INVOKE_ID_AND_PRIORITY[0xC1]
"""Invoke id 1, confirmed, high priority: what gurux-dlms and dlms-cosem send too."""


@dataclass(frozen=True, slots=True)
class LongInvokeIdAndPriority:
    """The four-octet invoke id of data-notification (and general-block-transfer users)."""

    invoke_id: int = 0
    self_descriptive: bool = False
    processing_option: ProcessingOption = ProcessingOption.CONTINUE_ON_ERROR
    service_class: ServiceClass = ServiceClass.UNCONFIRMED
    priority: Priority = Priority.NORMAL
    reserved: int = 0

    def __post_init__(self) -> None:
        _check_range("long invoke_id", self.invoke_id, 0, 0xFFFFFF)
        _check_range("reserved bits of long-invoke-id-and-priority", self.reserved, 0, 15)
        object.__setattr__(self, "self_descriptive", bool(self.self_descriptive))
        object.__setattr__(
            self, "processing_option", ProcessingOption.given(self.processing_option, "processing_option")
        )
        object.__setattr__(self, "service_class", ServiceClass.given(self.service_class, "service_class"))
        object.__setattr__(self, "priority", Priority.given(self.priority, "priority"))

    @property
    def value(self) -> int:
        return (
            self.priority << 31
            | self.service_class << 30
            | self.processing_option << 29
            | int(self.self_descriptive) << 28
            | self.reserved << 24
            | self.invoke_id
        )

    @classmethod
    def from_int(cls, value: int) -> "LongInvokeIdAndPriority":
        _check_range("long-invoke-id-and-priority", value, 0, 0xFFFFFFFF)
        return cls(
            value & 0xFFFFFF,
            bool(value >> 28 & 1),
            ProcessingOption(value >> 29 & 1),
            ServiceClass(value >> 30 & 1),
            Priority(value >> 31 & 1),
            value >> 24 & 0x0F,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "hex": f"{self.value:08X}",
            "invoke_id": self.invoke_id,
            "self_descriptive": self.self_descriptive,
            "processing_option": self.processing_option.blue_book_name,
            "service_class": self.service_class.blue_book_name,
            "priority": self.priority.blue_book_name,
        }


_BLOCK_HEAD = struct.Struct(">?I")  # BOOLEAN: any non-zero octet is TRUE


GetDataResult = Union[Data, DataAccessResult]
"""Get-Data-Result: the value read, or why it could not be read."""


def describe_get_data_result(result: GetDataResult) -> dict[str, Any]:
    if isinstance(result, DataAccessResult):
        return result.describe()
    return {"data": result.to_meaning()}


@dataclass(frozen=True, slots=True)
class DataBlockG:
    """A block of a long GET response: ``result`` is the raw-data octets, or the
    data-access-result that ended the transfer."""

    last_block: bool
    block_number: int
    result: Union[bytes, DataAccessResult]

    def __post_init__(self) -> None:
        _check_range("block_number", self.block_number, 0, 0xFFFFFFFF)
        object.__setattr__(self, "last_block", bool(self.last_block))
        if not isinstance(self.result, DataAccessResult):
            object.__setattr__(self, "result", octets_argument(self.result, "raw-data"))

    def describe(self) -> dict[str, Any]:
        head = {"last_block": self.last_block, "block_number": self.block_number}
        if isinstance(self.result, DataAccessResult):
            return {**head, **self.result.describe()}
        return {**head, "raw_data": self.result.hex().upper()}


@dataclass(frozen=True, slots=True)
class DataBlockSA:
    """A block of a long SET request or of a long ACTION (pblock)."""

    last_block: bool
    block_number: int
    raw_data: bytes

    def __post_init__(self) -> None:
        _check_range("block_number", self.block_number, 0, 0xFFFFFFFF)
        object.__setattr__(self, "last_block", bool(self.last_block))
        object.__setattr__(self, "raw_data", octets_argument(self.raw_data, "raw-data"))

    def describe(self) -> dict[str, Any]:
        return {
            "last_block": self.last_block,
            "block_number": self.block_number,
            "raw_data": self.raw_data.hex().upper(),
        }


def decoded(cls: type, **values: Any) -> Any:
    """An instance of a frozen dataclass made from decoded values.

    What a Reader returns is valid by construction (ints in range, tuples,
    enumeration members), so the checks that ``__init__`` runs for values given
    by callers are skipped on this path; every field must be given.
    """
    instance = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return instance


def open_apdu(data: Any, tag: int, apdu: str) -> "Reader":
    """A reader positioned after the tag octet, which must be ``tag``."""
    reader = Reader(as_bytes(data))
    first = reader.u8("APDU tag")
    if first != tag:
        raise DecodeError(f"not a {apdu}: tag {first:02X}, expected {tag:02X}", 0)
    return reader


class Reader:
    """A cursor over one APDU; every read is bounded by the octets present."""

    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def _truncated(self, n: int, what: str) -> DecodeError:
        left = len(self.buf) - self.pos
        return DecodeError(f"truncated {what}: needs {n} octet(s), {left} left", self.pos)

    def _need(self, n: int, what: str) -> int:
        start = self.pos
        if start + n > len(self.buf):
            raise self._truncated(n, what)
        self.pos = start + n
        return start

    def u8(self, what: str) -> int:
        pos = self.pos
        if pos >= len(self.buf):
            raise self._truncated(1, what)
        self.pos = pos + 1
        return self.buf[pos]

    def i8(self, what: str) -> int:
        value = self.u8(what)
        return value - 0x100 if value & 0x80 else value

    def u16(self, what: str) -> int:
        start = self._need(2, what)
        return self.buf[start] << 8 | self.buf[start + 1]

    def u32(self, what: str) -> int:
        start = self._need(4, what)
        return int.from_bytes(self.buf[start : start + 4], "big")

    def take(self, n: int, what: str) -> bytes:
        start = self._need(n, what)
        return self.buf[start : start + n]

    def optional(self, what: str) -> bool:
        """The presence flag of an OPTIONAL component (A-XDR: 00 absent, 01 present)."""
        flag = self.u8(what)
        if flag > 1:
            raise DecodeError(f"{what}: presence flag must be 00 or 01, got {flag:02X}", self.pos - 1)
        return flag == 1

    def length(self, what: str) -> int:
        start = self.pos
        if start >= len(self.buf):
            raise DecodeError(f"truncated {what}: length missing", start)
        try:
            n, self.pos = decode_length_from(self.buf, start)
        except DecodeError as error:
            raise DecodeError(f"{what}: {error.message}", error.offset) from None
        if n > len(self.buf) - self.pos:
            raise DecodeError(
                f"{what}: length {n} exceeds the {len(self.buf) - self.pos} octet(s) left", start
            )
        return n

    def octet_string(self, what: str) -> bytes:
        return self.take(self.length(what), what)

    def data(self, what: str) -> Data:
        if self.pos >= len(self.buf):
            raise DecodeError(f"truncated {what}: A-XDR Data missing", self.pos)
        value, self.pos = decode_typed_from(self.buf, self.pos)
        return value

    def optional_data(self, what: str) -> Data | None:
        return self.data(what) if self.optional(what) else None

    def choice(self, what: str, allowed: tuple[int, ...]) -> int:
        tag = self.u8(what)
        if tag not in allowed:
            raise DecodeError(f"unknown {what} choice {tag}", self.pos - 1)
        return tag

    def enum(self, cls: type[BlueBookEnum], what: str):
        value = self.u8(what)
        return cls.read(value, self.pos - 1, what)

    def _descriptor(self, cls):
        start = self._need(9, cls.NAME)
        key = self.buf[start : start + 9]
        cache = _DESCRIPTOR_CACHE[cls]
        descriptor = cache.get(key)
        if descriptor is None:
            class_id, instance_id, member_id = _DESCRIPTOR_LAYOUT.unpack(key)
            descriptor = cls(class_id, Obis.from_bytes(instance_id), member_id)
            if len(cache) >= _DESCRIPTOR_CACHE_SIZE:
                cache.clear()
            cache[key] = descriptor
        return descriptor

    def attribute_descriptor(self) -> CosemAttributeDescriptor:
        return self._descriptor(CosemAttributeDescriptor)

    def method_descriptor(self) -> CosemMethodDescriptor:
        return self._descriptor(CosemMethodDescriptor)

    def access_selection(self) -> SelectiveAccessDescriptor | None:
        if not self.optional("access-selection"):
            return None
        selector = self.u8("access-selector")
        return SelectiveAccessDescriptor(selector, self.data("access-parameters"))

    def attribute_head(self) -> dict[str, Any]:
        """cosem-attribute-descriptor and access-selection, as keyword arguments."""
        descriptor = self.attribute_descriptor()
        return {"cosem_attribute_descriptor": descriptor, "access_selection": self.access_selection()}

    def attribute_with_selection(self) -> CosemAttributeDescriptorWithSelection:
        descriptor = self.attribute_descriptor()
        return CosemAttributeDescriptorWithSelection(descriptor, self.access_selection())

    def sequence_of(self, read, what: str) -> tuple:
        # Every element takes at least one octet, so the length bound by the
        # remaining octets also bounds the loop.
        count = self.length(what)
        return tuple(read() for _ in range(count))

    def get_data_result(self) -> GetDataResult:
        if self.choice("get-data-result", (0, 1)) == 0:
            return self.data("data")
        return self.enum(DataAccessResult, "data-access-result")

    def _block_head(self) -> tuple[bool, int]:
        """last-block and block-number, the head of every DataBlock."""
        start = self._need(5, "datablock head (last-block, block-number)")
        return _BLOCK_HEAD.unpack_from(self.buf, start)

    def datablock_g(self) -> DataBlockG:
        last_block, block_number = self._block_head()
        if self.choice("datablock-g result", (0, 1)) == 0:
            result = self.octet_string("raw-data")
        else:
            result = self.enum(DataAccessResult, "data-access-result")
        return decoded(DataBlockG, last_block=last_block, block_number=block_number, result=result)

    def datablock_sa(self) -> DataBlockSA:
        last_block, block_number = self._block_head()
        raw_data = self.octet_string("raw-data")
        return decoded(DataBlockSA, last_block=last_block, block_number=block_number, raw_data=raw_data)

    def finish(self, what: str) -> None:
        if self.pos != len(self.buf):
            raise DecodeError(
                f"{len(self.buf) - self.pos} trailing octet(s) after the {what}", self.pos
            )


class Writer:
    """Builds one APDU; the counterpart of :class:`Reader`."""

    __slots__ = ("out",)

    def __init__(self, *head: int) -> None:
        self.out = bytearray(head)

    def u8(self, value: int, what: str) -> None:
        if not 0 <= value <= 0xFF:
            raise EncodeError(f"{what} must be 0..255, got {value}")
        self.out.append(value)

    def u16(self, value: int, what: str) -> None:
        if not 0 <= value <= 0xFFFF:
            raise EncodeError(f"{what} must be 0..65535, got {value}")
        self.out += value.to_bytes(2, "big")

    def u32(self, value: int, what: str) -> None:
        if not 0 <= value <= 0xFFFFFFFF:
            raise EncodeError(f"{what} must be 0..4294967295, got {value}")
        self.out += value.to_bytes(4, "big")

    def raw(self, octets: bytes) -> None:
        self.out += octets

    def octet_string(self, octets: bytes) -> None:
        self.out += encode_length(len(octets))
        self.out += octets

    def length(self, n: int) -> None:
        self.out += encode_length(n)

    def data(self, value: Data) -> None:
        self.out += encode(value)

    def data_list(self, values: tuple[Data, ...]) -> None:
        """SEQUENCE OF Data: the count, then each value."""
        self.out += encode_length(len(values))
        for value in values:
            self.out += encode(value)

    def optional_data(self, value: Data | None) -> None:
        if value is None:
            self.out.append(0)
        else:
            self.out.append(1)
            self.out += encode(value)

    def access_selection(self, selection: SelectiveAccessDescriptor | None) -> None:
        if selection is None:
            self.out.append(0)
            return
        self.out.append(1)
        self.out.append(selection.access_selector)
        self.out += encode(selection.access_parameters)

    def attribute_with_selection(
        self, descriptor: CosemAttributeDescriptor, selection: SelectiveAccessDescriptor | None
    ) -> None:
        self.out += descriptor.to_bytes()
        self.access_selection(selection)

    def attribute_descriptor_list(
        self, items: tuple[CosemAttributeDescriptorWithSelection, ...]
    ) -> None:
        self.length(len(items))
        for item in items:
            self.attribute_with_selection(item.cosem_attribute_descriptor, item.access_selection)

    def get_data_result(self, result: GetDataResult) -> None:
        if isinstance(result, DataAccessResult):
            self.out.append(1)
            self.out.append(result)
        elif isinstance(result, Data):
            self.out.append(0)
            self.out += encode(result)
        else:
            raise EncodeError(
                f"a Get-Data-Result is a Data or a DataAccessResult, got {type(result).__name__}"
            )

    def datablock_g(self, block: DataBlockG) -> None:
        self.out.append(1 if block.last_block else 0)
        self.u32(block.block_number, "block-number")
        if isinstance(block.result, DataAccessResult):
            self.out.append(1)
            self.out.append(block.result)
        else:
            self.out.append(0)
            self.octet_string(block.result)

    def datablock_sa(self, block: DataBlockSA) -> None:
        self.out.append(1 if block.last_block else 0)
        self.u32(block.block_number, "block-number")
        self.octet_string(block.raw_data)

    def bytes(self) -> bytes:
        return bytes(self.out)


_SERVICE_NAMES = {
    0xC0: "get-request",
    0xC1: "set-request",
    0xC3: "action-request",
    0xC4: "get-response",
    0xC5: "set-response",
    0xC7: "action-response",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceApdu:
    """What every get/set/action variant shares: tag, choice and invoke-id-and-priority
    octets, then the body.

    A variant is declared with :func:`variant` and defines three hooks for its
    body: ``_read(reader, invoke_id_and_priority)``, ``_write(writer)`` and
    ``_describe()``.
    """

    TAG: ClassVar[int]
    CHOICE: ClassVar[int]
    APDU: ClassVar[str]
    CHOICE_NAME: ClassVar[str]
    _FIELD_RULES: ClassVar[tuple]

    invoke_id_and_priority: InvokeIdAndPriority = DEFAULT_INVOKE_ID_AND_PRIORITY

    def __post_init__(self) -> None:
        # Each field is checked against its annotation (rules made once per class
        # by variant()), so a wrong argument is a UsageError here rather than an
        # AttributeError deep inside to_bytes().
        for name, many, accepted, coerce in self._FIELD_RULES:
            value = getattr(self, name)
            if many:
                if not isinstance(value, (tuple, list)):
                    raise UsageError(
                        f"{self.CHOICE_NAME}: {name} must be a sequence, got {type(value).__name__}"
                    )
                object.__setattr__(
                    self, name, tuple(self._checked(name, item, accepted, coerce) for item in value)
                )
            elif not isinstance(value, accepted):
                object.__setattr__(self, name, self._checked(name, value, accepted, coerce))

    def _checked(self, name: str, value: Any, accepted: tuple[type, ...], coerce: type | None) -> Any:
        if isinstance(value, accepted):
            return value
        if coerce is not None and type(value) is int:
            try:
                return coerce(value)
            except ValueError:
                raise UsageError(f"{self.CHOICE_NAME}: {value} is not a {coerce.__name__}") from None
        expected = " or ".join("None" if t is type(None) else t.__name__ for t in accepted)
        raise UsageError(f"{self.CHOICE_NAME}: {name} must be {expected}, got {type(value).__name__}")

    @classmethod
    def from_bytes(cls, data: _Buffer):
        """Decode one whole APDU of this variant; trailing octets are an error."""
        reader = open_apdu(data, cls.TAG, cls.APDU)
        choice = reader.u8(f"{cls.APDU} choice")
        if choice != cls.CHOICE:
            raise DecodeError(
                f"not a {cls.CHOICE_NAME}: choice {choice}, expected {cls.CHOICE}", 1
            )
        return cls._read_whole(reader)

    @classmethod
    def _read_whole(cls, reader: "Reader"):
        iip = InvokeIdAndPriority.from_byte(reader.u8("invoke-id-and-priority"))
        apdu = cls._read(reader, iip)
        reader.finish(cls.CHOICE_NAME)
        return apdu

    def to_bytes(self) -> bytes:
        # invoke_id_and_priority was checked by __post_init__ (or decoded).
        writer = Writer(self.TAG, self.CHOICE, self.invoke_id_and_priority.value)
        self._write(writer)
        return writer.bytes()

    def describe(self) -> dict[str, Any]:
        """The meaning in the schema of shared/vectors (xdlms.json)."""
        return {
            "apdu": self.APDU,
            "choice": self.CHOICE_NAME,
            "invoke_id_and_priority": self.invoke_id_and_priority.describe(),
            **self._describe(),
        }


class BlockNumberBody:
    """Body of the variants that carry only a block-number (Unsigned32): the
    acknowledgements and next-block requests of block transfer."""

    __slots__ = ()

    @classmethod
    def _read(cls, r: "Reader", iip: InvokeIdAndPriority):
        return decoded(cls, invoke_id_and_priority=iip, block_number=r.u32("block-number"))

    def _write(self, w: "Writer") -> None:
        w.u32(self.block_number, "block-number")

    def _describe(self) -> dict[str, Any]:
        return {"block_number": self.block_number}


class DataBlockSABody:
    """Body of the variants that carry only a DataBlock-SA, in the field named
    by ``BLOCK_FIELD`` (``datablock`` for SET, ``pblock`` for ACTION)."""

    __slots__ = ()
    BLOCK_FIELD: ClassVar[str]

    @classmethod
    def _read(cls, r: "Reader", iip: InvokeIdAndPriority):
        return decoded(cls, **{"invoke_id_and_priority": iip, cls.BLOCK_FIELD: r.datablock_sa()})

    def _write(self, w: "Writer") -> None:
        w.datablock_sa(getattr(self, self.BLOCK_FIELD))

    def _describe(self) -> dict[str, Any]:
        return {self.BLOCK_FIELD: getattr(self, self.BLOCK_FIELD).describe()}


def _accepted(hint: Any) -> tuple[type, ...]:
    if typing.get_origin(hint) in (Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _accepted(arg))
    return (hint,)


def _field_rules(cls: type) -> tuple[tuple[str, bool, tuple[type, ...], type | None], ...]:
    """(field, is a sequence, accepted classes, enum to turn a plain int into)."""
    hints = typing.get_type_hints(cls)
    rules = []
    for f in fields(cls):
        hint = hints[f.name]
        many = typing.get_origin(hint) is tuple
        accepted = _accepted(typing.get_args(hint)[0] if many else hint)
        enums = [t for t in accepted if isinstance(t, type) and issubclass(t, BlueBookEnum)]
        coerce = enums[0] if len(accepted) == 1 and enums else None
        rules.append((f.name, many, accepted, coerce))
    return tuple(rules)


def variant(tag: int, choice: int, choice_name: str):
    """Declare a get/set/action variant: its tag, its choice octet and the
    standard's name for it; the class becomes a frozen, slotted, keyword-only
    dataclass whose fields follow ``invoke_id_and_priority``."""

    def declare(cls):
        cls.TAG = tag
        cls.CHOICE = choice
        cls.APDU = _SERVICE_NAMES[tag]
        cls.CHOICE_NAME = choice_name
        declared = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        declared._FIELD_RULES = _field_rules(declared)
        return declared

    return declare


def read_choice(data: _Buffer, apdu: str, variants: dict[int, type]):
    """Decode a tag + choice APDU whose choice selects one of ``variants``."""
    buf = as_bytes(data)
    reader = Reader(buf, 1)
    choice = reader.u8(f"{apdu} choice")
    cls = variants.get(choice)
    if cls is None:
        raise DecodeError(f"unknown {apdu} choice {choice}", 1)
    if len(buf) < 3:
        raise reader._truncated(1, "invoke-id-and-priority")
    reader.pos = 3
    result = cls._read(reader, _INVOKE_ID_AND_PRIORITY[buf[2]])
    reader.finish(cls.CHOICE_NAME)
    return result


# The public names; ServiceApdu, variant(), Reader, Writer and the body mixins
# are the machinery of the sibling modules.
__all__ = [
    "DEFAULT_INVOKE_ID_AND_PRIORITY",
    "ActionResult",
    "BlueBookEnum",
    "CaptureObjectDefinition",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "DataAccessResult",
    "DataBlockG",
    "DataBlockSA",
    "EntryDescriptor",
    "GetDataResult",
    "InvokeIdAndPriority",
    "LongInvokeIdAndPriority",
    "Priority",
    "ProcessingOption",
    "RangeDescriptor",
    "SelectiveAccessDescriptor",
    "ServiceClass",
]
