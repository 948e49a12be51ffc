"""Association LN and SN: object lists and access rights encoded by gurux-dlms
read into objects and built back byte for byte (the server role serves them)."""
from __future__ import annotations

import pytest

import gurux_dlms.objects as gx
from gurux_dlms.enums import AccessMode as GAccessMode

from cosem_gurux import access_server, gurux_encode
from dlmsfast.axdr import Data, DataType, decode_typed, encode
from dlmsfast.cosem import (
    AccessRights,
    AssociationLN,
    AssociationSN,
    AttributeAccessFlags,
    AttributeAccessItem,
    AttributeAccessMode,
    Clock,
    MethodAccessFlags,
    MethodAccessItem,
    MethodAccessMode,
    Obis,
    ObjectListElement,
    Register,
    object_list_index,
)
from dlmsfast.cosem.classes.association_ln import (
    LOGICAL_NAME_REFERENCING_NO_CIPHERING,
    AssociatedPartnersId,
    mechanism_name,
)
from dlmsfast.errors import DecodeError


def _gurux_objects():
    clock = gx.GXDLMSClock("0.0.1.0.0.255")
    register = gx.GXDLMSRegister("1.0.1.8.0.255")
    profile = gx.GXDLMSProfileGeneric("1.0.99.1.0.255")
    return [clock, register, profile]


@pytest.mark.parametrize("version", [0, 1, 2])
@pytest.mark.parametrize("attribute_access, method_access", [(1, 1), (3, 0), (6, 2), (0, 1)])
def test_ln_object_list_from_gurux_and_back(version, attribute_access, method_access):
    theirs = gx.GXDLMSAssociationLogicalName()
    theirs.version = version
    for obj in _gurux_objects():
        theirs.objectList.append(obj)
    raw = gurux_encode(theirs, 2, access_server(attribute_access, method_access))
    ours = AssociationLN("0.0.40.0.0.255", version)
    object_list = ours.decode_attribute_bytes(2, raw)
    assert [(e.class_id, e.version, str(e.logical_name)) for e in object_list] == [
        (8, 0, "0.0.1.0.0.255"), (3, 0, "1.0.1.8.0.255"), (7, 1, "1.0.99.1.0.255")]
    clock = object_list[0]
    assert [a.attribute_id for a in clock.access_rights.attribute_access] == list(range(1, 10))
    assert [m.method_id for m in clock.access_rights.method_access] == list(range(1, 7))
    mode = clock.access_rights.for_attribute(2).access_mode
    assert mode is AttributeAccessMode(attribute_access)
    assert clock.access_rights.can_read(2) is (attribute_access in (1, 3, 4, 6))
    assert clock.access_rights.can_write(2) is (attribute_access in (2, 3, 5, 6))
    expected_method = min(method_access, 1) if version == 0 else method_access
    assert clock.access_rights.for_method(1).access_mode is MethodAccessMode(expected_method)
    assert clock.access_rights.can_call(1) is bool(method_access)
    # the server role builds the same octets back
    assert encode(ours.encode_attribute(2)) == raw


def test_ln_object_list_elements_make_objects_of_their_class():
    theirs = gx.GXDLMSAssociationLogicalName()
    for obj in _gurux_objects():
        theirs.objectList.append(obj)
    ours = AssociationLN("0.0.40.0.0.255")
    ours.decode_attribute_bytes(2, gurux_encode(theirs, 2, access_server()))
    made = [e.make_object() for e in ours.object_list]
    assert [type(o).__name__ for o in made] == ["Clock", "Register", "ProfileGeneric"]
    assert made[2].version == 1
    assert ours.find("1-0:1.8.0*255").class_id == 3
    assert ours.find("1.1.1.1.1.1") is None
    assert set(object_list_index(ours.object_list)) == {Obis.parse("0.0.1.0.0.255"),
                                                        Obis.parse("1.0.1.8.0.255"),
                                                        Obis.parse("1.0.99.1.0.255")}


