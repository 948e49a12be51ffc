"""Ciphered xDLMS APDUs, structure only: what can be read without any key.

Green Book (DLMS UA 1000-2) 9.2.7.2.4 and IEC 62056-5-3 xDLMS-APDU. The
security header is the security control byte (SC) and the invocation counter
(IC); the authentication tag is present when SC says "authenticated"::

    service-specific ciphering (glo-xxx / ded-xxx), e.g. glo-get-request C8
    +-----+--------+----+--------+---------------------+--------------+
    | tag | length | SC | IC (4) | information         | T (0 or 12)  |
    +-----+--------+----+--------+---------------------+--------------+
                   `-------------- length octets ------------------'

    general-glo-ciphering DB / general-ded-ciphering DC
    +-------+-----+--------------+--------+----+----+-------------+---+
    | DB/DC | len | system-title | length | SC | IC | information | T |
    +-------+-----+--------------+--------+----+----+-------------+---+

    general-ciphering DD
    +----+----------------+---------------+--------------+-----------+
    | DD | transaction-id | originator-ST | recipient-ST | date-time | ..
    +----+----------------+---------------+--------------+-----------+
       .. | other-information | key-info OPTIONAL | ciphered-content |

Every variable field is an A-XDR OCTET STRING (BER length, then contents).
SC bits: 0..3 security suite, 4 authentication, 5 encryption, 6 key set
(broadcast key), 7 compression. "information" is the ciphertext when SC says
"encrypted", else the plaintext APDU in clear.

key-info (general-ciphering) is OPTIONAL (one presence octet) and a CHOICE::

    [0] identified-key  key-id ENUMERATED (0 global unicast, 1 global broadcast)
    [1] wrapped-key     kek-id ENUMERATED (0 master key), key-ciphered-data
    [2] agreed-key      key-parameters, key-ciphered-data
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Union

from .._tags import GENERAL_CIPHERING, GENERAL_DED_CIPHERING, GENERAL_GLO_CIPHERING, SERVICE_TAGS
from .._util import as_bytes, shown
from ..axdr import decode_length_from, encode_length
from ..errors import DecodeError, EncodeError
# The SC bits and the tag length are the compiled core's: one definition for the
# structure and for the ciphering rules. SERVICE_TAGS (plaintext tag, name, glo tag,
# ded tag) comes from the one tag table, which the compiled core reads too.
from ._gcm import (  # noqa: F401  (SC_* are this module's API too)
    SC_AUTHENTICATION,
    SC_BROADCAST_KEY,
    SC_COMPRESSION,
    SC_ENCRYPTION,
    SC_SUITE_MASK,
    TAG_LENGTH,
)

SECURITY_HEADER_LENGTH = 5  # SC (1) + IC (4)

GLO_TAG: dict[int, int] = {plain: glo for plain, _, glo, _ in SERVICE_TAGS}
DED_TAG: dict[int, int] = {plain: ded for plain, _, _, ded in SERVICE_TAGS}
PLAIN_TAG: dict[int, int] = {
    **{glo: plain for plain, _, glo, _ in SERVICE_TAGS},
    **{ded: plain for plain, _, _, ded in SERVICE_TAGS},
}
SERVICE_NAME: dict[int, str] = {
    **{glo: f"glo-{name}" for _, name, glo, _ in SERVICE_TAGS},
    **{ded: f"ded-{name}" for _, name, _, ded in SERVICE_TAGS},
}
DEDICATED_TAGS = frozenset(ded for _, _, _, ded in SERVICE_TAGS)



@dataclass(frozen=True, slots=True)
class SecurityControl:
    """The security control byte (SC) of a security header."""

    value: int

    def __post_init__(self) -> None:
        if type(self.value) is not int or not 0 <= self.value <= 0xFF:
            raise EncodeError(f"security control must be one octet, got {shown(self.value)}")

    @classmethod
    def build(
        cls,
        *,
        security_suite: int = 0,
        authentication: bool = True,
        encryption: bool = True,
        broadcast_key: bool = False,
        compression: bool = False,
    ) -> "SecurityControl":
        if type(security_suite) is not int or not 0 <= security_suite <= 0x0F:
            raise EncodeError(f"security suite must be 0..15, got {shown(security_suite)}")
        return cls(
            security_suite
            | (SC_AUTHENTICATION if authentication else 0)
            | (SC_ENCRYPTION if encryption else 0)
            | (SC_BROADCAST_KEY if broadcast_key else 0)
            | (SC_COMPRESSION if compression else 0)
        )

    @property
    def security_suite(self) -> int:
        return self.value & SC_SUITE_MASK

    @property
    def authentication(self) -> bool:
        return bool(self.value & SC_AUTHENTICATION)

    @property
    def encryption(self) -> bool:
        return bool(self.value & SC_ENCRYPTION)

    @property
    def broadcast_key(self) -> bool:
        return bool(self.value & SC_BROADCAST_KEY)

    @property
    def compression(self) -> bool:
        return bool(self.value & SC_COMPRESSION)

    @property
    def tag_length(self) -> int:
        return TAG_LENGTH if self.value & SC_AUTHENTICATION else 0

    def to_meaning(self) -> dict:
        """The ``security_control`` object of shared/vectors/README.md."""
        return {
            "hex": f"{self.value:02X}",
            "security_suite": self.security_suite,
            "authentication": self.authentication,
            "encryption": self.encryption,
            "broadcast_key": self.broadcast_key,
            "compression": self.compression,
        }


# --------------------------------------------------------------------------
# A-XDR octet-string lengths. Offsets in errors are absolute (base_offset is
# where ``data`` starts inside the caller's buffer).

def _read_length(data: bytes, pos: int, end: int, base: int) -> tuple[int, int]:
    """Read an A-XDR length at ``pos``; the value is bounded by ``end - next``."""
    try:
        length, nxt = decode_length_from(data, pos)
    except DecodeError as exc:
        raise DecodeError(exc.message, base + (exc.offset if exc.offset is not None else pos)) \
            from None
    if length > end - nxt:
        raise DecodeError(
            f"length {length} exceeds the {end - nxt} octets present", base + pos
        )
    return length, nxt


def _read_octet_string(data: bytes, pos: int, end: int, base: int) -> tuple[bytes, int]:
    length, nxt = _read_length(data, pos, end, base)
    return data[nxt:nxt + length], nxt + length


def _octets_field(value, what: str) -> bytes:
    """A field handed over to be put on the wire: bytes-like, else EncodeError."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise EncodeError(f"{what} must be bytes, got {type(value).__name__}")


