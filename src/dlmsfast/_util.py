"""Bottom helpers every layer may import: the one normaliser of bytes arguments and
the argument checks. Nothing here imports another dlmsfast module but errors."""
from __future__ import annotations

from enum import IntEnum
from typing import Any

from .errors import UsageError


def as_bytes(data: Any) -> bytes:
    """The input of a decoder as bytes (the one normaliser of the apdu and security
    layers): any bytes-like object; anything else is the caller's mistake."""
    if type(data) is bytes:
        return data
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise UsageError(f"an APDU is decoded from bytes, got {type(data).__name__}") from None


def octets_argument(value: Any, what: str) -> bytes:
    """Octets given by the caller: bytes-like only (``bytes(5)`` would be 5 zeros)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise UsageError(f"{what} must be bytes, got {type(value).__name__}")


def require(value: Any, accepted: type | tuple[type, ...], what: str) -> None:
    """A field given by the caller must be of the accepted class(es)."""
    if not isinstance(value, accepted):
        names = accepted.__name__ if isinstance(accepted, type) else " or ".join(
            "None" if t is type(None) else t.__name__ for t in accepted
        )
        raise UsageError(f"{what} must be {names}, got {type(value).__name__}")


def _check_range(what: str, value: Any, low: int, high: int) -> None:
    if type(value) is not int and not isinstance(value, IntEnum):
        raise UsageError(f"{what} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise UsageError(f"{what} must be {low}..{high}, got {value}")


__all__ = ["as_bytes", "octets_argument", "require", "_check_range"]
