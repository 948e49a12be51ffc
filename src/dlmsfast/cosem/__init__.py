"""COSEM: the object model of IEC 62056-6-2 (Blue Book). OBIS codes, the
references that the xDLMS services carry (attribute and method descriptors,
capture objects, selective access), the unit table and scaler_unit, and the
interface classes with their attribute and method tables (one module per
class under :mod:`dlmsfast.cosem.classes`, registered by class_id).

Reading a register::

    reg = make_object(3, "1.0.1.8.0.255")
    reg.decode_attribute(2, value_data)        # Data from a GET
    reg.decode_attribute(3, scaler_unit_data)
    reg.value, reg.scaler_unit, reg.scaled     # 1960, 10^-3 Wh, Decimal('1.960')

Serving one (server role): set the attributes, then ``encode_attribute(i)``.
"""
from __future__ import annotations

from .access import (
    AccessRights,
    AttributeAccessFlags,
    AttributeAccessItem,
    AttributeAccessMode,
    MethodAccessFlags,
    MethodAccessItem,
    MethodAccessMode,
    ObjectListElement,
    SnAccessRight,
    SnObjectListElement,
    object_list_index,
)
from .classes import (
    AssociationLN,
    AssociationSN,
    Clock,
    ClockStatus,
    Column,
    DataObject,
    DemandRegister,
    DisconnectControl,
    ExtendedRegister,
    IecHdlcSetup,
    ImageTransfer,
    Limiter,
    ProfileGeneric,
    ProfileRows,
    PushSetup,
    Register,
    SapAssignmentObject,
    ScriptTable,
    SecuritySetup,
)
from .descriptors import (
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    EntryDescriptor,
    RangeDescriptor,
    SelectiveAccessDescriptor,
)
from .interface import (
    Attribute,
    CosemObject,
    Method,
    UnknownObject,
    interface_class,
    make_object,
    registered_classes,
)
from .jsonable import to_json
from .obis import Obis
from .timestamps import from_timestamp, to_timestamp
from .units import ScalerUnit, Unit

__all__ = [
    "AccessRights",
    "AssociationLN",
    "AssociationSN",
    "Attribute",
    "AttributeAccessFlags",
    "AttributeAccessItem",
    "AttributeAccessMode",
    "CaptureObjectDefinition",
    "Clock",
    "ClockStatus",
    "Column",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "CosemObject",
    "DataObject",
    "DemandRegister",
    "DisconnectControl",
    "EntryDescriptor",
    "ExtendedRegister",
    "IecHdlcSetup",
    "ImageTransfer",
    "Limiter",
    "Method",
    "MethodAccessFlags",
    "MethodAccessItem",
    "MethodAccessMode",
    "Obis",
    "ObjectListElement",
    "ProfileGeneric",
    "ProfileRows",
    "PushSetup",
    "RangeDescriptor",
    "Register",
    "SapAssignmentObject",
    "ScalerUnit",
    "ScriptTable",
    "SecuritySetup",
    "SelectiveAccessDescriptor",
    "SnAccessRight",
    "SnObjectListElement",
    "Unit",
    "UnknownObject",
    "from_timestamp",
    "interface_class",
    "make_object",
    "object_list_index",
    "registered_classes",
    "to_json",
    "to_timestamp",
]
