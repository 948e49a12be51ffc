"""Rules of the server role a meter keeps (sans-IO ServerSession, then the
simulator on loopback): an AARQ during an association, selective access an
attribute does not have, and a max receive PDU size of 0.

The evidence for each rule is in the comment above its tests; where gurux-dlms
(1.0.203, run as /work/shared/interop/gurux_meter.py) does otherwise, the
standard wins."""
from __future__ import annotations

import asyncio
import struct

import pytest
from session_helpers import (
    AK,
    EK,
    ENERGY,
    PROFILE,
    PROFILE_ROWS,
    Pair,
    client_settings,
)

from dlmsfast.apdu import (
    AARE,
    AcseServiceUser,
    AssociationResult,
    CosemAttributeDescriptor,
    DataAccessResult,
    GetResponseNormal,
    InitiateResponse,
    SelectiveAccessDescriptor,
)
from dlmsfast.axdr import Data, DataType
from dlmsfast.client.requests import AsyncClient
from dlmsfast.cosem import selective_access_refused
from dlmsfast.errors import AssociationRejected, DataAccessError
from dlmsfast.hdlc.link import ApduReceived, Connected, HdlcLink
from dlmsfast.session import (
    Associated,
    AssociationRefused,
    AssociationSettings,
    ClientSession,
    GetListResult,
    GetRequested,
    GetResult,
    NeedToSend,
    Released,
    State,
)
from dlmsfast.session.client import NO_PDU_LIMIT
from dlmsfast.simulator import FleetConfig, MeterSimulator
from dlmsfast.simulator import data as sim_data
from dlmsfast.wrapper import WrapperFrame

OTHER_TITLE = bytes.fromhex("4F5448455200BEEF")
CLOCK_TIME = CosemAttributeDescriptor(8, "0.0.1.0.0.255", 2)
LOGICAL_DEVICE_NAME = CosemAttributeDescriptor(1, "0.0.42.0.0.255", 2)
OBJECT_LIST = CosemAttributeDescriptor(15, "0.0.40.0.0.255", 2)
ENTRY = SelectiveAccessDescriptor.entry_descriptor(1, 2)
SELECTOR_3 = SelectiveAccessDescriptor(3, Data(DataType.NULL_DATA, None))
SCOPE = DataAccessResult.SCOPE_OF_ACCESS_VIOLATED


