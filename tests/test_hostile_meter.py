"""The client against meters that are broken or hostile (real loopback sockets,
tests/hostile.py): every answer that would make it read, wait or hold memory
without end stops at a documented bound with a precise DlmsError, quickly."""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest

from dlmsfast import Client
from dlmsfast.client.requests import MAX_KEPT_NOTIFICATIONS
from dlmsfast.errors import ConnectionLost, DecodeError, ProtocolError, TimeoutError
from dlmsfast.session import _core
from dlmsfast.session._core import MAX_BLOCKS, MAX_REASSEMBLED_LENGTH, gathered

from hostile import HostileMeter

ENERGY = "1.0.1.8.0.255"


def _next_block(apdu: bytes) -> int:
    """The block a get-request asks for: 1 for a first request, n + 1 for next(n)."""
    return struct.unpack_from(">I", apdu, 3)[0] + 1 if apdu[1] == 2 else 1


def _datablock(apdu: bytes, number: int, data: bytes) -> bytes:
    """get-response-with-datablock, never the last block, raw-data ``data``."""
    return (bytes((0xC4, 2, apdu[2], 0)) + struct.pack(">I", number)
            + b"\x00\x82" + struct.pack(">H", len(data)) + data)


def _read(meter: HostileMeter, timeout: float = 2.0):
    with Client(meter.url, timeout=timeout) as client:
        return client.get(3, ENERGY, 2)


@pytest.fixture
def small_bounds(monkeypatch):
    """The bounds scaled down (the real ones take seconds to reach on loopback;
    test_bounds_are_the_documented_ones checks them without sockets)."""
    monkeypatch.setattr(_core, "MAX_BLOCKS", 300)
    monkeypatch.setattr(_core, "MAX_REASSEMBLED_LENGTH", 100_000)


def test_bounds_are_the_documented_ones():
    buffer = gathered(None, b"x" * 10, MAX_BLOCKS, "get")
    with pytest.raises(ProtocolError, match=f"get: block {MAX_BLOCKS + 1} is past"):
        gathered(buffer, b"", MAX_BLOCKS + 1, "get")
    near = bytearray(MAX_REASSEMBLED_LENGTH - 1)
    with pytest.raises(ProtocolError, match=f"longer than {MAX_REASSEMBLED_LENGTH} octets"):
        gathered(near, b"ab", 7, "get")
    assert len(gathered(near, b"a", 7, "get")) == MAX_REASSEMBLED_LENGTH


def test_endless_datablocks_stop_at_the_length_bound(small_bounds):
    meter = HostileMeter(lambda apdu: [_datablock(apdu, _next_block(apdu), bytes(1000))])
    started = time.monotonic()
    with pytest.raises(ProtocolError, match="get-response-with-datablock: block 101 makes "
                                            "the whole longer than 100000 octets"):
        _read(meter)
    assert time.monotonic() - started < 3
    meter.close()


def test_endless_empty_datablocks_stop_at_the_block_bound(small_bounds):
    meter = HostileMeter(lambda apdu: [_datablock(apdu, _next_block(apdu), b"")])
    with pytest.raises(ProtocolError, match="block 301 is past the last block accepted"):
        _read(meter)
    meter.close()


def test_endless_general_block_transfer_stops(small_bounds):
    """GBT blocks announced as never the last, each acknowledged by the client."""
    def gbt(apdu: bytes):
        number = struct.unpack_from(">H", apdu, 4)[0] + 1 if apdu[0] == 0xE0 else 1
        yield (b"\xE0\x01" + struct.pack(">HH", number, 0) + b"\x82\x03\xE8" + bytes(1000))
    meter = HostileMeter(gbt)
    with pytest.raises(ProtocolError, match="general-block-transfer: block 101 makes the "
                                            "whole longer than 100000 octets"):
        _read(meter)
    meter.close()


def test_notification_flood_does_not_keep_a_request_waiting():
    """A meter that pushes data-notifications and never answers: the request
    still times out after its timeout, and the client keeps a bounded number."""
    notification = b"\x0F\x00\x00\x00\x01\x00\x12\x00\x01"

    def flood(apdu: bytes):
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            yield notification
            time.sleep(0.0005)
    meter = HostileMeter(flood)
    started = time.monotonic()
    with Client(meter.url, timeout=0.5) as client:
        with pytest.raises(TimeoutError, match="within 0.5 s: it sent only notifications"):
            client.get(3, ENERGY, 2)
        assert time.monotonic() - started < 1.4
        assert 0 < len(client.notifications) <= MAX_KEPT_NOTIFICATIONS
        assert client.notifications.maxlen == MAX_KEPT_NOTIFICATIONS
    meter.close()


def test_answer_matching_no_request_is_a_protocol_error():
    # (an answer of the right service with another invoke id is taken while one
    # request is outstanding: Gurux meters answer refused GETs with invoke id 1)
    def answer(apdu: bytes):
        yield bytes((0xC5, 1, (apdu[2] + 1) & 0x0F | 0xC0, 0))  # set-response to a GET
    meter = HostileMeter(answer)
    with pytest.raises(ProtocolError, match="matches no request of that service"):
        _read(meter)
    meter.close()


