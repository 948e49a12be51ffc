"""The frame of every interface class: attribute and method tables declared as
data, objects that hold attribute values, and the registry by class_id.

A class declares its table (Blue Book, IEC 62056-6-2)::

    class Register(CosemObject):
        class_id = 3
        versions = (0,)
        attributes = (
            Attribute(1, "logical_name", LOGICAL_NAME),
            Attribute(2, "value", CHOICE, static=False),
            Attribute(3, "scaler_unit", SCALER_UNIT),
        )
        methods = (Method(1, "reset", INTEGER_ZERO),)

and gets a property per attribute name (``register.value``). The same objects
serve both roles:

- client: ``obj.decode_attribute(3, data)`` turns what the meter sent into the
  value (``ScalerUnit``) and keeps it;
- server: ``obj.scaler_unit = ScalerUnit(-3, 30)``, then
  ``obj.encode_attribute(3)`` gives the Data to send.

An attribute or method introduced in a later version of the class carries
``since``; one whose type changed has one entry per version range. An object
knows the version it was made with (the object list says which).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Union

from ..axdr import Data, DataType, decode_typed
from ..errors import DecodeError, UsageError
from .descriptors import CosemAttributeDescriptor, CosemMethodDescriptor
from .obis import Obis
from .types import CHOICE, AttributeType, Choice
from .._util import shown


@dataclass(frozen=True, slots=True)
class Attribute:
    """One row of a class's attribute table."""

    index: int
    name: str
    type: AttributeType
    static: bool = True
    since: int = 0
    until: int | None = None

    def applies_to(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)


@dataclass(frozen=True, slots=True)
class Method:
    """One row of a class's method table; ``parameter`` None means no data;
    ``returns``: the Blue Book's method returns data (with short names it is
    then invoked by a ReadRequest, else by a WriteRequest)."""

    index: int
    name: str
    parameter: AttributeType | None
    since: int = 0
    until: int | None = None
    returns: bool = False

    def applies_to(self, version: int) -> bool:
        return self.since <= version and (self.until is None or version <= self.until)


Member = Union[int, str]

_REGISTRY: dict[int, type[CosemObject]] = {}

#: class_id -> (the attribute that holds the class's scaler_unit, the value
#: attributes it scales), from the tables of the classes that declare
#: ``scaled_attributes``: Register and Extended Register (3 scales 2), Demand
#: Register (4 scales 2 and 3)
SCALER_UNITS: dict[int, tuple[int, tuple[int, ...]]] = {}


def scaler_unit_attribute(class_id: int | None, attribute: int) -> int | None:
    """The attribute holding the scaler_unit that scales ``attribute`` of class
    ``class_id``; None when that attribute is no scaled value."""
    found = None if class_id is None else SCALER_UNITS.get(class_id)
    return found[0] if found is not None and attribute in found[1] else None


