"""Data (class_id 1, version 0): a value that is not a register, e.g. the
logical device name 0.0.42.0.0.255 or a status word.

=====  ============  ==========  =======
index  attribute     type        kind
=====  ============  ==========  =======
1      logical_name  octet-string static
2      value         CHOICE      dynamic (instance specific)
=====  ============  ==========  =======

No methods. Named ``DataObject`` so that it does not hide
:class:`dlmsfast.axdr.Data`.
"""
from __future__ import annotations

from ..interface import Attribute, CosemObject
from ..types import CHOICE, LOGICAL_NAME


class DataObject(CosemObject):
    """Blue Book "Data" (IC 1)."""

    class_id = 1
    blue_book_name = "Data"
    versions = (0,)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "value", CHOICE, static=False),
    )


__all__ = ["DataObject"]
