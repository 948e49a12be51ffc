"""OBIS codes (IEC 62056-61): the six value groups that name every COSEM object.

An OBIS code travels as six octets, one per value group::

    +---+---+---+---+---+---+
    | A | B | C | D | E | F |     each 0..255
    +---+---+---+---+---+---+

and is written by people in two ways, both accepted by :meth:`Obis.parse`:

- dotted, the form dlmsfast prints: ``1.0.1.8.0.255``
- IEC 62056-61 reduced: ``1-0:1.8.0*255``, or ``1-0:1.8.0`` where F defaults
  to 255 (``1-0:1.8.0.255`` with a dot before F is also seen in tools and is
  accepted).

Mistakes made by the caller (a malformed string, a group above 255) raise
:class:`~dlmsfast.errors.UsageError`; octets of the wrong length received from
a peer raise :class:`~dlmsfast.errors.DecodeError`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from .._util import octets_argument, shown
from ..errors import DecodeError, UsageError

_GROUP = r"(\d{1,3})"
_DOTTED = re.compile(r"\.".join([_GROUP] * 6), re.ASCII)
_REDUCED = re.compile(
    rf"{_GROUP}-{_GROUP}:{_GROUP}\.{_GROUP}\.{_GROUP}(?:[*.]{_GROUP})?", re.ASCII
)
_GROUP_NAMES = ("a", "b", "c", "d", "e", "f")


@dataclass(frozen=True, slots=True, order=True)
class Obis:
    """One OBIS code; ``str()`` gives ``A.B.C.D.E.F`` and ``bytes()`` the 6 octets.

    Codes sort by their value groups A to F (the order of their octets), so
    ``sorted()`` lists an object list as the meter's OBIS numbering does."""

    a: int
    b: int
    c: int
    d: int
    e: int
    f: int = 255

    def __post_init__(self) -> None:
        for name in _GROUP_NAMES:
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 255:
                raise UsageError(
                    f"OBIS value group {name.upper()} must be an int 0..255, got {shown(value)}"
                )

    @classmethod
    def parse(cls, value: Union[str, bytes, bytearray, memoryview, "Obis"]) -> "Obis":
        """Read an OBIS code from text (dotted or IEC reduced form) or 6 octets."""
        if isinstance(value, Obis):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls.from_bytes(value)
        if not isinstance(value, str):
            raise UsageError(f"cannot read an OBIS code from {type(value).__name__}")
        text = value.strip()
        match = _DOTTED.fullmatch(text) or _REDUCED.fullmatch(text)
        if match is None:
            raise UsageError(
                f"not an OBIS code: {shown(value)} (expected 1.0.1.8.0.255 or 1-0:1.8.0*255)"
            )
        groups = [255 if g is None else int(g) for g in match.groups()]
        return cls(*groups)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview]) -> "Obis":
        """Read the 6 octets of an OBIS code as transmitted (e.g. a logical_name)."""
        raw = octets_argument(data, "OBIS octets")  # bytes(6) would read as 0.0.0.0.0.0
        if len(raw) != 6:
            raise DecodeError(f"an OBIS code has 6 octets, got {len(raw)}", min(len(raw), 6))
        return cls(raw[0], raw[1], raw[2], raw[3], raw[4], raw[5])

    def to_bytes(self) -> bytes:
        return bytes((self.a, self.b, self.c, self.d, self.e, self.f))

    __bytes__ = to_bytes

    def to_reduced(self) -> str:
        """The IEC 62056-61 form ``A-B:C.D.E*F``."""
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}*{self.f}"

    def __str__(self) -> str:
        return f"{self.a}.{self.b}.{self.c}.{self.d}.{self.e}.{self.f}"

    def __repr__(self) -> str:
        return f"Obis('{self}')"


__all__ = ["Obis"]