def run(coroutine, timeout: float = 20.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def another_aarq(authentication="none", security="none") -> bytes:
    """An AARQ from a second client, sent on the association of the first: another
    system title (ciphered: its own invocation counter), a wrong LLS password."""
    if authentication == "lls":
        settings = client_settings("lls", security, password=b"wrong!!!")
    elif authentication == "hls-gmac" or security != "none":
        settings = AssociationSettings(authentication=authentication, security=security,
                                       system_title=OTHER_TITLE, block_cipher_key=EK,
                                       authentication_key=AK)
    else:
        settings = client_settings(authentication, security)
    return ClientSession(settings).associate()


# --- 1. An AARQ while an association is established --------------------------------
# The Green Book's control function (9.4.1, DLMS UA 1000-2 Ed. 8 "Partial state
# machine for the server side control function"): an AARQ is a COSEM-OPEN.indication
# in IDLE only; ASSOCIATED is left by COSEM-RELEASE (RLRQ) or COSEM-ABORT and by
# nothing else, and ISO 8650's ACPM has no AARQ event in its associated state. So a
# second AARQ neither replaces nor ends the association: the meter refuses it (AARE
# rejected-permanent, no-reason-given) and goes on serving the first. The same holds
# while HLS pass 3 is awaited (the AARE has gone out: the CF is past IDLE). An AARE
# answers an AARQ in ACSE; a meter in u9n/dlms-cosem issue #74 refused an AARQ over an
# unreleased association with an exception-response (service-not-allowed,
# operation-not-possible) instead, which dlmsfast's client takes as AssociationRejected
# too. gurux-dlms re-associates (GXDLMSServer.handleAarqRequest resets the wrapper
# association and answers AARE accepted; seen on gurux_meter.py): the standard wins.

@pytest.mark.parametrize("authentication, security", [("none", "none"), ("lls", "none"),
                                                       ("hls-gmac", "authenc")])
def test_an_aarq_during_an_association_is_refused_and_the_association_goes_on(
        authentication, security):
    pair = Pair(authentication, security)
    pair.associate()
    title = pair.server.peer_system_title
    counter = pair.server_context.peer_invocation_counter
    answer, refused = pair.server.receive_apdu(another_aarq(authentication, security))
    aare = AARE.from_bytes(answer.apdu)
    assert aare.result == AssociationResult.REJECTED_PERMANENT
    assert aare.result_source_diagnostic == AcseServiceUser.NO_REASON_GIVEN
    assert aare.user_information is None
    assert isinstance(refused, AssociationRefused)
    assert pair.server.state is State.ASSOCIATED
    # nothing of the second AARQ reached the running association
    assert pair.server.peer_system_title == title
    assert pair.server_context.peer_system_title in (None, title)
    assert pair.server_context.peer_invocation_counter == counter
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert isinstance(result, GetResult) and result.value == Data(DataType.DOUBLE_LONG_UNSIGNED,
                                                                  1960)


def test_the_refusal_reaches_the_second_client_as_association_rejected():
    pair = Pair()
    pair.associate()
    second = ClientSession(client_settings())
    (answer,) = pair.serve(second.associate())
    with pytest.raises(AssociationRejected, match="rejected-permanent"):
        second.receive_apdu(answer)
    assert second.state is State.IDLE and pair.server.state is State.ASSOCIATED


def test_an_aarq_while_hls_pass_3_is_awaited_is_refused_and_pass_3_still_completes():
    pair = Pair("hls-gmac", "authenc")
    (aare,) = pair.serve(pair.client.associate())
    assert pair.server.state is State.HLS_PENDING
    answer, refused = pair.server.receive_apdu(another_aarq("hls-gmac", "authenc"))
    assert AARE.from_bytes(answer.apdu).result == AssociationResult.REJECTED_PERMANENT
    assert isinstance(refused, AssociationRefused)
    assert pair.server.state is State.HLS_PENDING
    # the first client's pass 3 answers the challenge of the first AARE: still valid
    (pass3,) = pair.client.receive_apdu(aare)
    (associated,) = pair.exchange(pass3.apdu)
    assert isinstance(associated, Associated) and pair.server.state is State.ASSOCIATED


@pytest.mark.parametrize("authentication, security", [("none", "none"),
                                                       ("hls-gmac", "authenc")])
def test_a_client_re_associates_on_the_same_connection_after_releasing(authentication,
                                                                       security):
    pair = Pair(authentication, security)
    pair.associate()
    (released,) = pair.exchange(pair.client.release())
    assert isinstance(released, Released) and pair.server.state is State.RELEASED
    events = pair.associate()
    assert isinstance(events[-1], Associated) and pair.server.state is State.ASSOCIATED
    (result,) = pair.exchange(pair.client.get(ENERGY))
    assert result.value.value == 1960


class _WrapperLink:
    """A raw wrapper connection on loopback: one whole APDU out, one back."""

    def __init__(self, reader, writer, client: int = 16, server: int = 1) -> None:
        self.reader, self.writer = reader, writer
        self.client, self.server = client, server

    @classmethod
    async def open(cls, port: int) -> "_WrapperLink":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def exchange(self, apdu: bytes) -> bytes:
        self.writer.write(WrapperFrame(1, self.client, self.server, apdu).to_bytes())
        await self.writer.drain()
        header = await self.reader.readexactly(8)
        return await self.reader.readexactly(struct.unpack(">HHHH", header)[3])

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def test_the_simulator_refuses_a_second_aarq_and_re_associates_after_a_release():
    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0)) as sim:
            link = await _WrapperLink.open(sim.port_of[0])
            client = ClientSession(AssociationSettings())
            (associated,) = client.receive_apdu(await link.exchange(client.associate()))
            second = await link.exchange(ClientSession(AssociationSettings()).associate())
            (name,) = client.receive_apdu(await link.exchange(client.get(LOGICAL_DEVICE_NAME)))
            (released,) = client.receive_apdu(await link.exchange(client.release()))
            again = client.receive_apdu(await link.exchange(client.associate()))
            (name_again,) = client.receive_apdu(
                await link.exchange(client.get(LOGICAL_DEVICE_NAME)))
            await link.close()
            return associated, AARE.from_bytes(second), name, released, again, name_again

    associated, second, name, released, again, name_again = run(scenario())
    assert isinstance(associated, Associated)
    assert second.result == AssociationResult.REJECTED_PERMANENT
    assert name.value.value == name_again.value.value == sim_data.logical_device_name(0)
    assert isinstance(released, Released) and isinstance(again[-1], Associated)


