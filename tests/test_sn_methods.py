"""Methods of short-name meters: a WriteRequest to the method's short name
(base name + the class's offset of method 1 + 8 per method, Blue Book),
checked octet for octet against gurux-dlms's client where it knows the class.

Where gurux and the Blue Book disagree, the Blue Book wins: gurux's table puts
Clock's methods at 0x38 and Profile Generic's at 0x28 and knows no offset for
Register (its per-class table overwrites its own entries); the Blue Book has
Clock's adjust_to_quarter at x + 0x60, Profile Generic's reset at x + 0x58 and
Register's reset at x + 0x28 (pinned below without gurux)."""
from __future__ import annotations

import pytest
from gurux_dlms import GXDLMSClient
from gurux_dlms.enums import DataType as GuruxType
from gurux_dlms.enums import InterfaceType
from gurux_dlms.objects import GXDLMSDisconnectControl, GXDLMSPushSetup, GXDLMSScriptTable

from dlmsfast.axdr import Data, DataType
from dlmsfast.cosem import make_object
from dlmsfast.session.sn import WriteRequest

BASE = 0x0A00


def ours(class_id: int, obis: str, method: int, value: Data) -> bytes:
    name = make_object(class_id, obis).method_short_name(BASE, method)
    return WriteRequest((name,), (value,)).to_bytes()


@pytest.mark.parametrize("gurux_class, class_id, obis, method, value, kind", [
    (GXDLMSScriptTable, 9, "0.0.10.0.0.255", 1, 3, GuruxType.UINT16),
    (GXDLMSDisconnectControl, 70, "0.0.96.3.10.255", 1, 0, GuruxType.INT8),
    (GXDLMSDisconnectControl, 70, "0.0.96.3.10.255", 2, 0, GuruxType.INT8),
    (GXDLMSPushSetup, 40, "0.0.25.9.0.255", 1, 0, GuruxType.INT8),
])
def test_method_write_request_agrees_with_gurux(gurux_class, class_id, obis, method, value, kind):
    client = GXDLMSClient(False, 16, 1, interfaceType=InterfaceType.WRAPPER)
    item = gurux_class(obis)
    item.shortName = BASE
    [frame] = client.method(item, method, value, kind)
    theirs = bytes(frame)[8:]  # past the wrapper header
    data = Data(DataType.LONG_UNSIGNED if kind == GuruxType.UINT16 else DataType.INTEGER, value)
    assert ours(class_id, obis, method, data) == theirs


@pytest.mark.parametrize("class_id, obis, method, offset", [
    (3, "1.0.1.8.0.255", 1, 0x28),      # Register reset
    (8, "0.0.1.0.0.255", 1, 0x60),      # Clock adjust_to_quarter
    (8, "0.0.1.0.0.255", 6, 0x88),      # Clock shift_time
    (7, "1.0.99.1.0.255", 2, 0x60),     # Profile Generic capture
])
def test_method_short_names_follow_the_blue_book(class_id, obis, method, offset):
    assert make_object(class_id, obis).method_short_name(BASE, method) == BASE + offset


def test_the_methods_that_return_data_are_the_blue_books():
    # with short names these go out as a ReadRequest (parameterized access), the
    # others as a WriteRequest: Association LN/SN's HLS replies and look-ups,
    # Security Setup's key_agreement, generate_certificate_request, export_certificate
    from dlmsfast.cosem import registered_classes

    returning = {(class_id, method.index, method.name)
                 for class_id, cls in registered_classes().items()
                 for method in cls.methods if method.returns}
    assert returning == {
        (15, 1, "reply_to_HLS_authentication"),
        (12, 1, "getlist_by_classid"), (12, 2, "getobj_by_logicalname"),
        (12, 3, "read_by_logicalname"), (12, 4, "get_attributes_and_services"),
        (12, 7, "get_HLS_challenge"), (12, 8, "reply_to_HLS_authentication"),
        (64, 3, "key_agreement"), (64, 5, "generate_certificate_request"),
        (64, 7, "export_certificate"),
    }
