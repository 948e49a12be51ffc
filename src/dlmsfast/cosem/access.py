"""Object lists and access rights of the association classes (Blue Book:
Association LN attribute 2, Association SN attributes 2 and 3).

Association LN object_list (every version)::

    object_list_element ::= structure {
        class_id      long-unsigned,
        version       unsigned,
        logical_name  octet-string(6),
        access_rights structure {
            attribute_access array of structure {
                attribute_id     integer,
                access_mode      enum,
                access_selectors CHOICE { null-data, array of integer } },
            method_access    array of structure {
                method_id        integer,
                access_mode      boolean (version 0) | enum (version 1..) } } }

Association SN::

    sn_object_list_element ::= structure {base_name long, class_id long-unsigned,
                                          version unsigned, logical_name octet-string}
    access_right ::= structure {base_name long, attribute_access array, method_access array}

The access modes: version 0..2 are enumerations (:class:`AttributeAccessMode`,
:class:`MethodAccessMode`); Association LN version 3 turns them into bit maps
(:class:`AttributeAccessFlags`, :class:`MethodAccessFlags`). Each item answers
``readable`` / ``writable`` / ``callable`` for any of them.

A base name is a 16-bit short name sent as long: it is kept as 0..65535.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .._util import require, shown
from .._enum import BlueBookEnum
from ..axdr import Data, DataType
from ..errors import DecodeError, EncodeError, UsageError
from .interface import CosemObject
from .obis import Obis
from .types import (
    INTEGER,
    INTEGER_TYPES,
    LOGICAL_NAME,
    LONG_UNSIGNED,
    UNSIGNED,
    ArrayOf,
    AttributeType,
    Enumerated,
    Record,
)


class AttributeAccessMode(BlueBookEnum):
    """attribute access_mode of Association LN versions 0-2 and Association SN."""

    NO_ACCESS = 0
    READ_ONLY = 1
    WRITE_ONLY = 2
    READ_AND_WRITE = 3
    AUTHENTICATED_READ_ONLY = 4
    AUTHENTICATED_WRITE_ONLY = 5
    AUTHENTICATED_READ_AND_WRITE = 6


class MethodAccessMode(BlueBookEnum):
    """method access_mode of Association LN versions 1-2 (version 0: a boolean)."""

    NO_ACCESS = 0
    ACCESS = 1
    AUTHENTICATED_ACCESS = 2


class AttributeAccessFlags(enum.IntFlag):
    """attribute access_mode of Association LN version 3: a bit map."""

    READ_ACCESS = 0x01
    WRITE_ACCESS = 0x02
    AUTHENTICATED_REQUEST = 0x04
    ENCRYPTED_REQUEST = 0x08
    DIGITALLY_SIGNED_REQUEST = 0x10
    AUTHENTICATED_RESPONSE = 0x20
    ENCRYPTED_RESPONSE = 0x40
    DIGITALLY_SIGNED_RESPONSE = 0x80


class MethodAccessFlags(enum.IntFlag):
    """method access_mode of Association LN version 3: a bit map."""

    ACCESS = 0x01
    AUTHENTICATED_REQUEST = 0x04
    ENCRYPTED_REQUEST = 0x08
    DIGITALLY_SIGNED_REQUEST = 0x10
    AUTHENTICATED_RESPONSE = 0x20
    ENCRYPTED_RESPONSE = 0x40
    DIGITALLY_SIGNED_RESPONSE = 0x80


_READS = {1, 3, 4, 6}
_WRITES = {2, 3, 5, 6}


@dataclass(frozen=True, slots=True)
class AttributeAccessItem:
    attribute_id: int
    access_mode: AttributeAccessMode | AttributeAccessFlags | int
    access_selectors: tuple[int, ...] | None = None

    @property
    def readable(self) -> bool:
        if isinstance(self.access_mode, AttributeAccessFlags):
            return bool(self.access_mode & AttributeAccessFlags.READ_ACCESS)
        return int(self.access_mode) in _READS

    @property
    def writable(self) -> bool:
        if isinstance(self.access_mode, AttributeAccessFlags):
            return bool(self.access_mode & AttributeAccessFlags.WRITE_ACCESS)
        return int(self.access_mode) in _WRITES


@dataclass(frozen=True, slots=True)
class MethodAccessItem:
    method_id: int
    access_mode: MethodAccessMode | MethodAccessFlags | int

    @property
    def callable(self) -> bool:
        if isinstance(self.access_mode, MethodAccessFlags):
            return bool(self.access_mode & MethodAccessFlags.ACCESS)
        return int(self.access_mode) in (1, 2)


@dataclass(frozen=True, slots=True)
class AccessRights:
    attribute_access: tuple[AttributeAccessItem, ...] = ()
    method_access: tuple[MethodAccessItem, ...] = ()

    def for_attribute(self, attribute_id: int) -> AttributeAccessItem | None:
        for item in self.attribute_access:
            if item.attribute_id == attribute_id:
                return item
        return None

    def for_method(self, method_id: int) -> MethodAccessItem | None:
        for item in self.method_access:
            if item.method_id == method_id:
                return item
        return None

    def can_read(self, attribute_id: int) -> bool:
        item = self.for_attribute(attribute_id)
        return item is not None and item.readable

    def can_write(self, attribute_id: int) -> bool:
        item = self.for_attribute(attribute_id)
        return item is not None and item.writable

    def can_call(self, method_id: int) -> bool:
        item = self.for_method(method_id)
        return item is not None and item.callable


@dataclass(frozen=True, slots=True)
class ObjectListElement:
    """One entry of Association LN's object_list."""

    class_id: int
    version: int
    logical_name: Obis
    access_rights: AccessRights = AccessRights()

    def make_object(self) -> Any:
        """An empty object of this entry's class and version, ready to read into."""
        from .interface import make_object

        return make_object(self.class_id, self.logical_name, self.version)

    @classmethod
    def of(cls, obj: Any, attribute_access: Any = AttributeAccessMode.READ_ONLY,
           method_access: Any = MethodAccessMode.NO_ACCESS,
           overrides: dict[tuple[str, int], Any] | None = None) -> ObjectListElement:
        """The entry a server lists for ``obj`` (a CosemObject): every attribute
        and method of its class version with the given access; ``overrides``
        maps ("attribute" | "method", index) to another access mode. An
        attribute whose class takes a fixed set of access selectors (a Profile
        Generic's buffer: 1, 2) lists them, as a meter does."""
        require(obj, CosemObject, "obj")
        require(overrides, (dict, type(None)), "overrides")
        overrides = overrides or {}
        selective = obj.selective_access
        return cls(obj.class_id, obj.version, obj.logical_name, AccessRights(
            tuple(AttributeAccessItem(a.index, overrides.get(("attribute", a.index), attribute_access),
                                      _listed_selectors(selective.get(a.index)))
                  for a in obj.attribute_table(obj.version)),
            tuple(MethodAccessItem(m.index, overrides.get(("method", m.index), method_access))
                  for m in obj.method_table(obj.version)),
        ))


