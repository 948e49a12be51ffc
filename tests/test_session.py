"""The association, sans-IO: a ClientSession against a ServerSession with no
sockets, every APDU handed over whole (tests/session_helpers.py)."""
from __future__ import annotations

import pytest
from session_helpers import (
    DENIED,
    ENERGY,
    PROFILE,
    UNKNOWN,
    Pair,
    client_settings,
    profile_rows,
)

from dlmsfast.apdu import (
    AARE,
    AARQ,
    AcseServiceUser,
    ApplicationContextName,
    Conformance,
    CosemMethodDescriptor,
    DataAccessResult,
    SelectiveAccessDescriptor,
)
from dlmsfast.axdr import Data, DataType
from dlmsfast.errors import (
    AssociationRejected,
    AuthenticationError,
    DataAccessError,
    LocalProtocolError,
    ProtocolError,
    ServiceError,
)
from dlmsfast.security import parse_ciphered
from dlmsfast.session import (
    AccessDenied,
    Associated,
    AuthenticationFailed,
    ClientSession,
    GetListResult,
    GetResult,
    NeedToSend,
    ObjectUndefined,
    Released,
    ReleaseRequested,
    State,
)

MECHANISMS = ["none", "lls", "hls-md5", "hls-sha1", "hls-gmac", "hls-sha256"]
SECURITY = ["none", "auth", "enc", "authenc"]
FORMS = ["glo", "ded", "general-glo", "general-ded", "general-ciphering"]


@pytest.mark.parametrize("authentication", MECHANISMS)
@pytest.mark.parametrize("security", SECURITY)
def test_associate_read_release(authentication, security):
    pair = Pair(authentication, security)
    (associated,) = pair.associate()
    assert isinstance(associated, Associated)
    assert pair.client.state is State.ASSOCIATED and pair.server.state is State.ASSOCIATED
    assert associated.security == {"none": 0, "auth": 0x10, "enc": 0x20, "authenc": 0x30}[security]
    assert associated.max_pdu_size == 1024
    server_associated = [e for e in pair.server_events if isinstance(e, Associated)]
    assert server_associated and server_associated[0].client_address == 1
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert result == GetResult(result.invoke_id, ENERGY, Data(DataType.DOUBLE_LONG_UNSIGNED, 1960))
    (released,) = pair.exchange(pair.client.release())
    assert isinstance(released, Released)
    assert pair.client.state is State.RELEASED and pair.server.state is State.RELEASED
    assert any(isinstance(e, ReleaseRequested) for e in pair.server_events)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("security", ["auth", "enc", "authenc"])
def test_every_ciphering_form_is_used_both_ways(form, security):
    pair = Pair("hls-gmac", security, ciphering=form)
    pair.associate()
    sent_before = len(pair.to_server)
    pair.exchange(pair.client.get(ENERGY))
    request, response = pair.to_server[sent_before], pair.to_client[-1]
    tags = {"glo": (0xC8, 0xCC), "ded": (0xD0, 0xD4), "general-glo": (0xDB, 0xDB),
            "general-ded": (0xDC, 0xDC), "general-ciphering": (0xDD, 0xDD)}[form]
    assert (request[0], response[0]) == tags
    # the security control byte is what the association set up
    expected_sc = {"auth": 0x10, "enc": 0x20, "authenc": 0x30}[security]
    assert parse_ciphered(request).security_control.value == expected_sc
    assert parse_ciphered(response).security_control.value == expected_sc


def test_auto_form_follows_general_protection():
    pair = Pair("none", "authenc")
    pair.associate()
    pair.exchange(pair.client.get(ENERGY))
    assert pair.to_server[-1][0] == 0xDB
    pair = Pair("none", "authenc", proposed_conformance=Conformance.GET | Conformance.SET)
    pair.associate()
    pair.exchange(pair.client.get(ENERGY))
    assert pair.to_server[-1][0] == 0xC8