def _octet_field(value, what: str) -> int:
    """A one-octet field (enumeration, security control) handed over to be sent."""
    if (type(value) is not int and not isinstance(value, IntEnum)) or not 0 <= value <= 0xFF:
        raise EncodeError(f"{what} must be one octet (0..255), got {shown(value)}")
    return int(value)


def octet_string(value: bytes) -> bytes:
    """A-XDR octet-string contents with their length (no type tag)."""
    value = _octets_field(value, "octet-string")
    return encode_length(len(value)) + value


def _split_ciphered_content(
    data: bytes, pos: int, end: int, base: int
) -> tuple[SecurityControl, int, bytes, bytes]:
    """SC || IC || information || T within data[pos:end]."""
    if end - pos < SECURITY_HEADER_LENGTH:
        raise DecodeError(
            "ciphered content shorter than the security header (SC + IC)", base + pos
        )
    sc = SecurityControl(data[pos])
    ic = int.from_bytes(data[pos + 1:pos + 5], "big")
    tag_length = sc.tag_length
    info_start = pos + SECURITY_HEADER_LENGTH
    if end - info_start < tag_length:
        raise DecodeError(
            f"ciphered content too short for the {tag_length}-octet authentication tag",
            base + info_start,
        )
    info_end = end - tag_length
    return sc, ic, data[info_start:info_end], data[info_end:end]


def _join_ciphered_content(
    sc: SecurityControl, ic: int, ciphertext: bytes, authentication_tag: bytes
) -> bytes:
    if not isinstance(sc, SecurityControl):
        raise EncodeError(f"security_control must be a SecurityControl, got {type(sc).__name__}")
    ciphertext = _octets_field(ciphertext, "ciphertext")
    authentication_tag = _octets_field(authentication_tag, "authentication tag")
    if len(authentication_tag) != sc.tag_length:
        raise EncodeError(
            f"security control 0x{sc.value:02X} needs a {sc.tag_length}-octet tag, "
            f"got {len(authentication_tag)}"
        )
    if type(ic) is not int or not 0 <= ic <= 0xFFFFFFFF:
        raise EncodeError(f"invocation counter {shown(ic)} does not fit in 4 octets")
    return bytes((sc.value,)) + ic.to_bytes(4, "big") + ciphertext + authentication_tag


