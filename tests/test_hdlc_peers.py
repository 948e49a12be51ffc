"""Differential tests: dlmsfast HDLC frames against gurux-dlms and dlms-cosem, both ways.

gurux-dlms parses frames in ``GXDLMS.getHdlcData`` (the translator's path: a
``data.xml`` structure switches off its sequence-number check) and builds them
in ``GXDLMS.getHdlcFrame`` and the client's request methods. dlms-cosem has one
class per frame kind in ``dlms_cosem.hdlc.frames``. The peers' limits decide
what each test draws, see the comments at each strategy.
"""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlmsfast.hdlc import (
    FrameKind,
    HdlcAddress,
    HdlcControl,
    HdlcFrame,
    HdlcParameters,
    HdlcStreamSplitter,
    fcs16,
    frame_parameters,
    split_llc,
)


from dlms_cosem.crc import CRCCCITT  # noqa: E402
from dlms_cosem.hdlc import address as cosem_address  # noqa: E402
from dlms_cosem.hdlc import frames as cosem_frames  # noqa: E402
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData  # noqa: E402
from gurux_dlms._GXFCS16 import _GXFCS16  # noqa: E402
from gurux_dlms.enums import Authentication, InterfaceType, RequestTypes, TranslatorOutputType  # noqa: E402
from gurux_dlms.GXDLMS import GXDLMS  # noqa: E402
from gurux_dlms.GXDLMSSettings import GXDLMSSettings  # noqa: E402
from gurux_dlms.GXDLMSTranslatorStructure import GXDLMSTranslatorStructure  # noqa: E402
from gurux_dlms.objects import GXDLMSClock  # noqa: E402


def gurux_address_value(address: HdlcAddress) -> int:
    """gurux-dlms keeps an address as one int: upper, upper<<7|lower or upper<<14|lower."""
    if address.size == 1:
        return address.upper
    return (address.upper << (7 if address.size == 2 else 14)) | address.lower


def gurux_parse(raw: bytes):
    """(control, destination, source, segmented, information without LLC) as gurux reads them."""
    settings_ = GXDLMSSettings(True, None)
    settings_.interfaceType = InterfaceType.HDLC
    reply = GXByteBuffer(raw)
    data = GXReplyData()
    data.xml = GXDLMSTranslatorStructure(TranslatorOutputType.SIMPLE_XML, True, True, False, False, None)
    control = GXDLMS.getHdlcData(True, settings_, reply, data, None)
    information = bytes(reply._data[reply.position : data.packetLength]) if data.packetLength > reply.position else b""
    segmented = bool(data.moreData & RequestTypes.FRAME)
    return control, settings_.serverAddress, settings_.clientAddress, segmented, information


# --------------------------------------------------------------------------- CRC


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_crc_against_both_peers(data):
    value = fcs16(data)
    # gurux returns the value byte-swapped, ready for its big-endian setUInt16.
    assert _GXFCS16.countFCS16(data, 0, len(data)) == int.from_bytes(value.to_bytes(2, "little"), "big")
    assert CRCCCITT().calculate_for(data) == value.to_bytes(2, "little")


# --------------------------------------------------------------------------- gurux-dlms

any_address = st.one_of(
    st.builds(HdlcAddress.client, st.integers(0, 0x7F)),
    st.builds(lambda u, l: HdlcAddress(u, l, 2), st.integers(0, 0x7F), st.integers(0, 0x7F)),
    st.builds(lambda u, l: HdlcAddress(u, l, 4), st.integers(0, 0x3FFF), st.integers(0, 0x3FFF)),
)
sequence = st.integers(0, 7)
# Frames that carry information in DLMS; gurux reads RR/RNR/DISC/DM without one.
with_information = st.one_of(
    st.builds(lambda ns, nr, pf: HdlcControl(FrameKind.I, ns, nr, pf), sequence, sequence, st.booleans()),
    st.just(HdlcControl(FrameKind.UI)),
)
without_information = st.one_of(
    st.builds(lambda nr: HdlcControl(FrameKind.RR, nr=nr), sequence),
    st.builds(lambda nr: HdlcControl(FrameKind.RNR, nr=nr), sequence),
    st.sampled_from([HdlcControl(k) for k in (FrameKind.SNRM, FrameKind.DISC, FrameKind.UA, FrameKind.DM)]),
)
payloads = st.binary(min_size=1, max_size=400)


@settings(max_examples=300, deadline=None)
@given(any_address, any_address, st.one_of(
    st.tuples(with_information, payloads, st.booleans()),
    st.tuples(without_information, st.just(b""), st.just(False)),
))
def test_dlmsfast_frames_parse_in_gurux(destination, source, body):
    control, information, segmented = body
    frame = HdlcFrame(destination, source, control, information, segmented)
    got_control, got_destination, got_source, got_segmented, got_information = gurux_parse(frame.to_bytes())
    assert got_control == int(control)
    assert got_destination == gurux_address_value(destination)
    assert got_source == gurux_address_value(source)
    assert got_segmented == segmented
    # gurux strips the LLC header (either direction) from I and UI frames.
    assert got_information == split_llc(information)[1]