class CosemObject:
    """An instance of an interface class: its logical name, the version of its
    class, and the attribute values read (client) or served (server).

    Attribute values are None until read or set.
    """

    class_id: ClassVar[int]
    #: the class's name in the Blue Book ("Demand Register"), for messages
    blue_book_name: ClassVar[str] = ""
    version: int
    attributes: ClassVar[tuple[Attribute, ...]] = ()
    methods: ClassVar[tuple[Method, ...]] = ()
    #: short-name offset of method 1 from the base name (Blue Book, per class)
    sn_first_method_offset: ClassVar[int | None] = None
    #: the versions of the class the tables describe
    versions: ClassVar[tuple[int, ...]] = (0,)
    #: the value attributes that the class's scaler_unit attribute scales
    scaled_attributes: ClassVar[tuple[int, ...]] = ()
    #: the attributes the Blue Book gives selective access, and their
    #: access_selectors (None: the Blue Book makes them optional, the server
    #: says which it serves); any other attribute has none
    selective_access: ClassVar[dict[int, frozenset[int] | None]] = {}

    __slots__ = ("_data", "_values", "logical_name", "version")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not isinstance(cls.__dict__.get("class_id"), int):
            return
        for attribute in cls.attributes:
            if attribute.name != "logical_name" and not hasattr(cls, attribute.name):
                setattr(cls, attribute.name, _attribute_property(attribute.index, attribute.name))
        _REGISTRY[cls.class_id] = cls
        if not cls.__doc__:
            cls.__doc__ = _class_docstring(cls)
        if cls.scaled_attributes:
            (holder,) = [a.index for a in cls.attributes if a.name == "scaler_unit"]
            SCALER_UNITS[cls.class_id] = (holder, cls.scaled_attributes)

    def __init__(self, logical_name: Obis | str | bytes, version: int | None = None,
                 **values: Any) -> None:
        self.logical_name = Obis.parse(logical_name)
        if version is None:
            version = type(self).versions[-1]
        if version not in type(self).versions:
            raise UsageError(
                f"{type(self).__name__} (class {self.class_id}) has versions "
                f"{', '.join(map(str, self.versions))}, not {version}")
        self.version = version
        self._values: dict[int, Any] = {}
        # index -> (the Data received, the value decoded from it)
        self._data: dict[int, tuple[Data, Any]] = {}
        for name, value in values.items():
            self.set(name, value)

    # --- the tables ------------------------------------------------------------

    @classmethod
    def attribute_table(cls, version: int | None = None) -> tuple[Attribute, ...]:
        version = cls.versions[-1] if version is None else version
        return tuple(a for a in cls.attributes if a.applies_to(version))

    @classmethod
    def method_table(cls, version: int | None = None) -> tuple[Method, ...]:
        version = cls.versions[-1] if version is None else version
        return tuple(m for m in cls.methods if m.applies_to(version))

    def attribute(self, member: Member) -> Attribute:
        """The table row of an attribute, by index or by name."""
        for attribute in self.attributes:
            if (attribute.index == member or attribute.name == member) and attribute.applies_to(self.version):
                return attribute
        raise UsageError(f"{self._label()} has no attribute {shown(member)}")

    def method(self, member: Member) -> Method:
        """The table row of a method, by index or by name."""
        for method in self.methods:
            if (method.index == member or method.name == member) and method.applies_to(self.version):
                return method
        raise UsageError(f"{self._label()} has no method {shown(member)}")

    # --- values ----------------------------------------------------------------

    def get(self, member: Member) -> Any:
        attribute = self.attribute(member)
        if attribute.index == 1:
            return self.logical_name
        return self._values.get(attribute.index)

    def set(self, member: Member, value: Any) -> None:
        """Give an attribute a value (server role, or before a SET). A Data
        is decoded as if read; for a CHOICE attribute a plain value keeps the
        tag of the value it replaces."""
        attribute = self.attribute(member)
        if isinstance(value, Data):
            self.decode_attribute(attribute.index, value)
            return
        if attribute.index == 1:
            self.logical_name = Obis.parse(value)
            return
        self._values[attribute.index] = value

    def decode_attribute(self, member: Member, data: Data) -> Any:
        """Read the Data a peer sent for an attribute, keep and return its value."""
        attribute = self.attribute(member)
        value = attribute.type.decode(data, self._what(attribute))
        if attribute.index == 1:
            self.logical_name = value
            return value
        self._values[attribute.index] = value
        if attribute.type.keeps_data:
            self._data[attribute.index] = (data, value)
        return value

    def decode_attribute_bytes(self, member: Member, raw: bytes | bytearray | memoryview) -> Any:
        """:meth:`decode_attribute` from the A-XDR octets of the value."""
        attribute = self.attribute(member)
        try:
            data = decode_typed(raw)
        except DecodeError as exc:
            raise DecodeError(f"{self._what(attribute)}: {exc.message}", exc.offset) from None
        return self.decode_attribute(attribute.index, data)

    def encode_attribute(self, member: Member) -> Data:
        """The Data that carries an attribute's value (what a server sends)."""
        attribute = self.attribute(member)
        what = self._what(attribute)
        if attribute.index == 1:
            return attribute.type.encode(self.logical_name, what)
        if attribute.index not in self._values:
            raise UsageError(f"{what} has no value")
        value = self._values[attribute.index]
        kept = self._kept_data(attribute.index)
        if kept is not None:
            return kept
        if isinstance(attribute.type, Choice):
            like = self._data.get(attribute.index)
            return attribute.type.encode(value, what, None if like is None else like[0])
        return attribute.type.encode(value, what)

    def _kept_data(self, index: int) -> Data | None:
        """The Data an attribute's value came in, while the value is the very
        object decoded from it (not replaced since)."""
        kept = self._data.get(index)
        if kept is not None and kept[1] is self._values.get(index):
            return kept[0]
        return None

    def encode_method_parameter(self, member: Member, value: Any = None) -> Data:
        """The Data of a method invocation's parameter."""
        method = self.method(member)
        what = self._what_method(method)
        if method.parameter is None:
            if value is not None:
                raise UsageError(f"{what} takes no parameter")
            return Data(DataType.NULL_DATA)
        if isinstance(value, Data):
            method.parameter.decode(value, what)
            return value
        return method.parameter.encode(value, what)

    def decode_method_parameter(self, member: Member, data: Data) -> Any:
        """Read the parameter of a method invocation a peer sent (server role)."""
        method = self.method(member)
        if method.parameter is None:
            return None
        return method.parameter.decode(data, self._what_method(method))

    def values(self) -> dict[str, Any]:
        """Name -> value of every attribute that has one (logical_name always)."""
        out: dict[str, Any] = {"logical_name": self.logical_name}
        for attribute in self.attribute_table(self.version):
            if attribute.index in self._values:
                out[attribute.name] = self._values[attribute.index]
        return out

    def to_json(self) -> dict[str, Any]:
        """The attribute values as plain JSON (see :mod:`dlmsfast.cosem.jsonable`),
        with ``class_id`` and ``version``; attribute 7 of an association (the
        secret) is left out."""
        from .jsonable import to_json

        out: dict[str, Any] = {"class_id": self.class_id, "version": self.version}
        for name, value in self.values().items():
            if name != "secret":
                out[name] = to_json(value)
        return out

    # --- references for the xDLMS services -------------------------------------

    def attribute_descriptor(self, member: Member) -> CosemAttributeDescriptor:
        """The Cosem-Attribute-Descriptor of an attribute (for GET and SET)."""
        return CosemAttributeDescriptor(self.class_id, self.logical_name, self.attribute(member).index)

    def method_descriptor(self, member: Member) -> CosemMethodDescriptor:
        """The Cosem-Method-Descriptor of a method (for ACTION)."""
        return CosemMethodDescriptor(self.class_id, self.logical_name, self.method(member).index)

    # --- short names -----------------------------------------------------------

    def attribute_short_name(self, base_name: int, member: Member) -> int:
        """The short name of an attribute: base_name + 8 * (index - 1)."""
        return (base_name + 8 * (self.attribute(member).index - 1)) & 0xFFFF

    def method_short_name(self, base_name: int, member: Member) -> int:
        """The short name of a method: base_name + the class's offset of
        method 1 + 8 * (index - 1) (Blue Book, per class)."""
        method = self.method(member)
        if self.sn_first_method_offset is None:
            raise UsageError(f"{self._label()}: no short-name offset known for its methods")
        return (base_name + self.sn_first_method_offset + 8 * (method.index - 1)) & 0xFFFF

    # --- text ------------------------------------------------------------------

    def _label(self) -> str:
        return f"{type(self).__name__} {self.logical_name}"

    def _what(self, attribute: Attribute) -> str:
        return f"{self._label()} attribute {attribute.index} {attribute.name}"

    def _what_method(self, method: Method) -> str:
        return f"{self._label()} method {method.index} {method.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.logical_name} v{self.version}>"