class _HdlcLinkOnLoopback:
    """A raw HDLC client link over TCP on loopback (SNRM whenever asked)."""

    def __init__(self, reader, writer) -> None:
        self.reader, self.writer = reader, writer
        self.link = HdlcLink(role="client", client_address=16, server_address=1)

    async def until(self, kind):
        while True:
            for event in self.link.events():
                if isinstance(event, kind):
                    self.writer.write(self.link.data_to_send())
                    return event
            self.writer.write(self.link.data_to_send())
            self.link.receive_data(await self.reader.read(4096))

    async def snrm(self) -> None:
        self.writer.write(self.link.connect())
        await self.until(Connected)

    async def exchange(self, apdu: bytes) -> bytes:
        self.writer.write(self.link.send_apdu(apdu))
        return (await self.until(ApduReceived)).apdu


def test_an_snrm_over_a_link_that_is_up_opens_a_new_association():
    # An SNRM resets the data link (IEC 62056-46): a new supporting connection, and
    # the association, which lives no longer than its link, goes with the old one
    # (gurux-dlms resets its server on SNRM too). So the AARQ after it is no AARQ
    # during an association, though no DISC came between.
    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0, framing="hdlc")) as sim:
            link = _HdlcLinkOnLoopback(*await asyncio.open_connection("127.0.0.1",
                                                                      sim.port_of[0]))
            results = []
            for _ in range(2):
                await link.snrm()
                results.append(AARE.from_bytes(await link.exchange(
                    ClientSession(AssociationSettings()).associate())).result)
            # and without an SNRM between, the second AARQ is refused
            results.append(AARE.from_bytes(await link.exchange(
                ClientSession(AssociationSettings()).associate())).result)
            link.writer.close()
            await link.writer.wait_closed()
            return results

    assert run(scenario()) == [AssociationResult.ACCEPTED, AssociationResult.ACCEPTED,
                               AssociationResult.REJECTED_PERMANENT]


# --- 2. Selective access an attribute does not have ---------------------------------
# The Blue Book defines selective access per attribute: Profile Generic's buffer
# (range_descriptor 1, entry_descriptor 2), the object_list of Association LN and SN
# (optional; which selectors a meter serves it lists in its object_list's
# access_selectors). Any other attribute has none, and a Profile Generic buffer no
# selector 3. What the meter answers is scope-of-access-violated (13), the
# data-access-result for an access outside what the attribute allows: the server of
# jDLMS (OpenMUC, AttributeAccessor.setSelectiveAcccessDescription) answers so to a
# selective access on an attribute without access selectors. gurux-dlms answers the
# plain value (its GET handler passes the selector to objects that ignore it; seen on
# gurux_meter.py for the clock, a Data object, and selector 3 on the load profile):
# the client then takes all rows for the few it asked for. The standard wins.

def _get_answer(pair: Pair, descriptor, selection) -> tuple[list, bytes]:
    """The server's events for a get-request-normal, and the APDU it sends back."""
    events = pair.server.receive_apdu(pair.client.get(descriptor, selection))
    replies = [pair.meter.answer(pair.server, event) for event in events]
    return events, replies[-1]


@pytest.mark.parametrize("descriptor, selection", [
    (ENERGY, ENTRY),                 # a register's value: no selective access
    (CLOCK_TIME, ENTRY),             # the clock's time: none either
    (LOGICAL_DEVICE_NAME, ENTRY),
    (PROFILE, SELECTOR_3),           # the buffer: selectors 1 and 2 only
])
def test_a_selective_access_the_attribute_does_not_have_is_scope_of_access_violated(
        descriptor, selection):
    pair = Pair()
    pair.associate()
    events, reply = _get_answer(pair, descriptor, selection)
    # the session answers by itself: the application is not asked
    assert [type(e) for e in events] == [NeedToSend]
    assert GetResponseNormal.from_bytes(reply).result == SCOPE
    assert pair.meter.selections == []
    with pytest.raises(DataAccessError) as caught:
        pair.client.receive_apdu(reply)
    assert caught.value.result == SCOPE