def test_dlmsfast_snrm_parameters_parse_in_gurux():
    params = HdlcParameters(256, 512, 7, 3)
    frame = HdlcFrame(HdlcAddress.client(16), HdlcAddress.server(1, 17), FrameKind.UA, params.to_bytes())
    client = GXDLMSClient(True, 16, 1, Authentication.NONE, None, InterfaceType.HDLC)
    # The client reads the UA as the reply to its own SNRM.
    client.snrmRequest()
    client.parseUAResponse(GXByteBuffer(gurux_parse(frame.to_bytes())[4]))
    hdlc = client.settings.hdlc
    # The meter's transmit side is the client's receive side.
    assert (hdlc.maxInfoRX, hdlc.maxInfoTX, hdlc.windowSizeRX, hdlc.windowSizeTX) == (256, 512, 7, 3)


def _gurux_frame(client_address, server_value, server_size, control, information, max_info):
    settings_ = GXDLMSSettings(False, None)
    settings_.interfaceType = InterfaceType.HDLC
    settings_.clientAddress = client_address
    settings_.serverAddress = server_value
    settings_.serverAddressSize = server_size
    settings_.hdlc.maxInfoTX = max_info
    data = GXByteBuffer(information) if information else None
    return bytes(GXDLMS.getHdlcFrame(settings_, control, data))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 0x7F),
    st.one_of(
        st.tuples(st.integers(0, 0x7F), st.just(None), st.just(1)),
        st.tuples(st.integers(0, 0x7F), st.integers(0, 0x7F), st.just(2)),
        st.tuples(st.integers(0, 0x3FFF), st.integers(0, 0x3FFF), st.just(4)),
    ),
    st.one_of(with_information, without_information),
    st.binary(max_size=300),
    st.integers(32, 300),
)
def test_gurux_frames_parse_in_dlmsfast(client_sap, server, control, information, max_info):
    # Control octet 0 asks gurux for "the next I-frame" of its own sequence.
    assume(int(control) != 0)
    upper, lower, size = server
    server_address = HdlcAddress(upper, lower, size)
    if control.kind not in (FrameKind.I, FrameKind.UI):
        information = b""
    raw = _gurux_frame(client_sap, gurux_address_value(server_address), size, int(control), information, max_info)
    frame = HdlcFrame.from_bytes(raw)
    # gurux writes the shortest octet count that holds the address value.
    assert gurux_address_value(frame.destination) == gurux_address_value(server_address)
    assert frame.source == HdlcAddress.client(client_sap)
    assert frame.control == control
    # gurux keeps 3 octets of its first frame for the LLC header the caller adds.
    room = max_info - 3
    assert frame.information == information[:room]
    assert frame.segmented == (len(information) > room)


def _gurux_client(server_address: int, size: int = 0) -> GXDLMSClient:
    client = GXDLMSClient(True, 16, server_address, Authentication.NONE, None, InterfaceType.HDLC)
    client.settings.serverAddressSize = size
    return client


@pytest.mark.parametrize(
    "server, expected",
    [
        (1, HdlcAddress.server(1)),
        (GXDLMSClient.getServerAddress(1, 17), HdlcAddress.server(1, 17)),
        (GXDLMSClient.getServerAddress(1, 17, 4), HdlcAddress.server(1, 17, 4)),
        (GXDLMSClient.getServerAddress(17, 5481), HdlcAddress.server(17, 5481)),
    ],
)
def test_gurux_client_requests_parse_in_dlmsfast(server, expected):
    client = _gurux_client(server, 4 if expected.size == 4 else 0)
    snrm = HdlcFrame.from_bytes(bytes(client.snrmRequest()))
    assert (snrm.destination, snrm.source, snrm.control.kind) == (expected, HdlcAddress.client(16), FrameKind.SNRM)
    assert frame_parameters(snrm) is None
    ua = HdlcFrame(HdlcAddress.client(16), expected, FrameKind.UA, HdlcParameters(128, 128, 1, 1).to_bytes())
    client.parseUAResponse(GXByteBuffer(ua.information))
    aarq = HdlcFrame.from_bytes(bytes(client.aarqRequest()[0]))
    assert aarq.control == HdlcControl(FrameKind.I, ns=0, nr=0)
    assert aarq.information[:4] == b"\xe6\xe6\x00\x60"
    get = HdlcFrame.from_bytes(bytes(client.read(GXDLMSClock("0.0.1.0.0.255"), 2)[0]))
    # gurux moves its own N(R) here without having read an AARE; only N(S) is checked.
    assert (get.control.kind, get.control.ns) == (FrameKind.I, 1)
    assert get.information[3:5] == b"\xc0\x01"
    rr = HdlcFrame.from_bytes(bytes(client.receiverReady(RequestTypes.FRAME)))
    assert rr.control.kind is FrameKind.RR
    disc = HdlcFrame.from_bytes(bytes(client.disconnectRequest()))
    assert (disc.destination, disc.control.kind, disc.information) == (expected, FrameKind.DISC, b"")
    splitter = HdlcStreamSplitter()
    stream = aarq.to_bytes() + get.to_bytes()[1:] + rr.to_bytes() + disc.to_bytes()
    assert splitter.feed(stream) == [aarq, get, rr, disc]


