"""The sans-IO HDLC link: a client link against a server link with no sockets.

The wire between them is a list of frames that a test may drop, repeat, cut at
any octet or follow with garbage; when nothing is in flight and the exchange is
not over, the client's timer "runs out" (``link.timeout()``), as the transport
would make it. gurux-dlms's own HDLC code is the independent oracle at the end.
"""
from __future__ import annotations

import math

import pytest

from dlmsfast.errors import DecodeError, LocalProtocolError, ProtocolError, UsageError
from dlmsfast.hdlc import (
    FrameKind,
    HdlcAddress,
    HdlcControl,
    HdlcFrame,
    HdlcParameters,
    HdlcStreamSplitter,
    with_llc,
)
from dlmsfast.hdlc._hdlc import HdlcLinkSplitter, address_key, build_frames
from dlmsfast.hdlc.link import (
    NEED_DATA,
    TRANSITIONS,
    ApduReceived,
    Connected,
    Disconnected,
    DisconnectedModeError,
    FrameRejectError,
    HdlcLink,
    LinkInput,
    LinkState,
    LinkTimeout,
    UnnumberedInformation,
)

CLIENT = HdlcAddress.client(16)
SERVER = HdlcAddress.server(1, 17)


def apdu_of(size: int, seed: int = 0) -> bytes:
    # 0xE6 0xE6 0x00 appears in it on purpose: a continuation segment may start with LLC-like octets.
    pattern = bytes((seed + i * 7) & 0xFF for i in range(251)) + b"\xe6\xe6\x00\xe6\xe7\x00"
    return (pattern * (size // len(pattern) + 1))[:size]


def frames_of(octets: bytes) -> list[bytes]:
    return [frame.to_bytes() for frame in HdlcStreamSplitter().feed(octets)]


class Wire:
    """Carries frames between two links; ``tamper(direction, index, frame)`` returns
    the frames actually delivered (``[]`` drops one, ``[f, f]`` repeats it)."""

    def __init__(self, client: HdlcLink, server: HdlcLink, tamper=None, chunk=None):
        self.client, self.server = client, server
        self.tamper = tamper
        self.chunk = chunk
        self.sent = {"client": 0, "server": 0}
        self.events = {"client": [], "server": []}
        self.timeouts = 0
        self.log = {"client": [], "server": []}

    def deliver(self, sender: str, octets: bytes) -> bytes:
        """Deliver ``octets`` from ``sender``; return what the receiver answers by itself."""
        receiver = self.server if sender == "client" else self.client
        delivered = []
        for frame in frames_of(octets):
            self.log[sender].append(frame)
            index = self.sent[sender]
            self.sent[sender] += 1
            delivered += self.tamper(sender, index, frame) if self.tamper else [frame]
        stream = b"".join(delivered)
        if self.chunk:
            for start in range(0, len(stream), self.chunk):
                receiver.receive_data(stream[start : start + self.chunk])
        else:
            receiver.receive_data(stream)
        self.events["server" if sender == "client" else "client"] += receiver.events()
        return receiver.data_to_send()

    def run(self, sender: str, octets: bytes, done, limit: int = 20000) -> None:
        """Ping-pong until ``done()``; when the line falls silent, the client times out."""
        for _ in range(limit):
            if done():
                return
            if not octets:
                self.timeouts += 1
                sender, octets = "client", self.client.timeout()
                if not octets:
                    raise AssertionError("the exchange stalled and the client gave up")
                continue
            octets = self.deliver(sender, octets)
            sender = "server" if sender == "client" else "client"
        raise AssertionError("the exchange did not finish")


def connected_pair(window: int = 1, info: int = 128, tamper=None, chunk=None, **server_kw):
    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(info, info, window, window))
    server = HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(2048, 2048, 7, 7), **server_kw)
    wire = Wire(client, server, tamper, chunk)
    wire.run("client", client.connect(), lambda: client.state is LinkState.IDLE)
    return client, server, wire


def exchange(client, server, wire, request: bytes, response: bytes) -> None:
    before = {side: len(events) for side, events in wire.events.items()}

    def server_has_request():
        return len(wire.events["server"]) > before["server"]

    wire.run("client", client.send_apdu(request), server_has_request)
    assert wire.events["server"][before["server"]:] == [ApduReceived(request)]

    def client_has_response():
        return len(wire.events["client"]) > before["client"]

    wire.run("server", server.send_apdu(response), client_has_response)
    assert wire.events["client"][before["client"]:] == [ApduReceived(response)]
    assert client.state is LinkState.IDLE


# --------------------------------------------------------------------------- negotiation


def test_snrm_ua_negotiation_both_views():
    client = HdlcLink("client", parameters=HdlcParameters(2048, 512, 7, 3))
    server = HdlcLink("server", parameters=HdlcParameters(1024, 1024, 4, 7))
    snrm = HdlcFrame.from_bytes(client.connect())
    assert snrm.control.kind is FrameKind.SNRM and snrm.destination == HdlcAddress.server(1)
    server.receive_data(snrm.to_bytes())
    # server: transmit = min(own 1024, client receive 512), receive = min(1024, client transmit 2048)
    expected_server = HdlcParameters(512, 1024, 3, 7)
    assert server.events() == [Connected(expected_server)]
    ua = server.data_to_send()
    assert HdlcFrame.from_bytes(ua).control.kind is FrameKind.UA
    client.receive_data(ua)
    assert client.events() == [Connected(HdlcParameters(1024, 512, 7, 3))]
    assert client.parameters == HdlcParameters(1024, 512, 7, 3)