def test_the_answer_is_ciphered_as_the_request_was():
    pair = Pair("hls-gmac", "authenc")
    pair.associate()
    events, reply = _get_answer(pair, ENERGY, ENTRY)
    assert [type(e) for e in events] == [NeedToSend] and reply[0] != 0xC4
    with pytest.raises(DataAccessError) as caught:
        pair.client.receive_apdu(reply)
    assert caught.value.result == SCOPE


@pytest.mark.parametrize("descriptor, selection", [
    (PROFILE, ENTRY),
    (PROFILE, SelectiveAccessDescriptor.entry_descriptor(90, 0)),
    (OBJECT_LIST, SELECTOR_3),       # optional in the Blue Book: the application decides
    (CosemAttributeDescriptor(8192, "0.128.1.0.0.255", 2), ENTRY),  # manufacturer class
    (CosemAttributeDescriptor(3, "1.0.1.8.0.255", -2), ENTRY),      # manufacturer attribute
])
def test_selective_access_the_blue_book_allows_reaches_the_application(descriptor, selection):
    pair = Pair()
    pair.associate()
    events = pair.server.receive_apdu(pair.client.get(descriptor, selection))
    assert [type(e) for e in events] == [GetRequested]
    assert events[0].access_selection == selection


def test_with_list_items_with_a_selective_access_they_lack_are_refused_alone():
    pair = Pair()
    pair.associate()
    (result,) = pair.exchange(pair.client.get_with_list([
        (ENERGY, ENTRY), ENERGY, (PROFILE, SELECTOR_3), (PROFILE, ENTRY)]))
    assert isinstance(result, GetListResult)
    refused, energy, buffer_refused, buffer = result.values
    assert isinstance(refused, DataAccessError) and refused.result == SCOPE
    assert isinstance(buffer_refused, DataAccessError) and buffer_refused.result == SCOPE
    assert energy.value == 1960
    # (the test meter answers with-list items without their selection: all rows)
    assert buffer == PROFILE_ROWS


def test_the_rule_follows_the_class_tables():
    assert selective_access_refused(3, 2, 1) and selective_access_refused(1, 2, 2)
    assert not selective_access_refused(7, 2, 1) and not selective_access_refused(7, 2, 2)
    assert selective_access_refused(7, 2, 3) and selective_access_refused(7, 3, 1)
    assert not selective_access_refused(12, 2, 4) and not selective_access_refused(15, 2, 9)
    assert selective_access_refused(15, 3, 1)
    # classes dlmsfast does not model, and manufacturer-specific ones, are the server's
    assert not selective_access_refused(9999, 2, 1) and not selective_access_refused(250, 2, 1)
    assert not selective_access_refused(3, -1, 1)


@pytest.mark.parametrize("referencing", ["ln", "sn"])
def test_the_simulator_answers_scope_of_access_violated(referencing):
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, referencing=referencing)
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), referencing=referencing, timeout=5) as meter:
                failures = []
                for class_id, obis, selection in ((8, "0.0.1.0.0.255", ENTRY),
                                                  (3, "1.0.1.8.0.255", ENTRY),
                                                  (7, "1.0.99.1.0.255", SELECTOR_3)):
                    with pytest.raises(DataAccessError) as caught:
                        await meter.get(class_id, obis, 2, selection)
                    failures.append(caught.value.result)
                rows = await meter.get(7, "1.0.99.1.0.255", 2,
                                       SelectiveAccessDescriptor.entry_descriptor(1, 3))
                return failures, rows

    failures, rows = run(scenario())
    assert failures == [SCOPE] * 3
    assert len(rows.value) == 3


