"""COSEM: the object model of IEC 62056-6-2 (Blue Book).

=================  ============================================================
module             owns
=================  ============================================================
``obis``           OBIS codes
``descriptors``    attribute/method descriptors, capture objects, selective access
``units``          the unit table (:class:`Unit`) and :class:`ScalerUnit`
``types``          the Blue Book types of attributes: Data <-> Python value
``interface``      attribute/method tables as data, :class:`CosemObject`, the
                   registry by class_id (:func:`make_object`, :func:`interface_class`)
``classes/*``      one module per interface class (Data = :class:`DataObject`,
                   Register, ..., Limiter)
``access``         object lists and access rights of Association LN/SN
``timestamps``     COSEM date-time -> aware datetime (or the DateTime kept)
``jsonable``       values as plain JSON (:func:`to_json`)
=================  ============================================================

Reading a register (client role)::

    reg = make_object(3, "1.0.1.8.0.255")
    reg.decode_attribute(2, value_data)        # the Data a GET returned
    reg.decode_attribute(3, scaler_unit_data)
    reg.value, reg.scaler_unit, reg.scaled     # 1960, 10^-3 Wh, Decimal('1.960')

Serving one (server role): ``Register("1.0.1.8.0.255", value=1960,
scaler_unit=ScalerUnit(-3, Unit.WATT_HOUR))``, then ``encode_attribute(i)``.
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
    selective_access_refused,
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
    "selective_access_refused",
    "to_json",
    "to_timestamp",
]