def test_snrm_without_parameters_takes_the_defaults():
    client = HdlcLink("client")
    snrm = HdlcFrame.from_bytes(client.connect())
    assert snrm.information == b""
    server = HdlcLink("server", parameters=HdlcParameters(2048, 2048, 7, 7))
    server.receive_data(snrm.to_bytes())
    assert server.events() == [Connected(HdlcParameters(128, 128, 1, 1))]


def test_malformed_ua_parameters_are_a_decode_error():
    client = HdlcLink("client")
    client.connect()
    bad = HdlcFrame(CLIENT, HdlcAddress.server(1), FrameKind.UA, b"\x81\x80\x03\x05\x03\x01").to_bytes()
    client.receive_data(bad)
    with pytest.raises(DecodeError):
        client.next_event()
    assert client.state is LinkState.DISCONNECTED


def test_malformed_snrm_parameters_answered_frmr():
    server = HdlcLink("server")
    server.receive_data(HdlcFrame(HdlcAddress.server(1), CLIENT, FrameKind.SNRM, b"\x82\x80\x00").to_bytes())
    assert server.events() == []
    assert HdlcFrame.from_bytes(server.data_to_send()).control.kind is FrameKind.FRMR
    assert server.state is LinkState.FRAME_REJECT


# --------------------------------------------------------------------------- exchanges


SIZES = [1, 2, 28, 29, 30, 200, 2044, 2045, 2046, 5000, 65536]


@pytest.mark.parametrize("window", [1, 7])
@pytest.mark.parametrize("info", [32, 2048])
@pytest.mark.parametrize("size", SIZES)
def test_request_and_response_of_every_size(window, info, size):
    client, server, wire = connected_pair(window, info)
    request, response = apdu_of(size, 1), apdu_of(size + 3, 2)
    sent = dict(wire.sent)
    exchange(client, server, wire, request, response)
    # Every segment once (no retransmission on a clean line), LLC only in the first;
    # a frame holds at most 2047 octets, so 2048 negotiated octets carry 2037 with these addresses.
    segment = min(info, 2047 - 10)
    assert wire.sent["server"] - sent["server"] == math.ceil((len(response) + 3) / segment) + (
        math.ceil(math.ceil((len(request) + 3) / segment) / window) - 1
    )
    assert wire.timeouts == 0 and client.repeated_frames == server.repeated_frames == 0


@pytest.mark.parametrize("window", [1, 7])
def test_segments_fill_the_window_and_poll_on_the_last(window):
    client, server, wire = connected_pair(window, 32)
    octets = client.send_apdu(apdu_of(1000))
    frames = HdlcStreamSplitter().feed(octets)
    assert len(frames) == window
    assert [f.control.ns for f in frames] == list(range(window))
    assert [f.control.pf for f in frames] == [False] * (window - 1) + [True]
    assert all(f.segmented for f in frames)
    assert frames[0].information.startswith(b"\xe6\xe6\x00")
    assert all(len(f.information) == 32 for f in frames)
    assert client.state is LinkState.SENDING


def test_many_exchanges_wrap_the_sequence_numbers():
    client, server, wire = connected_pair(3, 32)
    for i in range(20):
        exchange(client, server, wire, apdu_of(i * 13 + 1, i), apdu_of(i * 17 + 5, i + 1))


# --------------------------------------------------------------------------- octets on the line


def tr(link_factory, stream: bytes):
    """h11's tr(): the events of ``stream`` fed whole, one octet at a time, cut at every
    octet and followed by garbage must all be the same."""
    def events_of(chunks):
        link = link_factory()
        events = []
        for chunk in chunks:
            link.receive_data(chunk)
            events += link.events()
        return events, link.data_to_send()

    whole = events_of([stream])
    assert events_of([bytes([b]) for b in stream]) == whole
    for cut in range(1, len(stream)):
        assert events_of([stream[:cut], stream[cut:]]) == whole
    garbage = b"\x7e\x00\xa0\x7e\xff garbage \xe6\xe6\x00"
    assert events_of([garbage + stream + garbage]) == whole
    assert events_of([stream + b"\x7e\x7e\x7e" + garbage]) == whole
    return whole


@pytest.mark.parametrize("window", [1, 7])
def test_server_stream_at_every_octet_boundary(window):
    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(32, 32, window, window))
    request = apdu_of(150)
    stream = client.connect()
    ua_parameters = HdlcParameters(32, 32, window, window)
    client.receive_data(HdlcFrame(CLIENT, SERVER, FrameKind.UA, ua_parameters.to_bytes()).to_bytes())
    client.events()
    stream += client.send_apdu(request)
    events, answer = tr(lambda: HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(32, 32, 7, 7)), stream)
    assert events[0] == Connected(HdlcParameters(32, 32, window, window))
    frames = HdlcStreamSplitter().feed(answer)
    assert frames[0].control.kind is FrameKind.UA
    if window == 7:
        assert events[1:] == [ApduReceived(request)]
    else:
        assert events[1:] == [] and frames[-1].control.kind is FrameKind.RR


def test_client_stream_at_every_octet_boundary():
    """A whole segmented response (window 7, LLC-like octets at a segment start)."""
    response = apdu_of(29) + b"\xe6\xe7\x00" + apdu_of(100)
    server = HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(32, 32, 7, 7))
    client_params = HdlcParameters(32, 32, 7, 7)
    server.receive_data(HdlcFrame(SERVER, CLIENT, FrameKind.SNRM, client_params.to_bytes()).to_bytes())
    server.receive_data(HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.I, ns=0, nr=0), with_llc(b"\xc0")).to_bytes())
    assert [type(e) for e in server.events()] == [Connected, ApduReceived]
    ua = server.data_to_send()
    stream = ua + server.send_apdu(response)

    def client_factory():
        client = HdlcLink("client", 16, 1, 17, parameters=client_params)
        client.connect()
        return client

    # The client is in CONNECTING: the I-frames after the UA find it IDLE, not awaiting.
    events, _ = tr(client_factory, ua)
    assert events == [Connected(client_params)]

    def awaiting_client():
        client = client_factory()
        client.receive_data(ua)
        client.events()
        client.send_apdu(b"\xc0")
        return client

    events, answer = tr(awaiting_client, stream[len(ua):])
    assert events == [ApduReceived(response)]
    assert answer == b""  # the final segment closes the exchange: nothing to poll