# --- 3. A max receive PDU size of 0 --------------------------------------------------
# The Green Book (COSEM-OPEN, the xDLMS context's client-max-receive-pdu-size and
# server-max-receive-pdu-size) reserves the values below 12 and gives 0 the meaning
# "no limit" (quoted with a screenshot of the Green Book in Gurux/Gurux.DLMS.Net pull
# request #11, 2023-11-20, "HandleAarqRequest with ProposedMaxPduSize 0 fails"). jDLMS's
# server takes a client's 0 as 0xFFFF (AssociationMessenger.getMaxMessageLength), and
# Elster's DLMS library proposes 0 by default (ProposedXDlmsContext). So a meter must
# not refuse an AARQ proposing 0, and a client must not take an AARE granting 0 as
# "nothing fits". 1..11 stay refused: the server answers the AARE's
# confirmed-service-error initiateError, initiate pdu-size-too-short (it cannot
# honour them, nor anything below MIN_PDU_SIZE, 64, as gurux-dlms does too), and the
# client a ProtocolError (tests/test_hostile_meter.py). gurux-dlms refuses 0 like 1..63
# (pdu-size-too-short, seen on gurux_meter.py; its client too refuses an AARE below
# 64): the standard wins.

def _with_client_pdu(aarq: bytes, size: int) -> bytes:
    # a plain AARQ ends with its InitiateRequest, which ends with the PDU size
    return aarq[:-2] + size.to_bytes(2, "big")


def test_an_aarq_proposing_no_pdu_limit_is_accepted():
    pair = Pair(server_pdu=1024)
    (aare,) = pair.serve(_with_client_pdu(pair.client.associate(), 0))
    assert AARE.from_bytes(aare).result == AssociationResult.ACCEPTED
    associated = [e for e in pair.server_events if isinstance(e, Associated)]
    assert associated[0].peer_max_receive_pdu_size == 0
    # answers are cut to the server's own size then
    assert pair.server.max_pdu_size == 1024
    pair.client.receive_apdu(aare)
    (result,) = pair.exchange(pair.client.get(PROFILE))
    assert result.value == PROFILE_ROWS
    blocks = pair.to_client[1:]
    assert len(blocks) > 1 and max(len(apdu) for apdu in blocks) <= 1024


@pytest.mark.parametrize("size", [1, 11, 12, 63])
def test_an_aarq_proposing_a_pdu_size_the_server_cannot_honour_is_refused(size):
    pair = Pair()
    (aare,) = pair.serve(_with_client_pdu(pair.client.associate(), size))
    refused = AARE.from_bytes(aare)
    assert refused.result == AssociationResult.REJECTED_PERMANENT
    # confirmed-service-error initiateError [1], ServiceError initiate [6],
    # pdu-size-too-short (3): the octets gurux-dlms sends for it too
    assert refused.user_information == bytes((0x0E, 0x01, 0x06, 0x03))
    assert pair.server.state is State.IDLE


def test_an_aare_granting_no_pdu_limit_lets_the_client_send_any_size():
    pair = Pair()
    (aare,) = pair.serve(pair.client.associate())
    # the AARE ends with the InitiateResponse: ..., server PDU size (2), vaa-name (2)
    granted = aare[:-4] + b"\x00\x00" + aare[-2:]
    assert InitiateResponse.from_bytes(AARE.from_bytes(granted).user_information) \
        .server_max_receive_pdu_size == 0
    (associated,) = pair.client.receive_apdu(granted)
    assert associated.max_pdu_size == pair.client.max_pdu_size == NO_PDU_LIMIT
    assert pair.client.peer_max_receive_pdu_size == 0
    # a long SET goes whole, not refused for want of room nor cut into blocks
    value = Data(DataType.OCTET_STRING, bytes(2000))
    request = pair.client.set(ENERGY, value)
    assert request[:2] == b"\xC1\x01"
    events = pair.server.receive_apdu(request)
    assert events[0].value == value


def test_the_simulator_serves_a_client_proposing_no_pdu_limit():
    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0)) as sim:
            link = await _WrapperLink.open(sim.port_of[0])
            client = ClientSession(AssociationSettings())
            aare = await link.exchange(_with_client_pdu(client.associate(), 0))
            client.receive_apdu(aare)
            (name,) = client.receive_apdu(await link.exchange(client.get(LOGICAL_DEVICE_NAME)))
            await link.close()
            return AARE.from_bytes(aare), name

    aare, name = run(scenario())
    assert aare.result == AssociationResult.ACCEPTED
    assert name.value.value == sim_data.logical_device_name(0)