def _listed_selectors(selectors: frozenset[int] | None) -> tuple[int, ...] | None:
    return None if not selectors else tuple(sorted(selectors))


@dataclass(frozen=True, slots=True)
class SnObjectListElement:
    """One entry of Association SN's object_list."""

    base_name: int
    class_id: int
    version: int
    logical_name: Obis

    def make_object(self) -> Any:
        from .interface import make_object

        return make_object(self.class_id, self.logical_name, self.version)


@dataclass(frozen=True, slots=True)
class SnAccessRight:
    """One entry of Association SN's access_rights_list."""

    base_name: int
    attribute_access: tuple[AttributeAccessItem, ...] = ()
    method_access: tuple[MethodAccessItem, ...] = ()


class _BaseName(AttributeType):
    tag = DataType.LONG
    name = "long (base name)"

    def decode(self, data: Data, what: str) -> int:
        if not isinstance(data, Data) or data.type not in INTEGER_TYPES:
            raise DecodeError(f"{what}: expected long, got {getattr(data, 'type', type(data).__name__)}")
        if not -0x8000 <= data.value <= 0xFFFF:
            raise DecodeError(f"{what}: a base name has 16 bits, got {data.value}")
        return data.value & 0xFFFF

    def encode(self, value: Any, what: str) -> Data:
        if type(value) is not int or not 0 <= value <= 0xFFFF:
            raise EncodeError(f"{what}: a base name is an int 0..65535, not {shown(value)}")
        return Data(DataType.LONG, value - 0x10000 if value > 0x7FFF else value)


class _AccessSelectors(AttributeType):
    tag = None
    name = "CHOICE {null-data, array of integer}"
    _ARRAY = ArrayOf(INTEGER)

    def decode(self, data: Data, what: str) -> tuple[int, ...] | None:
        if isinstance(data, Data) and data.type is DataType.NULL_DATA:
            return None
        return self._ARRAY.decode(data, what)

    def encode(self, value: Any, what: str) -> Data:
        if value is None:
            return Data(DataType.NULL_DATA)
        return self._ARRAY.encode(value, what)