def test_bad_fcs_dropped_counted_and_recovered_by_timeout():
    def flip_fcs(direction, index, frame):
        if direction == "server" and index == 1:
            return [frame[:-3] + bytes([frame[-3] ^ 0xFF]) + frame[-2:]]
        return [frame]

    client, server, wire = connected_pair(1, 32, flip_fcs)
    exchange(client, server, wire, apdu_of(10), apdu_of(100))
    assert client.bad_frames == 1 and wire.timeouts == 1


# --------------------------------------------------------------------------- lost and repeated frames


def _count_frames(window, info, request, response):
    client, server, wire = connected_pair(window, info)
    start = dict(wire.sent)
    exchange(client, server, wire, request, response)
    return {side: wire.sent[side] - start[side] for side in start}, start


@pytest.mark.parametrize("window", [1, 7])
@pytest.mark.parametrize("direction", ["client", "server"])
@pytest.mark.parametrize("fault", ["lost", "repeated"])
def test_every_frame_lost_or_repeated(window, direction, fault):
    """Each frame of a two-way segmented exchange in turn is dropped (the timeout path,
    or the poll of a later frame, brings it back) or delivered twice (N(S) drops it)."""
    request, response = apdu_of(300, 3), apdu_of(400, 4)
    counts, start = _count_frames(window, 32, request, response)
    clean_total = sum(counts.values()) + sum(start.values())
    for victim in range(start[direction], start[direction] + counts[direction]):
        def tamper(sender, index, frame, victim=victim):
            if (sender, index) != (direction, victim):
                return [frame]
            return [] if fault == "lost" else [frame, frame]

        client, server, wire = connected_pair(window, 32, tamper)
        exchange(client, server, wire, request, response)
        if fault == "lost":
            assert sum(wire.sent.values()) > clean_total, victim
        elif HdlcFrame.from_bytes(wire.log[direction][victim]).control.kind is FrameKind.I:
            receiver = server if direction == "client" else client
            assert receiver.repeated_frames >= 1, victim
        # A fault costs a few frames, not a second exchange.
        assert sum(wire.sent.values()) <= clean_total + 2 * window + 2, (victim, wire.sent)


def test_lost_first_and_last_frames_with_trailing_garbage_in_chunks():
    def drop_some(sender, index, frame):
        return [] if index in (2, 5) else [frame + b"\x00\x7e junk"]

    client, server, wire = connected_pair(7, 32, drop_some, chunk=5)
    exchange(client, server, wire, apdu_of(1000, 7), apdu_of(3000, 8))


# --------------------------------------------------------------------------- timeouts


def test_timeout_retries_snrm_then_gives_up():
    client = HdlcLink("client", max_retries=2)
    snrm = client.connect()
    assert client.timeout() == snrm
    assert client.timeout() == snrm
    assert client.timeout() == b""
    assert client.events() == [LinkTimeout(2)]
    assert client.state is LinkState.DISCONNECTED


def test_timeout_polls_with_rr_while_awaiting():
    client, server, wire = connected_pair(1, 128)
    client.send_apdu(b"\xc0\x01")
    poll = HdlcFrame.from_bytes(client.timeout())
    assert poll.control == HdlcControl(FrameKind.RR, nr=0, pf=True)
    for _ in range(2):
        client.timeout()
    assert client.timeout() == b""
    assert client.events() == [LinkTimeout(3)]


def test_timeout_repeats_disc():
    client, server, wire = connected_pair()
    disc = client.disconnect()
    assert client.timeout() == disc
    assert HdlcFrame.from_bytes(disc).control.kind is FrameKind.DISC


def test_server_inactivity_timeout_drops_the_link():
    client, server, wire = connected_pair()
    assert server.timeout() == b""
    assert server.events() == [LinkTimeout(0)]
    assert server.state is LinkState.DISCONNECTED
    # The client's next request meets a disconnected server: DM, an error for the client.
    answer = wire.deliver("client", client.send_apdu(b"\xc0"))
    assert HdlcFrame.from_bytes(answer).control.kind is FrameKind.DM
    client.receive_data(answer)
    with pytest.raises(DisconnectedModeError):
        client.next_event()


# --------------------------------------------------------------------------- DISC, DM, FRMR


def test_disconnect_both_sides():
    client, server, wire = connected_pair()
    wire.run("client", client.disconnect(), lambda: client.state is LinkState.DISCONNECTED)
    assert wire.events["server"][-1] == Disconnected()
    assert wire.events["client"][-1] == Disconnected()
    assert server.state is LinkState.DISCONNECTED


def test_disc_to_a_disconnected_server_gets_dm_and_the_client_is_disconnected():
    client, server, wire = connected_pair()
    server.timeout()
    server.events()
    answer = wire.deliver("client", client.disconnect())
    assert HdlcFrame.from_bytes(answer).control.kind is FrameKind.DM
    client.receive_data(answer)
    assert client.events() == [Disconnected()]


