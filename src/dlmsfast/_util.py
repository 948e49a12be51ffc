"""Bottom helpers every layer may import: the one normaliser of bytes arguments and
the argument checks. Nothing here imports another dlmsfast module but errors."""
from __future__ import annotations

import copy
import reprlib
from enum import IntEnum
from typing import Any, TypeVar

from .errors import DlmsError, UsageError

_E = TypeVar("_E", bound=DlmsError)

_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxstring = _SHORT.maxother = 60


def as_bytes(data: Any, what: str = "an APDU") -> bytes:
    """The input of a decoder as bytes (the one normaliser of every layer's input):
    any bytes-like object, contiguous or strided; anything else (an int, which
    ``bytes()`` would turn into that many zero octets, a str...) is the caller's
    mistake, a UsageError naming ``what``."""
    if type(data) is bytes:
        return data
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise UsageError(f"{what} is decoded from bytes, got {type(data).__name__}") from None


def octets_argument(value: Any, what: str, error: type[UsageError] = UsageError) -> bytes:
    """Octets given by the caller: bytes-like only (``bytes(5)`` would be 5 zeros).
    ``error=EncodeError`` where the octets are a value to be put on the wire."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise error(f"{what} must be bytes, got {type(value).__name__}")


def shown(value: Any) -> str:
    """A caller's value as an error message shows it: bounded in depth and length
    (the repr of a list nested 100000 deep would end in RecursionError)."""
    try:
        return _SHORT.repr(value)
    except RecursionError:
        return f"<{type(value).__name__} nested too deep to show>"


GLIMPSE_LENGTH = 32
"""Octets :func:`glimpse` shows; a sample kept for it holds one more (then "...")."""


def glimpse(octets: bytes) -> str:
    """The start of received octets, for a message naming what a peer sent: as
    quoted text when it is printable ASCII (an HTTP answer, a modem's reply),
    else as hex; ``...`` when there is more."""
    head = octets[:GLIMPSE_LENGTH]
    more = "..." if len(octets) > GLIMPSE_LENGTH else ""
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return repr(head.decode("ascii")) + more
    return head.hex(" ").upper() + more


def require(value: Any, accepted: type | tuple[type, ...], what: str) -> None:
    """A field given by the caller must be of the accepted class(es)."""
    if not isinstance(value, accepted):
        what = what if isinstance(what, str) else shown(what)
        names = accepted.__name__ if isinstance(accepted, type) else " or ".join(
            "None" if t is type(None) else t.__name__ for t in accepted
        )
        raise UsageError(f"{what} must be {names}, got {type(value).__name__}")


def _check_range(what: str, value: Any, low: int, high: int) -> None:
    what = what if isinstance(what, str) else shown(what)
    if type(value) is not int and not isinstance(value, IntEnum):
        raise UsageError(f"{what} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise UsageError(f"{what} must be {low}..{high}, got {value}")


def reworded(error: _E, message: str) -> _E:
    """``error`` saying ``message`` instead: the same class, with the same attributes
    (``diagnostic``, ``result``...), so that a caller still catches it precisely
    when a layer above adds what it knows (the step that failed, what to check)."""
    again = copy.copy(error)
    again.args = (message,)
    return again


__all__ = ["as_bytes", "octets_argument", "require", "shown", "reworded", "_check_range"]
