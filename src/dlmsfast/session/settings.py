"""What an association is made with: :class:`AssociationSettings` (client role),
:class:`ServerSettings` and :class:`AuthenticationPolicy` (server role).

Security is named as the CLI names it: ``none``, ``auth``, ``enc``, ``authenc``
(security control bits 0x00, 0x10, 0x20, 0x30). Ciphering forms: ``glo``,
``ded``, ``general-glo``, ``general-ded``, ``general-ciphering``, or ``auto``
(general-glo when the server grants general-protection, else glo). Authentication: ``none``, ``lls``,
``hls-md5``, ``hls-sha1``, ``hls-gmac``, ``hls-sha256`` (or a MechanismName).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from ..apdu import Conformance, Priority
from .._util import _check_range, octets_argument, require, shown
from ..errors import ConfigurationError, UsageError
from ..security import SecurityContext
from ..security.mechanism import MechanismName

SECURITY_BITS = {"none": 0x00, "auth": 0x10, "enc": 0x20, "authenc": 0x30}
FORMS = ("auto", "glo", "ded", "general-glo", "general-ded", "general-ciphering")

_MECHANISMS = {
    "none": MechanismName.LOWEST_LEVEL,
    "lls": MechanismName.LOW_LEVEL_SECURITY,
    "low": MechanismName.LOW_LEVEL_SECURITY,
    "hls-md5": MechanismName.HLS_MD5,
    "hls-sha1": MechanismName.HLS_SHA1,
    "hls-gmac": MechanismName.HLS_GMAC,
    "hls-sha256": MechanismName.HLS_SHA256,
}
SUPPORTED_MECHANISMS = frozenset(_MECHANISMS.values())

DEFAULT_CONFORMANCE = (
    Conformance.GENERAL_PROTECTION
    | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
    | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | Conformance.BLOCK_TRANSFER_WITH_ACTION
    | Conformance.MULTIPLE_REFERENCES
    | Conformance.DATA_NOTIFICATION
    | Conformance.ACCESS
    | Conformance.GET
    | Conformance.SET
    | Conformance.SELECTIVE_ACCESS
    | Conformance.EVENT_NOTIFICATION
    | Conformance.ACTION
)
"""What a client proposes by default (LN services, block transfer, general-protection)."""

DEFAULT_SN_CONFORMANCE = (
    Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
    | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | Conformance.READ
    | Conformance.WRITE
    | Conformance.MULTIPLE_REFERENCES
    | Conformance.PARAMETERIZED_ACCESS
    | Conformance.INFORMATION_REPORT
)


def mechanism_of(value: Any) -> MechanismName:
    """A MechanismName from its CLI name (``hls-gmac``), its id or itself."""
    if isinstance(value, str):
        try:
            return _MECHANISMS[value.lower()]
        except KeyError:
            raise UsageError(f"unknown authentication {shown(value)}; one of "
                             f"{', '.join(sorted(_MECHANISMS))}") from None
    return MechanismName.given(value, "authentication")


def security_bits(value: Any) -> int:
    """SC bits (0, 0x10, 0x20, 0x30) from ``none``/``auth``/``enc``/``authenc`` or the bits."""
    if isinstance(value, str):
        try:
            return SECURITY_BITS[value.lower()]
        except KeyError:
            raise UsageError(f"unknown security {shown(value)}; one of none, auth, enc, authenc") \
                from None
    if value in (0, 0x10, 0x20, 0x30):
        return value
    raise UsageError(f"security must be none, auth, enc, authenc (or 0/0x10/0x20/0x30), "
                     f"got {shown(value)}")


def _conformance(value: Any, what: str) -> Conformance:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{what} must be a Conformance, got {type(value).__name__}")
    _check_range(what, int(value), 0, 0xFFFFFF)
    return Conformance(value)


def _secret(value: Any, what: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise UsageError(f"{what} must be bytes or str")


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociationSettings:
    """Everything the client role needs to associate.

    - ``authentication``: ``none`` | ``lls`` | ``hls-md5`` | ``hls-sha1`` |
      ``hls-gmac`` | ``hls-sha256`` (or a MechanismName).
    - ``password``: the LLS password, or the HLS secret of MD5/SHA-1/SHA-256
      (bytes, or str taken as ASCII).
    - ``security``: ``none`` | ``auth`` | ``enc`` | ``authenc``.
    - ``security_context``: a :class:`~dlmsfast.security.SecurityContext`; or give
      ``system_title``, ``block_cipher_key``, ``authentication_key`` (and
      ``invocation_counter``, the first one to send, 1 by default since some
      meters refuse 0, and ``security_suite``) and the session makes one.
      Needed for any security other than none and for HLS-GMAC/SHA-256.
    - ``ciphering``: ``auto`` | ``glo`` | ``ded`` | ``general-glo`` | ``general-ded`` |
      ``general-ciphering`` (the server answers in the form each request came in).
    - ``dedicated_key``: the key sent in the InitiateRequest for ded- forms
      (made with os.urandom when a ded- form is asked and none is given).
    - ``logical_name_referencing``: False for Association SN meters.
    - ``client_max_receive_pdu_size``: the largest APDU we accept (the AARQ).
    - ``proposed_conformance``: the conformance block we propose.
    - ``invoke_id``: the first invoke id (0..15; then counting up, mod 16);
      ``priority``: ``Priority.HIGH`` or ``NORMAL``.
    - ``challenge``: CtoS for HLS (random when None; fixed for tests).
    - ``max_list_items``: at most this many descriptors per with-list request
      (None: as many as the server's PDU size allows).
    """

    authentication: Any = "none"
    password: bytes | str | None = field(default=None, repr=False)
    security: Any = "none"
    security_context: SecurityContext | None = None
    system_title: bytes | None = None
    block_cipher_key: bytes | None = field(default=None, repr=False)
    authentication_key: bytes | None = field(default=None, repr=False)
    invocation_counter: int = 1
    security_suite: int = 0
    ciphering: str = "auto"
    dedicated_key: bytes | None = field(default=None, repr=False)
    logical_name_referencing: bool = True
    client_max_receive_pdu_size: int = 0xFFFF
    proposed_conformance: Conformance | None = None
    invoke_id: int = 1
    priority: Priority = Priority.HIGH
    challenge: bytes | None = field(default=None, repr=False)
    max_list_items: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "authentication", mechanism_of(self.authentication))
        object.__setattr__(self, "security", security_bits(self.security))
        object.__setattr__(self, "password", _secret(self.password, "password"))
        object.__setattr__(self, "priority", Priority.given(self.priority, "priority"))
        if not isinstance(self.ciphering, str) or self.ciphering not in FORMS:
            raise UsageError(f"ciphering must be one of {', '.join(FORMS)}, got {shown(self.ciphering)}")
        _check_range("invoke_id", self.invoke_id, 0, 15)
        _check_range("client_max_receive_pdu_size", self.client_max_receive_pdu_size, 12, 0xFFFF)
        _check_range("invocation_counter", self.invocation_counter, 0, 0xFFFFFFFF)
        _check_range("security_suite", self.security_suite, 0, 2)
        if self.max_list_items is not None:
            _check_range("max_list_items", self.max_list_items, 1, 0xFFFF)
        for name in ("system_title", "dedicated_key", "challenge"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, octets_argument(value, name))
        require(self.security_context, (SecurityContext, type(None)), "security_context")
        if self.proposed_conformance is None:
            object.__setattr__(self, "proposed_conformance", DEFAULT_CONFORMANCE
                               if self.logical_name_referencing else DEFAULT_SN_CONFORMANCE)
        else:
            object.__setattr__(self, "proposed_conformance",
                               _conformance(self.proposed_conformance, "proposed_conformance"))
        mechanism = self.authentication
        if mechanism not in SUPPORTED_MECHANISMS:
            raise ConfigurationError(f"authentication {mechanism.blue_book_name} is not supported")
        if (mechanism == MechanismName.HLS_SHA256 and self.system_title is None
                and self.security_context is None):
            raise ConfigurationError("HLS-SHA-256 needs the client system_title")
        if mechanism in (MechanismName.LOW_LEVEL_SECURITY, MechanismName.HLS_MD5,
                         MechanismName.HLS_SHA1, MechanismName.HLS_SHA256) and not self.password:
            raise ConfigurationError(f"authentication {mechanism.blue_book_name} needs a password")

    def make_context(self) -> SecurityContext | None:
        """The SecurityContext to use (given, or made from the key material), or None.

        Any security other than none, and HLS-GMAC, need one: ConfigurationError.
        """
        context = self.security_context
        if context is None and (self.block_cipher_key is not None
                                or self.authentication_key is not None):
            if self.system_title is None:
                raise ConfigurationError("ciphering needs the client system_title")
            context = SecurityContext(
                system_title=self.system_title,
                block_cipher_key=self.block_cipher_key,
                authentication_key=self.authentication_key,
                invocation_counter=self.invocation_counter,
                security_suite=self.security_suite,
            )
        if context is None and (self.security or self.authentication == MechanismName.HLS_GMAC):
            raise ConfigurationError(
                "this security/authentication needs keys: give security_context, or "
                "system_title, block_cipher_key and authentication_key")
        return context


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientAccess:
    """One association a server accepts (an entry of :class:`AuthenticationPolicy`).

    ``client_address`` the client SAP (None: any); ``authentication`` the
    mechanism it must use; ``password`` the LLS password or HLS secret;
    ``security`` the SC bits it must use (None: whatever it proposes);
    ``security_context`` the server-side context (keys, our system title and
    invocation counter, kept across associations so that counters only grow;
    start its counter at 1: some clients, dlms-cosem among them, refuse 0);
    ``conformance`` what may be granted (None: the server's conformance).
    """

    client_address: int | None
    authentication: Any = "none"
    password: bytes | str | None = field(default=None, repr=False)
    security: Any = None
    security_context: SecurityContext | None = None
    conformance: Conformance | None = None

    def __post_init__(self) -> None:
        if self.client_address is not None:
            _check_range("client_address", self.client_address, 0, 0xFFFF)
        object.__setattr__(self, "authentication", mechanism_of(self.authentication))
        object.__setattr__(self, "password", _secret(self.password, "password"))
        if self.security is not None:
            object.__setattr__(self, "security", security_bits(self.security))
        require(self.security_context, (SecurityContext, type(None)), "security_context")
        if self.conformance is not None:
            object.__setattr__(self, "conformance", _conformance(self.conformance, "conformance"))


class AuthenticationPolicy:
    """Which client addresses, mechanisms, passwords and keys a server accepts.

    ``AuthenticationPolicy([ClientAccess(client_address=16), ClientAccess(
    client_address=1, authentication="hls-gmac", security_context=ctx)])``.
    ``lookup(client_address)`` gives the entry or None (the AARQ is then refused).
    """

    __slots__ = ("_by_address", "_any")

    def __init__(self, entries: list[ClientAccess] | tuple[ClientAccess, ...]) -> None:
        require(entries, (list, tuple), "entries")
        self._by_address: dict[int, ClientAccess] = {}
        self._any: ClientAccess | None = None
        for entry in entries:
            if not isinstance(entry, ClientAccess):
                raise UsageError("an AuthenticationPolicy holds ClientAccess entries")
            if entry.client_address is None:
                self._any = entry
            else:
                self._by_address[entry.client_address] = entry

    def lookup(self, client_address: int | None) -> ClientAccess | None:
        entry = self._by_address.get(client_address) if client_address is not None else None
        return entry if entry is not None else self._any


# What ServerSession serves, and so may grant: a bit granted is a promise that
# the service works (a client may check before it asks). Not the ACCESS service
# (access-request, 0xD9), nor notifications from the client's side; for short
# names, ReadRequest (with parameterized access, answered in data blocks) and
# WriteRequest (without blocks).
SERVER_CONFORMANCE = (DEFAULT_CONFORMANCE & ~Conformance.EVENT_NOTIFICATION
                      & ~Conformance.DATA_NOTIFICATION & ~Conformance.ACCESS)
"""What a logical-name server offers by default."""

SERVER_SN_CONFORMANCE = (Conformance.GENERAL_PROTECTION
                         | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
                         | Conformance.READ | Conformance.WRITE
                         | Conformance.MULTIPLE_REFERENCES
                         | Conformance.PARAMETERIZED_ACCESS)
"""What a short-name server offers by default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSettings:
    """The meter side: ``system_title`` (sent in the AARE where ciphering or
    HLS-GMAC/SHA-256 needs it), ``conformance`` offered, ``max_receive_pdu_size``
    (ours, sent in the AARE; long answers are cut to min(client's, ours)),
    ``logical_name_referencing`` (the default ``conformance`` follows it:
    :data:`SERVER_CONFORMANCE` or :data:`SERVER_SN_CONFORMANCE`), and
    ``challenge`` (StoC: a function giving the octets, os.urandom(16) by default)."""

    system_title: bytes | None = None
    conformance: Conformance = SERVER_CONFORMANCE
    max_receive_pdu_size: int = 1024
    logical_name_referencing: bool = True
    challenge: Callable[[], bytes] = field(default=lambda: os.urandom(16), repr=False)

    def __post_init__(self) -> None:
        _check_range("max_receive_pdu_size", self.max_receive_pdu_size, 12, 0xFFFF)
        if self.system_title is not None:
            object.__setattr__(self, "system_title",
                               octets_argument(self.system_title, "system_title"))
        if self.conformance is SERVER_CONFORMANCE and not self.logical_name_referencing:
            # the default (not given): a short-name server's services
            object.__setattr__(self, "conformance", SERVER_SN_CONFORMANCE)
        object.__setattr__(self, "conformance", _conformance(self.conformance, "conformance"))
        if not callable(self.challenge):
            raise UsageError("challenge must be a function giving the StoC octets")


__all__ = [
    "AssociationSettings",
    "AuthenticationPolicy",
    "ClientAccess",
    "ServerSettings",
    "DEFAULT_CONFORMANCE",
    "DEFAULT_SN_CONFORMANCE",
    "SERVER_CONFORMANCE",
    "SERVER_SN_CONFORMANCE",
    "SECURITY_BITS",
    "mechanism_of",
    "security_bits",
]