def test_dm_in_answer_to_snrm_is_a_refusal():
    client = HdlcLink("client", 16, 1, 17)
    client.connect()
    client.receive_data(HdlcFrame(CLIENT, SERVER, FrameKind.DM).to_bytes())
    with pytest.raises(DisconnectedModeError, match="refused"):
        client.next_event()
    assert client.state is LinkState.DISCONNECTED


def test_information_too_long_is_rejected_with_frmr():
    client, server, wire = connected_pair(1, 32)
    server_params = server.parameters
    too_long = HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.I, ns=0, nr=0), with_llc(bytes(40)))
    server.receive_data(too_long.to_bytes())
    assert server.events() == []
    frmr = server.data_to_send()
    frame = HdlcFrame.from_bytes(frmr)
    assert frame.control.kind is FrameKind.FRMR
    assert frame.information == bytes((too_long.control.value, 0, 0x04))
    assert server.state is LinkState.FRAME_REJECT and server_params.max_info_field_length_receive == 32
    client.receive_data(frmr)
    with pytest.raises(FrameRejectError) as info:
        client.next_event()
    assert info.value.information == frame.information
    assert isinstance(info.value, ProtocolError)
    # In FRAME_REJECT the server repeats the FRMR to any poll, until SNRM clears it.
    server.receive_data(HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.RR, nr=0)).to_bytes())
    assert server.events() == []
    assert server.data_to_send() == frmr
    wire.run("client", client.connect(), lambda: client.state is LinkState.IDLE)
    exchange(client, server, wire, b"\xc0", b"\xc4")


def test_invalid_nr_is_rejected_with_frmr():
    client, server, wire = connected_pair()
    server.receive_data(HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.I, ns=0, nr=3), with_llc(b"\xc0")).to_bytes())
    assert server.events() == []
    frame = HdlcFrame.from_bytes(server.data_to_send())
    assert frame.control.kind is FrameKind.FRMR and frame.information[2] == 0x08


def test_apdu_longer_than_the_limit_is_rejected():
    client, server, wire = connected_pair(7, 32, max_apdu_length=100)
    octets = client.send_apdu(apdu_of(500))
    answer = wire.deliver("client", octets)
    frames = [HdlcFrame.from_bytes(f) for f in frames_of(answer)]
    assert frames and frames[-1].control.kind is FrameKind.FRMR
    assert wire.events["server"] == [Connected(server.parameters)]


def test_unexpected_i_frame_is_a_protocol_error_for_the_client():
    client, server, wire = connected_pair()
    client.receive_data(HdlcFrame(CLIENT, SERVER, HdlcControl(FrameKind.I, ns=0, nr=0), with_llc(b"\xc4", response=True)).to_bytes())
    with pytest.raises(ProtocolError, match="unexpected I-last"):
        client.next_event()


def test_first_segment_without_llc_is_rejected():
    client, server, wire = connected_pair()
    server.receive_data(HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.I, ns=0, nr=0), b"\xc0\x01").to_bytes())
    assert server.events() == []
    assert HdlcFrame.from_bytes(server.data_to_send()).control.kind is FrameKind.FRMR


def test_server_answers_dm_when_disconnected():
    server = HdlcLink("server", 16, 1, 17)
    server.receive_data(HdlcFrame(SERVER, CLIENT, HdlcControl(FrameKind.RR, nr=0)).to_bytes())
    server.receive_data(HdlcFrame(SERVER, CLIENT, FrameKind.DISC).to_bytes())
    assert server.events() == []
    assert [f.control.kind for f in HdlcStreamSplitter().feed(server.data_to_send())] == [FrameKind.DM] * 2


# --------------------------------------------------------------------------- UI, addresses


def test_ui_frames_are_delivered_in_any_state():
    server = HdlcLink("server", 16, 1, 17)
    client = HdlcLink("client", 16, 1, 17)
    push = server.send_ui(b"\x0f\x00\x00\x00\x01\x00\x09\x02\x12\x34")
    frame = HdlcFrame.from_bytes(push)
    assert frame.control.kind is FrameKind.UI and frame.information.startswith(b"\xe6\xe7\x00")
    client.receive_data(push)
    assert client.events() == [UnnumberedInformation(b"\x0f\x00\x00\x00\x01\x00\x09\x02\x12\x34")]


def test_segmented_ui_frames_are_joined():
    ui = HdlcControl(FrameKind.UI, pf=False)
    first = HdlcFrame(CLIENT, SERVER, ui, with_llc(b"\x0f" * 40, response=True), True)
    second = HdlcFrame(CLIENT, SERVER, ui, b"\xe6\xe7\x00tail", False)
    client = HdlcLink("client", 16, 1, 17)
    client.receive_data(first.to_bytes() + second.to_bytes())
    assert client.events() == [UnnumberedInformation(b"\x0f" * 40 + b"\xe6\xe7\x00tail")]


def test_ui_longer_than_a_frame_is_an_encode_error():
    with pytest.raises(UsageError):
        HdlcLink("server").send_ui(bytes(200))


@pytest.mark.parametrize(
    "stranger",
    [
        HdlcFrame(HdlcAddress.client(17), SERVER, FrameKind.UA, HdlcParameters(128, 128, 1, 1).to_bytes()),
        HdlcFrame(CLIENT, HdlcAddress.server(1, 18), FrameKind.UA, HdlcParameters(128, 128, 1, 1).to_bytes()),
        HdlcFrame(CLIENT, HdlcAddress.server(1, 17, 4), FrameKind.UA, HdlcParameters(128, 128, 1, 1).to_bytes()),
        HdlcFrame(CLIENT, HdlcAddress.server(2, 17), FrameKind.DM),
    ],
)
def test_frames_for_or_from_other_addresses_are_ignored(stranger):
    client = HdlcLink("client", 16, 1, 17)
    snrm = client.connect()
    client.receive_data(stranger.to_bytes())
    assert client.events() == [] and client.foreign_frames == 1
    assert client.state is LinkState.CONNECTING
    assert client.timeout() == snrm


