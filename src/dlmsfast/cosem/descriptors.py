"""COSEM object references carried by the xDLMS services (Blue Book / Green Book 9):
attribute and method descriptors, capture object definitions (Profile Generic
columns) and selective access (range and entry descriptors).

Cosem-Attribute-Descriptor / Cosem-Method-Descriptor (9 octets)::

    +--------------+------------------+-----------------------------+
    | class-id (2) | instance-id (6)  | attribute-id / method-id (1)|
    +--------------+------------------+-----------------------------+

Selective-Access-Descriptor, after an OPTIONAL flag (00 absent, 01 present)::

    access-selector (Unsigned8) | access-parameters (A-XDR Data)
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._util import _check_range, require
from ..axdr import Data, DataType, DateTime
from ..errors import DecodeError, UsageError
from .obis import Obis


def _obis(value: Any) -> Obis:
    return value if isinstance(value, Obis) else Obis.parse(value)


class _CosemDescriptor:
    """class-id, instance-id (OBIS) and a member id, the attribute- or method-id
    named by ``MEMBER`` (Integer8 in the standard)."""

    __slots__ = ()
    NAME: ClassVar[str]
    MEMBER: ClassVar[str]

    def __post_init__(self) -> None:
        _check_range("class_id", self.class_id, 0, 0xFFFF)
        member = getattr(self, self.MEMBER)
        _check_range(self.MEMBER, member, -128, 127)
        instance_id = _obis(self.instance_id)
        object.__setattr__(self, "instance_id", instance_id)
        # Made once: a descriptor is built once and sent in many requests.
        octets = _DESCRIPTOR_LAYOUT.pack(self.class_id, instance_id.to_bytes(), member)
        object.__setattr__(self, "octets", octets)

    def to_bytes(self) -> bytes:
        return self.octets

    def to_meaning(self) -> dict[str, Any]:
        return {
            "class_id": self.class_id,
            "instance_id": str(self.instance_id),
            self.MEMBER: getattr(self, self.MEMBER),
        }


@dataclass(frozen=True, slots=True)
class CosemAttributeDescriptor(_CosemDescriptor):
    NAME: ClassVar[str] = "cosem-attribute-descriptor"
    MEMBER: ClassVar[str] = "attribute_id"

    class_id: int
    instance_id: Obis
    attribute_id: int
    octets: bytes = field(init=False, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class CosemMethodDescriptor(_CosemDescriptor):
    NAME: ClassVar[str] = "cosem-method-descriptor"
    MEMBER: ClassVar[str] = "method_id"

    class_id: int
    instance_id: Obis
    method_id: int
    octets: bytes = field(init=False, repr=False, compare=False)


_DESCRIPTOR_LAYOUT = struct.Struct(">H6sb")
# A client reads the same few attributes over and over: decoded descriptors are
# immutable, so the 9 octets can map to one shared object (a bounded cache).
_DESCRIPTOR_CACHE: dict[type, dict[bytes, Any]] = {CosemAttributeDescriptor: {}, CosemMethodDescriptor: {}}
_DESCRIPTOR_CACHE_SIZE = 4096


# Access selectors are defined per interface class; Profile Generic (IC 7) is the
# one every head-end uses, so its two selectors get their Blue Book names.
_SELECTOR_NAMES = {7: {1: "range_descriptor", 2: "entry_descriptor"}}


@dataclass(frozen=True, slots=True)
class CaptureObjectDefinition:
    """One column of a Profile Generic buffer (Blue Book IC 7 capture_objects)."""

    class_id: int
    logical_name: Obis
    attribute_index: int
    data_index: int = 0

    def __post_init__(self) -> None:
        _check_range("class_id", self.class_id, 0, 0xFFFF)
        _check_range("attribute_index", self.attribute_index, -128, 127)
        _check_range("data_index", self.data_index, 0, 0xFFFF)
        object.__setattr__(self, "logical_name", _obis(self.logical_name))

    def to_data(self) -> Data:
        return Data(
            DataType.STRUCTURE,
            (
                Data(DataType.LONG_UNSIGNED, self.class_id),
                Data(DataType.OCTET_STRING, self.logical_name.to_bytes()),
                Data(DataType.INTEGER, self.attribute_index),
                Data(DataType.LONG_UNSIGNED, self.data_index),
            ),
        )

    @classmethod
    def from_data(cls, value: Data) -> "CaptureObjectDefinition":
        """Read the structure a peer sent; a different shape is a DecodeError."""
        class_id, logical_name, attribute_index, data_index = _values_of(
            value,
            (DataType.LONG_UNSIGNED, DataType.OCTET_STRING, DataType.INTEGER, DataType.LONG_UNSIGNED),
            "capture_object_definition",
        )
        if len(logical_name) != 6:
            raise DecodeError(f"capture_object_definition: logical_name has {len(logical_name)} octets, not 6")
        return cls(class_id, Obis.from_bytes(logical_name), attribute_index, data_index)


def _members(value: Data, what: str) -> tuple[Data, ...]:
    if not isinstance(value, Data) or value.type is not DataType.STRUCTURE:
        raise DecodeError(f"{what} must be a structure")
    return value.value


def _values_of(value: Data, types_: tuple[DataType, ...], what: str) -> tuple:
    """The plain values of a structure whose members have the given types."""
    members = _members(value, what)
    if len(members) != len(types_) or any(m.type is not t for m, t in zip(members, types_)):
        expected = ", ".join(t.blue_book_name for t in types_)
        got = ", ".join(m.type.blue_book_name for m in members)
        raise DecodeError(f"{what} must be a structure of {{{expected}}}, got {{{got}}}")
    return tuple(m.value for m in members)


@dataclass(frozen=True, slots=True)
class RangeDescriptor:
    """The parameters of Profile Generic selector 1, as read from a request."""

    restricting_object: CaptureObjectDefinition
    from_value: Data
    to_value: Data
    selected_values: tuple[CaptureObjectDefinition, ...] = ()


@dataclass(frozen=True, slots=True)
class EntryDescriptor:
    """The parameters of Profile Generic selector 2, as read from a request."""

    from_entry: int
    to_entry: int
    from_selected_value: int
    to_selected_value: int


def _range_bound(value: Any) -> Data:
    if isinstance(value, Data):
        return value
    if isinstance(value, DateTime):
        # Profile Generic range bounds on the clock column are the clock's own
        # type: a 12-octet octet-string, not the date-time tag 25.
        return Data(DataType.OCTET_STRING, value.to_bytes())
    raise UsageError(f"a range bound must be a Data or a DateTime, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class SelectiveAccessDescriptor:
    """access-selector and its access-parameters (an A-XDR Data)."""

    access_selector: int
    access_parameters: Data

    def __post_init__(self) -> None:
        _check_range("access_selector", self.access_selector, 0, 255)
        if not isinstance(self.access_parameters, Data):
            raise UsageError("access_parameters must be a dlmsfast.axdr.Data")

    @classmethod
    def range_descriptor(
        cls,
        restricting_object: CaptureObjectDefinition,
        from_value: Any,
        to_value: Any,
        selected_values: tuple[CaptureObjectDefinition, ...] | list[CaptureObjectDefinition] = (),
    ) -> "SelectiveAccessDescriptor":
        """Selector 1 of Profile Generic: rows whose restricting column lies in
        [from_value, to_value]; no selected values means every column."""
        require(restricting_object, CaptureObjectDefinition, "restricting_object")
        require(selected_values, (tuple, list), "selected_values")
        for column in selected_values:
            require(column, CaptureObjectDefinition, "a selected value")
        return cls(
            1,
            Data(
                DataType.STRUCTURE,
                (
                    restricting_object.to_data(),
                    _range_bound(from_value),
                    _range_bound(to_value),
                    Data(DataType.ARRAY, tuple(c.to_data() for c in selected_values)),
                ),
            ),
        )

    @classmethod
    def entry_descriptor(
        cls,
        from_entry: int = 1,
        to_entry: int = 0,
        from_selected_value: int = 1,
        to_selected_value: int = 0,
    ) -> "SelectiveAccessDescriptor":
        """Selector 2 of Profile Generic: rows and columns by index, counted from 1;
        ``to_entry`` 0 means up to the newest entry, ``to_selected_value`` 0 the last column."""
        _check_range("from_entry", from_entry, 0, 0xFFFFFFFF)
        _check_range("to_entry", to_entry, 0, 0xFFFFFFFF)
        _check_range("from_selected_value", from_selected_value, 0, 0xFFFF)
        _check_range("to_selected_value", to_selected_value, 0, 0xFFFF)
        return cls(
            2,
            Data(
                DataType.STRUCTURE,
                (
                    Data(DataType.DOUBLE_LONG_UNSIGNED, from_entry),
                    Data(DataType.DOUBLE_LONG_UNSIGNED, to_entry),
                    Data(DataType.LONG_UNSIGNED, from_selected_value),
                    Data(DataType.LONG_UNSIGNED, to_selected_value),
                ),
            ),
        )

    def range_parameters(self) -> RangeDescriptor:
        """The range_descriptor carried by selector 1 (what a server must filter by)."""
        self._expect_selector(1, "range_descriptor")
        members = _members(self.access_parameters, "range_descriptor")
        if len(members) != 4 or members[3].type is not DataType.ARRAY:
            raise DecodeError(
                "range_descriptor must be a structure of {restricting_object, from_value, "
                "to_value, selected_values (array)}"
            )
        restricting, from_value, to_value, selected = members
        return RangeDescriptor(
            CaptureObjectDefinition.from_data(restricting),
            from_value,
            to_value,
            tuple(CaptureObjectDefinition.from_data(column) for column in selected.value),
        )

    def entry_parameters(self) -> EntryDescriptor:
        """The entry_descriptor carried by selector 2."""
        self._expect_selector(2, "entry_descriptor")
        return EntryDescriptor(
            *_values_of(
                self.access_parameters,
                (
                    DataType.DOUBLE_LONG_UNSIGNED,
                    DataType.DOUBLE_LONG_UNSIGNED,
                    DataType.LONG_UNSIGNED,
                    DataType.LONG_UNSIGNED,
                ),
                "entry_descriptor",
            )
        )

    def _expect_selector(self, selector: int, name: str) -> None:
        if self.access_selector != selector:
            raise UsageError(f"{name} is access selector {selector}, this is {self.access_selector}")

    def to_meaning(self, class_id: int | None = None) -> dict[str, Any]:
        return {
            "access_selector": self.access_selector,
            "name": _SELECTOR_NAMES.get(class_id, {}).get(self.access_selector),
            "access_parameters": self.access_parameters.to_meaning(),
        }


@dataclass(frozen=True, slots=True)
class CosemAttributeDescriptorWithSelection:
    """An element of the attribute-descriptor-list of the with-list services."""

    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None

    def to_meaning(self) -> dict[str, Any]:
        return attribute_meaning(self.cosem_attribute_descriptor, self.access_selection)


def attribute_meaning(
    descriptor: CosemAttributeDescriptor, access_selection: SelectiveAccessDescriptor | None
) -> dict[str, Any]:
    return {
        "cosem_attribute_descriptor": descriptor.to_meaning(),
        "access_selection": None
        if access_selection is None
        else access_selection.to_meaning(descriptor.class_id),
    }


__all__ = [
    "CaptureObjectDefinition",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "EntryDescriptor",
    "RangeDescriptor",
    "SelectiveAccessDescriptor",
    "attribute_meaning",
]
