"""Register (class_id 3, version 0): a value with its scaler and unit.

=====  ============  ==============  =======
index  attribute     type            kind
=====  ============  ==============  =======
1      logical_name  octet-string    static
2      value         CHOICE          dynamic
3      scaler_unit   scal_unit_type  static
=====  ============  ==============  =======

Method 1 reset (data ::= integer(0)); short name offset 0x28.
"""
from __future__ import annotations

from typing import Any

from ..interface import Attribute, CosemObject, Method
from ..types import CHOICE, INTEGER_ZERO, LOGICAL_NAME
from ..units import ScalerUnit, Unit
from ._common import SCALER_UNIT


class ScaledValueMixin:
    """``scaled``/``unit`` of a class whose value attribute comes with a
    scaler_unit attribute (Register, Extended Register; Demand Register has two
    values and its own properties)."""

    __slots__ = ()

    def _scale(self, value: Any) -> Any:
        scaler_unit: ScalerUnit | None = self.scaler_unit  # type: ignore[attr-defined]
        if scaler_unit is None or value is None:
            return None
        return scaler_unit.scale(value)

    @property
    def scaled(self) -> Any:
        """value * 10 ** scaler (int, Decimal or float; see cosem.units), or
        None until both value and scaler_unit are known."""
        return self._scale(self.value)  # type: ignore[attr-defined]

    @property
    def unit(self) -> Unit | None:
        scaler_unit = self.scaler_unit  # type: ignore[attr-defined]
        return None if scaler_unit is None else scaler_unit.unit

    @property
    def scaler(self) -> int | None:
        scaler_unit = self.scaler_unit  # type: ignore[attr-defined]
        return None if scaler_unit is None else scaler_unit.scaler


class Register(ScaledValueMixin, CosemObject):
    class_id = 3
    blue_book_name = "Register"
    versions = (0,)
    sn_first_method_offset = 0x28
    scaled_attributes = (2,)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "value", CHOICE, static=False),
        Attribute(3, "scaler_unit", SCALER_UNIT),
    )
    methods = (Method(1, "reset", INTEGER_ZERO),)


__all__ = ["Register", "ScaledValueMixin"]
