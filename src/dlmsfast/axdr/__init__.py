"""A-XDR: every DLMS/COSEM data type (IEC 62056-6-2), encoded and decoded.

Two forms of a decoded value:

- plain (:func:`decode`): int, bool, float, bytes (octet-string), str
  (visible-/utf8-string), None (null-data), :data:`DONT_CARE`, a list for an
  array or compact-array, a tuple for a structure, and :class:`DateTime`,
  :class:`Date`, :class:`Time`, :class:`BitString` objects. Fast: this is the
  form for profile buffers.
- typed (:func:`decode_typed`): a tree of :class:`Data` nodes that keeps the DLMS
  type of every value, so that ``encode(decode_typed(b)) == b`` whenever ``b``
  uses minimal lengths.

:func:`encode` takes a :class:`Data` node, or plain values with their
description (a :class:`DataType` for a simple type, a :class:`TypeDescription`
for arrays and structures, e.g. built from a profile's capture objects)::

    rows = [(b"\\x07\\xe2...", 0, 100000), ...]
    row = TypeDescription.structure(DataType.OCTET_STRING, DataType.UNSIGNED,
                                    DataType.DOUBLE_LONG_UNSIGNED)
    encode(rows, TypeDescription.array(row))

Byte layout of a value: see :mod:`dlmsfast.axdr._axdr`. Every decoder takes any
bytes-like object without copying it; malformed input raises
:class:`~dlmsfast.errors.DecodeError` with the byte offset.
"""
from __future__ import annotations

from .values import (
    DONT_CARE,
    BitString,
    DataType,
    Date,
    DateTime,
    DontCare,
    Time,
    TypeDescription,
)
# after .values: the compiled codec imports dlmsfast.axdr.values while it loads
from ._axdr import (
    Data,
    decode,
    decode_from,
    decode_length_from,
    decode_type_description_from,
    decode_typed,
    decode_typed_from,
    encode,
    encode_length,
    encode_type_description,
)

__all__ = [
    "DataType",
    "Data",
    "TypeDescription",
    "DateTime",
    "Date",
    "Time",
    "BitString",
    "DontCare",
    "DONT_CARE",
    "decode",
    "decode_from",
    "decode_typed",
    "decode_typed_from",
    "encode",
    "encode_length",
    "decode_length_from",
    "encode_type_description",
    "decode_type_description_from",
]