def test_aarq_and_aare_carry_what_was_negotiated():
    pair = Pair("hls-gmac", "authenc", client_max_receive_pdu_size=512, server_pdu=700)
    pair.associate()
    aarq = AARQ.from_bytes(pair.to_server[0])
    aare = AARE.from_bytes(pair.to_client[0])
    assert aarq.application_context_name is (
        ApplicationContextName.LOGICAL_NAME_REFERENCING_WITH_CIPHERING)
    assert aarq.calling_ap_title == pair.client.security_context.system_title
    assert aare.responding_ap_title == pair.server_context.system_title
    assert aare.result_source_diagnostic is AcseServiceUser.AUTHENTICATION_REQUIRED
    assert aarq.user_information[0] == 0x21 and aare.user_information[0] == 0x28
    assert pair.client.max_pdu_size == 700   # what the server accepts from us
    assert pair.server.max_pdu_size == 512   # what we accept from the server
    assert pair.client.peer_system_title == pair.server_context.system_title
    assert pair.server.peer_system_title == pair.client.security_context.system_title


@pytest.mark.parametrize("security", ["none", "authenc"])
@pytest.mark.parametrize("server_pdu, client_pdu", [(1024, 1024), (256, 256), (1024, 128)])
def test_long_get_in_blocks(security, server_pdu, client_pdu):
    pair = Pair("hls-gmac", security, server_pdu=server_pdu,
                client_max_receive_pdu_size=client_pdu)
    pair.associate()
    sent = len(pair.to_client)
    (result,) = pair.exchange(pair.client.get(PROFILE))
    assert result.value == profile_rows()
    blocks = pair.to_client[sent:]
    assert len(blocks) > 2
    assert all(len(block) <= client_pdu for block in blocks)
    # the session asked for every block after the first by itself
    assert len(pair.to_server) - 2 - 1 == len(blocks) - 1


def test_96_row_profile_in_three_blocks_of_1024():
    pair = Pair("none")
    pair.associate()
    sent = len(pair.to_client)
    (result,) = pair.exchange(pair.client.get(PROFILE))
    assert len(result.value.value) == 96
    assert len(pair.to_client) - sent == 3


def test_selective_access_reaches_the_server():
    pair = Pair("none")
    pair.associate()
    entry = SelectiveAccessDescriptor.entry_descriptor(1, 10)
    pair.exchange(pair.client.get(PROFILE, entry))
    assert pair.meter.selections[-1] == entry


def test_get_with_list_batches_to_the_pdu_size():
    pair = Pair("none", server_pdu=64)
    pair.associate()
    items = [ENERGY, UNKNOWN, (PROFILE, SelectiveAccessDescriptor.entry_descriptor(1, 2))] * 3
    (result,) = pair.exchange(pair.client.get_with_list(items))
    assert isinstance(result, GetListResult)
    assert len(result.values) == 9
    assert result.values[0] == Data(DataType.DOUBLE_LONG_UNSIGNED, 1960)
    assert isinstance(result.values[1], ObjectUndefined)
    assert result.values[2] == profile_rows()
    requests = [a for a in pair.to_server if a[:2] == b"\xC0\x03"]
    assert len(requests) > 1 and all(len(r) <= 64 for r in requests)


def test_get_with_list_max_items():
    pair = Pair("none", max_list_items=2)
    pair.associate()
    (result,) = pair.exchange(pair.client.get_with_list([ENERGY] * 5))
    assert len(result.values) == 5
    assert sum(1 for a in pair.to_server if a[:2] == b"\xC0\x03") == 3


def test_set_normal_and_with_list_and_datablock():
    pair = Pair("none", "none", server_pdu=128)
    pair.associate()
    name = (1, "0.0.42.0.0.255", 2)
    (result,) = pair.exchange(pair.client.set(name, Data(DataType.OCTET_STRING, b"NEW")))
    assert pair.meter.values[result.descriptor] == Data(DataType.OCTET_STRING, b"NEW")
    long_value = Data(DataType.OCTET_STRING, bytes(range(256)) * 2)
    before = len(pair.to_server)
    (result,) = pair.exchange(pair.client.set(name, long_value))
    assert pair.meter.values[result.descriptor] == long_value
    blocks = pair.to_server[before:]
    assert blocks[0][:2] == b"\xC1\x02" and all(b[:2] == b"\xC1\x03" for b in blocks[1:])
    assert all(len(b) <= 128 for b in blocks) and len(blocks) >= 4
    (result,) = pair.exchange(pair.client.set_with_list(
        [ENERGY, UNKNOWN],
        [Data(DataType.DOUBLE_LONG_UNSIGNED, 7), Data(DataType.NULL_DATA, None)]))
    assert result.results[0] is None and isinstance(result.results[1], ObjectUndefined)


