"""Security layer: ciphered APDUs (glo, ded, general-glo, general-ded,
general-ciphering), the SecurityContext that ciphers and deciphers them with
AES-GCM, HLS authentication and AES key wrap.

Structural parsing (:mod:`.ciphered`) needs no key; it is what the ACSE and
xDLMS layers call to recognise a ciphered APDU.

``backend`` says which AES-GCM path runs by default: "openssl" (OpenSSL's EVP
interface called from the compiled core) or "cryptography" (the fallback when
no libcrypto can be reached, or when DLMSFAST_GCM_BACKEND=cryptography).
"""
from __future__ import annotations

from ._gcm import AesGcm, backend, openssl_available, openssl_library, openssl_version

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
from .context import FORMS, CipheringSteps, SecurityContext
from .hls import AuthenticationMechanism, lls_check, respond, verify
from .mechanism import MechanismName
from .keywrap import KeyId, key_transfer_data, parse_key_transfer_data, unwrap_key, wrap_key

__all__ = [
    "AesGcm",
    "AgreedKey",
    "AuthenticationMechanism",
    "CipheringSteps",
    "FORMS",
    "MechanismName",
    "SecurityContext",
    "backend",
    "lls_check",
    "openssl_available",
    "openssl_library",
    "openssl_version",
    "respond",
    "unwrap_key",
    "verify",
    "wrap_key",
    "CipheredApdu",
    "GeneralCiphering",
    "GeneralDedCiphering",
    "GeneralGloCiphering",
    "IdentifiedKey",
    "KeyId",
    "KeyInfo",
    "SecurityControl",
    "WrappedKey",
    "is_ciphered_tag",
    "key_transfer_data",
    "parse_ciphered",
    "parse_key_transfer_data",
]