def content_length(apdu) -> int:
    """What the length field before SC says: SC || IC || information || T."""
    return SECURITY_HEADER_LENGTH + len(apdu.ciphertext) + len(apdu.authentication_tag)


def _content_meaning(apdu) -> dict:
    """SC, IC, ciphertext and tag: the ciphered-content part of every form's meaning."""
    return {
        "security_control": apdu.security_control.to_meaning(),
        "invocation_counter": apdu.invocation_counter,
        "ciphertext": apdu.ciphertext.hex().upper(),
        "authentication_tag": apdu.authentication_tag.hex().upper(),
    }


def _expect_end(pos: int, end: int, base: int) -> None:
    if pos != end:
        raise DecodeError(f"{end - pos} trailing octets after the APDU", base + pos)


# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CipheredApdu:
    """A glo- or ded- service-specific ciphered APDU (e.g. glo-get-request)."""

    tag: int
    security_control: SecurityControl
    invocation_counter: int
    ciphertext: bytes
    authentication_tag: bytes = b""

    @property
    def service(self) -> str:
        return SERVICE_NAME[self.tag]

    @property
    def plain_tag(self) -> int:
        """Tag of the APDU inside (e.g. 0xC0 for glo-get-request)."""
        return PLAIN_TAG[self.tag]

    @property
    def dedicated(self) -> bool:
        return self.tag in DEDICATED_TAGS

    @classmethod
    def from_bytes(cls, data, *, base_offset: int = 0) -> "CipheredApdu":
        data = as_bytes(data)
        end = len(data)
        if end == 0:
            raise DecodeError("empty APDU", base_offset)
        tag = data[0]
        if tag not in SERVICE_NAME:
            raise DecodeError(f"0x{tag:02X} is not a glo-/ded- ciphered APDU tag", base_offset)
        length, pos = _read_length(data, 1, end, base_offset)
        _expect_end(pos + length, end, base_offset)
        sc, ic, info, auth_tag = _split_ciphered_content(data, pos, end, base_offset)
        return cls(tag, sc, ic, info, auth_tag)

    def to_bytes(self) -> bytes:
        if not is_ciphered_tag(self.tag) or self.tag not in SERVICE_NAME:
            raise EncodeError(f"{shown(self.tag)} is not a glo-/ded- ciphered APDU tag")
        content = _join_ciphered_content(
            self.security_control, self.invocation_counter, self.ciphertext,
            self.authentication_tag,
        )
        return bytes((self.tag,)) + octet_string(content)

    def to_meaning(self) -> dict:
        """The structure, without deciphering (shared/vectors/security.json)."""
        return {"apdu": self.service, "tag": f"{self.tag:02X}",
                "length": content_length(self), **_content_meaning(self)}


@dataclass(frozen=True, slots=True)
class _GeneralServiceCiphering:
    """general-glo-/general-ded-ciphering share one layout; TAG tells them apart."""

    TAG = -1
    SERVICE = ""

    system_title: bytes
    security_control: SecurityControl
    invocation_counter: int
    ciphertext: bytes
    authentication_tag: bytes = b""

    @property
    def service(self) -> str:
        return self.SERVICE

    @classmethod
    def from_bytes(cls, data, *, base_offset: int = 0):
        data = as_bytes(data)
        end = len(data)
        if end == 0:
            raise DecodeError("empty APDU", base_offset)
        if data[0] != cls.TAG:
            raise DecodeError(
                f"expected tag 0x{cls.TAG:02X}, got 0x{data[0]:02X}", base_offset
            )
        system_title, pos = _read_octet_string(data, 1, end, base_offset)
        length, pos = _read_length(data, pos, end, base_offset)
        _expect_end(pos + length, end, base_offset)
        sc, ic, info, auth_tag = _split_ciphered_content(data, pos, end, base_offset)
        return cls(system_title, sc, ic, info, auth_tag)

    def to_bytes(self) -> bytes:
        content = _join_ciphered_content(
            self.security_control, self.invocation_counter, self.ciphertext,
            self.authentication_tag,
        )
        return bytes((self.TAG,)) + octet_string(self.system_title) + octet_string(content)

    def to_meaning(self) -> dict:
        """The structure, without deciphering (shared/vectors/security.json)."""
        return {
            "apdu": self.service,
            "tag": f"{self.TAG:02X}",
            "system_title": {"length": len(self.system_title),
                             "hex": self.system_title.hex().upper()},
            "ciphered_content_length": content_length(self),
            **_content_meaning(self),
        }


