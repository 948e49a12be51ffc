"""ACSE APDUs (ISO 8650 / IEC 62056-5-3, Green Book 9.4): AARQ, AARE, RLRQ, RLRE.

They are BER encoded: an [APPLICATION n] SEQUENCE of context-tagged fields, most
of them OPTIONAL, in tag order. The ones DLMS uses::

    AARQ 60 len                            AARE 61 len
      80 protocol-version     (bit string)   80 protocol-version
      A1 application-context-name (OID)      A1 application-context-name
      A2..A5 called-AP-title / AE-qualifier  A2 result              (INTEGER)
             / AP- / AE-invocation-id        A3 result-source-diagnostic
      A6 calling-AP-title  (04 system title)    A1 acse-service-user | A2 -provider
      A7 calling-AE-qualifier (04 cert)      A4 responding-AP-title (04 system title)
      A8 calling-AP-invocation-identifier    A5..A7 responding-AE-qualifier /
      A9 calling-AE-invocation-identifier           AP- / AE-invocation-id
      8A sender-acse-requirements (07 80)    88 responder-acse-requirements
      8B mechanism-name      (OID contents)  89 mechanism-name
      AC calling-authentication-value        AA responding-authentication-value
         80 charstring | 81 bitstring           80 charstring | 81 bitstring
      9D implementation-information          9D implementation-information
      BE user-information                    BE user-information
         04 len xDLMS APDU                      04 len xDLMS APDU

    RLRQ 62 len / RLRE 63 len
      80 reason (INTEGER contents)
      BE user-information  (04 len xDLMS APDU)

Application context names are 2.16.756.5.8.1.x and mechanism names
2.16.756.5.8.2.x (encoded 60 85 74 05 08 01 x / 60 85 74 05 08 02 x).

Decoding accepts the fields in any order, skips context tags the standard does
not define (they are not kept), and refuses a field given twice. user-information
is kept as the raw xDLMS octets; ``user_information_apdu`` is its decoded form
(InitiateRequest, InitiateResponse, ConfirmedServiceError, or a ciphered APDU
from :mod:`dlmsfast.security`), already checked by ``from_bytes``.
``to_meaning()`` gives the meaning schema of shared/vectors/acse.json.
"""
from __future__ import annotations

from enum import Enum
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, NamedTuple

from .. import _tags
from .._enum import BlueBookEnum
from .._util import as_bytes, octets_argument
from ..errors import DecodeError, EncodeError
from ..security.ciphered import DED_TAG, GLO_TAG, parse_ciphered
from ..security.mechanism import (
    _MECHANISM_NAME_ARC,
    DLMS_UA_OID,
    MechanismName,
    _dlms_oid,
)
from . import _ber
from .initiate import ConfirmedServiceError, InitiateRequest, InitiateResponse

_CONTEXT_NAME_ARC = 1


class ApplicationContextName(BlueBookEnum):
    """2.16.756.5.8.1.x: the referencing (LN/SN) and whether APDUs are ciphered."""

    LOGICAL_NAME_REFERENCING_NO_CIPHERING = 1
    SHORT_NAME_REFERENCING_NO_CIPHERING = 2
    LOGICAL_NAME_REFERENCING_WITH_CIPHERING = 3
    SHORT_NAME_REFERENCING_WITH_CIPHERING = 4

    @property
    def oid(self) -> str:
        return _ber.oid_text(_dlms_oid(_CONTEXT_NAME_ARC, self.value))

    @property
    def ciphered(self) -> bool:
        return self.value in (3, 4)

    @property
    def logical_name(self) -> bool:
        return self.value in (1, 3)


def _standard_name(member: BlueBookEnum) -> str:
    """ISO 8650 identifiers keep AP/AE in capitals (calling-AP-title-not-recognized)."""
    words = member.name.lower().split("_")
    return "-".join(w.upper() if w in ("ap", "ae") else w for w in words)


