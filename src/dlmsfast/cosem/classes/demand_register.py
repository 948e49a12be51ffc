"""Demand Register (class_id 5, version 0): the average of a quantity over
periods, current and last.

=====  ======================  ==============  =======
index  attribute               type            kind
=====  ======================  ==============  =======
1      logical_name            octet-string    static
2      current_average_value   CHOICE          dynamic
3      last_average_value      CHOICE          dynamic
4      scaler_unit             scal_unit_type  static
5      status                  CHOICE          dynamic
6      capture_time            octet-string    dynamic (date-time)
7      start_time_current      octet-string    dynamic (date-time)
8      period                  double-long-u.  static (seconds)
9      number_of_periods       long-unsigned   static
=====  ======================  ==============  =======

Methods 1 reset, 2 next_period (integer(0)); short name offset 0x48.
"""
from __future__ import annotations

from typing import Any

from ..interface import Attribute, CosemObject, Method
from ..types import (
    CHOICE,
    DATE_TIME,
    DOUBLE_LONG_UNSIGNED,
    INTEGER_ZERO,
    LOGICAL_NAME,
    LONG_UNSIGNED,
)
from ..units import Unit
from ._common import SCALER_UNIT


class DemandRegister(CosemObject):
    class_id = 5
    blue_book_name = "Demand Register"
    versions = (0,)
    sn_first_method_offset = 0x48
    scaled_attributes = (2, 3)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "current_average_value", CHOICE, static=False),
        Attribute(3, "last_average_value", CHOICE, static=False),
        Attribute(4, "scaler_unit", SCALER_UNIT),
        Attribute(5, "status", CHOICE, static=False),
        Attribute(6, "capture_time", DATE_TIME, static=False),
        Attribute(7, "start_time_current", DATE_TIME, static=False),
        Attribute(8, "period", DOUBLE_LONG_UNSIGNED),
        Attribute(9, "number_of_periods", LONG_UNSIGNED),
    )
    methods = (
        Method(1, "reset", INTEGER_ZERO),
        Method(2, "next_period", INTEGER_ZERO),
    )

    def _scale(self, value: Any) -> Any:
        if self.scaler_unit is None or value is None:
            return None
        return self.scaler_unit.scale(value)

    @property
    def current_average_scaled(self) -> Any:
        return self._scale(self.current_average_value)

    @property
    def last_average_scaled(self) -> Any:
        return self._scale(self.last_average_value)

    @property
    def unit(self) -> Unit | None:
        return None if self.scaler_unit is None else self.scaler_unit.unit


__all__ = ["DemandRegister"]