@pytest.mark.parametrize(
    "physical, size, octets",
    [(None, None, 1), (None, 1, 1), (17, None, 2), (17, 2, 2), (17, 4, 4), (0x1234, None, 4)],
)
def test_server_address_forms(physical, size, octets):
    client = HdlcLink("client", 16, 3, physical, size)
    server = HdlcLink("server", 16, 3, physical, size)
    snrm = HdlcFrame.from_bytes(client.connect())
    assert snrm.destination.size == octets and snrm.destination.upper == 3
    server.receive_data(snrm.to_bytes())
    assert isinstance(server.events()[0], Connected)
    client.receive_data(server.data_to_send())
    assert isinstance(client.events()[0], Connected)


def test_server_without_client_address_serves_the_first_snrm():
    server = HdlcLink("server", None, 1, 17)
    client = HdlcLink("client", 1, 1, 17)
    wire = Wire(client, server)
    wire.run("client", client.connect(), lambda: client.state is LinkState.IDLE)
    assert server.client == HdlcAddress.client(1)
    exchange(client, server, wire, b"\xc0\x01", b"\xc4\x01")
    other = HdlcLink("client", 16, 1, 17)
    server.receive_data(other.connect())
    assert server.events() == [] and server.foreign_frames == 1
    wire.run("client", client.disconnect(), lambda: client.state is LinkState.DISCONNECTED)
    assert server.client is None


# --------------------------------------------------------------------------- misuse


def test_local_misuse():
    client = HdlcLink("client")
    with pytest.raises(LocalProtocolError):
        client.send_apdu(b"\xc0")
    with pytest.raises(LocalProtocolError):
        client.disconnect()
    server = HdlcLink("server")
    with pytest.raises(LocalProtocolError):
        server.connect()
    with pytest.raises(LocalProtocolError):
        server.send_apdu(b"\xc4")
    with pytest.raises(UsageError):
        HdlcLink("meter")
    with pytest.raises(UsageError):
        HdlcLink("client", None)
    with pytest.raises(UsageError):
        HdlcLink("client", 16, 1, None, 4)
    client, server, wire = connected_pair()
    client.send_apdu(b"\xc0")
    with pytest.raises(LocalProtocolError):
        client.send_apdu(b"\xc0")
    with pytest.raises(UsageError):
        client.send_apdu(5)


def test_next_event_returns_need_data_and_every_state_has_rules():
    assert HdlcLink("client").next_event() is NEED_DATA
    for role, table in TRANSITIONS.items():
        for state, rules in table.items():
            assert isinstance(state, LinkState) and all(isinstance(i, LinkInput) for i in rules)
    assert set(TRANSITIONS["server"]) >= {LinkState.DISCONNECTED, LinkState.FRAME_REJECT}


# --------------------------------------------------------------------------- the compiled batch path


def test_link_splitter_strips_llc_and_filters_destination():
    control = HdlcControl(FrameKind.I, ns=1, nr=2, pf=False)
    ours = HdlcFrame(CLIENT, SERVER, control, with_llc(b"abc", response=True), True).to_bytes()
    command = HdlcFrame(CLIENT, SERVER, FrameKind.UI, with_llc(b"x")).to_bytes()
    no_llc = HdlcFrame(CLIENT, SERVER, control, b"\xe6\xe6\x01").to_bytes()
    ua = HdlcFrame(CLIENT, SERVER, FrameKind.UA, b"\xe6\xe6\x00").to_bytes()
    theirs = HdlcFrame(HdlcAddress.client(1), SERVER, FrameKind.RR).to_bytes()
    stream = ours + theirs + command + no_llc + ua
    key = address_key(SERVER)
    expected = [
        (control.value, True, key, b"abc", 2),
        (0x13, False, key, b"x", 1),
        (control.value, False, key, b"\xe6\xe6\x01", 0),
        (0x73, False, key, b"\xe6\xe6\x00", 0),  # only I and UI frames carry an LLC
    ]
    splitter = HdlcLinkSplitter(CLIENT)
    assert splitter.feed(stream) == expected
    assert splitter.foreign_frames == 1 and splitter.frames == 5
    splitter = HdlcLinkSplitter(CLIENT)
    assert [t for i in range(len(stream)) for t in splitter.feed(stream[i : i + 1])] == expected
    assert address_key(SERVER) != address_key(HdlcAddress.server(1, 17, 4))


@pytest.mark.parametrize("source", [SERVER, HdlcAddress.server(1), HdlcAddress.server(300, 5000)])
def test_build_frames_equals_frame_objects(source):
    items = [
        (HdlcControl(FrameKind.I, ns=3, nr=5, pf=False).value, bytes(range(100)), True),
        (HdlcControl(FrameKind.I, ns=4, nr=5).value, bytearray(b"\xe6\xe7\x00x"), False),
        (HdlcControl(FrameKind.RR, nr=2).value, b"", False),
        (int(FrameKind.UA) | 0x10, memoryview(HdlcParameters(128, 128, 1, 1).to_bytes()), False),
    ]
    expected = b"".join(
        HdlcFrame(CLIENT, source, HdlcControl.from_byte(c), info, seg).to_bytes() for c, info, seg in items
    )
    assert build_frames(CLIENT, source, items) == expected
    assert build_frames(CLIENT, source, []) == b""