class AssociationResult(BlueBookEnum):
    ACCEPTED = 0
    REJECTED_PERMANENT = 1
    REJECTED_TRANSIENT = 2

    @property
    def blue_book_name(self) -> str:
        return _standard_name(self)


class AcseServiceUser(BlueBookEnum):
    """result-source-diagnostic when the server's application refused (or accepted)."""

    NULL = 0
    NO_REASON_GIVEN = 1
    APPLICATION_CONTEXT_NAME_NOT_SUPPORTED = 2
    CALLING_AP_TITLE_NOT_RECOGNIZED = 3
    CALLING_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 4
    CALLING_AE_QUALIFIER_NOT_RECOGNIZED = 5
    CALLING_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 6
    CALLED_AP_TITLE_NOT_RECOGNIZED = 7
    CALLED_AP_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 8
    CALLED_AE_QUALIFIER_NOT_RECOGNIZED = 9
    CALLED_AE_INVOCATION_IDENTIFIER_NOT_RECOGNIZED = 10
    AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED = 11
    AUTHENTICATION_MECHANISM_NAME_REQUIRED = 12
    AUTHENTICATION_FAILURE = 13
    AUTHENTICATION_REQUIRED = 14

    @property
    def source(self) -> str:
        return "acse-service-user"

    @property
    def source_tag(self) -> int:
        return 0xA1

    @property
    def blue_book_name(self) -> str:
        return _standard_name(self)


class AcseServiceProvider(BlueBookEnum):
    """result-source-diagnostic when the ACSE provider itself refused."""

    NULL = 0
    NO_REASON_GIVEN = 1
    NO_COMMON_ACSE_VERSION = 2

    @property
    def source(self) -> str:
        return "acse-service-provider"

    @property
    def source_tag(self) -> int:
        return 0xA2

    @property
    def blue_book_name(self) -> str:
        return _standard_name(self)


class ReleaseRequestReason(BlueBookEnum):
    NORMAL = 0
    URGENT = 1
    USER_DEFINED = 30


class ReleaseResponseReason(BlueBookEnum):
    NORMAL = 0
    NOT_FINISHED = 1
    USER_DEFINED = 30


CHARSTRING = 0x80
BITSTRING = 0x81


@dataclass(frozen=True, slots=True)
class AuthenticationValue:
    """Authentication-value CHOICE: charstring [0] (GraphicString) or bitstring [1].

    Carries the LLS password or an HLS challenge, so the repr hides the octets.
    """

    value: bytes = field(repr=False)
    bitstring: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes):
            raise EncodeError("authentication value must be bytes")

    @property
    def choice(self) -> str:
        return "bitstring" if self.bitstring else "charstring"

    def __repr__(self) -> str:
        return f"AuthenticationValue({self.choice}, {len(self.value)} octets)"


# --- field codecs ---------------------------------------------------------------
# A codec turns a field's contents octets buf[start:end] into a value and back, and
# gives its meaning for describe().


class _Codec(NamedTuple):
    decode: Callable[[bytes, int, int], Any]
    encode: Callable[[Any], bytes]
    meaning: Callable[[Any], Any]


def _ascii(octets: bytes) -> str | None:
    """The text when every octet is printable ASCII, else None."""
    if octets and all(0x20 <= o < 0x7F for o in octets):
        return octets.decode("ascii")
    return None


def _decode_explicit_octets(buf: bytes, start: int, end: int) -> bytes:
    cstart, cend = _ber.read_inner(buf, start, end, _ber.OCTET_STRING, "octet string")
    return buf[cstart:cend]


def _octets_as_is(value: bytes) -> bytes:
    return octets_argument(value, "octets")


def _encode_explicit_octets(value: bytes) -> bytes:
    return _ber.tlv(_ber.OCTET_STRING, _octets_as_is(value))


def _decode_explicit_integer(buf: bytes, start: int, end: int) -> int:
    cstart, cend = _ber.read_inner(buf, start, end, _ber.INTEGER, "integer")
    return _ber.decode_integer(buf, cstart, cend)


