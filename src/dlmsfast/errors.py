"""One exception hierarchy for dlmsfast, rooted at :class:`DlmsError`, in two
branches that say whose fault it is (h11's local/remote split)::

    DlmsError
    ├── LocalError              this side got it wrong: fix the call or the setup
    │   ├── UsageError          an argument of the wrong type or value, an unknown name
    │   │   └── EncodeError     a value does not fit its wire type (range, length, type)
    │   ├── ConfigurationError  a key, title, password or policy missing or unusable
    │   ├── LocalProtocolError  asked for what the protocol state does not allow now
    │   ├── BackendError        the crypto library failed (never the peer's bytes)
    │   ├── StoreError          the results store could not be written or read
    │   └── StoreInUse          another run holds the store (bulk's run lock)
    └── RemoteError             the peer or the received bytes are wrong
        ├── DecodeError         malformed bytes; ``offset`` says where in the input
        ├── ProtocolError       well-formed, but breaks the protocol or refuses us
        │   ├── AssociationRejected   the AARE said no (``diagnostic`` says why)
        │   ├── ServiceError          exception-response / confirmed-service-error
        │   └── DataAccessError       a data-access-result or action-result other than success
        ├── SecurityError       protection the peer sent does not check
        │   ├── TagError            wrong authentication tag
        │   ├── ReplayError         invocation counter not above the last accepted
        │   ├── AuthenticationError LLS/HLS check of the peer failed
        │   └── PolicyError         less protection than the association requires
        └── TransportError      the connection failed
            ├── TimeoutError        no answer in time (also a builtin TimeoutError)
            └── ConnectionLost      the peer closed or the link broke mid-exchange

The rule between the two local errors that every module follows: ``EncodeError``
when a value handed over to be put on the wire cannot be represented as its
DLMS type (out of range, too long, wrong Python type for that DLMS type);
``UsageError`` for every other wrong argument. Since ``EncodeError`` is a
``UsageError``, ``except UsageError`` catches both.

Messages never carry keys or passwords.
"""
from __future__ import annotations

import builtins
import reprlib


class DlmsError(Exception):
    """Root of every dlmsfast exception."""


# --- local: this side ------------------------------------------------------------

class LocalError(DlmsError):
    """This side got something wrong: the call, the configuration, or the order."""


class UsageError(LocalError, ValueError):
    """The API was called with an argument of the wrong type or value."""


class EncodeError(UsageError):
    """A value handed over for encoding does not fit its DLMS type."""


class ConfigurationError(LocalError, ValueError):
    """A key, system title, password, address or policy is missing or unusable."""


class LocalProtocolError(LocalError):
    """The caller asked for something the protocol state does not allow now
    (e.g. a GET before the association is established)."""


class BackendError(LocalError):
    """The cryptographic library failed (an OpenSSL call returned an error)."""


class StoreError(LocalError):
    """The results store (SQLite) failed: disk full, an I/O error, a corrupt
    file; the message names the store and SQLite's cause."""


class StoreInUse(LocalError):
    """Another bulk run holds the store's run lock (its process is alive)."""


# --- remote: the peer or its bytes -------------------------------------------

class RemoteError(DlmsError):
    """The peer, or the bytes received from it, are wrong."""


class DecodeError(RemoteError, ValueError):
    """Untrusted bytes are malformed. ``offset`` is where in the input it was found."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        self.message = message
        self.offset = offset
        # whatever a caller passes, making the error must not fail (reprlib: bounded)
        text = message if isinstance(message, str) else reprlib.repr(message)
        if offset is None:
            super().__init__(text)
        else:
            super().__init__(f"{text} (at byte offset {reprlib.repr(offset)})")

    def __reduce__(self):
        return (type(self), (self.message, self.offset))


class ProtocolError(RemoteError):
    """The peer broke the protocol or refused a request: an unexpected APDU,
    frame or state, a rejected association, an error answer."""


class AssociationRejected(ProtocolError):
    """The AARE rejected the association; ``diagnostic`` is the Blue Book reason."""

    def __init__(self, message: str, diagnostic: object = None) -> None:
        super().__init__(message)
        self.diagnostic = diagnostic

    def __reduce__(self):
        return (type(self), (self.args[0], self.diagnostic))


class ServiceError(ProtocolError):
    """The peer answered with an exception-response or a confirmed-service-error."""


class DataAccessError(ProtocolError):
    """A data-access-result (or action-result) other than success; ``result``
    is the enumeration member the peer sent."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self):
        return (type(self), (self.args[0], self.result))


class SecurityError(RemoteError):
    """Protection received from the peer does not check."""


class TagError(SecurityError):
    """The authentication tag does not match: wrong key, system title or data."""


class ReplayError(SecurityError):
    """The invocation counter is not above the last one accepted."""


class AuthenticationError(SecurityError):
    """The peer failed LLS or HLS authentication (or rejected ours)."""


class PolicyError(SecurityError):
    """The peer sent less protection than the association requires."""


class TransportError(RemoteError):
    """The connection to the peer failed."""


class TimeoutError(TransportError, builtins.TimeoutError):  # noqa: A001
    """The peer did not answer in time."""


class ConnectionLost(TransportError, ConnectionError):
    """The peer closed the connection or the link broke in the middle of an exchange."""


__all__ = [
    "DlmsError",
    "LocalError",
    "UsageError",
    "EncodeError",
    "ConfigurationError",
    "LocalProtocolError",
    "BackendError",
    "StoreError",
    "StoreInUse",
    "RemoteError",
    "DecodeError",
    "ProtocolError",
    "AssociationRejected",
    "ServiceError",
    "DataAccessError",
    "SecurityError",
    "TagError",
    "ReplayError",
    "AuthenticationError",
    "PolicyError",
    "TransportError",
    "TimeoutError",
    "ConnectionLost",
]
