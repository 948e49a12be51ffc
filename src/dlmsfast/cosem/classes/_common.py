"""Types shared by several interface classes."""
from __future__ import annotations

from ...axdr import DataType
from ..descriptors import CaptureObjectDefinition
from ..types import Converted
from ..units import ScalerUnit

#: scal_unit_type ::= structure {scaler integer, unit enum}
SCALER_UNIT = Converted(ScalerUnit, DataType.STRUCTURE, "scal_unit_type", read=ScalerUnit.from_data)

#: capture_object_definition ::= structure {class_id long-unsigned,
#: logical_name octet-string, attribute_index integer, data_index long-unsigned}
CAPTURE_OBJECT = Converted(CaptureObjectDefinition, DataType.STRUCTURE, "capture_object_definition")