def test_gurux_snrm_with_parameters_parses_in_dlmsfast():
    client = _gurux_client(1)
    client.settings.hdlc.maxInfoTX = 512
    client.settings.hdlc.maxInfoRX = 256
    client.settings.hdlc.windowSizeRX = 7
    params = frame_parameters(HdlcFrame.from_bytes(bytes(client.snrmRequest())))
    # gurux writes only the values that differ from the defaults.
    assert params == HdlcParameters(
        max_info_field_length_transmit=512, max_info_field_length_receive=256, window_size_receive=7
    )


# --------------------------------------------------------------------------- dlms-cosem

# dlms-cosem drops zero address octets when it writes an address and treats a
# 1-octet address as a client, so only non-zero 7-bit parts survive a round trip.
cosem_part = st.integers(1, 0x7F)
cosem_server = st.one_of(
    st.builds(lambda u: HdlcAddress(u, None, 1), cosem_part),
    st.builds(lambda u, l: HdlcAddress(u, l, 2), cosem_part, cosem_part),
)
cosem_client = st.builds(HdlcAddress.client, cosem_part)


def _cosem_address(address: HdlcAddress, kind: str):
    return cosem_address.HdlcAddress(address.upper, address.lower, kind)


def _check_cosem_addresses(parsed, destination: HdlcAddress, source: HdlcAddress) -> None:
    for got, expected in ((parsed.destination_address, destination), (parsed.source_address, source)):
        assert got.logical_address == expected.upper
        assert got.physical_address == expected.lower


# dlms-cosem's parsers assume a direction: I, RR, UA and UI from the server
# (destination = client), DISC from the client.
@settings(max_examples=200, deadline=None)
@given(cosem_client, cosem_server, sequence, sequence, st.booleans(), payloads)
def test_dlmsfast_server_frames_parse_in_dlms_cosem(client, server, ns, nr, segmented, payload):
    i_frame = HdlcFrame(client, server, HdlcControl(FrameKind.I, ns=ns, nr=nr), payload, segmented)
    parsed = cosem_frames.InformationFrame.from_bytes(i_frame.to_bytes())
    _check_cosem_addresses(parsed, client, server)
    assert (parsed.send_sequence_number, parsed.receive_sequence_number) == (ns, nr)
    assert (parsed.payload, parsed.segmented, parsed.final) == (payload, segmented, True)

    rr = HdlcFrame(client, server, HdlcControl(FrameKind.RR, nr=nr))
    parsed = cosem_frames.ReceiveReadyFrame.from_bytes(rr.to_bytes())
    _check_cosem_addresses(parsed, client, server)
    assert parsed.receive_sequence_number == nr

    ua = HdlcFrame(client, server, FrameKind.UA, HdlcParameters(128, 128, 1, 1).to_bytes())
    parsed = cosem_frames.UnNumberedAcknowledgmentFrame.from_bytes(ua.to_bytes())
    _check_cosem_addresses(parsed, client, server)
    assert parsed.payload == ua.information

    ui = HdlcFrame(client, server, FrameKind.UI, payload)
    parsed = cosem_frames.UnnumberedInformationFrame.from_bytes(ui.to_bytes())
    _check_cosem_addresses(parsed, client, server)
    assert parsed.payload == payload

    disc = HdlcFrame(server, client, FrameKind.DISC)
    parsed = cosem_frames.DisconnectFrame.from_bytes(disc.to_bytes())
    _check_cosem_addresses(parsed, server, client)


@settings(max_examples=200, deadline=None)
@given(cosem_client, cosem_server, sequence, sequence, st.booleans(), st.booleans(), payloads)
def test_dlms_cosem_frames_parse_in_dlmsfast(client, server, ns, nr, segmented, final, payload):
    dst, src = _cosem_address(server, "server"), _cosem_address(client, "client")
    built = [
        (cosem_frames.InformationFrame(dst, src, payload, segmented, final, ns, nr),
         HdlcFrame(server, client, HdlcControl(FrameKind.I, ns=ns, nr=nr, pf=final), payload, segmented)),
        (cosem_frames.SetNormalResponseModeFrame(dst, src),
         HdlcFrame(server, client, FrameKind.SNRM)),
        (cosem_frames.DisconnectFrame(dst, src),
         HdlcFrame(server, client, FrameKind.DISC)),
        (cosem_frames.ReceiveReadyFrame(dst, src, receive_sequence_number=nr),
         HdlcFrame(server, client, HdlcControl(FrameKind.RR, nr=nr))),
        (cosem_frames.UnnumberedInformationFrame(_cosem_address(client, "client"),
                                                 _cosem_address(server, "server"), payload),
         HdlcFrame(client, server, FrameKind.UI, payload)),
    ]
    for peer_frame, expected in built:
        assert HdlcFrame.from_bytes(peer_frame.to_bytes()) == expected