@pytest.mark.parametrize(
    "items, error",
    [
        ([(0x00, bytes(2040), False)], "11-bit"),
        ([(0x07, b"", False)], "control"),
        ([(256, b"", False)], "control"),
        ([("x", b"", False)], "control"),
        ([(0x00, 5, False)], "bytes-like"),
        ([(0x00, b"")], "tuples"),
    ],
)
def test_build_frames_misuse(items, error):
    with pytest.raises(UsageError, match=error):
        build_frames(CLIENT, SERVER, items)


# --------------------------------------------------------------------------- gurux-dlms as the oracle

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, RequestTypes
from gurux_dlms.GXDLMS import GXDLMS
from gurux_dlms.GXDLMSSettings import GXDLMSSettings


def _gurux_server_settings(max_info: int = 128) -> GXDLMSSettings:
    settings = GXDLMSSettings(True, None)
    settings.interfaceType = InterfaceType.HDLC
    settings.clientAddress = 16
    settings.serverAddress = GXDLMSClient.getServerAddress(1, 17)
    settings.hdlc.maxInfoTX = max_info
    settings.hdlc.maxInfoRX = max_info
    return settings


def _gurux_read(settings: GXDLMSSettings, octets: bytes):
    """(control, information after the HCS) as gurux's server side reads one frame."""
    reply, data = GXByteBuffer(octets), GXReplyData()
    control = GXDLMS.getHdlcData(True, settings, reply, data, None)
    return control, bytes(reply._data[reply.position : data.packetLength])


def test_our_snrm_parsed_by_gurux_and_its_parameters_taken():
    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(1024, 512, 7, 3))
    settings = _gurux_server_settings()
    control, information = _gurux_read(settings, client.connect())
    assert control & 0xEF == int(FrameKind.SNRM)
    GXDLMS.parseSnrmUaResponse(GXByteBuffer(information), settings.hdlc)
    # The server's transmit is the client's receive.
    assert (settings.hdlc.maxInfoTX, settings.hdlc.maxInfoRX) == (512, 1024)
    assert (settings.hdlc.windowSizeTX, settings.hdlc.windowSizeRX) == (3, 7)


def test_gurux_client_snrm_and_ua_against_our_links():
    """gurux's client SNRM into our server; our server's UA into gurux's client; gurux's
    own UA (built the way its server's handleSnrmRequest does) into our client."""
    gx = GXDLMSClient(True, 16, GXDLMSClient.getServerAddress(1, 17), Authentication.NONE, None, InterfaceType.HDLC)
    gx.hdlcSettings.maxInfoTX = 256
    gx.hdlcSettings.windowSizeRX = 4
    server = HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(2048, 2048, 7, 7))
    server.receive_data(bytes(gx.snrmRequest()))
    assert server.events() == [Connected(HdlcParameters(128, 256, 4, 1))]
    ua = server.data_to_send()
    settings = GXDLMSSettings(False, None)
    settings.interfaceType = InterfaceType.HDLC
    settings.clientAddress, settings.serverAddress = 16, GXDLMSClient.getServerAddress(1, 17)
    reply, data = GXByteBuffer(ua), GXReplyData()
    GXDLMS.getHdlcData(False, settings, reply, data, None)
    gx.parseUAResponse(GXByteBuffer(bytes(reply._data[reply.position : data.packetLength])))
    assert (gx.hdlcSettings.maxInfoTX, gx.hdlcSettings.maxInfoRX) == (256, 128)
    assert (gx.hdlcSettings.windowSizeTX, gx.hdlcSettings.windowSizeRX) == (1, 4)

    ua_info = GXByteBuffer()
    for byte in (0x81, 0x80, 0x00):
        ua_info.setUInt8(byte)
    for identifier, value in ((0x05, 300), (0x06, 200)):
        ua_info.setUInt8(identifier)
        GXDLMS.appendHdlcParameter(ua_info, value)
    for identifier, value in ((0x07, 2), (0x08, 5)):
        ua_info.setUInt8(identifier)
        ua_info.setUInt8(4)
        ua_info.setUInt32(value)
    ua_info.setUInt8(len(ua_info) - 3, 2)
    gurux_ua = bytes(GXDLMS.getHdlcFrame(_gurux_server_settings(), 0x73, ua_info))
    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(1024, 1024, 7, 7))
    client.connect()
    client.receive_data(gurux_ua)
    assert client.events() == [Connected(HdlcParameters(200, 300, 5, 2))]


@pytest.mark.parametrize("size", [1, 28, 29, 30, 200, 1000])
def test_segments_built_by_gurux_reassembled_by_us(size):
    """gurux's server framing (getHdlcFrame with its own N(S) sequence and segmentation
    bit, 32-octet information fields) answers our client; our RRs parse in gurux."""
    settings = _gurux_server_settings(32)
    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(32, 32, 1, 1))
    control, _ = _gurux_read(settings, client.connect())
    client.receive_data(HdlcFrame(CLIENT, SERVER, FrameKind.UA, HdlcParameters(32, 32, 1, 1).to_bytes()).to_bytes())
    assert isinstance(client.events()[0], Connected)
    control, information = _gurux_read(settings, client.send_apdu(b"\xc0\x01\xc1\x00\x08"))
    # gurux takes the LLC header off I-frames, so it found ours.
    assert control & 0x01 == 0 and information == b"\xc0\x01\xc1\x00\x08"
    response = apdu_of(size, 9)
    reply = GXByteBuffer(b"\xe6\xe7\x00" + response)
    frame_control = 0
    events = []
    frames = 0
    while reply.size:
        octets = bytes(GXDLMS.getHdlcFrame(settings, frame_control, reply))
        frames += 1
        client.receive_data(octets)
        events += client.events()
        rr = client.data_to_send()
        if reply.size:
            assert rr, "the client asks for the next segment"
            control, _ = _gurux_read(settings, rr)
            assert control & 0x0F == 0x01  # RR, read by gurux's own frame check
            frame_control = settings.getNextSend(False)
    assert events == [ApduReceived(response)]
    # gurux keeps 3 octets of every frame free for an LLC header (its server moves the data).
    assert frames == max(1, math.ceil((size + 3) / 29))