def _attribute_property(index: int, name: str) -> property:
    def fget(self: CosemObject) -> Any:
        return self._values.get(index)

    def fset(self: CosemObject, value: Any) -> None:
        self.set(index, value)

    return property(fget, fset, doc=f"attribute {index} {name}")


class UnknownObject(CosemObject):
    """An object of a class dlmsfast has no table for: attribute values are
    kept as their plain form (CHOICE), attribute 1 is the logical name."""

    __slots__ = ("class_id",)
    attributes = ()

    def __init__(self, class_id: int, logical_name: Obis | str | bytes, version: int = 0) -> None:
        self.class_id = class_id
        self.logical_name = Obis.parse(logical_name)
        self.version = version
        self._values = {}
        self._data = {}

    def attribute(self, member: Member) -> Attribute:
        if member == 1:
            from .types import LOGICAL_NAME

            return Attribute(1, "logical_name", LOGICAL_NAME)
        if type(member) is int and 1 < member <= 127:
            return Attribute(member, f"attribute_{member}", CHOICE, static=False)
        raise UsageError(f"{self._label()}: an attribute of an unknown class is named by its index")

    def method(self, member: Member) -> Method:
        if type(member) is int and 0 < member <= 127:
            return Method(member, f"method_{member}", CHOICE)
        raise UsageError(f"{self._label()}: a method of an unknown class is named by its index")

    def _label(self) -> str:
        return f"class {self.class_id} object {self.logical_name}"