def test_ln_version_3_access_rights_are_bit_maps():
    element = ObjectListElement(3, 0, Obis.parse("1.0.1.8.0.255"), AccessRights(
        (AttributeAccessItem(2, AttributeAccessFlags.READ_ACCESS | AttributeAccessFlags.AUTHENTICATED_REQUEST,
                             (1, 2)),),
        (MethodAccessItem(1, MethodAccessFlags.ACCESS | MethodAccessFlags.ENCRYPTED_RESPONSE),),
    ))
    served = AssociationLN("0.0.40.0.0.255", 3, object_list=(element,))
    raw = encode(served.encode_attribute(2))
    assert raw.hex().upper() == (
        "0101" "0204" "120003" "1100" "0906 0100010800FF".replace(" ", "")
        + "0202" "0101" "0203" "0F02" "1605" "0102 0F01 0F02".replace(" ", "")
        + "0101" "0202" "0F01" "1641")
    read = AssociationLN("0.0.40.0.0.255", 3)
    (again,) = read.decode_attribute_bytes(2, raw)
    assert again == element
    assert again.access_rights.can_read(2) and not again.access_rights.can_write(2)
    assert again.access_rights.can_call(1)


def test_ln_other_attributes_from_gurux():
    theirs = gx.GXDLMSAssociationLogicalName()
    theirs.clientSAP = 16
    theirs.serverSAP = 1
    ours = AssociationLN("0.0.40.0.0.255", 1)
    assert ours.decode_attribute_bytes(3, gurux_encode(theirs, 3)) == AssociatedPartnersId(16, 1)
    # gurux writes version 0's structure form of the names for every version;
    # read either way, written in the version's own form (octet-string from v1)
    assert ours.decode_attribute_bytes(4, gurux_encode(theirs, 4)) == LOGICAL_NAME_REFERENCING_NO_CIPHERING
    assert ours.decode_attribute_bytes(6, gurux_encode(theirs, 6)) == mechanism_name(0)
    assert encode(ours.encode_attribute(4)) == bytes.fromhex("090760857405080101")
    assert encode(ours.encode_attribute(6)) == bytes.fromhex("090760857405080200")
    old = AssociationLN("0.0.40.0.0.255", 0, application_context_name=LOGICAL_NAME_REFERENCING_NO_CIPHERING)
    assert encode(old.encode_attribute(4)) == gurux_encode(theirs, 4)
    assert ours.decode_attribute_bytes(8, gurux_encode(theirs, 8)) == 0
    assert ours.decode_attribute(4, Data(DataType.OCTET_STRING, bytes.fromhex("060760857405080103"))) == (
        2, 16, 756, 5, 8, 1, 3)


def test_ln_secret_stays_out_of_the_repr():
    association = AssociationLN("0.0.40.0.0.255", 1, secret=b"12345678")
    assert "12345678" not in repr(association)


def test_sn_object_list_and_access_rights_from_gurux_and_back():
    theirs = gx.GXDLMSAssociationShortName()
    clock, register = gx.GXDLMSClock("0.0.1.0.0.255"), gx.GXDLMSRegister("1.0.1.8.0.255")
    clock.shortName, register.shortName = 0x2000, 0xA100
    theirs.objectList.append(clock)
    theirs.objectList.append(register)
    ours = AssociationSN("0.0.40.0.0.255", 2)
    raw = gurux_encode(theirs, 2)
    object_list = ours.decode_attribute_bytes(2, raw)
    assert [(e.base_name, e.class_id, str(e.logical_name)) for e in object_list] == [
        (0x2000, 8, "0.0.1.0.0.255"), (0xA100, 3, "1.0.1.8.0.255")]
    # base names above 0x7FFF travel as a negative long: kept as 0..65535, sent back the same
    assert encode(ours.encode_attribute(2)) == raw
    assert ours.find("1.0.1.8.0.255").base_name == 0xA100
    assert ours.find_base_name(0x2000).class_id == 8
    register_object = object_list[1].make_object()
    assert register_object.attribute_short_name(0xA100, "value") == 0xA108
    assert register_object.method_short_name(0xA100, "reset") == 0xA128
    clock.setAccess(2, GAccessMode.READ_WRITE)
    raw_rights = gurux_encode(theirs, 3)
    rights = ours.decode_attribute_bytes(3, raw_rights)
    # gurux lists the association itself (0xFA00) after the objects
    assert [r.base_name for r in rights] == [0x2000, 0xA100, 0xFA00]
    assert rights[0].attribute_access[0].attribute_id == 2
    assert rights[0].attribute_access[0].access_mode is AttributeAccessMode.READ_AND_WRITE
    # gurux sends these base names as long-unsigned where the Blue Book says long;
    # both are read, and ours are written as long
    assert [r.base_name for r in ours.decode_attribute(3, ours.encode_attribute(3))] == [0x2000, 0xA100, 0xFA00]


