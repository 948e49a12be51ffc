"""Association LN (class_id 15, versions 0-3): an association with logical
name referencing, its partners, context, authentication and the objects
visible in it (object_list with access rights: see :mod:`dlmsfast.cosem.access`).

=====  ==============================  =====================  =======  =====
index  attribute                       type                   kind     since
=====  ==============================  =====================  =======  =====
1      logical_name                    octet-string           static
2      object_list                     object_list_type       static
3      associated_partners_id          structure              static
4      application_context_name        context_name_type      static
5      xDLMS_context_info              structure              static
6      authentication_mechanism_name   mechanism_name_type    static
7      secret                          octet-string           static
8      association_status              enum                   dynamic
9      security_setup_reference        octet-string           static   v1
10     user_list                       array of structure     static   v2
11     current_user                    structure              dynamic  v2
=====  ==============================  =====================  =======  =====

Context and mechanism names are structures of 7 numbers in version 0 and
octet-strings (BER contents of the OID) from version 1; both are read as the
OID tuple. Methods (short name offset 0x60): 1 reply_to_HLS_authentication
(octet-string), 2 change_HLS_secret (octet-string), 3 add_object, 4
remove_object (object_list_element), 5 add_user, 6 remove_user (v2: structure
{user_id unsigned, user_name visible-string}).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..._enum import BlueBookEnum
from ...axdr import BitString
from ..access import OBJECT_LIST_ELEMENT, find_in_object_list, object_list_type
from ..interface import Attribute, CosemObject, Method
from ..obis import Obis
from ..types import (
    BIT_STRING,
    INTEGER,
    LOGICAL_NAME,
    LONG_UNSIGNED,
    OCTET_STRING,
    UNSIGNED,
    VISIBLE_STRING,
    ArrayOf,
    ContextName,
    Enumerated,
    Record,
)


class AssociationStatus(BlueBookEnum):
    NON_ASSOCIATED = 0
    ASSOCIATION_PENDING = 1
    ASSOCIATED = 2


@dataclass(frozen=True, slots=True)
class AssociatedPartnersId:
    client_SAP: int
    server_SAP: int


@dataclass(frozen=True, slots=True)
class XdlmsContextInfo:
    conformance: BitString
    max_receive_pdu_size: int
    max_send_pdu_size: int
    dlms_version_number: int
    quality_of_service: int
    cyphering_info: bytes


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    user_name: str


PARTNERS = Record(AssociatedPartnersId, INTEGER, LONG_UNSIGNED, name="associated_partners_type")
XDLMS_CONTEXT_INFO = Record(XdlmsContextInfo, BIT_STRING, LONG_UNSIGNED, LONG_UNSIGNED, UNSIGNED,
                            INTEGER, OCTET_STRING, name="xDLMS_context_type")
USER = Record(User, UNSIGNED, VISIBLE_STRING, name="user_list_entry")

#: application context names (2.16.756.5.8.1.x) and mechanism names (2.16.756.5.8.2.x)
LOGICAL_NAME_REFERENCING_NO_CIPHERING = (2, 16, 756, 5, 8, 1, 1)
SHORT_NAME_REFERENCING_NO_CIPHERING = (2, 16, 756, 5, 8, 1, 2)
LOGICAL_NAME_REFERENCING_WITH_CIPHERING = (2, 16, 756, 5, 8, 1, 3)
SHORT_NAME_REFERENCING_WITH_CIPHERING = (2, 16, 756, 5, 8, 1, 4)


def mechanism_name(mechanism_id: int) -> tuple[int, ...]:
    """The authentication mechanism name of mechanism ``mechanism_id`` (0 none, 1 LLS, 5 HLS-GMAC ...)."""
    return (2, 16, 756, 5, 8, 2, mechanism_id)


class AssociationLN(CosemObject):
    class_id = 15
    blue_book_name = "Association LN"
    versions = (0, 1, 2, 3)
    sn_first_method_offset = 0x60
    # object_list: its selective access is optional, the selectors the server's
    selective_access = {2: None}
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "object_list", object_list_type(0), until=0),
        Attribute(2, "object_list", object_list_type(1), since=1, until=2),
        Attribute(2, "object_list", object_list_type(3), since=3),
        Attribute(3, "associated_partners_id", PARTNERS),
        Attribute(4, "application_context_name", ContextName(structure_form=True), until=0),
        Attribute(4, "application_context_name", ContextName(structure_form=False), since=1),
        Attribute(5, "xDLMS_context_info", XDLMS_CONTEXT_INFO),
        Attribute(6, "authentication_mechanism_name", ContextName(structure_form=True), until=0),
        Attribute(6, "authentication_mechanism_name", ContextName(structure_form=False), since=1),
        Attribute(7, "secret", OCTET_STRING),
        Attribute(8, "association_status", Enumerated(AssociationStatus), static=False),
        Attribute(9, "security_setup_reference", LOGICAL_NAME, since=1),
        Attribute(10, "user_list", ArrayOf(USER), since=2),
        Attribute(11, "current_user", USER, static=False, since=2),
    )
    methods = (
        Method(1, "reply_to_HLS_authentication", OCTET_STRING, returns=True),
        Method(2, "change_HLS_secret", OCTET_STRING),
        Method(3, "add_object", OBJECT_LIST_ELEMENT),
        Method(4, "remove_object", OBJECT_LIST_ELEMENT),
        Method(5, "add_user", USER, since=2),
        Method(6, "remove_user", USER, since=2),
    )

    def __repr__(self) -> str:
        # the secret (attribute 7) never appears in a repr
        return f"<AssociationLN {self.logical_name} v{self.version}>"

    def find(self, logical_name: Obis | str):
        """The object_list element of ``logical_name``, or None."""
        return find_in_object_list(self.object_list, logical_name)


__all__ = [
    "LOGICAL_NAME_REFERENCING_NO_CIPHERING",
    "LOGICAL_NAME_REFERENCING_WITH_CIPHERING",
    "SHORT_NAME_REFERENCING_NO_CIPHERING",
    "SHORT_NAME_REFERENCING_WITH_CIPHERING",
    "AssociatedPartnersId",
    "AssociationLN",
    "AssociationStatus",
    "User",
    "XdlmsContextInfo",
    "mechanism_name",
]