@pytest.mark.parametrize("size", [1, 11])
def test_aare_granting_a_pdu_too_small_for_any_request(size):
    meter = HostileMeter(lambda apdu: [], lambda aare: aare[:-4] + size.to_bytes(2, "big")
                         + aare[-2:])
    with pytest.raises(ProtocolError, match=f"server-max-receive-pdu-size {size} is below 12"):
        Client(meter.url, timeout=2).open()
    meter.close()


@pytest.mark.parametrize("data, what", [
    (b"\x01\x84\xFF\xFF\xFF\xFF\x11\x00", "array"),       # 4 billion elements announced
    (b"\x02\x01" * 10_000 + b"\x11\x00", "nested"),       # 10,000 levels of structure
    (b"\x01\x83\x0F\x42\x40" + b"\x02\x02\x0A\x00\x12\x00\x01" * 3, "array"),  # 1,000,000 entries, 3 present
])
def test_hostile_data_is_a_decode_error(data, what):
    meter = HostileMeter(lambda apdu: [bytes((0xC4, 1, apdu[2], 0)) + data])
    started = time.monotonic()
    with pytest.raises(DecodeError) as caught:
        _read(meter)
    assert time.monotonic() - started < 2
    assert caught.value.offset is not None
    meter.close()


def test_wrapper_header_announcing_more_than_comes_times_out():
    """A header announcing 65535 octets, then a trickle: the wait is bounded by
    the timeout, not reset by each octet."""
    def trickle(apdu: bytes):
        yield b"\xC4\x01" + bytes(65533)  # a whole frame would pass; it is cut below
    meter = HostileMeter(trickle)
    meter.cut = 100  # send only this much of each hostile frame, an octet at a time
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _read(meter, timeout=0.5)
    assert time.monotonic() - started < 2
    meter.close()


def test_meter_closing_mid_frame():
    meter = HostileMeter(lambda apdu: [b"\xC4\x01"])
    meter.cut = 1
    meter.then_close = True
    with pytest.raises(ConnectionLost):
        _read(meter)
    meter.close()


def test_hdlc_meter_segmenting_without_end_stops_at_the_link_bound():
    """Over HDLC, an answer of 2 MiB in 128-octet segments: the link refuses it
    past DEFAULT_MAX_APDU_LENGTH instead of gathering it (RR after RR)."""
    from dlmsfast.hdlc.link import DEFAULT_MAX_APDU_LENGTH, ApduReceived, HdlcLink
    from ownmeter import OBJECTS, Application, policy

    app = Application(OBJECTS, policy())
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        link = HdlcLink("server", None, 1)
        session = None
        with conn:
            while data := conn.recv(65536):
                link.receive_data(data)
                for event in link.events():
                    if not isinstance(event, ApduReceived):
                        continue
                    if session is None:
                        session = app.session(16)
                        replies = app.handle(session, event.apdu)
                    else:  # get-response-normal, an octet-string of 2 MiB
                        replies = [b"\xC4\x01" + event.apdu[2:3] + b"\x00\x09\x84\x00\x20\x00\x00"
                                   + bytes(0x200000)]
                    for apdu in replies:
                        conn.sendall(link.send_apdu(apdu))
                out = link.data_to_send()
                if out:
                    conn.sendall(out)

    threading.Thread(target=serve, daemon=True).start()
    url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    with pytest.raises(ProtocolError, match=f"longer than {DEFAULT_MAX_APDU_LENGTH} octets"):
        with Client(url, framing="hdlc", timeout=3) as client:
            client.get(3, ENERGY, 2)
    listener.close()


def test_notifications_flooding_an_idle_client_are_not_all_held():
    """After an answer, the meter pushes notifications while the client asks
    nothing: past MAX_UNREAD_APDUS the connection fails, and the next request
    says why (before, the client held every one: 100,000 of 1 kB, 100 MB)."""
    import asyncio

    from dlmsfast import AsyncClient
    from dlmsfast.transport.connection import MAX_UNREAD_APDUS

    notification = b"\x0F\x00\x00\x00\x01\x00\x09\x82\x03\xE8" + bytes(1000)

    def answer_then_flood(apdu: bytes):
        yield bytes((0xC4, 1, apdu[2], 0, 6, 0, 0, 0, 1))
        for _ in range(MAX_UNREAD_APDUS + 100):
            yield notification

    meter = HostileMeter(answer_then_flood)

    async def scenario():
        async with AsyncClient(meter.url, timeout=2) as client:
            assert (await client.get(3, ENERGY, 2)).value == 1
            connection = client._conn
            for _ in range(100):
                await asyncio.sleep(0.02)
                if connection._lost is not None:
                    break
            assert len(connection._queue) <= MAX_UNREAD_APDUS
            with pytest.raises(ProtocolError, match=f"more than {MAX_UNREAD_APDUS} APDUs nobody"):
                await client.get(3, ENERGY, 2)

    asyncio.run(asyncio.wait_for(scenario(), 10))
    meter.close()