def _class_docstring(cls: type[CosemObject]) -> str:
    """help() for a class the tables describe: its name, id and members."""
    def members(rows: tuple[Attribute, ...] | tuple[Method, ...]) -> str:
        return ", ".join(f"{row.index} {row.name}" for row in rows) or "none"

    return (f"{cls.blue_book_name} (Blue Book interface class, class_id {cls.class_id}, "
            f"versions {', '.join(map(str, cls.versions))}).\n\n"
            f"Attributes: {members(cls.attributes)}.\nMethods: {members(cls.methods)}.\n"
            "Attribute values are properties by name, None until read or set.")


def interface_class(class_id: int) -> type[CosemObject] | None:
    """The interface class registered for ``class_id``, or None."""
    from . import classes  # noqa: F401  (registers every class)

    if type(class_id) is not int:
        # before the look-up, which hashes it (a list: TypeError, a deep tree: RecursionError)
        raise UsageError(f"a class_id is an int, not {type(class_id).__name__}")
    return _REGISTRY.get(class_id)


MANUFACTURER_CLASS_IDS = range(8192, 0x10000)
"""class_ids the Blue Book leaves to manufacturers (8192..32767) and user
groups (32768..65535): what their attributes allow is not the Blue Book's."""


def selective_access_refused(class_id: int, attribute_id: int, access_selector: int) -> bool:
    """Whether the Blue Book rules out reading ``attribute_id`` of ``class_id``
    with ``access_selector``: the class is one dlmsfast knows and the attribute
    has no selective access, or not that selector. Classes dlmsfast does not
    know, manufacturer-specific ones and manufacturer-specific (negative)
    attributes are not ruled on: the server's application judges those."""
    for name, value in (("class_id", class_id), ("attribute_id", attribute_id),
                        ("access_selector", access_selector)):
        if type(value) is not int:
            raise UsageError(f"{name} is an int, not {type(value).__name__}")
    if attribute_id < 1 or class_id in MANUFACTURER_CLASS_IDS:
        return False
    cls = interface_class(class_id)
    if cls is None:
        return False
    if attribute_id not in cls.selective_access:
        return True
    selectors = cls.selective_access[attribute_id]
    return selectors is not None and access_selector not in selectors


def registered_classes() -> dict[int, type[CosemObject]]:
    """class_id -> class of every interface class dlmsfast knows."""
    from . import classes  # noqa: F401

    return dict(sorted(_REGISTRY.items()))


def make_object(class_id: int, logical_name: Obis | str | bytes,
                version: int | None = None) -> CosemObject:
    """An object of the class registered for ``class_id`` (an
    :class:`UnknownObject` when there is none). A version the tables do not
    describe gets the nearest lower one they do (a newer meter's extra
    attributes are then read as CHOICE by index through ``UnknownObject``)."""
    cls = interface_class(class_id)
    if cls is None:
        return UnknownObject(class_id, logical_name, version or 0)
    if version is not None and version not in cls.versions:
        lower = [v for v in cls.versions if v <= version]
        version = lower[-1] if lower else cls.versions[0]
    return cls(logical_name, version)


__all__ = [
    "SCALER_UNITS",
    "Attribute",
    "CosemObject",
    "Method",
    "UnknownObject",
    "interface_class",
    "make_object",
    "scaler_unit_attribute",
    "registered_classes",
    "selective_access_refused",
    "MANUFACTURER_CLASS_IDS",
]
