"""The association's less travelled paths: short names, notifications, general
block transfer, ciphering faults, malformed and truncated APDUs."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from session_helpers import ENERGY, PROFILE, Pair, profile_rows

from dlmsfast.apdu import (
    CosemAttributeDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    GeneralBlockTransfer,
    LongInvokeIdAndPriority,
)
from dlmsfast.axdr import Data, DataType
from dlmsfast.errors import (
    DecodeError,
    DlmsError,
    LocalProtocolError,
    PolicyError,
    ProtocolError,
    ReplayError,
    ServiceError,
    TagError,
)
from dlmsfast.session import (
    Associated,
    DataBlockResult,
    DataNotificationReceived,
    EventNotificationReceived,
    GetResult,
    NeedToSend,
    ObjectUndefined,
    ReadRequest,
    ReadResponse,
    ReadResult,
    RequestRefused,
    State,
    WriteRequest,
    WriteResponse,
    WriteResult,
)

# --- short names ----------------------------------------------------------------

def sn_pair(**kw) -> Pair:
    return Pair("lls", logical_name_referencing=False, server_logical_name=False, **kw)


def test_short_name_read_and_write():
    pair = sn_pair()
    (associated,) = pair.associate()
    assert associated.vaa_name == 0xFA00
    (result,) = pair.exchange(pair.client.read([0x0100, 0x0200]))
    assert isinstance(result, ReadResult) and result.base_names == (0x0100, 0x0200)
    assert result.values[0] == Data(DataType.LONG_UNSIGNED, 2301)
    assert isinstance(result.values[1], ObjectUndefined)
    assert "short name 0x0200" in str(result.values[1])
    (written,) = pair.exchange(pair.client.write(0x0100, Data(DataType.LONG_UNSIGNED, 7)))
    assert isinstance(written, WriteResult) and written.results == (None,)
    (result,) = pair.exchange(pair.client.read(0x0100))
    assert result.values == (Data(DataType.LONG_UNSIGNED, 7),)


def test_short_name_ciphered():
    pair = Pair("none", "authenc", logical_name_referencing=False, server_logical_name=False)
    pair.associate()
    pair.exchange(pair.client.read(0x0100))
    assert pair.to_server[-1][0] == 0x25 and pair.to_client[-1][0] == 0x2C  # glo-read*


def test_sn_client_on_ln_server_is_rejected():
    from dlmsfast.errors import AssociationRejected
    pair = Pair("none", logical_name_referencing=False)
    with pytest.raises(AssociationRejected):
        pair.associate()


@pytest.mark.parametrize("apdu", [
    ReadRequest((0x0100, 0xFA08), (None, (1, Data(DataType.OCTET_STRING, b"x")))),
    ReadResponse((Data(DataType.UNSIGNED, 1), DataAccessResult.OBJECT_UNDEFINED)),
    WriteRequest((0x0100,), (Data(DataType.NULL_DATA, None),)),
    WriteResponse((DataAccessResult.SUCCESS, DataAccessResult.READ_WRITE_DENIED)),
    ReadRequest((), None, 7),
    ReadResponse((DataBlockResult(False, 2, b"\x01\x02\x03"),)),
])
def test_short_name_apdus_round_trip_and_refuse_truncation(apdu):
    data = apdu.to_bytes()
    assert type(apdu).from_bytes(data) == apdu
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            type(apdu).from_bytes(data[:end])
    with pytest.raises(DecodeError):
        type(apdu).from_bytes(data + b"\x00")


def test_read_response_bytes():
    # 0C 02 | 00 12 08FD | 01 04   (long-unsigned 2301, then object-undefined)
    data = bytes.fromhex("0C02001208FD0104")
    response = ReadResponse.from_bytes(data)
    assert response.results == (Data(DataType.LONG_UNSIGNED, 2301),
                                DataAccessResult.OBJECT_UNDEFINED)
    assert response.to_bytes() == data


# --- notifications ---------------------------------------------------------------

def test_data_and_event_notifications_reach_the_client():
    pair = Pair("none", "authenc")
    pair.associate()
    body = Data(DataType.STRUCTURE, (Data(DataType.DOUBLE_LONG_UNSIGNED, 1960),))
    push = DataNotification(long_invoke_id_and_priority=LongInvokeIdAndPriority(7),
                            notification_body=body).to_bytes()
    ciphered = pair.server_context.encrypt(push, form="general-glo")
    (event,) = pair.client.receive_apdu(ciphered)
    assert event == DataNotificationReceived(7, None, body)
    report = EventNotificationRequest(cosem_attribute_descriptor=ENERGY,
                                      attribute_value=Data(DataType.DOUBLE_LONG_UNSIGNED, 5))
    (event,) = pair.client.receive_apdu(pair.server_context.encrypt(report.to_bytes()))
    assert event == EventNotificationReceived(None, ENERGY, Data(DataType.DOUBLE_LONG_UNSIGNED, 5))
    with pytest.raises(PolicyError):  # unprotected in an authenc association
        pair.client.receive_apdu(push)


# --- general block transfer ----------------------------------------------------------

@pytest.mark.parametrize("streaming, window", [(False, 1), (True, 3)])
def test_get_response_in_general_block_transfer(streaming, window):
    pair = Pair("none", "authenc", server_pdu=4000, client_max_receive_pdu_size=4000)
    pair.associate()
    (answer,) = pair.serve(pair.client.get(PROFILE))
    size = 200
    pieces = [answer[i:i + size] for i in range(0, len(answer), size)]
    acks = []
    for number, piece in enumerate(pieces, 1):
        block = GeneralBlockTransfer(last_block=number == len(pieces), streaming=streaming,
                                     window=window, block_number=number, block_number_ack=0,
                                     block_data=piece).to_bytes()
        events = pair.client.receive_apdu(block)
        if number < len(pieces):
            acks += [GeneralBlockTransfer.from_bytes(e.apdu) for e in events]
            assert all(isinstance(e, NeedToSend) for e in events)
    assert isinstance(events[0], GetResult) and events[0].value == profile_rows()
    expected = [n for n in range(1, len(pieces)) if not streaming or n % window == 0]
    assert [a.block_number_ack for a in acks] == expected
    assert all(a.block_data == b"" and not a.last_block for a in acks)


def test_general_block_transfer_out_of_order_is_refused():
    pair = Pair("none")
    pair.associate()
    block = GeneralBlockTransfer(last_block=False, block_number=2, block_data=b"\xC4")
    with pytest.raises(ProtocolError):
        pair.client.receive_apdu(block.to_bytes())


# --- ciphering faults ---------------------------------------------------------------

def test_replayed_response_is_refused_by_the_client():
    pair = Pair("hls-gmac", "authenc")
    pair.associate()
    (answer,) = pair.serve(pair.client.get(ENERGY))
    pair.client.receive_apdu(answer)
    pair.client.get(ENERGY)
    with pytest.raises(ReplayError, match="invocation counter"):
        pair.client.receive_apdu(answer)


def test_replayed_request_is_answered_with_invocation_counter_error():
    pair = Pair("hls-gmac", "authenc")
    pair.associate()
    request = pair.client.get(ENERGY)
    pair.client.receive_apdu(pair.serve(request)[0])
    events = pair.server.receive_apdu(request)
    refusal = ExceptionResponse.from_bytes(events[0].apdu)
    assert refusal.service_error.blue_book_name == "invocation-counter-error"
    assert refusal.invocation_counter == pair.client.security_context.invocation_counter
    assert isinstance(events[1], RequestRefused) and isinstance(events[1].error, ReplayError)
    pair.client.get(ENERGY)
    with pytest.raises(ServiceError, match="expects invocation counter") as refused:
        pair.client.receive_apdu(events[0].apdu)
    # the error names the service and the object of the request it ended
    assert "get class 3 1.0.1.8.0.255 attribute 2 refused" in str(refused.value)
    # the association stays up
    assert pair.server.state is State.ASSOCIATED
    assert isinstance(pair.exchange(pair.client.get(ENERGY))[0], GetResult)


def test_wrong_key_is_a_tag_failure_both_ways():
    from session_helpers import AK, SERVER_TITLE

    from dlmsfast.security import SecurityContext

    pair = Pair("none", "authenc")
    pair.associate()
    pair.server_context.block_cipher_key = bytes(16)
    events = pair.server.receive_apdu(pair.client.get(ENERGY))
    assert ExceptionResponse.from_bytes(events[0].apdu).service_error.blue_book_name == (
        "deciphering-error")
    assert isinstance(events[1].error, TagError)
    # an answer made with another key (same title, a fresh counter) fails its tag
    impostor = SecurityContext(system_title=SERVER_TITLE, block_cipher_key=bytes(16),
                               authentication_key=AK, invocation_counter=1000)
    answer = impostor.encrypt(bytes.fromhex("C401C1000600000001"), form="general-glo")
    with pytest.raises(TagError, match="tag"):
        pair.client.receive_apdu(answer)
    assert pair.client.pending_invoke_ids == (1,)


def test_unprotected_request_in_ciphered_association_is_refused():
    pair = Pair("none", "authenc")
    pair.associate()
    plain = Pair("none")
    plain.associate()
    events = pair.server.receive_apdu(plain.client.get(ENERGY))
    assert isinstance(events[1].error, PolicyError)


def test_less_protection_than_the_policy_is_refused():
    pair = Pair("none", "authenc")
    pair.associate()
    weaker = pair.server_context.encrypt(
        bytes.fromhex("C401C1000600000001"), security_control=0x10)
    with pytest.raises(PolicyError):
        pair.client.receive_apdu(weaker)


# --- malformed input -----------------------------------------------------------------

@pytest.mark.parametrize("security", ["none", "authenc"])
def test_truncated_and_padded_answers_raise_and_leave_the_session_usable(security):
    pair = Pair("hls-gmac", security)
    pair.associate()
    answer = pair.serve(pair.client.get(ENERGY))[0]
    for end in range(len(answer)):
        with pytest.raises(DlmsError) as raised:
            pair.client.receive_apdu(answer[:end])
        assert not isinstance(raised.value, LocalProtocolError)
    with pytest.raises(DlmsError):
        pair.client.receive_apdu(answer + b"\x00")
    (result,) = pair.client.receive_apdu(answer)
    assert result.value == Data(DataType.DOUBLE_LONG_UNSIGNED, 1960)


def test_server_answers_every_truncated_request_without_raising():
    pair = Pair("hls-gmac", "authenc")
    requests = []
    aarq = pair.client.associate()
    requests.append(aarq)
    for end in range(1, len(aarq)):
        events = pair.server.receive_apdu(aarq[:end])
        assert isinstance(events[0], NeedToSend)
    pair = Pair("hls-gmac", "authenc")
    pair.associate()
    for request in (pair.client.get(PROFILE), pair.client.release()):
        for end in range(1, len(request)):
            events = pair.server.receive_apdu(request[:end])
            assert isinstance(events[0], NeedToSend) and isinstance(events[-1], (RequestRefused,))
        assert pair.server.state is State.ASSOCIATED
    with pytest.raises(DecodeError):
        pair.server.receive_apdu(b"")


def test_unknown_apdu_tag():
    pair = Pair("none")
    pair.associate()
    with pytest.raises(ProtocolError):
        pair.client.receive_apdu(b"\xC0\x01\xC1")
    events = pair.server.receive_apdu(b"\x99\x00")
    assert ExceptionResponse.from_bytes(events[0].apdu).state_error.blue_book_name == (
        "service-unknown")


def test_abort_returns_both_roles_to_idle():
    pair = Pair("none")
    pair.associate()
    pair.client.abort()
    pair.server.abort()
    assert pair.client.state is State.IDLE and pair.server.state is State.IDLE
    assert isinstance(pair.associate()[0], Associated)


def test_sixteen_outstanding_requests_at_most():
    pair = Pair("none")
    pair.associate()
    for _ in range(16):
        pair.client.get(ENERGY)
    with pytest.raises(LocalProtocolError):
        pair.client.get(ENERGY)


def test_descriptor_given_as_a_tuple():
    pair = Pair("none")
    pair.associate()
    (result,) = pair.exchange(pair.client.get((3, "1.0.1.8.0.255", 2)))
    assert result.descriptor == CosemAttributeDescriptor(3, "1.0.1.8.0.255", 2)


@pytest.mark.parametrize("mechanism, security", [("hls-gmac", "authenc"), ("hls-md5", "none"),
                                                 ("hls-sha256", "auth")])
def test_short_name_hls_pass3_through_association_sn(mechanism, security):
    pair = Pair(mechanism, security, logical_name_referencing=False, server_logical_name=False)
    (associated,) = pair.associate()
    assert associated.vaa_name == 0xFA00
    pass3 = pair.to_server[1]
    if security == "none":
        # ReadRequest, parameterized access to 0xFA58 (method 8 of Association SN)
        assert pass3[:6] == bytes.fromhex("050104FA5800")
    (result,) = pair.exchange(pair.client.read(0x0100))
    assert result.values == (Data(DataType.LONG_UNSIGNED, 2301),)


def test_short_name_hls_wrong_secret():
    pair = Pair("hls-sha1", logical_name_referencing=False, server_logical_name=False,
                server_password=b"other")
    from dlmsfast.errors import AuthenticationError
    with pytest.raises(AuthenticationError, match="refused"):
        pair.associate()
    assert pair.server.state is State.IDLE


# --- untrusted bytes ---------------------------------------------------------------
_TAGS = [0x61, 0x63, 0xC4, 0xC5, 0xC7, 0x0C, 0x0D, 0xD8, 0x0E, 0x0F, 0xC2, 0xE0, 0x60, 0x62,
         0xC0, 0xC1, 0xC3, 0x05, 0x06, 0xDB, 0xC8, 0xCC]


@pytest.mark.parametrize("security", ["none", "authenc"])
@settings(max_examples=300, deadline=None)
@given(tag=st.sampled_from(_TAGS), body=st.binary(max_size=40))
def test_random_apdus_raise_only_dlms_errors(security, tag, body):
    pair = Pair("none", security)
    pair.associate()
    pair.client.get(ENERGY)
    data = bytes((tag,)) + body
    try:
        pair.client.receive_apdu(data)
    except DlmsError:
        pass
    events = pair.server.receive_apdu(data)
    assert all(not isinstance(e, Exception) for e in events)


@pytest.mark.parametrize("flip", [0x01, 0x80, 0xFF])
def test_flipped_octets_in_answers_raise_only_dlms_errors(flip):
    template = Pair("lls", server_pdu=300)
    answers = [template.serve(template.client.associate())[0]]
    template.client.receive_apdu(answers[0])
    answers.append(template.serve(template.client.get_with_list([ENERGY, PROFILE]))[0])
    for index, answer in enumerate(answers):
        for position in range(len(answer)):
            pair = Pair("lls", server_pdu=300)
            if index:
                pair.associate()
                pair.client.get_with_list([ENERGY, PROFILE])
            else:
                pair.client.associate()
            broken = answer[:position] + bytes((answer[position] ^ flip,)) + answer[position + 1:]
            try:
                pair.client.receive_apdu(broken)
            except DlmsError as exc:
                assert not isinstance(exc, LocalProtocolError)


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_server_sends_long_answers_in_gbt_when_granted(security):
    from dlmsfast.apdu import Conformance
    from dlmsfast.session import DEFAULT_CONFORMANCE

    with_gbt = DEFAULT_CONFORMANCE | Conformance.GENERAL_BLOCK_TRANSFER
    pair = Pair("none", security, server_pdu=512, server_conformance=with_gbt,
                proposed_conformance=with_gbt)
    (associated,) = pair.associate()
    assert associated.conformance & Conformance.GENERAL_BLOCK_TRANSFER
    before_client, before_server = len(pair.to_client), len(pair.to_server)
    (result,) = pair.exchange(pair.client.get(PROFILE))
    assert result.value == profile_rows()
    blocks = [GeneralBlockTransfer.from_bytes(b) for b in pair.to_client[before_client:]]
    assert len(blocks) > 3 and all(len(b) <= 512 for b in pair.to_client[before_client:])
    assert [b.block_number for b in blocks] == list(range(1, len(blocks) + 1))
    assert [b.last_block for b in blocks] == [False] * (len(blocks) - 1) + [True]
    acks = [GeneralBlockTransfer.from_bytes(a) for a in pair.to_server[before_server + 1:]]
    assert [a.block_number_ack for a in acks] == list(range(1, len(blocks)))
    # short answers stay whole
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert pair.to_client[-1][0] != 0xE0


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_server_pushes_a_data_notification(security):
    pair = Pair("none", security)
    with pytest.raises(LocalProtocolError):
        pair.server.data_notification(Data(DataType.UNSIGNED, 1))
    pair.associate()
    body = Data(DataType.STRUCTURE, (Data(DataType.DOUBLE_LONG_UNSIGNED, 1960),))
    push = pair.server.data_notification(body, long_invoke_id=9, date_time=bytes(12))
    assert push[0] == (0xDB if security == "authenc" else 0x0F)
    (event,) = pair.client.receive_apdu(push)
    assert event == DataNotificationReceived(9, bytes(12), body)


def test_the_state_table():
    from dlmsfast.session import TRANSITIONS, Role, State, Trigger
    from dlmsfast.session._state import next_state

    for role in Role:
        reachable, frontier = {State.IDLE}, [State.IDLE]
        while frontier:
            state = frontier.pop()
            for (r, s, _), after in TRANSITIONS.items():
                if r is role and s is state and after not in reachable:
                    reachable.add(after)
                    frontier.append(after)
        expected = set(State) - ({State.AARQ_SENT, State.RELEASE_SENT}
                                 if role is Role.SERVER else set())
        assert reachable == expected
    with pytest.raises(LocalProtocolError, match="cannot send RLRQ"):
        next_state(Role.CLIENT, State.IDLE, Trigger.SEND_RLRQ)
    with pytest.raises(LocalProtocolError):
        next_state(Role.SERVER, State.IDLE, Trigger.SEND_AARQ)


def test_secrets_stay_out_of_reprs_and_errors():
    from session_helpers import AK, EK, PASSWORD, client_settings

    from dlmsfast.errors import AuthenticationError

    settings = client_settings("lls", "authenc")
    text = repr(settings)
    for secret in (PASSWORD, EK, AK):
        assert secret.hex() not in text.lower() and repr(secret) not in text
    pair = Pair("lls", server_password=b"other")
    with pytest.raises(AuthenticationError) as failed:
        pair.associate()
    assert PASSWORD.decode() not in str(failed.value) and "other" not in str(failed.value)
    events = " ".join(repr(e) for e in pair.server_events)
    assert PASSWORD.decode() not in events


def test_aarq_answered_by_an_error_report_is_a_rejection():
    from dlmsfast.errors import AssociationRejected

    for answer in (bytes.fromhex("D80102"), bytes.fromhex("0E010601")):
        pair = Pair("none")
        pair.client.associate()
        with pytest.raises(AssociationRejected):
            pair.client.receive_apdu(answer)
        assert pair.client.state is State.IDLE


def test_settings_refuse_what_cannot_work():
    from dlmsfast.errors import ConfigurationError, UsageError
    from dlmsfast.session import AssociationSettings

    with pytest.raises(ConfigurationError):
        AssociationSettings(authentication="lls")  # no password
    with pytest.raises(ConfigurationError):
        AssociationSettings(authentication="hls-sha256", password=b"x")  # no title
    with pytest.raises(ConfigurationError):
        AssociationSettings(security="authenc").make_context()  # no keys
    with pytest.raises(ConfigurationError):
        AssociationSettings(authentication="hls-gmac").make_context()
    with pytest.raises(UsageError):
        AssociationSettings(authentication="hls-foo")
    with pytest.raises(UsageError):
        AssociationSettings(security="max")
    with pytest.raises(UsageError):
        AssociationSettings(ciphering="tls")


def test_ciphered_aare_without_the_meter_title_is_refused():
    from dlmsfast.apdu import AARE

    pair = Pair("none", "authenc")
    aare = AARE.from_bytes(pair.serve(pair.client.associate())[0])
    stripped = AARE(application_context_name=aare.application_context_name,
                    result=aare.result, result_source_diagnostic=aare.result_source_diagnostic,
                    user_information=aare.user_information)
    with pytest.raises(ProtocolError, match="responding-AP-title"):
        pair.client.receive_apdu(stripped.to_bytes())
    assert pair.client.state is State.IDLE


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_short_name_long_read_in_blocks(security):
    pair = Pair("lls", security, logical_name_referencing=False, server_logical_name=False,
                server_pdu=256)
    pair.associate()
    before = len(pair.to_client)
    (result,) = pair.exchange(pair.client.read(0x0208))
    assert result.values == (profile_rows(),)
    blocks = pair.to_client[before:]
    assert len(blocks) > 5 and all(len(b) <= 256 for b in blocks)
    if security == "none":
        assert all(b[:3] == b"\x0C\x01\x02" for b in blocks)
        assert pair.to_server[-1][:3] == bytes.fromhex("050105")


@pytest.mark.parametrize("wrong", [None, 12, "abc", 1.5, memoryview(b"abcdef")[::2]])
def test_wrong_argument_types_are_usage_errors(wrong):
    from dlmsfast.errors import UsageError
    from dlmsfast.session import (
        AssociationSettings,
        AuthenticationPolicy,
        ClientAccess,
        ClientSession,
        ServerSession,
        ServerSettings,
    )

    pair = Pair("none")
    pair.associate()
    client = pair.client
    calls = [
        lambda: ClientSession(wrong),
        lambda: ServerSession(wrong, wrong),
        lambda: AuthenticationPolicy(wrong),
        lambda: AssociationSettings(client_max_receive_pdu_size=wrong),
        lambda: AssociationSettings(system_title=wrong),
        lambda: AssociationSettings(proposed_conformance=wrong),
        lambda: ServerSettings(max_receive_pdu_size=wrong),
        lambda: ClientAccess(client_address=wrong),
        lambda: client.get(wrong),
        lambda: client.get(ENERGY, wrong),
        lambda: client.get_with_list(wrong),
        lambda: client.set(ENERGY, wrong),
        lambda: client.action(wrong),
        lambda: client.read(wrong),
        lambda: client.receive_apdu(wrong),
        lambda: pair.server.receive_apdu(wrong),
        lambda: pair.server.respond_get(wrong, wrong),
    ]
    for call in calls:
        # some wrong values are right for some parameters (a strided memoryview is
        # still bytes): what must never come out is an exception outside DlmsError
        try:
            call()
        except DlmsError:
            pass
    with pytest.raises(UsageError):
        ClientSession(wrong)


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_flipped_octets_in_requests_never_make_the_server_raise(security):
    import dataclasses

    def pair() -> Pair:
        made = Pair("hls-md5", security, server_pdu=256, challenge=b"C" * 16)
        # fixed challenges: the same requests reach each fresh server in the same states
        made.server.settings = dataclasses.replace(made.server.settings,
                                                   challenge=lambda: b"S" * 16)
        return made

    template = pair()
    template.associate()
    template.exchange(template.client.get(PROFILE))
    template.exchange(template.client.release())
    requests = template.to_server  # AARQ, pass 3, GET, 2 x next, RLRQ
    for index, request in enumerate(requests):
        for position in range(0, len(request), 3):
            server = pair().server
            for earlier in requests[:index]:
                server.receive_apdu(earlier)
            assert server.state is (State.IDLE if index == 0 else State.HLS_PENDING
                                    if index == 1 else State.ASSOCIATED)
            broken = request[:position] + bytes((request[position] ^ 0x5A,)) + request[position + 1:]
            events = server.receive_apdu(broken)
            assert events and all(not isinstance(e, BaseException) for e in events)


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_server_sends_an_event_notification(security):
    pair = Pair("none", security)
    pair.associate()
    report = pair.server.event_notification(ENERGY, Data(DataType.DOUBLE_LONG_UNSIGNED, 7))
    assert report[0] == (0xDB if security == "authenc" else 0xC2)
    (event,) = pair.client.receive_apdu(report)
    assert event == EventNotificationReceived(None, ENERGY, Data(DataType.DOUBLE_LONG_UNSIGNED, 7))


def test_security_suite_2_with_256_bit_keys():
    from session_helpers import CLIENT_TITLE, SERVER_TITLE

    from dlmsfast.security import SecurityContext, parse_ciphered
    from dlmsfast.session import AssociationSettings, AuthenticationPolicy, ClientAccess

    ek, ak = bytes(range(32)), bytes(range(100, 132))
    context = SecurityContext(system_title=SERVER_TITLE, block_cipher_key=ek,
                              authentication_key=ak, security_suite=2, invocation_counter=1)
    policy = AuthenticationPolicy([ClientAccess(client_address=1, authentication="hls-gmac",
                                                security_context=context)])
    settings = AssociationSettings(authentication="hls-gmac", security="authenc",
                                   system_title=CLIENT_TITLE, block_cipher_key=ek,
                                   authentication_key=ak, security_suite=2)
    pair = Pair(client=settings, policy=policy)
    pair.associate()
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert result.value == Data(DataType.DOUBLE_LONG_UNSIGNED, 1960)
    assert parse_ciphered(pair.to_server[-1]).security_control.value == 0x32
    assert parse_ciphered(pair.to_client[-1]).security_control.value == 0x32


def test_too_small_client_pdu_is_refused_with_its_initiate_error():
    from dlmsfast.errors import AssociationRejected

    pair = Pair("none", client_max_receive_pdu_size=32)
    with pytest.raises(AssociationRejected, match="pdu-size-too-short"):
        pair.associate()


def test_old_dlms_version_is_refused():
    from dlmsfast.apdu import AARQ, Conformance, InitiateRequest
    from dlmsfast.errors import AssociationRejected
    from dlmsfast.session import AssociationRefused

    pair = Pair("none")
    aarq = AARQ(user_information=InitiateRequest(
        proposed_conformance=Conformance.GET, proposed_dlms_version_number=5).to_bytes())
    events = pair.server.receive_apdu(aarq.to_bytes())
    assert isinstance(events[1], AssociationRefused) and "version" in events[1].reason
    pair.client.associate()
    with pytest.raises(AssociationRejected, match="dlms-version-too-low"):
        pair.client.receive_apdu(events[0].apdu)
