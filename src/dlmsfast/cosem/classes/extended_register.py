"""Extended Register (class_id 4, version 0): a register with a status and
the time its value was captured.

=====  ============  ==============  =======
index  attribute     type            kind
=====  ============  ==============  =======
1      logical_name  octet-string    static
2      value         CHOICE          dynamic
3      scaler_unit   scal_unit_type  static
4      status        CHOICE          dynamic
5      capture_time  octet-string    dynamic (date-time)
=====  ============  ==============  =======

Method 1 reset (integer(0)); short name offset 0x38.
"""
from __future__ import annotations

from ..interface import Attribute, CosemObject, Method
from ..types import CHOICE, DATE_TIME, INTEGER_ZERO, LOGICAL_NAME
from ._common import SCALER_UNIT
from .register import ScaledValueMixin


class ExtendedRegister(ScaledValueMixin, CosemObject):
    class_id = 4
    blue_book_name = "Extended Register"
    versions = (0,)
    sn_first_method_offset = 0x38
    scaled_attributes = (2,)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "value", CHOICE, static=False),
        Attribute(3, "scaler_unit", SCALER_UNIT),
        Attribute(4, "status", CHOICE, static=False),
        Attribute(5, "capture_time", DATE_TIME, static=False),
    )
    methods = (Method(1, "reset", INTEGER_ZERO),)


__all__ = ["ExtendedRegister"]