def test_gurux_client_reassembles_our_segments():
    """Our server's segments, window 1, read by gurux's client getData; its RR asks for more."""
    gx = GXDLMSClient(True, 16, GXDLMSClient.getServerAddress(1, 17), Authentication.NONE, None, InterfaceType.HDLC)
    gx.hdlcSettings.maxInfoTX = gx.hdlcSettings.maxInfoRX = 32
    server = HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(32, 32, 1, 1))
    server.receive_data(bytes(gx.snrmRequest()))
    server.events()
    ua = server.data_to_send()
    reply, data = GXByteBuffer(ua), GXReplyData()
    gx.getData(reply, data)
    gx.parseUAResponse(data.data)
    # With 32-octet fields gurux sends its AARQ in segments; our RR after each one goes
    # through its getData, which keeps its sequence numbers where ours are.
    events = []
    for frame in gx.aarqRequest():
        server.receive_data(bytes(frame))
        events += server.events()
        rr = server.data_to_send()
        if not events:
            assert HdlcFrame.from_bytes(rr).control.kind is FrameKind.RR
            gx.getData(GXByteBuffer(rr), GXReplyData())
    (event,) = events
    assert event.apdu[:1] == b"\x60"
    # gurux parses what it reassembles, so the response is a get-response-normal
    # with a 150-octet octet-string that spans five frames.
    payload = apdu_of(150, 3)
    octets = server.send_apdu(bytes([0xC4, 0x01, 0xC1, 0x00, 0x09, 0x81, len(payload)]) + payload)
    data = GXReplyData()
    frames = 0
    for _ in range(20):
        frames += 1
        gx.getData(GXByteBuffer(octets), data)
        if not data.isMoreData():
            break
        server.receive_data(bytes(gx.receiverReady(RequestTypes.FRAME)))
        assert server.events() == []
        octets = server.data_to_send()
    assert frames == 5 and bytes(data.value) == payload


# --------------------------------------------------------------------------- a lossy line


@pytest.mark.parametrize("seed", range(12))
def test_random_losses_and_repeats_never_stall(seed):
    """Frames lost and repeated at random (fixed seeds) in both directions over many
    exchanges: every APDU arrives once and whole, and nothing loops for ever."""
    import random

    rng = random.Random(seed)
    window, info = rng.randint(1, 7), rng.choice([32, 64, 128])

    def tamper(sender, index, frame):
        roll = rng.random()
        if roll < 0.08:
            return []
        if roll < 0.16:
            return [frame, frame]
        return [frame]

    client = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(info, info, window, window), max_retries=50)
    server = HdlcLink("server", 16, 1, 17, parameters=HdlcParameters(2048, 2048, 7, 7))
    wire = Wire(client, server, tamper)
    wire.run("client", client.connect(), lambda: client.state is LinkState.IDLE)
    for i in range(8):
        exchange(client, server, wire, apdu_of(rng.randint(1, 1500), i), apdu_of(rng.randint(1, 1500), i + 1))
    wire.run("client", client.disconnect(), lambda: client.state is LinkState.DISCONNECTED)


def test_late_answer_and_the_answer_to_the_poll_both_arrive():
    """The server's RR comes late: the client has timed out and polled; both answers
    arrive, and the window after them goes out once."""
    client, server, wire = connected_pair(1, 32)
    first = client.send_apdu(apdu_of(100))
    late_rr = wire.deliver("client", first)
    poll = client.timeout()
    poll_answer = wire.deliver("client", poll)
    client.receive_data(late_rr + poll_answer)
    assert client.events() == []
    window = frames_of(client.data_to_send())
    assert [HdlcFrame.from_bytes(f).control.ns for f in window] == [1]
    wire.run("client", b"".join(window), lambda: server.state is LinkState.RESPONDING)
    assert wire.events["server"][-1] == ApduReceived(apdu_of(100))
    assert server.repeated_frames == 0


# --------------------------------------------------------------------------- hostile frames

from hypothesis import given, settings
from hypothesis import strategies as st


def _hostile_frames(to_client: bool):
    controls = st.integers(0, 255).filter(lambda c: c & 1 == 0 or c & 0x0B == 0x01 or (c & 0xEF) in (0x83, 0x43, 0x63, 0x0F, 0x87, 0x03))
    destination, source = (CLIENT, SERVER) if to_client else (SERVER, CLIENT)
    return st.lists(
        st.builds(
            lambda control, info, segmented: HdlcFrame(
                destination, source, HdlcControl.from_byte(control), info, segmented
            ).to_bytes(),
            controls,
            st.one_of(st.binary(max_size=60), st.binary(max_size=40).map(lambda b: b"\xe6\xe6\x00" + b),
                      st.binary(max_size=20).map(lambda b: b"\x81\x80" + bytes([len(b)]) + b)),
            st.booleans(),
        ),
        max_size=12,
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["client", "server"]), st.integers(0, 3), st.data())
def test_hostile_frames_raise_only_remote_errors(role, setup, data):
    """Any sequence of well-framed but arbitrary frames, in any state reached by a
    normal start: the link raises only RemoteError (client) and never anything
    else; the server answers, it does not raise."""
    from dlmsfast.errors import RemoteError

    client, server, wire = connected_pair(3, 32)
    if setup >= 1:
        wire.run("client", client.send_apdu(apdu_of(200)), lambda: server.state is LinkState.RESPONDING)
    if setup >= 2:
        server.send_apdu(apdu_of(200))
    if setup == 3:
        client.timeout()
    link = client if role == "client" else server
    for octets in data.draw(_hostile_frames(role == "client")):
        link.receive_data(octets)
        try:
            link.events()
        except RemoteError:
            assert role == "client"
        link.data_to_send()
        link.timeout()
        link.events()


