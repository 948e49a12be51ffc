"""The authentication mechanisms of an association (mechanism-name, OID
2.16.756.5.8.2.<id>): one enumeration for the ACSE and the security layers."""
from __future__ import annotations

from .._enum import BlueBookEnum

DLMS_UA_OID = (2, 16, 756, 5, 8)
_MECHANISM_NAME_ARC = 2


def _dlms_oid(kind: int, value: int) -> tuple[int, ...]:
    return (*DLMS_UA_OID, kind, value)


class MechanismName(BlueBookEnum):
    """2.16.756.5.8.2.x: the authentication mechanism of the association.

    One enumeration under two names: ``MechanismName`` (the ASN.1 name, as
    :mod:`dlmsfast.apdu` and :mod:`dlmsfast.security` export it) and
    ``dlmsfast.security.AuthenticationMechanism``. Short aliases: ``NONE``,
    ``LLS`` and ``HLS``.
    """

    LOWEST_LEVEL = 0
    LOW_LEVEL_SECURITY = 1
    HIGH_LEVEL_SECURITY = 2
    HLS_MD5 = 3
    HLS_SHA1 = 4
    HLS_GMAC = 5
    HLS_SHA256 = 6
    HLS_ECDSA = 7
    NONE = 0
    LLS = 1
    HLS = 2

    @property
    def label(self) -> str:
        """The name shown by ``describe()`` (as in shared/vectors/acse.json)."""
        return _MECHANISM_LABELS[self]

    @property
    def oid(self) -> str:
        return ".".join(str(arc) for arc in _dlms_oid(_MECHANISM_NAME_ARC, self.value))


_MECHANISM_LABELS = {
    MechanismName.LOWEST_LEVEL: "lowest-level",
    MechanismName.LOW_LEVEL_SECURITY: "low-level (LLS)",
    MechanismName.HIGH_LEVEL_SECURITY: "high-level (HLS)",
    MechanismName.HLS_MD5: "HLS-MD5",
    MechanismName.HLS_SHA1: "HLS-SHA1",
    MechanismName.HLS_GMAC: "HLS-GMAC",
    MechanismName.HLS_SHA256: "HLS-SHA256",
    MechanismName.HLS_ECDSA: "HLS-ECDSA",
}


__all__ = ["DLMS_UA_OID", "MechanismName"]
