"""Association SN (class_id 12, versions 0-4): an association with short name
referencing; its object_list gives each object's base name.

=====  ========================  ======================  =======  =====
index  attribute                 type                    kind     since
=====  ========================  ======================  =======  =====
1      logical_name              octet-string            static
2      object_list               sn_object_list_type     static
3      access_rights_list        array of access_right   static   v2
4      security_setup_reference  octet-string            static   v2
5      user_list                 array of structure      static   v3
6      current_user              structure               dynamic  v3
=====  ========================  ======================  =======  =====

Methods (short name offset 0x20): 1 getlist_by_classid, 2
getobj_by_logicalname, 3 read_by_logicalname, 4 get_attributes&services
(spelt get_attributes_and_services), 5 change_LLS_secret, 6 change_HLS_secret,
7 get_HLS_challenge, 8 reply_to_HLS_authentication, 9 add_user, 10
remove_user (v3). An object's attribute i has the short name base_name + 8(i-1).
"""
from __future__ import annotations

from ..access import SN_ACCESS_RIGHTS_LIST, SN_OBJECT_LIST, find_in_object_list
from ..interface import Attribute, CosemObject, Method
from ..obis import Obis
from ..types import CHOICE, LOGICAL_NAME, LONG_UNSIGNED, OCTET_STRING, ArrayOf
from .association_ln import USER


class AssociationSN(CosemObject):
    class_id = 12
    blue_book_name = "Association SN"
    versions = (0, 1, 2, 3, 4)
    sn_first_method_offset = 0x20
    # object_list: its selective access is optional, the selectors the server's
    selective_access = {2: None}
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "object_list", SN_OBJECT_LIST),
        Attribute(3, "access_rights_list", SN_ACCESS_RIGHTS_LIST, since=2),
        Attribute(4, "security_setup_reference", LOGICAL_NAME, since=2),
        Attribute(5, "user_list", ArrayOf(USER), since=3),
        Attribute(6, "current_user", USER, static=False, since=3),
    )
    methods = (
        Method(1, "getlist_by_classid", LONG_UNSIGNED, returns=True),
        Method(2, "getobj_by_logicalname", LOGICAL_NAME, returns=True),
        Method(3, "read_by_logicalname", CHOICE, returns=True),
        Method(4, "get_attributes_and_services", CHOICE, returns=True),
        Method(5, "change_LLS_secret", OCTET_STRING),
        Method(6, "change_HLS_secret", OCTET_STRING),
        Method(7, "get_HLS_challenge", CHOICE, returns=True),
        Method(8, "reply_to_HLS_authentication", OCTET_STRING, returns=True),
        Method(9, "add_user", USER, since=3),
        Method(10, "remove_user", USER, since=3),
    )

    def find(self, logical_name: Obis | str):
        """The object_list element of ``logical_name`` (with its base name), or None."""
        return find_in_object_list(self.object_list, logical_name)

    def find_base_name(self, base_name: int):
        """The object_list element whose base name is ``base_name``, or None."""
        for element in self.object_list or ():
            if element.base_name == base_name:
                return element
        return None


__all__ = ["AssociationSN"]
