"""COSEM: the object model of IEC 62056-6-2 (Blue Book). OBIS codes, the
references that the xDLMS services carry (attribute and method descriptors,
capture objects, selective access); the interface classes and the unit table
join them here."""
from __future__ import annotations

from .descriptors import (
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    EntryDescriptor,
    RangeDescriptor,
    SelectiveAccessDescriptor,
)
from .obis import Obis
from .units import ScalerUnit, Unit

__all__ = [
    "CaptureObjectDefinition",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "EntryDescriptor",
    "Obis",
    "RangeDescriptor",
    "ScalerUnit",
    "SelectiveAccessDescriptor",
    "Unit",
]
