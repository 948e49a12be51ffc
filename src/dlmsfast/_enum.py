"""BlueBookEnum: the base of every enumeration of the standard (bottom helper,
importable by every layer)."""
from __future__ import annotations

import enum
import reprlib
from typing import Any

from .errors import DecodeError, UsageError


class BlueBookEnum(enum.IntEnum):
    """An ENUMERATED (or CHOICE tag) of the standard; ``blue_book_name`` is its
    spelling there. The base of every such enumeration in dlmsfast."""

    @property
    def blue_book_name(self) -> str:
        """The name as the Blue Book spells it, e.g. ``double-long-unsigned``."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def _missing_(cls, value: object) -> Any:
        # ``DataType(99)`` is the caller's mistake: a UsageError (still a
        # ValueError, as enum.Enum raises), so that one ``except DlmsError``
        # catches it as it catches every other misuse of the API.
        raise UsageError(f"{reprlib.repr(value)} is not a valid {cls.__name__}")

    @classmethod
    def given(cls, value, what: str):
        """The member for a value given by the caller; an unknown one is a UsageError."""
        if type(value) is cls:
            return value
        what = what if isinstance(what, str) else reprlib.repr(what)
        if not isinstance(value, int):
            # before the lookup, which would hash the value (a deep tree: RecursionError)
            raise UsageError(f"{what} must be a {cls.__name__} (an int), got {type(value).__name__}")
        try:
            return cls(value)
        except (ValueError, TypeError):  # TypeError: a base without members
            raise UsageError(f"{what}: {value!r} is not a {cls.__name__}") from None

    @classmethod
    def read(cls, value: int, offset: int, what: str):
        """The member for a received value; an unknown value is a DecodeError."""
        what = what if isinstance(what, str) else reprlib.repr(what)
        if not isinstance(value, int):
            raise UsageError(f"{what} is read from an int, got {type(value).__name__}")
        try:
            return cls(value)
        except (ValueError, TypeError):
            raise DecodeError(f"unknown {what} {value}", offset) from None


__all__ = ["BlueBookEnum"]