def _encode_explicit_integer(value: int) -> bytes:
    return _ber.tlv(_ber.INTEGER, _ber.encode_integer(value))


def _known_oids(kind: int, enum) -> dict[bytes, Any]:
    return {_ber.encode_oid(_dlms_oid(kind, member)): member for member in enum}


# Contents octets of every known name, so that decoding is one dict lookup.
_OID_MEMBERS = {
    _CONTEXT_NAME_ARC: _known_oids(_CONTEXT_NAME_ARC, ApplicationContextName),
    _MECHANISM_NAME_ARC: _known_oids(_MECHANISM_NAME_ARC, MechanismName),
}


def _decode_dlms_oid(buf: bytes, start: int, end: int, kind: int, enum, what: str):
    member = _OID_MEMBERS[kind].get(buf[start:end])
    if member is not None:
        return member
    arcs = _ber.decode_oid(buf, start, end)
    if len(arcs) != 7 or arcs[:6] != (*DLMS_UA_OID, kind):
        raise DecodeError(f"unknown {what} {_ber.oid_text(arcs)}", start)
    return enum.read(arcs[6], start, what)


def _decode_context_name(buf: bytes, start: int, end: int) -> ApplicationContextName:
    cstart, cend = _ber.read_inner(
        buf, start, end, _ber.OBJECT_IDENTIFIER, "application-context-name"
    )
    return _decode_dlms_oid(
        buf, cstart, cend, _CONTEXT_NAME_ARC, ApplicationContextName,
        "application context name",
    )


def _decode_mechanism(buf: bytes, start: int, end: int) -> MechanismName:
    return _decode_dlms_oid(
        buf, start, end, _MECHANISM_NAME_ARC, MechanismName, "mechanism name"
    )


def _decode_functional_units(buf: bytes, start: int, end: int) -> bool:
    """ACSE-requirements BIT STRING { authentication (0) }: True when bit 0 is set."""
    _unused, octets = _ber.decode_bit_string(buf, start, end)
    return bool(octets) and bool(octets[0] & 0x80)


def _encode_functional_units(authentication: bool) -> bytes:
    return b"\x07\x80" if authentication else b"\x07\x00"


def _decode_protocol_version(buf: bytes, start: int, end: int) -> int:
    """protocol-version BIT STRING { version1 (0) }: only version1 exists."""
    _unused, octets = _ber.decode_bit_string(buf, start, end)
    if octets != b"\x80":
        raise DecodeError("protocol-version must be version1 (07 80)", start)
    return 1


def _encode_protocol_version(version: int) -> bytes:
    if version != 1:
        raise EncodeError(f"protocol-version {version}: only version1 exists")
    return b"\x07\x80"


def _decode_authentication_value(buf: bytes, start: int, end: int) -> AuthenticationValue:
    choice, cstart, cend = _ber.read_tlv(buf, start, end)
    if cend != end:
        raise DecodeError(f"{end - cend} octets after the authentication value", cend)
    if choice == CHARSTRING:
        return AuthenticationValue(buf[cstart:cend])
    if choice == BITSTRING:
        unused, octets = _ber.decode_bit_string(buf, cstart, cend)
        if unused:
            raise DecodeError("authentication value bit string must be whole octets", cstart)
        return AuthenticationValue(octets, bitstring=True)
    raise DecodeError(f"unsupported authentication-value choice 0x{choice:02X}", start)


def _encode_authentication_value(value: AuthenticationValue) -> bytes:
    if value.bitstring:
        return _ber.tlv(BITSTRING, b"\x00" + value.value)
    return _ber.tlv(CHARSTRING, value.value)


def _decode_result(buf: bytes, start: int, end: int) -> AssociationResult:
    return AssociationResult.read(
        _decode_explicit_integer(buf, start, end), start, "association result"
    )


