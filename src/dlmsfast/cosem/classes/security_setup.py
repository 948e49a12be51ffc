"""Security Setup (class_id 64, versions 0-1): the security policy and suite
of an association, system titles, keys and certificates.

=====  ===================  ===========================  =======  =====
index  attribute            type                         kind     since
=====  ===================  ===========================  =======  =====
1      logical_name         octet-string                 static
2      security_policy      enum (v0) | bit map (v1)     static
3      security_suite       enum                         static
4      client_system_title  octet-string                 dynamic
5      server_system_title  octet-string                 static
6      certificates         array of certificate_info    static   v1
=====  ===================  ===========================  =======  =====

Methods (short name offset 0x30): 1 security_activate (security_policy), 2
global_key_transfer (v0; key_transfer in v1: array of {key_id enum,
key_wrapped octet-string}), 3 key_agreement, 4 generate_key_pair, 5
generate_certificate_request, 6 import_certificate, 7 export_certificate, 8
remove_certificate (v1). Keys travel wrapped; nothing here holds a key in clear.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ..._enum import BlueBookEnum
from ...axdr import DataType
from ..interface import Attribute, CosemObject, Method
from ..types import (
    CHOICE,
    LOGICAL_NAME,
    OCTET_STRING,
    ArrayOf,
    Enumerated,
    Record,
    Simple,
)


class SecurityPolicy(BlueBookEnum):
    """security_policy of version 0."""

    NOTHING = 0
    ALL_MESSAGES_AUTHENTICATED = 1
    ALL_MESSAGES_ENCRYPTED = 2
    ALL_MESSAGES_AUTHENTICATED_AND_ENCRYPTED = 3


class SecurityPolicyFlags(enum.IntFlag):
    """security_policy of version 1: a bit map."""

    AUTHENTICATED_REQUEST = 0x04
    ENCRYPTED_REQUEST = 0x08
    DIGITALLY_SIGNED_REQUEST = 0x10
    AUTHENTICATED_RESPONSE = 0x20
    ENCRYPTED_RESPONSE = 0x40
    DIGITALLY_SIGNED_RESPONSE = 0x80


class SecuritySuite(BlueBookEnum):
    AES_GCM_128 = 0
    ECDH_ECDSA_AES_GCM_128_SHA_256 = 1
    ECDH_ECDSA_AES_GCM_256_SHA_384 = 2


class KeyId(BlueBookEnum):
    GLOBAL_UNICAST_ENCRYPTION_KEY = 0
    GLOBAL_BROADCAST_ENCRYPTION_KEY = 1
    AUTHENTICATION_KEY = 2
    MASTER_KEY = 3


class CertificateEntity(BlueBookEnum):
    SERVER = 0
    CLIENT = 1
    CERTIFICATION_AUTHORITY = 2
    OTHER = 3


class CertificateType(BlueBookEnum):
    DIGITAL_SIGNATURE = 0
    KEY_AGREEMENT = 1
    TLS = 2
    OTHER = 3


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    certificate_entity: CertificateEntity
    certificate_type: CertificateType
    serial_number: bytes
    issuer: bytes
    subject: bytes
    subject_alt_name: bytes


@dataclass(frozen=True, slots=True)
class KeyData:
    key_id: KeyId
    key_wrapped: bytes

    def __repr__(self) -> str:
        # even wrapped, key material stays out of reprs and logs
        return f"KeyData(key_id={self.key_id!r}, key_wrapped=<{len(self.key_wrapped)} octets>)"


@dataclass(frozen=True, slots=True)
class KeyAgreementData:
    key_id: KeyId
    key_ciphered_data: bytes

    def __repr__(self) -> str:
        return f"KeyAgreementData(key_id={self.key_id!r}, key_ciphered_data=<{len(self.key_ciphered_data)} octets>)"


class _PolicyFlags(Simple):
    def __init__(self) -> None:
        super().__init__(DataType.ENUM, "enum (bit map)")

    def decode(self, data, what):
        return SecurityPolicyFlags(super().decode(data, what))

    def encode(self, value, what):
        return super().encode(int(value), what)


KEY_DATA = ArrayOf(Record(KeyData, Enumerated(KeyId), OCTET_STRING, name="key_data"))
CERTIFICATE_INFO = Record(CertificateInfo, Enumerated(CertificateEntity), Enumerated(CertificateType),
                          OCTET_STRING, OCTET_STRING, OCTET_STRING, OCTET_STRING, name="certificate_info")


class SecuritySetup(CosemObject):
    class_id = 64
    blue_book_name = "Security Setup"
    versions = (0, 1)
    sn_first_method_offset = 0x30
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "security_policy", Enumerated(SecurityPolicy), until=0),
        Attribute(2, "security_policy", _PolicyFlags(), since=1),
        Attribute(3, "security_suite", Enumerated(SecuritySuite)),
        Attribute(4, "client_system_title", OCTET_STRING, static=False),
        Attribute(5, "server_system_title", OCTET_STRING),
        Attribute(6, "certificates", ArrayOf(CERTIFICATE_INFO), since=1),
    )
    methods = (
        Method(1, "security_activate", Enumerated(SecurityPolicy), until=0),
        Method(1, "security_activate", _PolicyFlags(), since=1),
        Method(2, "global_key_transfer", KEY_DATA, until=0),
        Method(2, "key_transfer", KEY_DATA, since=1),
        Method(3, "key_agreement", ArrayOf(Record(KeyAgreementData, Enumerated(KeyId), OCTET_STRING,
                                                  name="key_agreement_data")), since=1,
               returns=True),
        Method(4, "generate_key_pair", Enumerated(CertificateType), since=1),
        Method(5, "generate_certificate_request", Enumerated(CertificateType), since=1,
               returns=True),
        Method(6, "import_certificate", OCTET_STRING, since=1),
        Method(7, "export_certificate", CHOICE, since=1, returns=True),
        Method(8, "remove_certificate", CHOICE, since=1),
    )


__all__ = [
    "CertificateEntity",
    "CertificateInfo",
    "CertificateType",
    "KeyAgreementData",
    "KeyData",
    "KeyId",
    "SecurityPolicy",
    "SecurityPolicyFlags",
    "SecuritySetup",
    "SecuritySuite",
]
