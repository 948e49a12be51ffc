"""AES key wrap (RFC 3394) for key transfer: Security setup (class 64)
method key_transfer and the wrapped-key of general-ciphering carry keys
wrapped under the master key (KEK).

    wrapped = AES-KW(KEK, key)     16-octet key -> 24 octets, 32 -> 40

key_transfer (Security setup method 2) takes key_data::

    array key_wrapped_data
    key_wrapped_data ::= structure {
        key_id      enum (0 global unicast encryption key, 1 global broadcast
                          encryption key, 2 authentication key, 3 master key),
        key_wrapped octet-string
    }

The wrapping is done by the ``cryptography`` package; a failed integrity
check on unwrap is a :class:`~dlmsfast.errors.TagError` (the wrap's integrity
check is its authentication tag).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from .._util import as_bytes, octets_argument
from ..axdr import Data, DataType, decode_length_from, decode_typed_from, encode
from .._enum import BlueBookEnum
from ..errors import ConfigurationError, DecodeError, TagError, UsageError


class KeyId(BlueBookEnum):
    """key_id of Security setup key_transfer (Blue Book, class 64)."""

    GLOBAL_UNICAST_ENCRYPTION_KEY = 0
    GLOBAL_BROADCAST_ENCRYPTION_KEY = 1
    AUTHENTICATION_KEY = 2
    MASTER_KEY = 3


def _check_kek(kek: bytes) -> bytes:
    kek = octets_argument(kek, "key-encrypting key")
    if len(kek) not in (16, 24, 32):
        raise ConfigurationError(f"key-encrypting key must be 16, 24 or 32 octets, "
                                 f"got {len(kek)}")
    return kek


def wrap_key(kek: bytes, key: bytes) -> bytes:
    """Wrap ``key`` (a multiple of 8 octets, at least 16) under ``kek``."""
    key = octets_argument(key, "key to wrap")
    if len(key) < 16 or len(key) % 8:
        raise UsageError(f"key to wrap must be 16 octets or more, a multiple of 8; "
                         f"got {len(key)}")
    return aes_key_wrap(_check_kek(kek), key)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap and check integrity; TagError when it does not check."""
    wrapped = octets_argument(wrapped, "wrapped key")
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise DecodeError(f"wrapped key must be 24 octets or more, a multiple of 8; "
                          f"got {len(wrapped)}", 0)
    try:
        return aes_key_unwrap(_check_kek(kek), wrapped)
    except InvalidUnwrap:
        raise TagError("wrapped key failed its integrity check (wrong KEK?)") from None


def key_transfer_data(kek: bytes, keys: Mapping[int, bytes] | Iterable[tuple[int, bytes]]
                      ) -> bytes:
    """The A-XDR key_data parameter of key_transfer: each key wrapped under ``kek``."""
    try:
        items = [(key_id, key) for key_id, key in (
            keys.items() if isinstance(keys, Mapping) else keys)]
    except (TypeError, ValueError):
        raise UsageError("keys must be a mapping or pairs of (key_id, key)") from None
    if not items:
        raise UsageError("key_transfer needs at least one key")
    items = [(KeyId.given(key_id if type(key_id) is not bool else None, "key_id"), key)
             for key_id, key in items]
    return encode(Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (Data(DataType.ENUM, int(key_id)),
                                  Data(DataType.OCTET_STRING, wrap_key(kek, key))))
        for key_id, key in items
    )))


def parse_key_transfer_data(kek: bytes, data: bytes) -> list[tuple[KeyId, bytes]]:
    """Unwrap every key of a key_transfer parameter (as a meter receives it)."""
    data = as_bytes(data)
    if not data or data[0] != DataType.ARRAY:
        raise DecodeError("key_data must be an array", 0)
    count, pos = decode_length_from(data, 1)
    keys = []
    for _ in range(count):
        start = pos
        item, pos = decode_typed_from(data, pos)
        fields = item.value if item.type == DataType.STRUCTURE else ()
        if (len(fields) != 2 or fields[0].type != DataType.ENUM
                or fields[1].type != DataType.OCTET_STRING):
            raise DecodeError("key_wrapped_data must be structure {enum, octet-string}", start)
        keys.append((KeyId.read(fields[0].value, start, "key_id"),
                     unwrap_key(kek, fields[1].value)))
    if pos != len(data):
        raise DecodeError(f"{len(data) - pos} trailing octets after key_data", pos)
    return keys
