"""SAP Assignment (class_id 17, version 0): the logical devices of a physical
device and their service access points.

=====  ===================  ==========================  =======
index  attribute            type                        kind
=====  ===================  ==========================  =======
1      logical_name         octet-string                static
2      SAP_assignment_list  array of asslist_element    static
=====  ===================  ==========================  =======

``asslist_element ::= structure {SAP long-unsigned, logical_device_name octet-string}``.
Method 1 connect_logical_device (asslist_element); short name offset 0x20.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..interface import Attribute, CosemObject, Method
from ..types import LOGICAL_NAME, LONG_UNSIGNED, OCTET_STRING, ArrayOf, Record


@dataclass(frozen=True, slots=True)
class SapAssignment:
    SAP: int
    logical_device_name: bytes


ASSLIST_ELEMENT = Record(SapAssignment, LONG_UNSIGNED, OCTET_STRING, name="asslist_element")


class SapAssignmentObject(CosemObject):
    """Blue Book "SAP Assignment" (IC 17)."""

    class_id = 17
    blue_book_name = "SAP Assignment"
    versions = (0,)
    sn_first_method_offset = 0x20
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "SAP_assignment_list", ArrayOf(ASSLIST_ELEMENT)),
    )
    methods = (Method(1, "connect_logical_device", ASSLIST_ELEMENT),)


__all__ = ["SapAssignment", "SapAssignmentObject"]
