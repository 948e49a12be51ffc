"""The session's precise errors, subclasses of :mod:`dlmsfast.errors`.

A data-access-result (or action-result) other than success becomes a
:class:`ObjectAccessError` naming the service, the object (class, OBIS,
attribute or method) and the reason; two results users act on differently get
their own class: :class:`ObjectUndefined` (no such object: check the OBIS or
the class) and :class:`AccessDenied` (the association may not do that: check
the client address and authentication). A wrong password or HLS answer in the
AARE is :class:`AuthenticationFailed`, both an AssociationRejected and an
AuthenticationError.
"""
from __future__ import annotations

from typing import Any

from ..errors import AssociationRejected, AuthenticationError, DataAccessError

_DENIED = frozenset({3, 13})  # read-write-denied, scope-of-access-violated
_UNDEFINED = frozenset({4, 9, 11})  # object-undefined, -class-inconsistent, -unavailable


class ObjectAccessError(DataAccessError):
    """A data-access-result or action-result other than success.

    ``result`` is the enumeration member, ``service`` the service name
    (``get``, ``set``, ``action``, ``read``, ``write``) and ``descriptor`` the
    object asked (a Cosem attribute/method descriptor, or a short name).
    """

    def __init__(self, message: str, result: object = None, service: str | None = None,
                 descriptor: Any = None) -> None:
        super().__init__(message, result)
        self.service = service
        self.descriptor = descriptor

    def __reduce__(self):
        return (type(self), (self.args[0], self.result, self.service, self.descriptor))


class ObjectUndefined(ObjectAccessError):
    """The server has no such object (object-undefined, -unavailable, class inconsistent)."""


class AccessDenied(ObjectAccessError):
    """The association may not access this object (read-write-denied, scope violated)."""


class AuthenticationFailed(AssociationRejected, AuthenticationError):
    """The server refused our authentication (wrong password, wrong HLS answer)."""


def object_name(descriptor: Any) -> str:
    """How an error names the object: class, OBIS and attribute/method, or a short name."""
    if isinstance(descriptor, int):
        return f"short name 0x{descriptor:04X}"
    member = getattr(descriptor, "attribute_id", None)
    kind = "attribute"
    if member is None:
        member = getattr(descriptor, "method_id", None)
        kind = "method"
    if member is None:
        return str(descriptor)
    return f"class {descriptor.class_id} {descriptor.instance_id} {kind} {member}"


def access_error(result: Any, service: str, descriptor: Any) -> ObjectAccessError:
    """The error for a result other than success (not raised: with-list keeps it)."""
    code = int(result)
    cls = AccessDenied if code in _DENIED else ObjectUndefined if code in _UNDEFINED \
        else ObjectAccessError
    name = getattr(result, "blue_book_name", str(code))
    return cls(f"{service} {object_name(descriptor)}: {name} ({code})", result, service,
               descriptor)


__all__ = ["ObjectAccessError", "ObjectUndefined", "AccessDenied", "AuthenticationFailed",
           "access_error", "object_name"]