def _decode_diagnostic(buf: bytes, start: int, end: int) -> AcseServiceUser | AcseServiceProvider:
    source, cstart, cend = _ber.read_tlv(buf, start, end)
    if cend != end:
        raise DecodeError(f"{end - cend} octets after the diagnostic", cend)
    for enum in (AcseServiceUser, AcseServiceProvider):
        if source == enum.NULL.source_tag:
            value = _decode_explicit_integer(buf, cstart, cend)
            return enum.read(value, cstart, f"{enum.NULL.source} diagnostic")
    raise DecodeError(f"unknown result-source-diagnostic choice 0x{source:02X}", start)


def _encode_diagnostic(value: AcseServiceUser | AcseServiceProvider) -> bytes:
    return _ber.tlv(value.source_tag, _encode_explicit_integer(value))


def _reason_codec(enum: type[BlueBookEnum]) -> _Codec:
    def decode(buf: bytes, start: int, end: int) -> BlueBookEnum:
        return enum.read(_ber.decode_integer(buf, start, end), start, "release reason")

    return _Codec(decode, _ber.encode_integer, int)


def _decode_user_information(buf: bytes, start: int, end: int) -> bytes:
    """The xDLMS octets of user-information, checked here so errors get absolute offsets."""
    cstart, cend = _ber.read_inner(buf, start, end, _ber.OCTET_STRING, "user-information")
    content = buf[cstart:cend]
    parse_user_information(content, base_offset=cstart)
    return content


def _oid_meaning(value: ApplicationContextName | MechanismName) -> dict[str, str]:
    name = value.label if isinstance(value, MechanismName) else value.blue_book_name
    return {"oid": value.oid, "name": name}


def _octets_meaning(value: bytes) -> dict[str, Any]:
    return {"hex": value.hex().upper(), "ascii": _ascii(value)}


def _hex_meaning(value: bytes) -> dict[str, str]:
    return {"hex": value.hex().upper()}


def _authentication_meaning(value: AuthenticationValue) -> dict[str, Any]:
    return {"choice": value.choice, **_octets_meaning(value.value)}


def _requirements_meaning(authentication: bool) -> dict[str, Any]:
    return {
        "hex": _encode_functional_units(authentication).hex().upper(),
        "authentication": authentication,
    }


def _diagnostic_meaning(value: AcseServiceUser | AcseServiceProvider) -> dict[str, Any]:
    return {"source": value.source, "value": int(value)}


def _identity(value: Any) -> Any:
    return value


_AP_TITLE = _Codec(_decode_explicit_octets, _encode_explicit_octets, _octets_meaning)
_AE_QUALIFIER = _Codec(_decode_explicit_octets, _encode_explicit_octets, _hex_meaning)
_INVOCATION_ID = _Codec(_decode_explicit_integer, _encode_explicit_integer, _identity)
_PROTOCOL_VERSION = _Codec(_decode_protocol_version, _encode_protocol_version, _identity)
_CONTEXT_NAME_OCTETS = {
    member: _ber.tlv(_ber.OBJECT_IDENTIFIER, contents)
    for contents, member in _OID_MEMBERS[_CONTEXT_NAME_ARC].items()
}
_MECHANISM_OCTETS = {
    member: contents for contents, member in _OID_MEMBERS[_MECHANISM_NAME_ARC].items()
}
_CONTEXT_NAME = _Codec(_decode_context_name, _CONTEXT_NAME_OCTETS.__getitem__, _oid_meaning)
_MECHANISM = _Codec(_decode_mechanism, _MECHANISM_OCTETS.__getitem__, _oid_meaning)
_REQUIREMENTS = _Codec(_decode_functional_units, _encode_functional_units, _requirements_meaning)
_AUTHENTICATION = _Codec(
    _decode_authentication_value, _encode_authentication_value, _authentication_meaning
)
_IMPLEMENTATION = _Codec(lambda buf, s, e: buf[s:e], _octets_as_is, _octets_meaning)
_RESULT = _Codec(_decode_result, _encode_explicit_integer, lambda v: v.blue_book_name)
_DIAGNOSTIC = _Codec(_decode_diagnostic, _encode_diagnostic, _diagnostic_meaning)
# user-information's meaning is built by _AcseApdu.describe (it needs `decipher`).
_USER_INFORMATION = _Codec(_decode_user_information, _encode_explicit_octets, _identity)


