"""The reader's per-process caches give what the slow path gives.

A bulk reader asks every meter for the same capture_objects and scaler_units
and sends the same attribute lists: those are decoded / described once per
distinct value. Each cache is pinned here against the uncached computation.
"""
from __future__ import annotations

import pytest

from dlmsfast.axdr import Data, DataType
from dlmsfast.client import requests as client_requests
from dlmsfast.client import values
from dlmsfast.client.values import Target, attribute_value
from dlmsfast.cosem import make_object
from dlmsfast.cosem.descriptors import (
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
)
from dlmsfast.cosem.obis import Obis
from dlmsfast.cosem.units import ScalerUnit, Unit
from dlmsfast.errors import UsageError
from session_helpers import ENERGY as ENERGY_VALUE
from session_helpers import PROFILE as PROFILE_BUFFER
from session_helpers import Pair, profile_rows

PROFILE = Obis.parse("1.0.99.1.0.255")
ENERGY = Obis.parse("1.0.1.8.0.255")


def _captures(*columns) -> Data:
    return Data(DataType.ARRAY, tuple(CaptureObjectDefinition(*c).to_data() for c in columns))


def _uncached(target: Target, data: Data):
    return make_object(target.class_id, target.obis).decode_attribute(target.attribute, data)


@pytest.fixture(autouse=True)
def _empty_caches():
    values._decoded.clear()
    client_requests._described.clear()
    yield
    values._decoded.clear()
    client_requests._described.clear()


def test_capture_objects_decoded_once_per_distinct_answer():
    target = Target(7, PROFILE, 3)
    first = _captures((8, "0.0.1.0.0.255", 2), (3, "1.0.1.8.0.255", 2))
    again = _captures((8, "0.0.1.0.0.255", 2), (3, "1.0.1.8.0.255", 2))
    other = _captures((8, "0.0.1.0.0.255", 2), (3, "1.0.2.8.0.255", 2))
    value = attribute_value(target, first)
    assert value == _uncached(target, first)
    assert attribute_value(target, again) is value  # from the cache
    assert attribute_value(target, other) == _uncached(target, other) != value
    assert len(values._decoded) == 2


def test_scaler_unit_cache_tells_integer_types_apart():
    target = Target(3, ENERGY, 3)
    as_integer = Data(DataType.STRUCTURE, (Data(DataType.INTEGER, -3), Data(DataType.ENUM, 30)))
    as_long = Data(DataType.STRUCTURE, (Data(DataType.LONG, -3), Data(DataType.ENUM, 30)))
    other = Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0), Data(DataType.ENUM, 30)))
    for data in (as_integer, as_long, other, as_integer):
        assert attribute_value(target, data) == _uncached(target, data) \
            == ScalerUnit.from_data(data)
    assert attribute_value(target, other) == ScalerUnit(0, Unit.WATT_HOUR)


def test_an_answer_the_class_does_not_read_is_not_kept():
    target = Target(3, ENERGY, 3)
    wrong = Data(DataType.STRUCTURE, (Data(DataType.FLOAT32, -0.0), Data(DataType.ENUM, 30)))
    assert attribute_value(target, wrong) == (-0.0, 30)  # the plain value, as before
    assert not values._decoded


def test_the_cache_stays_bounded():
    target = Target(3, ENERGY, 3)
    for scaler in range(-128, 128):
        data = Data(DataType.STRUCTURE, (Data(DataType.INTEGER, scaler), Data(DataType.ENUM, 27)))
        assert attribute_value(target, data).scaler == scaler
        assert len(values._decoded) <= values._DECODED_LIMIT


def test_attribute_lists_described_once():
    items = [(8, Obis.parse("0.0.1.0.0.255"), 2), (3, ENERGY, 2), (3, ENERGY, 3)]
    entries = client_requests._described_items(items)
    assert entries == tuple(CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(*i))
                            for i in items)
    assert [e.cosem_attribute_descriptor.to_bytes() for e in entries] == \
        [CosemAttributeDescriptor(*i).to_bytes() for i in items]
    assert client_requests._described_items(list(items)) is entries


def test_attribute_lists_keyed_only_by_exact_types():
    # True == 1 and "1.0.1.8.0.255" != Obis: such lists are described anew each time
    assert client_requests._described_items([(3, "1.0.1.8.0.255", 2)])[0] == \
        CosemAttributeDescriptorWithSelection(CosemAttributeDescriptor(3, ENERGY, 2))
    assert not client_requests._described
    with pytest.raises(UsageError):
        client_requests._described_items([(3, ENERGY, 300)])
    assert not client_requests._described


@pytest.mark.parametrize("security", ["none", "authenc"])
@pytest.mark.parametrize("server_pdu, descriptor", [(1024, PROFILE_BUFFER),  # 3 blocks
                                                    (1024, ENERGY_VALUE),    # one APDU
                                                    (256, PROFILE_BUFFER)])  # many blocks
def test_a_plain_get_gives_the_typed_values_plain_over_the_same_octets(security, server_pdu,
                                                                       descriptor):
    results, wire = [], []
    for plain in (False, True):
        pair = Pair("hls-gmac", security, server_pdu=server_pdu,
                    client_max_receive_pdu_size=server_pdu,
                    challenge=bytes(range(16)), invocation_counter=5)
        pair.associate()
        sent = len(pair.to_server)
        (result,) = pair.exchange(pair.client.get(descriptor, plain=plain))
        results.append(result.value)
        wire.append(pair.to_server[sent:])
    typed, plain_value = results
    assert isinstance(typed, Data) and not isinstance(plain_value, Data)
    assert plain_value == typed.to_plain()
    if descriptor == PROFILE_BUFFER:
        assert plain_value == profile_rows().to_plain()
        assert len(wire[0]) > 2
    assert wire[0] == wire[1]  # the requests (next-block ones too) are the same octets


def test_initiate_request_made_once_per_proposal_and_never_with_a_dedicated_key():
    from dlmsfast.apdu import Conformance, InitiateRequest
    from dlmsfast.session import client as session_client
    from dlmsfast.session import ClientSession
    from session_helpers import client_settings

    session_client._INITIATE_REQUESTS.clear()
    session = ClientSession(client_settings("hls-gmac", "authenc",
                                            client_max_receive_pdu_size=512))
    fresh = InitiateRequest(proposed_conformance=Conformance(session._proposed),
                            client_max_receive_pdu_size=512).to_bytes()
    assert session._initiate_request(None) == fresh
    assert session._initiate_request(None) is session._initiate_request(None)
    dedicated = session._initiate_request(bytes(range(16)))
    assert dedicated == InitiateRequest(proposed_conformance=Conformance(session._proposed),
                                        client_max_receive_pdu_size=512,
                                        dedicated_key=bytes(range(16))).to_bytes()
    assert len(session_client._INITIATE_REQUESTS) == 1
    other = ClientSession(client_settings("hls-gmac", "authenc", client_max_receive_pdu_size=1024))
    assert other._initiate_request(None) != fresh
    assert len(session_client._INITIATE_REQUESTS) == 2