@dataclass(frozen=True, slots=True)
class GeneralGloCiphering(_GeneralServiceCiphering):
    """general-glo-ciphering (0xDB): the sender's system title travels inside."""

    TAG = GENERAL_GLO_CIPHERING
    SERVICE = "general-glo-ciphering"


@dataclass(frozen=True, slots=True)
class GeneralDedCiphering(_GeneralServiceCiphering):
    """general-ded-ciphering (0xDC): as general-glo-ciphering, dedicated key."""

    TAG = GENERAL_DED_CIPHERING
    SERVICE = "general-ded-ciphering"


# -------------------------------------------------------------- key-info


@dataclass(frozen=True, slots=True)
class IdentifiedKey:
    """key-info [0]: key-id 0 global unicast encryption key, 1 global broadcast."""

    CHOICE = 0
    key_id: int

    def to_meaning(self) -> dict:
        return {"choice": "identified-key (0)", "key_id": self.key_id}


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """key-info [1]: a key wrapped (RFC 3394) under kek-id 0, the master key."""

    CHOICE = 1
    kek_id: int
    key_ciphered_data: bytes

    def to_meaning(self) -> dict:
        return {"choice": "wrapped-key (1)", "kek_id": self.kek_id,
                "key_ciphered_data_length": len(self.key_ciphered_data),
                "key_ciphered_data": self.key_ciphered_data.hex().upper()}


@dataclass(frozen=True, slots=True)
class AgreedKey:
    """key-info [2]: a key agreed by ECDH; key-parameters names the scheme."""

    CHOICE = 2
    key_parameters: bytes
    key_ciphered_data: bytes

    def to_meaning(self) -> dict:
        return {"choice": "agreed-key (2)", "key_parameters": self.key_parameters.hex().upper(),
                "key_ciphered_data_length": len(self.key_ciphered_data),
                "key_ciphered_data": self.key_ciphered_data.hex().upper()}


KeyInfo = Union[IdentifiedKey, WrappedKey, AgreedKey]


def _read_enum(data: bytes, pos: int, end: int, base: int, what: str) -> tuple[int, int]:
    if pos >= end:
        raise DecodeError(f"{what} missing", base + pos)
    return data[pos], pos + 1


def _read_key_info(data: bytes, pos: int, end: int, base: int) -> tuple[KeyInfo | None, int]:
    if pos >= end:
        raise DecodeError("key-info presence octet missing", base + pos)
    present = data[pos]
    if present == 0:
        return None, pos + 1
    if present != 1:
        raise DecodeError(f"key-info presence octet must be 0 or 1, got {present}", base + pos)
    pos += 1
    if pos >= end:
        raise DecodeError("key-info choice missing", base + pos)
    choice = data[pos]
    pos += 1
    if choice == IdentifiedKey.CHOICE:
        key_id, pos = _read_enum(data, pos, end, base, "key-id")
        return IdentifiedKey(key_id), pos
    if choice == WrappedKey.CHOICE:
        kek_id, pos = _read_enum(data, pos, end, base, "kek-id")
        ciphered, pos = _read_octet_string(data, pos, end, base)
        return WrappedKey(kek_id, ciphered), pos
    if choice == AgreedKey.CHOICE:
        params, pos = _read_octet_string(data, pos, end, base)
        ciphered, pos = _read_octet_string(data, pos, end, base)
        return AgreedKey(params, ciphered), pos
    raise DecodeError(f"unknown key-info choice {choice}", base + pos - 1)


def _key_info_bytes(key_info: KeyInfo | None) -> bytes:
    if key_info is None:
        return b"\x00"
    if isinstance(key_info, IdentifiedKey):
        return bytes((1, 0, _octet_field(key_info.key_id, "key-id")))
    if isinstance(key_info, WrappedKey):
        return (bytes((1, 1, _octet_field(key_info.kek_id, "kek-id")))
                + octet_string(key_info.key_ciphered_data))
    if isinstance(key_info, AgreedKey):
        return (
            b"\x01\x02"
            + octet_string(key_info.key_parameters)
            + octet_string(key_info.key_ciphered_data)
        )
    raise EncodeError(f"key_info must be a KeyInfo or None, got {type(key_info).__name__}")