class _Flags(AttributeType):
    """An enum carrying a bit map (IntFlag keeps bits it has no name for)."""

    tag = DataType.ENUM

    def __init__(self, flags: type[enum.IntFlag]) -> None:
        self.flags = flags
        self.name = f"enum ({flags.__name__})"

    def decode(self, data: Data, what: str) -> enum.IntFlag:
        if not isinstance(data, Data) or data.type not in (DataType.ENUM, DataType.UNSIGNED):
            raise DecodeError(f"{what}: expected enum, got {getattr(data, 'type', type(data).__name__)}")
        return self.flags(data.value)

    def encode(self, value: Any, what: str) -> Data:
        if type(value) is bool or not isinstance(value, int) or not 0 <= int(value) <= 255:
            raise EncodeError(f"{what}: an access bit map is an int 0..255, not {shown(value)}")
        return Data(DataType.ENUM, int(value))


class _MethodAccess(AttributeType):
    """method access_mode: boolean in version 0, enum later. Either is read
    (meters mix them up); the version's own form is written."""

    def __init__(self, boolean: bool) -> None:
        self.boolean = boolean
        self.tag = DataType.BOOLEAN if boolean else DataType.ENUM
        self.name = "boolean" if boolean else "enum"
        self._enum = Enumerated(MethodAccessMode)

    def decode(self, data: Data, what: str) -> Any:
        if isinstance(data, Data) and data.type is DataType.BOOLEAN:
            return MethodAccessMode.ACCESS if data.value else MethodAccessMode.NO_ACCESS
        return self._enum.decode(data, what)

    def encode(self, value: Any, what: str) -> Data:
        if self.boolean:
            return Data(DataType.BOOLEAN, bool(int(value)))
        return self._enum.encode(value, what)


BASE_NAME = _BaseName()
ACCESS_SELECTORS = _AccessSelectors()


def _attribute_access(access_mode: AttributeType) -> ArrayOf:
    return ArrayOf(Record(AttributeAccessItem, INTEGER, access_mode, ACCESS_SELECTORS,
                          name="attribute_access_item"))


def _method_access(access_mode: AttributeType) -> ArrayOf:
    return ArrayOf(Record(MethodAccessItem, INTEGER, access_mode, name="method_access_item"))


def object_list_type(version: int) -> ArrayOf:
    """The type of Association LN's object_list in ``version`` of the class."""
    if version >= 3:
        attribute_mode: AttributeType = _Flags(AttributeAccessFlags)
        method_mode: AttributeType = _Flags(MethodAccessFlags)
    else:
        attribute_mode = Enumerated(AttributeAccessMode)
        method_mode = _MethodAccess(boolean=version == 0)
    rights = Record(AccessRights, _attribute_access(attribute_mode), _method_access(method_mode),
                    name="access_rights")
    element = Record(ObjectListElement, LONG_UNSIGNED, UNSIGNED, LOGICAL_NAME, rights,
                     name="object_list_element")
    return ArrayOf(element, name="object_list_type")


OBJECT_LIST_ELEMENT = object_list_type(1).element

SN_OBJECT_LIST = ArrayOf(
    Record(SnObjectListElement, BASE_NAME, LONG_UNSIGNED, UNSIGNED, LOGICAL_NAME,
           name="sn_object_list_element"),
    name="sn_object_list_type",
)

SN_ACCESS_RIGHTS_LIST = ArrayOf(
    Record(
        SnAccessRight,
        BASE_NAME,
        _attribute_access(Enumerated(AttributeAccessMode)),
        _method_access(_MethodAccess(boolean=False)),
        name="access_right",
    ),
    name="access_rights_list",
)


def object_list_index(object_list) -> dict[Obis, Any]:
    """logical name -> element of an object list (LN or SN)."""
    require(object_list, (list, tuple), "object_list")
    for element in object_list:
        if not isinstance(getattr(element, "logical_name", None), Obis):
            raise UsageError(f"an object list holds elements with a logical_name, not "
                             f"{type(element).__name__}")
    return {element.logical_name: element for element in object_list}


def find_in_object_list(object_list, logical_name: Obis | str) -> Any:
    """The element of an object list (LN or SN, or None when not read) whose
    logical name is ``logical_name``, or None."""
    obis = Obis.parse(logical_name)
    for element in object_list or ():
        if element.logical_name == obis:
            return element
    return None


__all__ = [
    "BASE_NAME",
    "OBJECT_LIST_ELEMENT",
    "SN_ACCESS_RIGHTS_LIST",
    "SN_OBJECT_LIST",
    "AccessRights",
    "AttributeAccessFlags",
    "AttributeAccessItem",
    "AttributeAccessMode",
    "MethodAccessFlags",
    "MethodAccessItem",
    "MethodAccessMode",
    "ObjectListElement",
    "SnAccessRight",
    "SnObjectListElement",
    "find_in_object_list",
    "object_list_index",
    "object_list_type",
]