def test_action_normal_with_list_and_pblock():
    pair = Pair("none", "authenc", server_pdu=128)
    pair.associate()
    method = CosemMethodDescriptor(70, "0.0.96.3.10.255", 1)
    (result,) = pair.exchange(pair.client.action(method, Data(DataType.INTEGER, 0)))
    assert result.return_value == Data(DataType.INTEGER, 0)
    big = Data(DataType.OCTET_STRING, bytes(600))
    (result,) = pair.exchange(pair.client.action(method, big))
    assert pair.meter.calls[-1] == (method, big)
    # echoed back: the long answer came in pblocks the client asked for
    assert result.return_value == big
    (result,) = pair.exchange(pair.client.action_with_list(
        [method, method], [Data(DataType.INTEGER, 1), Data(DataType.INTEGER, 2)]))
    assert result.results == (Data(DataType.INTEGER, 1), Data(DataType.INTEGER, 2))
    with pytest.raises(ObjectUndefined):
        pair.exchange(pair.client.action(CosemMethodDescriptor(70, "0.0.96.3.10.255", 99)))


def test_data_access_errors_name_the_object():
    pair = Pair("none")
    pair.associate()
    with pytest.raises(ObjectUndefined) as undefined:
        pair.exchange(pair.client.get(UNKNOWN))
    assert "0.0.99.99.99.255" in str(undefined.value) and "get" in str(undefined.value)
    assert undefined.value.result is DataAccessResult.OBJECT_UNDEFINED
    with pytest.raises(AccessDenied) as denied:
        pair.exchange(pair.client.get(DENIED))
    assert isinstance(denied.value, DataAccessError)
    assert "read-write-denied" in str(denied.value) and "attribute 7" in str(denied.value)
    # the session forgot the failed requests and goes on
    assert pair.client.pending_invoke_ids == ()
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert isinstance(result, GetResult)


def test_invoke_ids_count_and_replies_match_by_id():
    pair = Pair("none", invoke_id=14)
    pair.associate()
    first = pair.client.get(ENERGY)
    second = pair.client.get(PROFILE)
    third = pair.client.get(UNKNOWN)
    assert [a[2] & 0x0F for a in (first, second, third)] == [14, 15, 0]
    assert first[2] & 0xC0 == 0xC0  # high priority, confirmed
    answers = {a[2] & 0x0F: pair.serve(a)[0] for a in (first, second, third)}
    # answered out of order
    (energy,) = pair.client.receive_apdu(answers[14])
    assert energy.descriptor == ENERGY
    with pytest.raises(ObjectUndefined):
        pair.client.receive_apdu(answers[0])
    assert pair.client.pending_invoke_ids == (15,)


def test_wrong_lls_password_is_authentication_failed():
    pair = Pair("lls", server_password=b"other")
    with pytest.raises(AuthenticationFailed) as failed:
        pair.associate()
    assert isinstance(failed.value, AssociationRejected)
    assert isinstance(failed.value, AuthenticationError)
    assert failed.value.diagnostic is AcseServiceUser.AUTHENTICATION_FAILURE
    assert pair.client.state is State.IDLE and pair.server.state is State.IDLE


def test_wrong_mechanism_and_unknown_client_are_rejected():
    pair = Pair("lls")  # the policy accepts client 1 with LLS only
    settings = client_settings("hls-md5", password=b"x")
    pair.client = ClientSession(settings)
    with pytest.raises(AssociationRejected) as rejected:
        pair.associate()
    assert rejected.value.diagnostic is AcseServiceUser.AUTHENTICATION_MECHANISM_NAME_NOT_RECOGNISED
    pair = Pair("none", client_address=16)
    pair.server.client_address = 17
    with pytest.raises(AssociationRejected) as rejected:
        pair.associate()
    assert rejected.value.diagnostic is AcseServiceUser.NO_REASON_GIVEN