class _Field(NamedTuple):
    tag: int
    attr: str
    key: str  # in describe()
    codec: _Codec


def _field(tag: int, attr: str, codec: _Codec, key: str | None = None) -> _Field:
    """A field whose describe() key is its name with AP/AE in capitals (calling_AP_title)."""
    if key is None:
        key = "_".join(w.upper() if w in ("ap", "ae") else w for w in attr.split("_"))
    return _Field(tag, attr, key, codec)


USER_INFORMATION_TAG = 0xBE


def _user_information_field() -> _Field:
    return _field(USER_INFORMATION_TAG, "user_information", _USER_INFORMATION)


# --- user-information content ---------------------------------------------------

_PLAIN_CONTENT: dict[int, type[InitiateRequest] | type[InitiateResponse]
                     | type[ConfirmedServiceError]] = {
    InitiateRequest.TAG: InitiateRequest,
    InitiateResponse.TAG: InitiateResponse,
    ConfirmedServiceError.TAG: ConfirmedServiceError,
}
# glo-/ded- initiateRequest, initiateResponse, confirmedServiceError, and the general
# ciphering APDUs, which the Green Book also allows in user-information.
_CIPHERED_CONTENT = frozenset(
    [GLO_TAG[tag] for tag in _PLAIN_CONTENT] + [DED_TAG[tag] for tag in _PLAIN_CONTENT]
    + list(_tags.GENERAL_APDUS)
) - {_tags.GENERAL_SIGNING}


def parse_user_information(data, *, base_offset: int = 0):
    """Decode the xDLMS APDU carried in user-information.

    Returns InitiateRequest, InitiateResponse or ConfirmedServiceError, or for
    ciphered content the structural object of ``dlmsfast.security.parse_ciphered``
    (deciphering needs keys and is the caller's step). ``base_offset`` is where
    ``data`` starts in the caller's buffer, for the offsets of errors.
    """
    data = as_bytes(data)
    if not data:
        raise DecodeError("empty user-information", base_offset)
    tag = data[0]
    cls = _PLAIN_CONTENT.get(tag)
    if cls is not None:
        try:
            return cls.from_bytes(data)
        except DecodeError as exc:
            if exc.offset is None:
                raise
            raise DecodeError(exc.message, exc.offset + base_offset) from None
    if tag in _CIPHERED_CONTENT:
        return parse_ciphered(data, base_offset=base_offset)
    raise DecodeError(f"0x{tag:02X} is not an xDLMS APDU allowed in user-information", base_offset)


# --- the APDUs --------------------------------------------------------------------


