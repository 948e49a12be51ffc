"""AES key wrap (RFC 3394) for key transfer: Security setup (class 64)
method key_transfer and the wrapped-key of general-ciphering carry keys
wrapped under the master key (KEK).

    wrapped = AES-KW(KEK, key)     16-octet key -> 24 octets, 32 -> 40

The work is done by the ``cryptography`` package; a failed integrity check
on unwrap is a :class:`~dlmsfast.errors.SecurityError`.
"""
from __future__ import annotations

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from ..errors import SecurityError, UsageError


def _check_kek(kek: bytes) -> bytes:
    kek = bytes(kek)
    if len(kek) not in (16, 24, 32):
        raise UsageError(f"key-encrypting key must be 16, 24 or 32 octets, got {len(kek)}")
    return kek


def wrap_key(kek: bytes, key: bytes) -> bytes:
    """Wrap ``key`` (a multiple of 8 octets, at least 16) under ``kek``."""
    key = bytes(key)
    if len(key) < 16 or len(key) % 8:
        raise UsageError(f"key to wrap must be 16 octets or more, a multiple of 8; "
                         f"got {len(key)}")
    return aes_key_wrap(_check_kek(kek), key)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap and check integrity; SecurityError when it does not check."""
    wrapped = bytes(wrapped)
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise SecurityError(f"wrapped key must be 24 octets or more, a multiple of 8; "
                            f"got {len(wrapped)}")
    try:
        return aes_key_unwrap(_check_kek(kek), wrapped)
    except InvalidUnwrap:
        raise SecurityError("wrapped key failed its integrity check (wrong KEK?)") from None