def test_ciphered_client_on_unciphered_server_and_reverse():
    pair = Pair("none", "authenc", access_security=0)
    with pytest.raises(AssociationRejected) as rejected:
        pair.associate()
    assert rejected.value.diagnostic is AcseServiceUser.NO_REASON_GIVEN
    pair = Pair("none", "none", access_security="authenc")
    with pytest.raises(AssociationRejected) as rejected:
        pair.associate()
    assert rejected.value.diagnostic is AcseServiceUser.APPLICATION_CONTEXT_NAME_NOT_SUPPORTED


@pytest.mark.parametrize("mechanism", ["hls-md5", "hls-sha1", "hls-sha256"])
def test_wrong_hls_secret_fails_pass3(mechanism):
    pair = Pair(mechanism, server_password=b"not the client's")
    with pytest.raises(AuthenticationError):
        pair.associate()
    assert pair.client.state is State.IDLE and pair.server.state is State.IDLE


def test_hls_gmac_with_wrong_server_key_fails():
    pair = Pair("hls-gmac")
    pair.server_context.authentication_key = bytes(16)
    with pytest.raises(AuthenticationError):
        pair.associate()
    assert pair.server.state is State.IDLE


def test_client_checks_f_ctos():
    """A server whose f(CtoS) is wrong is refused by the client (pass 4)."""
    pair = Pair("hls-md5")
    aare = pair.serve(pair.client.associate())[0]
    (pass3,) = pair.client.receive_apdu(aare)
    answer = pair.serve(pass3.apdu)[0]
    tampered = answer[:-1] + bytes((answer[-1] ^ 1,))
    with pytest.raises(AuthenticationError):
        pair.client.receive_apdu(tampered)
    assert pair.client.state is State.IDLE


def test_requests_in_the_wrong_state():
    pair = Pair("none")
    with pytest.raises(LocalProtocolError):
        pair.client.get(ENERGY)
    with pytest.raises(LocalProtocolError):
        pair.client.release()
    pair.associate()
    with pytest.raises(LocalProtocolError):
        pair.client.associate()
    # a server asked for data before any association answers with an exception
    pair2 = Pair("none")
    from dlmsfast.session import RequestRefused
    events = pair2.server.receive_apdu(pair.client.get(ENERGY))
    assert isinstance(events[0], NeedToSend) and events[0].apdu[0] == 0xD8
    assert isinstance(events[1], RequestRefused)
    with pytest.raises(ServiceError):
        pair.client.receive_apdu(events[0].apdu)


def test_hls_pending_refuses_get_until_pass3():
    pair = Pair("hls-gmac")
    aare = pair.serve(pair.client.associate())[0]
    assert pair.server.state is State.HLS_PENDING
    pair.client.receive_apdu(aare)
    assert pair.client.state is State.HLS_PENDING
    with pytest.raises(LocalProtocolError):
        pair.client.get(ENERGY)


def test_unexpected_answer_is_a_protocol_error():
    pair = Pair("none")
    pair.associate()
    request = pair.client.get(ENERGY)
    answer = pair.serve(request)[0]
    pair.client.receive_apdu(answer)
    with pytest.raises(ProtocolError):
        pair.client.receive_apdu(answer)  # nothing awaits invoke id 1 any more


def test_reassociate_after_release():
    pair = Pair("hls-gmac", "authenc")
    for _ in range(3):
        assert isinstance(pair.associate()[0], Associated)
        pair.exchange(pair.client.get(ENERGY))
        assert isinstance(pair.exchange(pair.client.release())[0], Released)


def test_long_with_list_set_and_action_go_in_blocks():
    pair = Pair("none", "authenc", server_pdu=128)
    pair.associate()
    name = (1, "0.0.42.0.0.255", 2)
    values = [Data(DataType.OCTET_STRING, bytes([i]) * 150) for i in range(2)]
    before = len(pair.to_server)
    (result,) = pair.exchange(pair.client.set_with_list([name, ENERGY], values))
    assert result.results == (None, None)
    assert pair.meter.values[ENERGY] == values[1]
    assert len(pair.to_server) - before >= 3
    method = CosemMethodDescriptor(70, "0.0.96.3.10.255", 1)
    (result,) = pair.exchange(pair.client.action_with_list([method, method], values))
    assert pair.meter.calls[-1] == ((method, method), tuple(values))
    assert result.results == tuple(values)