class _AcseApdu:
    """from_bytes / to_bytes / describe driven by each APDU's ``_FIELDS`` table."""

    __slots__ = ()
    TAG: ClassVar[int]
    NAME: ClassVar[str]
    _FIELDS: ClassVar[tuple[_Field, ...]]
    _REQUIRED: ClassVar[tuple[str, ...]] = ()
    # (attribute, type): plain values (ints, bytes) given to the constructor are
    # converted to these, e.g. a password as bytes to AuthenticationValue.
    _COERCE: ClassVar[tuple[tuple[str, Any], ...]] = ()

    _BY_TAG: ClassVar[dict[int, _Field]]
    _ABSENT: ClassVar[dict[str, None]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        fields_ = cls.__dict__.get("_FIELDS")
        if fields_ is not None:
            cls._BY_TAG = {f.tag: f for f in fields_}
            cls._ABSENT = dict.fromkeys(f.attr for f in fields_)

    def _check_fields(self) -> None:
        """Normalise convenient inputs, and catch wrong types before to_bytes does."""
        ui = getattr(self, "user_information")
        if isinstance(ui, (bytearray, memoryview)):
            object.__setattr__(self, "user_information", bytes(ui))
        elif ui is not None and not isinstance(ui, bytes):
            to_bytes = getattr(ui, "to_bytes", None)
            if to_bytes is None:
                raise EncodeError("user_information must be bytes or an xDLMS APDU object")
            object.__setattr__(self, "user_information", to_bytes())
        for name, wrap in self._COERCE:
            value = getattr(self, name)
            if value is not None and not isinstance(value, wrap):
                if issubclass(wrap, Enum) and not isinstance(value, int):
                    # before the lookup, which hashes the value (a deep list: RecursionError)
                    raise EncodeError(f"{name} must be a {wrap.__name__} (an int), "
                                      f"not {type(value).__name__}")
                try:
                    object.__setattr__(self, name, wrap(value))
                except (ValueError, TypeError) as exc:
                    raise EncodeError(f"{name}: {exc}") from None

    @classmethod
    def from_bytes(cls, data):
        buf = as_bytes(data)
        end = len(buf)
        tag, pos = _ber.read_tag(buf, 0, end)
        if tag != cls.TAG:
            raise DecodeError(f"expected {cls.NAME} tag 0x{cls.TAG:02X}, got 0x{tag:02X}", 0)
        length, pos = _ber.read_length(buf, pos, end)
        if pos + length != end:
            raise DecodeError(f"{end - pos - length} octets after the {cls.NAME}", pos + length)
        by_tag = cls._BY_TAG
        # Absent fields are None, not the constructor's defaults, so that
        # to_bytes() writes back only what was received.
        values: dict[str, Any] = cls._ABSENT.copy()
        while pos < end:
            element = pos
            tag, start, pos = _ber.read_tlv(buf, pos, end)
            spec = by_tag.get(tag)
            if spec is None:
                continue
            if values[spec.attr] is not None:
                raise DecodeError(f"{cls.NAME} field 0x{tag:02X} given twice", element)
            values[spec.attr] = spec.codec.decode(buf, start, pos)
        for name in cls._REQUIRED:
            if values[name] is None:
                raise DecodeError(f"{cls.NAME} without its {name.replace('_', '-')}", end)
        return cls(**values)

    def __repr__(self) -> str:
        # Only the fields present; user-information may hold a dedicated key in
        # clear, so it shows as its size.
        parts = []
        for spec in self._FIELDS:
            value = getattr(self, spec.attr)
            if value is None:
                continue
            if spec.attr == "user_information":
                parts.append(f"user_information=<{len(value)} octets>")
            else:
                parts.append(f"{spec.attr}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _contents(self) -> bytes:
        out = bytearray()
        for spec in self._FIELDS:
            value = getattr(self, spec.attr)
            if value is None:
                continue
            try:
                out += _ber.tlv(spec.tag, spec.codec.encode(value))
            except (TypeError, ValueError, OverflowError, AttributeError, LookupError) as exc:
                if isinstance(exc, EncodeError):
                    raise
                raise EncodeError(
                    f"{self.NAME} {spec.attr}: cannot encode {type(value).__name__}"
                ) from None
        return bytes(out)

    def to_bytes(self) -> bytes:
        return _ber.tlv(self.TAG, self._contents())

    @property
    def user_information_apdu(self):
        """The decoded user-information (see :func:`parse_user_information`), or None."""
        ui = getattr(self, "user_information")
        return None if ui is None else parse_user_information(ui)

    def to_meaning(self) -> dict[str, Any]:
        """The meaning schema of shared/vectors/acse.json; user-information is the
        ``to_meaning()`` of its content (ciphered content as its structure:
        deciphering is :mod:`dlmsfast.explain`'s step)."""
        meaning: dict[str, Any] = {
            "apdu": self.NAME,
            "tag": f"{self.TAG:02X}",
            "length": len(self._contents()),
        }
        for spec in self._FIELDS:
            value = getattr(self, spec.attr)
            if value is None:
                continue
            if spec.attr == "user_information":
                meaning["user_information"] = parse_user_information(value).to_meaning()
                meaning["user_information_hex"] = value.hex().upper()
            else:
                meaning[spec.key] = spec.codec.meaning(value)
        return meaning


_AARQ_FIELDS = (
    _field(0x80, "protocol_version", _PROTOCOL_VERSION),
    _field(0xA1, "application_context_name", _CONTEXT_NAME),
    _field(0xA2, "called_ap_title", _AP_TITLE),
    _field(0xA3, "called_ae_qualifier", _AE_QUALIFIER),
    _field(0xA4, "called_ap_invocation_identifier", _INVOCATION_ID),
    _field(0xA5, "called_ae_invocation_identifier", _INVOCATION_ID),
    _field(0xA6, "calling_ap_title", _AP_TITLE),
    _field(0xA7, "calling_ae_qualifier", _AE_QUALIFIER),
    _field(0xA8, "calling_ap_invocation_identifier", _INVOCATION_ID),
    _field(0xA9, "calling_ae_invocation_identifier", _INVOCATION_ID),
    _field(0x8A, "sender_acse_requirements", _REQUIREMENTS, key="acse_requirements"),
    _field(0x8B, "mechanism_name", _MECHANISM),
    _field(0xAC, "calling_authentication_value", _AUTHENTICATION),
    _field(0x9D, "implementation_information", _IMPLEMENTATION),
    _user_information_field(),
)

@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AARQ(_AcseApdu):
    """A-ASSOCIATE request (AARQ), client to server.

    ``calling_ap_title`` is the client system title (ciphered contexts, HLS-GMAC);
    ``calling_ae_invocation_identifier`` the user id; ``sender_acse_requirements``
    True selects the authentication functional unit, which ``mechanism_name`` and
    ``calling_authentication_value`` (password or challenge; bytes are taken as a
    charstring) need. ``user_information`` takes the xDLMS octets or an
    InitiateRequest / ciphered APDU object.
    """

    TAG: ClassVar[int] = _tags.AARQ
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]
    _FIELDS: ClassVar[tuple[_Field, ...]] = _AARQ_FIELDS
    _REQUIRED: ClassVar[tuple[str, ...]] = ("application_context_name",)
    _COERCE: ClassVar[tuple[tuple[str, Any], ...]] = (
        ("application_context_name", ApplicationContextName),
        ("mechanism_name", MechanismName),
        ("calling_authentication_value", AuthenticationValue),
    )

    application_context_name: ApplicationContextName = (
        ApplicationContextName.LOGICAL_NAME_REFERENCING_NO_CIPHERING
    )
    calling_ap_title: bytes | None = None
    sender_acse_requirements: bool | None = None
    mechanism_name: MechanismName | None = None
    calling_authentication_value: AuthenticationValue | None = None
    user_information: bytes | None = None
    protocol_version: int | None = None
    called_ap_title: bytes | None = None
    called_ae_qualifier: bytes | None = None
    called_ap_invocation_identifier: int | None = None
    called_ae_invocation_identifier: int | None = None
    calling_ae_qualifier: bytes | None = None
    calling_ap_invocation_identifier: int | None = None
    calling_ae_invocation_identifier: int | None = None
    implementation_information: bytes | None = None

    def __post_init__(self) -> None:
        self._check_fields()


_AARE_FIELDS = (
    _field(0x80, "protocol_version", _PROTOCOL_VERSION),
    _field(0xA1, "application_context_name", _CONTEXT_NAME),
    _field(0xA2, "result", _RESULT),
    _field(0xA3, "result_source_diagnostic", _DIAGNOSTIC),
    _field(0xA4, "responding_ap_title", _AP_TITLE),
    _field(0xA5, "responding_ae_qualifier", _AE_QUALIFIER),
    _field(0xA6, "responding_ap_invocation_identifier", _INVOCATION_ID),
    _field(0xA7, "responding_ae_invocation_identifier", _INVOCATION_ID),
    _field(0x88, "responder_acse_requirements", _REQUIREMENTS, key="acse_requirements"),
    _field(0x89, "mechanism_name", _MECHANISM),
    _field(0xAA, "responding_authentication_value", _AUTHENTICATION),
    _field(0x9D, "implementation_information", _IMPLEMENTATION),
    _user_information_field(),
)


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class AARE(_AcseApdu):
    """A-ASSOCIATE response (AARE), server to client.

    ``result_source_diagnostic`` is an AcseServiceUser or AcseServiceProvider
    member: its type is the diagnostic's source. ``responding_ap_title`` is the
    server system title; ``responding_authentication_value`` the HLS StoC
    challenge. ``user_information`` takes the xDLMS octets or an InitiateResponse
    / ConfirmedServiceError / ciphered APDU object.
    """

    TAG: ClassVar[int] = _tags.AARE
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]
    _FIELDS: ClassVar[tuple[_Field, ...]] = _AARE_FIELDS
    _REQUIRED: ClassVar[tuple[str, ...]] = (
        "application_context_name", "result", "result_source_diagnostic",
    )
    _COERCE: ClassVar[tuple[tuple[str, Any], ...]] = (
        ("application_context_name", ApplicationContextName),
        ("result", AssociationResult),
        ("mechanism_name", MechanismName),
        ("responding_authentication_value", AuthenticationValue),
    )

    application_context_name: ApplicationContextName = (
        ApplicationContextName.LOGICAL_NAME_REFERENCING_NO_CIPHERING
    )
    result: AssociationResult = AssociationResult.ACCEPTED
    result_source_diagnostic: AcseServiceUser | AcseServiceProvider = AcseServiceUser.NULL
    responding_ap_title: bytes | None = None
    responder_acse_requirements: bool | None = None
    mechanism_name: MechanismName | None = None
    responding_authentication_value: AuthenticationValue | None = None
    user_information: bytes | None = None
    protocol_version: int | None = None
    responding_ae_qualifier: bytes | None = None
    responding_ap_invocation_identifier: int | None = None
    responding_ae_invocation_identifier: int | None = None
    implementation_information: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.result_source_diagnostic, (AcseServiceUser, AcseServiceProvider)):
            raise EncodeError(
                "result_source_diagnostic must be an AcseServiceUser or AcseServiceProvider"
            )
        self._check_fields()


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RLRQ(_AcseApdu):
    """A-RELEASE request (RLRQ); ciphered contexts repeat the InitiateRequest in it."""

    TAG: ClassVar[int] = _tags.RLRQ
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]
    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _field(0x80, "reason", _reason_codec(ReleaseRequestReason)),
        _user_information_field(),
    )
    _COERCE: ClassVar[tuple[tuple[str, Any], ...]] = (("reason", ReleaseRequestReason),)

    reason: ReleaseRequestReason | None = ReleaseRequestReason.NORMAL
    user_information: bytes | None = None

    def __post_init__(self) -> None:
        self._check_fields()


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class RLRE(_AcseApdu):
    """A-RELEASE response (RLRE)."""

    TAG: ClassVar[int] = _tags.RLRE
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]
    _FIELDS: ClassVar[tuple[_Field, ...]] = (
        _field(0x80, "reason", _reason_codec(ReleaseResponseReason)),
        _user_information_field(),
    )
    _COERCE: ClassVar[tuple[tuple[str, Any], ...]] = (("reason", ReleaseResponseReason),)

    reason: ReleaseResponseReason | None = ReleaseResponseReason.NORMAL
    user_information: bytes | None = None

    def __post_init__(self) -> None:
        self._check_fields()


__all__ = [
    "AARE",
    "AARQ",
    "RLRE",
    "RLRQ",
    "AcseServiceProvider",
    "AcseServiceUser",
    "ApplicationContextName",
    "AssociationResult",
    "AuthenticationValue",
    "MechanismName",
    "ReleaseRequestReason",
    "ReleaseResponseReason",
    "parse_user_information",
]