def test_sn_access_rights_round_trip():
    rights = decode_typed(bytes.fromhex(
        "0101" "0203" "10A100"
        "0102" "02030F01160100" "02030F02160301020F010F02"
        "0101" "02020F011601"))
    ours = AssociationSN("0.0.40.0.0.255", 2)
    (entry,) = ours.decode_attribute(3, rights)
    assert entry.base_name == 0xA100
    assert entry.attribute_access[1].access_mode is AttributeAccessMode.READ_AND_WRITE
    assert entry.attribute_access[1].access_selectors == (1, 2)
    assert entry.method_access[0].access_mode is MethodAccessMode.ACCESS
    assert ours.encode_attribute(3) == rights


@pytest.mark.parametrize(
    "raw, words",
    [
        ("0101 0203 120003 1100 09060100010800FF".replace(" ", ""), "object_list_element"),
        ("0101 0204 120003 1100 0905 0100010800 02020100 0100".replace(" ", ""), "logical_name"),
        ("0101 0204 120003 1100 0906 0100010800FF 0202 0101 02030F02 0901 00 00 0100".replace(" ", ""),
         "access_mode"),
        ("0101 0204 120003 1100 0906 0100010800FF 0202 0101 02030F02 1601 0A0178 0100".replace(" ", ""),
         "access_selectors"),
    ],
)
def test_malformed_object_lists_name_the_place(raw, words):
    with pytest.raises(DecodeError) as info:
        AssociationLN("0.0.40.0.0.255", 1).decode_attribute_bytes(2, bytes.fromhex(raw))
    assert words in str(info.value)
    assert "AssociationLN 0.0.40.0.0.255 attribute 2 object_list" in str(info.value)


def test_server_builds_an_object_list_from_its_objects():
    objects = [Clock("0.0.1.0.0.255"), Register("1.0.1.8.0.255")]
    elements = tuple(ObjectListElement.of(o) for o in objects)
    elements += (ObjectListElement.of(AssociationLN("0.0.40.0.0.255", 1), overrides={
        ("attribute", 7): AttributeAccessMode.NO_ACCESS, ("method", 1): MethodAccessMode.ACCESS}),)
    assert not elements[2].access_rights.can_read(7) and elements[2].access_rights.can_read(8)
    assert elements[2].access_rights.can_call(1) and not elements[2].access_rights.can_call(2)
    served = AssociationLN("0.0.40.0.0.255", 1, object_list=elements)
    raw = encode(served.encode_attribute(2))
    # gurux-dlms's client reads it (its object-list parser as the oracle)
    from gurux_dlms.GXDLMSClient import GXDLMSClient
    from gurux_dlms import GXByteBuffer

    client = GXDLMSClient(True)
    parsed = client.parseObjects(GXByteBuffer(bytearray(raw)), True)
    assert [(int(o.objectType), o.logicalName) for o in parsed] == [
        (8, "0.0.1.0.0.255"), (3, "1.0.1.8.0.255"), (15, "0.0.40.0.0.255")]
