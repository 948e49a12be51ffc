"""One exception hierarchy for dlmsfast, rooted at :class:`DlmsError`.

Two kinds of failure are kept apart (as h11 does): the caller misused the API
(:class:`UsageError`, :class:`EncodeError`) versus the peer or the input bytes
are wrong (:class:`DecodeError`, :class:`ProtocolError`, :class:`SecurityError`).
Messages never carry keys or passwords.
"""
from __future__ import annotations


class DlmsError(Exception):
    """Root of every dlmsfast exception."""


class UsageError(DlmsError, ValueError):
    """The API was called with arguments that make no sense (a local mistake)."""


class EncodeError(DlmsError, ValueError):
    """A value cannot be encoded as asked (wrong type, out of range, too long)."""


class DecodeError(DlmsError, ValueError):
    """Untrusted bytes are malformed. ``offset`` is where in the input it was found."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        if offset is None:
            super().__init__(message)
        else:
            super().__init__(f"{message} (at byte offset {offset})")

    def __reduce__(self):
        return (type(self), (self.message, self.offset))


class ProtocolError(DlmsError):
    """The peer broke the protocol: an unexpected APDU, frame or state."""


class SecurityError(DlmsError):
    """A wrong authentication tag, a replayed invocation counter, a failed HLS check."""


__all__ = [
    "DlmsError",
    "UsageError",
    "EncodeError",
    "DecodeError",
    "ProtocolError",
    "SecurityError",
]
