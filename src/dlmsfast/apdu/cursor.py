"""The cursor every xDLMS decoder reads with (:class:`Reader`) and its
counterpart :class:`Writer`.

A Reader walks one APDU and never slices ahead of a check: every count is
bounded by the octets that remain, and every
:class:`~dlmsfast.errors.DecodeError` carries the absolute offset in the APDU
and names the field. OCTET STRINGs and SEQUENCE OF counts carry an A-XDR
length (0x81/0x82 forms from 128 up); integers are big-endian.
"""
from __future__ import annotations

import struct
from typing import Any

from .._enum import BlueBookEnum
from .._util import as_bytes
from ..axdr import Data, decode_length_from, decode_typed_from, encode, encode_length
from ..cosem.descriptors import (
    _DESCRIPTOR_CACHE,
    _DESCRIPTOR_CACHE_SIZE,
    _DESCRIPTOR_LAYOUT,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    SelectiveAccessDescriptor,
)
from ..cosem.obis import Obis
from ..errors import DecodeError, EncodeError
from .results import DataAccessResult, DataBlockG, DataBlockSA, GetDataResult

_BLOCK_HEAD = struct.Struct(">?I")  # BOOLEAN: any non-zero octet is TRUE


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