@dataclass(frozen=True, slots=True)
class GeneralCiphering:
    """general-ciphering (0xDD): transaction id, both system titles, key-info."""

    TAG = GENERAL_CIPHERING

    transaction_id: bytes
    originator_system_title: bytes
    recipient_system_title: bytes
    date_time: bytes
    other_information: bytes
    key_info: KeyInfo | None
    security_control: SecurityControl
    invocation_counter: int
    ciphertext: bytes
    authentication_tag: bytes = b""

    @property
    def service(self) -> str:
        return "general-ciphering"

    @property
    def system_title(self) -> bytes:
        """The sender's system title (used for the IV)."""
        return self.originator_system_title

    @classmethod
    def from_bytes(cls, data, *, base_offset: int = 0) -> "GeneralCiphering":
        data = as_bytes(data)
        end = len(data)
        base = base_offset
        if end == 0:
            raise DecodeError("empty APDU", base)
        if data[0] != cls.TAG:
            raise DecodeError(f"expected tag 0x{cls.TAG:02X}, got 0x{data[0]:02X}", base)
        pos = 1
        fields = []
        for _ in range(5):
            value, pos = _read_octet_string(data, pos, end, base)
            fields.append(value)
        key_info, pos = _read_key_info(data, pos, end, base)
        length, pos = _read_length(data, pos, end, base)
        _expect_end(pos + length, end, base)
        sc, ic, info, auth_tag = _split_ciphered_content(data, pos, end, base)
        return cls(*fields, key_info, sc, ic, info, auth_tag)

    def to_meaning(self) -> dict:
        """The structure, without deciphering (shared/vectors/security.json)."""
        return {
            "apdu": self.service,
            "tag": f"{self.TAG:02X}",
            "transaction_id": self.transaction_id.hex().upper(),
            "originator_system_title": self.originator_system_title.hex().upper(),
            "recipient_system_title": self.recipient_system_title.hex().upper(),
            "date_time": self.date_time.hex().upper(),
            "other_information": self.other_information.hex().upper(),
            "key_info": None if self.key_info is None else self.key_info.to_meaning(),
            "ciphered_content": {
                "length": content_length(self),
                **_content_meaning(self),
                "ciphertext_length": len(self.ciphertext),
            },
        }

    def to_bytes(self) -> bytes:
        content = _join_ciphered_content(
            self.security_control, self.invocation_counter, self.ciphertext,
            self.authentication_tag,
        )
        return b"".join((
            bytes((self.TAG,)),
            octet_string(self.transaction_id),
            octet_string(self.originator_system_title),
            octet_string(self.recipient_system_title),
            octet_string(self.date_time),
            octet_string(self.other_information),
            _key_info_bytes(self.key_info),
            octet_string(content),
        ))


AnyCiphered = Union[CipheredApdu, GeneralGloCiphering, GeneralDedCiphering, GeneralCiphering]

_GENERAL: dict[int, type[GeneralGloCiphering] | type[GeneralDedCiphering]
               | type[GeneralCiphering]] = {
    GENERAL_GLO_CIPHERING: GeneralGloCiphering,
    GENERAL_DED_CIPHERING: GeneralDedCiphering,
    GENERAL_CIPHERING: GeneralCiphering,
}


def is_ciphered_tag(tag: int) -> bool:
    """Whether an APDU's first octet is a ciphered form (glo-, ded-, general-glo-,
    general-ded- or general-ciphering); False for anything else, ints or not."""
    return isinstance(tag, int) and (tag in SERVICE_NAME or tag in _GENERAL)


def parse_ciphered(data, *, base_offset: int = 0) -> AnyCiphered:
    """Parse any ciphered APDU by its first octet, without keys."""
    data = as_bytes(data)
    if not data:
        raise DecodeError("empty APDU", base_offset)
    tag = data[0]
    if tag in SERVICE_NAME:
        return CipheredApdu.from_bytes(data, base_offset=base_offset)
    cls = _GENERAL.get(tag)
    if cls is None:
        raise DecodeError(f"0x{tag:02X} is not a ciphered APDU tag", base_offset)
    return cls.from_bytes(data, base_offset=base_offset)