def test_server_answers_with_a_value_already_encoded():
    from dlmsfast.axdr import encode
    from dlmsfast.session import GetRequested

    pair = Pair("none", "authenc")
    pair.associate()
    request = pair.client.get(PROFILE)
    (event,) = pair.server.receive_apdu(request)
    assert isinstance(event, GetRequested)
    answers = [pair.server.respond_get(event, encode(profile_rows()))]
    events = pair.client.receive_apdu(answers[0])
    while isinstance(events[0], NeedToSend):
        (next_block,) = pair.server.receive_apdu(events[0].apdu)
        events = pair.client.receive_apdu(next_block.apdu)
    assert events[0].value == profile_rows()


def test_server_datablocks_are_the_apdu_layers_octets():
    # The session puts each get-response-with-datablock together itself: the
    # octets GetResponseWithDatablock encodes, block after block, the last one marked.
    from dlmsfast.apdu import DataBlockG, GetResponseWithDatablock, parse_apdu
    from dlmsfast.axdr import encode

    pair = Pair("none", server_pdu=64)
    pair.associate()
    (event,) = pair.server.receive_apdu(pair.client.get(PROFILE))
    answer = pair.server.respond_get(event, encode(profile_rows()))
    blocks = []
    while True:
        block = parse_apdu(answer)
        assert isinstance(block, GetResponseWithDatablock)
        assert answer == GetResponseWithDatablock(
            invoke_id_and_priority=block.invoke_id_and_priority,
            result=DataBlockG(block.result.last_block, len(blocks) + 1,
                              block.result.result)).to_bytes()
        blocks.append(block.result)
        events = pair.client.receive_apdu(answer)
        if block.result.last_block:
            break
        (next_block,) = pair.server.receive_apdu(events[0].apdu)
        answer = next_block.apdu
    assert len(blocks) > 2 and not any(b.last_block for b in blocks[:-1])
    assert b"".join(b.result for b in blocks) == encode(profile_rows())
    assert events[0].value == profile_rows()


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_server_answers_a_list_with_values_already_encoded(security):
    # Items given encoded make the octets the same items as Data make (all encoded:
    # put together by the session itself; mixed with a DataAccessResult: decoded
    # first), and the client reads them back (the profile in datablocks).
    from dlmsfast.axdr import encode
    from dlmsfast.session import GetListRequested

    energy = Data(DataType.DOUBLE_LONG_UNSIGNED, 1960)
    for answer in ([energy, profile_rows()], [energy, DataAccessResult.OBJECT_UNDEFINED]):
        sent = []
        for encoded in (False, True):
            pair = Pair("none", security)
            pair.associate()
            (event,) = pair.server.receive_apdu(pair.client.get_with_list([ENERGY, PROFILE]))
            assert isinstance(event, GetListRequested)
            items = [encode(v) if encoded and isinstance(v, Data) else v for v in answer]
            sent.append(pair.server.respond_get(event, items))
            events = pair.client.receive_apdu(sent[-1])
            while isinstance(events[0], NeedToSend):
                (next_block,) = pair.server.receive_apdu(events[0].apdu)
                sent.append(next_block.apdu)
                events = pair.client.receive_apdu(next_block.apdu)
            (result,) = events
            assert isinstance(result, GetListResult)
            assert result.values[0] == energy
            if isinstance(answer[1], Data):
                assert result.values[1] == profile_rows()
            else:
                assert isinstance(result.values[1], ObjectUndefined)
        if security == "none":
            assert sent[:len(sent) // 2] == sent[len(sent) // 2:]


def test_normal_priority_and_the_server_echoes_invoke_id_and_priority():
    from dlmsfast.apdu import Priority

    pair = Pair("none", priority=Priority.NORMAL, invoke_id=5)
    pair.associate()
    request = pair.client.get(ENERGY)
    assert request[2] == 0x45  # normal priority, confirmed, invoke id 5
    (answer,) = pair.serve(request)
    assert answer[2] == 0x45
    (result,) = pair.client.receive_apdu(answer)
    assert result.invoke_id == 5
