"""Security layer: ciphered APDUs (glo, ded, general-glo, general-ded,
general-ciphering), the SecurityContext that ciphers and deciphers them with
AES-GCM, HLS authentication and AES key wrap.

Structural parsing (:mod:`.ciphered`) needs no key; it is what the ACSE and
xDLMS layers call to recognise a ciphered APDU.
"""
from __future__ import annotations

from .ciphered import (
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    IdentifiedKey,
    KeyInfo,
    SecurityControl,
    WrappedKey,
    is_ciphered_tag,
    parse_ciphered,
)

__all__ = [
    "AgreedKey",
    "CipheredApdu",
    "GeneralCiphering",
    "GeneralDedCiphering",
    "GeneralGloCiphering",
    "IdentifiedKey",
    "KeyInfo",
    "SecurityControl",
    "WrappedKey",
    "is_ciphered_tag",
    "parse_ciphered",
]
