"""dlms-cosem's parsers as a second independent reader of what our server
role serves (object list with version-3 access rights, a profile buffer)."""
from __future__ import annotations

import datetime as dt

from dlms_cosem import enumerations
from dlms_cosem.cosem import Obis as PeerObis
from dlms_cosem.cosem.base import CosemAttribute
from dlms_cosem.parsers import AssociationObjectListParser, ProfileGenericBufferParser

from dlmsfast.axdr import encode
from dlmsfast.cosem import (
    AssociationLN,
    AttributeAccessFlags,
    CaptureObjectDefinition,
    Clock,
    MethodAccessFlags,
    Obis,
    ObjectListElement,
    ProfileGeneric,
    Register,
)

UTC = dt.timezone.utc


def test_dlms_cosem_reads_our_version_3_object_list():
    read_write = AttributeAccessFlags.READ_ACCESS | AttributeAccessFlags.WRITE_ACCESS
    elements = (
        ObjectListElement.of(Clock("0.0.1.0.0.255"), attribute_access=read_write,
                             method_access=MethodAccessFlags.ACCESS | MethodAccessFlags.AUTHENTICATED_REQUEST),
        ObjectListElement.of(Register("1.0.1.8.0.255"), attribute_access=AttributeAccessFlags.READ_ACCESS,
                             method_access=MethodAccessFlags(0)),
    )
    served = AssociationLN("0.0.40.0.0.255", 3, object_list=elements)
    parsed = AssociationObjectListParser.parse_bytes(encode(served.encode_attribute(2)))
    assert [(p.interface, str(p.logical_name.to_string())) for p in parsed] == [
        (8, "0-0:1.0.0.255"), (3, "1-0:1.8.0.255")]
    # dlms-cosem lists the bit numbers that are set (0 read, 1 write, 2 authenticated request)
    assert parsed[0].attribute_access_rights[2].access_rights == [0, 1]
    assert parsed[0].method_access_rights[6].access_rights == [0, 2]
    assert parsed[1].attribute_access_rights[3].access_rights == [0]
    assert parsed[1].method_access_rights[1].access_rights == []


def test_dlms_cosem_reads_our_profile_buffer():
    clock = CaptureObjectDefinition(8, Obis.parse("0.0.1.0.0.255"), 2)
    energy = CaptureObjectDefinition(3, Obis.parse("1.0.1.8.0.255"), 2)
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=(clock, energy), capture_period=900)
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    profile.buffer = [(t0 + dt.timedelta(minutes=15 * i), 1000 + i) for i in range(3)]
    raw = encode(profile.encode_attribute(2))
    parser = ProfileGenericBufferParser(
        capture_objects=[
            CosemAttribute(enumerations.CosemInterface.CLOCK, PeerObis.from_string("0.0.1.0.0.255"), 2),
            CosemAttribute(enumerations.CosemInterface.REGISTER, PeerObis.from_string("1.0.1.8.0.255"), 2),
        ],
        # dlms-cosem counts capture_period in minutes; the Blue Book says seconds
        capture_period=15,
    )
    entries = parser.parse_bytes(raw)
    # dlms-cosem returns naive datetimes for deviation 0 (UTC); we return aware ones
    assert [e[0].value for e in entries] == [dt.datetime(2026, 1, 1, 0, 15 * i) for i in range(3)]
    assert [e[1].value for e in entries] == [1000, 1001, 1002]
    assert [row[0] for row in profile.rows(raw_rows(raw))] == [t0 + dt.timedelta(minutes=15 * i) for i in range(3)]


def raw_rows(raw: bytes):
    from dlmsfast.axdr import decode

    return decode(raw)