def test_events_before_a_fault_are_delivered_first():
    client, server, wire = connected_pair()
    push = server.send_ui(b"\x0f\x01")
    frmr = HdlcFrame(CLIENT, SERVER, FrameKind.FRMR, b"\x10\x00\x01").to_bytes()
    client.receive_data(push + frmr)
    assert client.events() == [UnnumberedInformation(b"\x0f\x01")]
    with pytest.raises(FrameRejectError):
        client.events()
    assert client.next_event() is NEED_DATA


def test_ui_from_a_server_without_a_client_yet_is_refused():
    with pytest.raises(LocalProtocolError):
        HdlcLink("server", None).send_ui(b"\x0f")


def test_awaiting_answer_follows_the_exchange():
    client, server, wire = connected_pair(1, 32)
    assert not client.awaiting_answer
    client.send_apdu(apdu_of(100))
    assert client.awaiting_answer and client.state is LinkState.SENDING
    assert "client" in repr(client) and "sending" in repr(client)
    assert not server.awaiting_answer


@pytest.mark.parametrize(
    "call",
    [
        lambda: HdlcLink("client", "16"),
        lambda: HdlcLink("client", 16, "1"),
        lambda: HdlcLink("client", 16, 1, "17"),
        lambda: HdlcLink("client", 16, 1, 17, "2"),
        lambda: HdlcLink("client", parameters={"window": 7}),
        lambda: HdlcLink("client", max_retries=-1),
        lambda: HdlcLink("client").receive_data("7E"),
        lambda: HdlcLink("client").receive_data(5),
        lambda: address_key(16),
        lambda: HdlcLinkSplitter("16"),
        lambda: build_frames(16, SERVER, []),
        lambda: build_frames(CLIENT, SERVER, 5),
    ],
)
def test_wrong_argument_types_are_usage_errors(call):
    with pytest.raises(UsageError):
        call()


def test_a_client_given_up_connects_again():
    client = HdlcLink("client", 16, 1, 17, max_retries=0)
    client.connect()
    assert client.timeout() == b""
    assert client.events() == [LinkTimeout(0)]
    server = HdlcLink("server", 16, 1, 17)
    wire = Wire(client, server)
    wire.run("client", client.connect(), lambda: client.state is LinkState.IDLE)
    exchange(client, server, wire, b"\xc0", b"\xc4")


# --------------------------------------------------------------------------- dlms-cosem as a second peer


@pytest.mark.parametrize("size", [1, 122, 123, 124, 600])
def test_dlms_cosem_client_against_our_server(size):
    """dlms-cosem's sans-IO HdlcConnection (its client) opens our server link, sends a
    request, and reads a response in 128-octet segments, asking for each with RR as
    its own io layer does; the segments it reads join into our response."""
    dlms_cosem = pytest.importorskip("dlms_cosem")  # noqa: F841
    from dlms_cosem.hdlc import address, connection, frames

    conn = connection.HdlcConnection(
        client_address=address.HdlcAddress(16, None, "client"),
        server_address=address.HdlcAddress(1, 17, "server"),
    )
    server = HdlcLink("server", 16, 1, 17)
    server.receive_data(conn.send(frames.SetNormalResponseModeFrame(
        destination_address=conn.server_address, source_address=conn.client_address)))
    assert server.events() == [Connected(HdlcParameters(128, 128, 1, 1))]
    conn.receive_data(server.data_to_send())
    assert type(conn.next_event()).__name__ == "UnNumberedAcknowledgmentFrame"
    request = b"\xc0\x01\xc1\x00\x08\x00\x00\x01\x00\x00\xff\x02\x00"
    server.receive_data(conn.send(frames.InformationFrame(
        destination_address=conn.server_address, source_address=conn.client_address,
        payload=b"\xe6\xe6\x00" + request, send_sequence_number=conn.client_ssn,
        receive_sequence_number=conn.client_rsn, segmented=False, final=True)))
    assert server.events() == [ApduReceived(request)]
    response = apdu_of(size, 5)
    octets = server.send_apdu(response)
    received = bytearray()
    for _ in range(20):
        conn.receive_data(octets)
        # dlms-cosem takes the next 0x7E as a frame's end; a 0x7E inside the field
        # gives NEED_DATA, and asking again searches on (as its own client does).
        for _ in range(len(octets)):
            frame = conn.next_event()
            if hasattr(frame, "payload"):
                break
        received += frame.payload
        if not frame.segmented:
            break
        server.receive_data(conn.send(frames.ReceiveReadyFrame(
            destination_address=conn.server_address, source_address=conn.client_address,
            receive_sequence_number=conn.server_rsn)))
        assert server.events() == []
        octets = server.data_to_send()
    assert bytes(received) == b"\xe6\xe7\x00" + response


def test_client_reads_a_response_without_llc_as_malformed():
    client, server, wire = connected_pair()
    client.send_apdu(b"\xc0")
    client.receive_data(HdlcFrame(CLIENT, SERVER, HdlcControl(FrameKind.I, ns=0, nr=1), b"\xc4\x01").to_bytes())
    with pytest.raises(DecodeError, match="LLC"):
        client.next_event()
    assert client.state is LinkState.DISCONNECTED
