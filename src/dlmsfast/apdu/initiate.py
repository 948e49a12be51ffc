"""xDLMS initiate APDUs (IEC 62056-5-3 / Green Book 9.5): the content of the
user-information field of AARQ, AARE, RLRQ and RLRE.

They are A-XDR encoded, field by field; OPTIONAL and DEFAULT components carry a
presence octet (00 absent or default, 01 present) in front of the value::

    InitiateRequest  01
    +----+------------------+------------------+-----------+---------+-------------+---------+
    | 01 | dedicated-key    | response-allowed | proposed- | dlms    | proposed-   | client- |
    |    | 00 | 01 len key  | 00 | 01 bool     | QoS       | version | conformance | max-PDU |
    |    | OPTIONAL         | DEFAULT TRUE     | 00|01 i8  | u8      | (7 octets)  | u16     |
    +----+------------------+------------------+-----------+---------+-------------+---------+

    InitiateResponse  08
    +----+------------+------------+-------------+------------+----------+
    | 08 | negotiated | negotiated | negotiated- | server-    | vaa-name |
    |    | QoS        | version u8 | conformance | max-PDU    | i16      |
    |    | 00|01 i8   |            | (7 octets)  | u16        |          |
    +----+------------+------------+-------------+------------+----------+

    conformance: the one BER element of the xDLMS APDUs,
    [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24))
    +-------+----+-------------+----------------------+
    | 5F 1F | 04 | 00 (unused) | 3 octets, bit 0 MSB  |
    +-------+----+-------------+----------------------+

    ConfirmedServiceError  0E
    +----+------------------+---------------------------+------------------+
    | 0E | service [1..19]  | ServiceError choice 0..10 | ENUMERATED value |
    +----+------------------+---------------------------+------------------+

``describe()`` gives the meaning schema of shared/vectors (acse.json for the
initiate APDUs, xdlms.json for confirmed-service-error).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag
from collections.abc import Iterable
from typing import Any, ClassVar

from .. import _tags
from .._util import shown
from .._enum import BlueBookEnum
from ..errors import DecodeError, EncodeError
from ._ber import encode_length, read_length, read_tag
from .cursor import open_apdu

DLMS_VERSION = 6
CONFORMANCE_TAG = 0x5F1F
_CONFORMANCE_OCTETS = 3


class Conformance(IntFlag):
    """The xDLMS conformance block (Blue Book names).

    The value is the integer of the three octets as transmitted: bit 0 of the
    standard's BIT STRING is the most significant bit (0x800000), so
    ``Conformance(0x00501F)`` is what ``5F1F0400 00501F`` carries.
    """

    RESERVED_ZERO = 1 << 23
    GENERAL_PROTECTION = 1 << 22
    GENERAL_BLOCK_TRANSFER = 1 << 21
    READ = 1 << 20
    WRITE = 1 << 19
    UNCONFIRMED_WRITE = 1 << 18
    DELTA_VALUE_ENCODING = 1 << 17
    RESERVED_SEVEN = 1 << 16
    ATTRIBUTE0_SUPPORTED_WITH_SET = 1 << 15
    PRIORITY_MGMT_SUPPORTED = 1 << 14
    ATTRIBUTE0_SUPPORTED_WITH_GET = 1 << 13
    BLOCK_TRANSFER_WITH_GET_OR_READ = 1 << 12
    BLOCK_TRANSFER_WITH_SET_OR_WRITE = 1 << 11
    BLOCK_TRANSFER_WITH_ACTION = 1 << 10
    MULTIPLE_REFERENCES = 1 << 9
    INFORMATION_REPORT = 1 << 8
    DATA_NOTIFICATION = 1 << 7
    ACCESS = 1 << 6
    PARAMETERIZED_ACCESS = 1 << 5
    GET = 1 << 4
    SET = 1 << 3
    SELECTIVE_ACCESS = 1 << 2
    EVENT_NOTIFICATION = 1 << 1
    ACTION = 1 << 0

    @classmethod
    def from_blue_book_names(cls, names) -> "Conformance":
        if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
            raise EncodeError(f"conformance bit names come as a list of str, not "
                              f"{type(names).__name__}")
        flags = cls(0)
        for name in names:
            if not isinstance(name, str):
                raise EncodeError(f"a conformance bit name is a str, not {type(name).__name__}")
            try:
                flags |= cls[name.upper().replace("-", "_")]
            except KeyError:
                raise EncodeError(f"unknown conformance bit name {shown(name)}") from None
        return flags

    def blue_book_names(self) -> list[str]:
        """The names of the bits set, bit 0 first."""
        return [
            bit.name.lower().replace("_", "-")
            for bit in _CONFORMANCE_BITS
            if self & bit
        ]

    def to_bytes(self) -> bytes:
        """The whole BER element ``5F 1F 04 00 xx xx xx``."""
        return b"\x5F\x1F\x04\x00" + int(self).to_bytes(_CONFORMANCE_OCTETS, "big")

    @property
    def hex(self) -> str:
        return int(self).to_bytes(_CONFORMANCE_OCTETS, "big").hex().upper()


_CONFORMANCE_BITS = sorted(Conformance, key=int, reverse=True)


def _read_conformance(buf: bytes, pos: int, end: int) -> tuple[Conformance, int]:
    tag, after_tag = read_tag(buf, pos, end)
    if tag != CONFORMANCE_TAG:
        raise DecodeError(f"conformance block must have tag 5F1F, got {tag:X}", pos)
    length, start = read_length(buf, after_tag, end)
    if length != 1 + _CONFORMANCE_OCTETS:
        raise DecodeError(f"conformance block of {length} octets, expected 4", after_tag)
    if buf[start]:
        raise DecodeError("conformance block must have 0 unused bits", start)
    value = int.from_bytes(buf[start + 1:start + 4], "big")
    return Conformance(value), start + 4


def _check_range(value: Any, low: int, high: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise EncodeError(f"{what} must be an integer {low}..{high}, got {shown(value)}")


def _optional_integer8(value: int | None) -> bytes:
    if value is None:
        return b"\x00"
    return b"\x01" + value.to_bytes(1, "big", signed=True)


def _hex(octets: bytes | None) -> str | None:
    return None if octets is None else octets.hex().upper()


def _check_common(version: int, pdu_size: int, qos: int | None, conformance: Any) -> Conformance:
    _check_range(version, 0, 0xFF, "DLMS version number")
    _check_range(pdu_size, 0, 0xFFFF, "max receive PDU size")
    if qos is not None:
        _check_range(qos, -128, 127, "quality of service")
    _check_range(conformance, 0, 0xFFFFFF, "conformance")
    return Conformance(conformance)


@dataclass(frozen=True, slots=True, kw_only=True)
class InitiateRequest:
    """xDLMS InitiateRequest: what the client proposes in the AARQ.

    ``response_allowed`` None means "not transmitted" (the DEFAULT, TRUE); True
    or False are sent explicitly. The dedicated key never appears in the repr.
    """

    TAG: ClassVar[int] = _tags.INITIATE_REQUEST
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    proposed_conformance: Conformance
    client_max_receive_pdu_size: int = 0xFFFF
    proposed_dlms_version_number: int = DLMS_VERSION
    dedicated_key: bytes | None = field(default=None, repr=False)
    response_allowed: bool | None = None
    proposed_quality_of_service: int | None = None

    def __post_init__(self) -> None:
        conformance = _check_common(
            self.proposed_dlms_version_number, self.client_max_receive_pdu_size,
            self.proposed_quality_of_service, self.proposed_conformance,
        )
        object.__setattr__(self, "proposed_conformance", conformance)
        if self.dedicated_key is not None and not isinstance(self.dedicated_key, bytes):
            raise EncodeError("dedicated key must be bytes")
        if self.response_allowed is not None and not isinstance(self.response_allowed, bool):
            raise EncodeError("response_allowed must be True, False or None (default)")

    @property
    def response_expected(self) -> bool:
        """response-allowed with its DEFAULT applied."""
        return self.response_allowed is not False

    @classmethod
    def from_bytes(cls, data) -> "InitiateRequest":
        r = open_apdu(data, cls.TAG, cls.NAME)
        dedicated_key = r.octet_string("dedicated-key") if r.optional("dedicated-key") else None
        response_allowed = None
        if r.optional("response-allowed"):
            response_allowed = r.u8("response-allowed") != 0
        qos = r.i8("proposed-quality-of-service") if r.optional(
            "proposed-quality-of-service") else None
        version = r.u8("proposed-dlms-version-number")
        conformance, r.pos = _read_conformance(r.buf, r.pos, len(r.buf))
        pdu_size = r.u16("client-max-receive-pdu-size")
        r.finish(cls.__name__)
        return cls(
            proposed_conformance=conformance,
            client_max_receive_pdu_size=pdu_size,
            proposed_dlms_version_number=version,
            dedicated_key=dedicated_key,
            response_allowed=response_allowed,
            proposed_quality_of_service=qos,
        )

    def to_bytes(self) -> bytes:
        out = bytearray(b"\x01")
        if self.dedicated_key is None:
            out += b"\x00"
        else:
            out += b"\x01" + encode_length(len(self.dedicated_key)) + self.dedicated_key
        if self.response_allowed is None:
            out += b"\x00"
        else:
            out += b"\x01\x01" if self.response_allowed else b"\x01\x00"
        out += _optional_integer8(self.proposed_quality_of_service)
        out.append(self.proposed_dlms_version_number)
        out += self.proposed_conformance.to_bytes()
        out += self.client_max_receive_pdu_size.to_bytes(2, "big")
        return bytes(out)

    def to_meaning(self) -> dict[str, Any]:
        """The ``initiateRequest`` meaning of shared/vectors/acse.json."""
        return {
            "apdu": "initiateRequest",
            "dedicated_key": _hex(self.dedicated_key),
            "response_allowed": (
                "default (TRUE)" if self.response_allowed is None else self.response_allowed
            ),
            "proposed_quality_of_service": self.proposed_quality_of_service,
            "proposed_dlms_version_number": self.proposed_dlms_version_number,
            "proposed_conformance_hex": self.proposed_conformance.hex,
            "proposed_conformance": self.proposed_conformance.blue_book_names(),
            "client_max_receive_pdu_size": self.client_max_receive_pdu_size,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class InitiateResponse:
    """xDLMS InitiateResponse: what the server grants in the AARE.

    ``vaa_name`` is the base name of the current association object: 0x0007 with
    LN referencing, 0xFA00 with SN referencing (kept as the unsigned 16-bit value).
    """

    TAG: ClassVar[int] = _tags.INITIATE_RESPONSE
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    negotiated_conformance: Conformance
    server_max_receive_pdu_size: int
    negotiated_dlms_version_number: int = DLMS_VERSION
    vaa_name: int = 0x0007
    negotiated_quality_of_service: int | None = None

    def __post_init__(self) -> None:
        conformance = _check_common(
            self.negotiated_dlms_version_number, self.server_max_receive_pdu_size,
            self.negotiated_quality_of_service, self.negotiated_conformance,
        )
        object.__setattr__(self, "negotiated_conformance", conformance)
        _check_range(self.vaa_name, 0, 0xFFFF, "vaa-name")

    @classmethod
    def from_bytes(cls, data) -> "InitiateResponse":
        r = open_apdu(data, cls.TAG, cls.NAME)
        qos = r.i8("negotiated-quality-of-service") if r.optional(
            "negotiated-quality-of-service") else None
        version = r.u8("negotiated-dlms-version-number")
        conformance, r.pos = _read_conformance(r.buf, r.pos, len(r.buf))
        pdu_size = r.u16("server-max-receive-pdu-size")
        vaa_name = r.u16("vaa-name")
        r.finish(cls.__name__)
        return cls(
            negotiated_conformance=conformance,
            server_max_receive_pdu_size=pdu_size,
            negotiated_dlms_version_number=version,
            vaa_name=vaa_name,
            negotiated_quality_of_service=qos,
        )

    def to_bytes(self) -> bytes:
        return (
            b"\x08"
            + _optional_integer8(self.negotiated_quality_of_service)
            + bytes((self.negotiated_dlms_version_number,))
            + self.negotiated_conformance.to_bytes()
            + self.server_max_receive_pdu_size.to_bytes(2, "big")
            + self.vaa_name.to_bytes(2, "big")
        )

    def to_meaning(self) -> dict[str, Any]:
        """The ``initiateResponse`` meaning of shared/vectors/acse.json."""
        return {
            "apdu": "initiateResponse",
            "negotiated_quality_of_service": self.negotiated_quality_of_service,
            "negotiated_dlms_version_number": self.negotiated_dlms_version_number,
            "negotiated_conformance_hex": self.negotiated_conformance.hex,
            "negotiated_conformance": self.negotiated_conformance.blue_book_names(),
            "server_max_receive_pdu_size": self.server_max_receive_pdu_size,
            "vaa_name": f"{self.vaa_name:04X}",
        }


class ConfirmedServiceErrorService(BlueBookEnum):
    """The CHOICE of ConfirmedServiceError: which service failed."""

    INITIATE_ERROR = 1
    GET_STATUS = 2
    GET_NAME_LIST = 3
    GET_VARIABLE_ATTRIBUTE = 4
    READ = 5
    WRITE = 6
    GET_DATA_SET_ATTRIBUTE = 7
    GET_TI_ATTRIBUTE = 8
    CHANGE_SCOPE = 9
    START = 10
    STOP = 11
    RESUME = 12
    MAKE_USABLE = 13
    INITIATE_LOAD = 14
    LOAD_SEGMENT = 15
    TERMINATE_LOAD = 16
    INITIATE_UP_LOAD = 17
    UP_LOAD_SEGMENT = 18
    TERMINATE_UP_LOAD = 19

    @property
    def blue_book_name(self) -> str:
        """The ASN.1 identifier, e.g. ``initiateError``, ``getTIAttribute``."""
        return _SERVICE_NAMES[self]


_SERVICE_NAMES = {
    ConfirmedServiceErrorService.INITIATE_ERROR: "initiateError",
    ConfirmedServiceErrorService.GET_STATUS: "getStatus",
    ConfirmedServiceErrorService.GET_NAME_LIST: "getNameList",
    ConfirmedServiceErrorService.GET_VARIABLE_ATTRIBUTE: "getVariableAttribute",
    ConfirmedServiceErrorService.READ: "read",
    ConfirmedServiceErrorService.WRITE: "write",
    ConfirmedServiceErrorService.GET_DATA_SET_ATTRIBUTE: "getDataSetAttribute",
    ConfirmedServiceErrorService.GET_TI_ATTRIBUTE: "getTIAttribute",
    ConfirmedServiceErrorService.CHANGE_SCOPE: "changeScope",
    ConfirmedServiceErrorService.START: "start",
    ConfirmedServiceErrorService.STOP: "stop",
    ConfirmedServiceErrorService.RESUME: "resume",
    ConfirmedServiceErrorService.MAKE_USABLE: "makeUsable",
    ConfirmedServiceErrorService.INITIATE_LOAD: "initiateLoad",
    ConfirmedServiceErrorService.LOAD_SEGMENT: "loadSegment",
    ConfirmedServiceErrorService.TERMINATE_LOAD: "terminateLoad",
    ConfirmedServiceErrorService.INITIATE_UP_LOAD: "initiateUpLoad",
    ConfirmedServiceErrorService.UP_LOAD_SEGMENT: "upLoadSegment",
    ConfirmedServiceErrorService.TERMINATE_UP_LOAD: "terminateUpLoad",
}


class ServiceError(BlueBookEnum):
    """The CHOICE of ServiceError: the class of the error."""

    APPLICATION_REFERENCE = 0
    HARDWARE_RESOURCE = 1
    VDE_STATE_ERROR = 2
    SERVICE = 3
    DEFINITION = 4
    ACCESS = 5
    INITIATE = 6
    LOAD_DATA_SET = 7
    CHANGE_SCOPE = 8
    TASK = 9
    OTHER = 10

    def value_name(self, value: int) -> str | None:
        """The name of an ENUMERATED value of this error class, None if unknown."""
        names = _SERVICE_ERROR_VALUES[self]
        return names[value] if 0 <= value < len(names) else None


# Green Book xDLMS ASN.1, ServiceError: each class enumerates from 0.
_SERVICE_ERROR_VALUES: dict[ServiceError, tuple[str, ...]] = {
    ServiceError.APPLICATION_REFERENCE: (
        "other", "time-elapsed", "application-unreachable",
        "application-reference-invalid", "application-context-unsupported",
        "provider-communication-error", "deciphering-error",
    ),
    ServiceError.HARDWARE_RESOURCE: (
        "other", "memory-unavailable", "processor-resource-unavailable",
        "mass-storage-unavailable", "other-resource-unavailable",
    ),
    ServiceError.VDE_STATE_ERROR: (
        "other", "no-dlms-context", "loading-data-set", "status-nochange",
        "status-inoperable",
    ),
    ServiceError.SERVICE: ("other", "pdu-size", "service-unsupported"),
    ServiceError.DEFINITION: (
        "other", "object-undefined", "object-class-inconsistent",
        "object-attribute-inconsistent",
    ),
    ServiceError.ACCESS: (
        "other", "scope-of-access-violated", "object-access-violated",
        "hardware-fault", "object-unavailable",
    ),
    ServiceError.INITIATE: (
        "other", "dlms-version-too-low", "incompatible-conformance",
        "pdu-size-too-short", "refused-by-the-VDE-Handler",
    ),
    ServiceError.LOAD_DATA_SET: (
        "other", "primitive-out-of-sequence", "not-loadable", "dataset-size-too-large",
        "not-awaited-segment", "interpretation-failure", "storage-failure",
        "data-set-not-in-correct-state",
    ),
    ServiceError.CHANGE_SCOPE: ("other",),
    ServiceError.TASK: (
        "other", "no-remote-control", "ti-stopped", "ti-running", "ti-unusable",
    ),
    ServiceError.OTHER: ("other",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmedServiceError:
    """xDLMS confirmed-service-error: a refused initiate, or a failed SN service.

    ``value`` is the ENUMERATED value within ``service_error`` (e.g. initiate /
    1 dlms-version-too-low); values the standard does not name are kept.
    """

    TAG: ClassVar[int] = _tags.CONFIRMED_SERVICE_ERROR
    NAME: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    service: ConfirmedServiceErrorService
    service_error: ServiceError
    value: int

    def __post_init__(self) -> None:
        for what in ("service", "service_error"):
            if not isinstance(getattr(self, what), int):
                # before the enum lookup, which hashes the value (a deep list: RecursionError)
                raise EncodeError(f"{what} is an int, not {type(getattr(self, what)).__name__}")
        try:
            object.__setattr__(self, "service", ConfirmedServiceErrorService(self.service))
            object.__setattr__(self, "service_error", ServiceError(self.service_error))
        except ValueError as exc:
            raise EncodeError(str(exc)) from None
        _check_range(self.value, 0, 0xFF, "service error value")

    @property
    def value_name(self) -> str | None:
        return self.service_error.value_name(self.value)

    @classmethod
    def from_bytes(cls, data) -> "ConfirmedServiceError":
        r = open_apdu(data, cls.TAG, cls.NAME)
        service = r.enum(ConfirmedServiceErrorService, "confirmed-service-error service")
        service_error = r.enum(ServiceError, "ServiceError choice")
        value = r.u8("ServiceError value")
        r.finish(cls.__name__)
        return cls(service=service, service_error=service_error, value=value)

    def to_bytes(self) -> bytes:
        return bytes((self.TAG, self.service, self.service_error, self.value))

    def to_meaning(self) -> dict[str, Any]:
        """The ``confirmed-service-error`` meaning of shared/vectors/xdlms.json."""
        return {
            "apdu": "confirmed-service-error",
            "service": int(self.service),
            "service_name": self.service.blue_book_name,
            "service_error_choice": int(self.service_error),
            "service_error_choice_name": self.service_error.blue_book_name,
            "value": self.value,
            "value_name": self.value_name,
        }


__all__ = [
    "CONFORMANCE_TAG",
    "DLMS_VERSION",
    "ConfirmedServiceError",
    "ConfirmedServiceErrorService",
    "Conformance",
    "InitiateRequest",
    "InitiateResponse",
    "ServiceError",
]
