"""Transports over real loopback sockets (127.0.0.1) and a real pseudo-terminal pair:
the wrapper over TCP and UDP, deadlines, a peer that drops, the trace hook, the
serial stream and the IEC 62056-21 mode E hand-over against a fake optical head."""
from __future__ import annotations

import asyncio
import os
import select
import termios
import threading
import time

import pytest

from dlmsfast.errors import ConnectionLost, TimeoutError, TransportError, UsageError
from dlmsfast.transport.connection import Connection, WrapperFraming
from dlmsfast.transport.streams import SerialStream, TcpStream, UdpStream
from dlmsfast.transport.url import parse_url
from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter


def run(coro, timeout=10):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def answer(apdu: bytes) -> bytes:
    """What the test meters answer: the APDU reversed (so a test sees it was served)."""
    return apdu[::-1]


async def wrapper_meter(behaviour="answer"):
    """A TCP meter on 127.0.0.1 speaking the wrapper; returns (server, port)."""

    async def serve(reader, writer):
        splitter = WrapperStreamSplitter()
        while True:
            data = await reader.read(4096)
            if not data:
                break
            for frame in splitter.feed(data):
                if behaviour == "silent":
                    continue
                if behaviour == "drop":
                    writer.close()
                    return
                if behaviour == "split":
                    # answer in one-octet writes, with a frame for another wPort first
                    other = WrapperFrame(1, 2, 99, b"\xAA").to_bytes()
                    for octet in other + WrapperFrame(1, frame.destination_wport,
                                                       frame.source_wport,
                                                       answer(frame.payload)).to_bytes():
                        writer.write(bytes((octet,)))
                        await writer.drain()
                    continue
                writer.write(WrapperFrame(1, frame.destination_wport, frame.source_wport,
                                          answer(frame.payload)).to_bytes())
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("behaviour", ["answer", "split"])
def test_wrapper_over_tcp_request_and_trace(behaviour):
    seen = []

    async def main():
        server, port = await wrapper_meter(behaviour)
        async with server:
            conn = Connection(TcpStream("127.0.0.1", port), WrapperFraming(16, 1),
                              timeout=2, trace=lambda d, raw: seen.append((d, raw)))
            async with conn:
                assert await conn.request(b"\xC0\x01\x02") == b"\x02\x01\xC0"
                assert await conn.request(b"\x01" * 3000) == b"\x01" * 3000
    run(main())
    assert seen[0] == ("out", bytes.fromhex("0001 0010 0001 0003 C00102"))
    assert ("in", bytes.fromhex("0001 0001 0010 0003 0201C0")) in seen
    assert [d for d, _ in seen].count("out") == 2
    if behaviour == "split":
        # the frame for another wPort is traced but is not an answer
        assert ("in", bytes.fromhex("0001 0002 0063 0001 AA")) in seen


def test_silent_meter_times_out_naming_the_addresses():
    async def main():
        server, port = await wrapper_meter("silent")
        async with server:
            conn = Connection(TcpStream("127.0.0.1", port), WrapperFraming(17, 5), timeout=0.2)
            await conn.open()
            started = time.monotonic()
            with pytest.raises(TimeoutError) as caught:
                await conn.request(b"\xC0\x01")
            assert 0.15 < time.monotonic() - started < 1.5
            await conn.close()
            return str(caught.value)
    message = run(main())
    assert "client wPort 17" in message and "server wPort 5" in message
    assert "0.2 s" in message


def test_peer_dropping_raises_connection_lost_and_closes():
    async def main():
        server, port = await wrapper_meter("drop")
        async with server:
            conn = Connection(TcpStream("127.0.0.1", port), WrapperFraming(16, 1), timeout=2)
            await conn.open()
            with pytest.raises(ConnectionLost):
                await conn.request(b"\xC0\x01")
            with pytest.raises(ConnectionLost):
                conn.send(b"\xC0\x02")
            await conn.close()  # quiet after a loss
    run(main())


def test_connection_refused_is_a_transport_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused

    async def main():
        conn = Connection(TcpStream("127.0.0.1", port), WrapperFraming(16, 1), timeout=1)
        with pytest.raises(TransportError, match="cannot connect to tcp://127.0.0.1"):
            await conn.open()
    run(main())


def test_wrapper_over_udp():
    class Meter(asyncio.DatagramProtocol):
        def connection_made(self, transport):
            self.transport = transport

        def datagram_received(self, data, addr):
            frame = WrapperFrame.from_bytes(data)
            self.transport.sendto(WrapperFrame(1, frame.destination_wport, frame.source_wport,
                                               answer(frame.payload)).to_bytes(), addr)

    async def main():
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(Meter, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        try:
            async with Connection(UdpStream("127.0.0.1", port), WrapperFraming(16, 1),
                                  timeout=2) as conn:
                assert await conn.request(b"\xC0\x01\x05") == b"\x05\x01\xC0"
        finally:
            transport.close()
    run(main())


@pytest.mark.parametrize("url, expected", [
    ("tcp://127.0.0.1:4059", ("tcp", "127.0.0.1", 4059, "wrapper")),
    ("udp://meter.example:4059", ("udp", "meter.example", 4059, "wrapper")),
    ("serial:///dev/ttyUSB0?baud=2400", ("serial", "/dev/ttyUSB0", 2400, "hdlc")),
])
def test_parse_url(url, expected):
    parsed = parse_url(url)
    if parsed.scheme == "serial":
        got = (parsed.scheme, parsed.device, parsed.baud, parsed.default_framing)
    else:
        got = (parsed.scheme, parsed.host, parsed.port, parsed.default_framing)
    assert got == expected
    assert str(parsed) == url


def test_parse_url_mode_e_and_errors():
    parsed = parse_url("serial:///dev/ttyUSB0?mode-e=1&max-baud=4800")
    assert parsed.mode_e and parsed.max_baud == 4800 and parsed.baud is None
    for bad in ("http://x:1", "tcp://host", "tcp://:80", "serial://", "serial:///dev/x?speed=1",
                "tcp://h:99999", "serial:///dev/x?baud=fast"):
        with pytest.raises(UsageError):
            parse_url(bad)


# --- serial lines over a real pseudo-terminal pair ----------------------------------

def _read_exactly(fd: int, count: int, timeout: float = 3.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"pty: got {got!r}, wanted {count} octets")
        got += os.read(fd, count - len(got))
    return got


def _line_settings(fd: int) -> tuple[int, int, int]:
    """(output baud, character size, parity enabled) of the pty's line."""
    attrs = termios.tcgetattr(fd)
    return attrs[5], attrs[2] & termios.CSIZE, attrs[2] & termios.PARENB


def _line_baud(fd: int) -> int:
    return termios.tcgetattr(fd)[5]


def _wait_for_baud(fd: int, speed: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while _line_settings(fd)[0] != speed:
        if time.monotonic() > deadline:
            raise AssertionError(f"the line never switched to {speed}")
        time.sleep(0.005)


@pytest.fixture
def pty_pair():
    master, slave = os.openpty()
    yield master, slave, os.ttyname(slave)
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_serial_stream_moves_octets_both_ways(pty_pair):
    master, slave, path = pty_pair
    received = []

    async def main():
        loop = asyncio.get_running_loop()
        stream = SerialStream(path, 19200)
        got = loop.create_future()
        await stream.open(lambda d: (received.append(d), got.done() or got.set_result(None)),
                          lambda exc: None)
        assert _line_settings(slave)[0] == termios.B19200
        stream.write(b"\x7e\xa0\x07hello")
        assert await loop.run_in_executor(None, _read_exactly, master, 8) == b"\x7e\xa0\x07hello"
        os.write(master, b"world")
        await asyncio.wait_for(got, 2)
        stream.close()
    run(main())
    assert b"".join(received) == b"world"


def _optical_head(master: int, slave: int, offered: str, log: list, stream: list) -> None:
    """A fake IEC 62056-21 optical head + meter on the master side of the pty.

    Linux ptys always report CS8 without parity (the pty driver forces them), so
    the 7E1 character format of the sign-on is read from the client's port."""
    sign_on = _read_exactly(master, 5)
    port = stream[0]._port
    log.append(("sign-on", sign_on, _line_baud(slave), port.bytesize, port.parity))
    os.write(master, f"/MMM{offered}\\2DLMSFAST-TEST\r\n".encode())
    ack = _read_exactly(master, 6)
    log.append(("ack", ack))
    _wait_for_baud(slave, {"5": termios.B9600, "4": termios.B4800}[chr(ack[2])])
    log.append(("after", _line_settings(slave)))
    os.write(master, b"HDLC")


@pytest.mark.parametrize("offered, max_baud, ack, speed", [
    ("5", None, b"\x06252\r\n", termios.B9600),
    ("6", 9600, b"\x06252\r\n", termios.B9600),
    ("5", 4800, b"\x06242\r\n", termios.B4800),
])
def test_mode_e_handover(pty_pair, offered, max_baud, ack, speed):
    master, slave, path = pty_pair
    log: list = []
    traced = []
    stream = SerialStream(path, mode_e=True, max_baud=max_baud,
                          trace=lambda d, raw: traced.append((d, raw)))
    head = threading.Thread(target=_optical_head, args=(master, slave, offered, log, [stream]),
                            daemon=True)
    head.start()

    async def main():
        loop = asyncio.get_running_loop()
        got = loop.create_future()
        await stream.open(lambda d: got.done() or got.set_result(d), lambda exc: None)
        data = await asyncio.wait_for(got, 3)
        stream.close()
        return data, stream.identification

    data, ident = run(main())
    head.join(3)
    assert data == b"HDLC"
    assert ident == f"/MMM{offered}\\2DLMSFAST-TEST".encode()
    assert log[0] == ("sign-on", b"/?!\r\n", termios.B300, 7, "E")
    assert log[1] == ("ack", ack)
    assert log[2] == ("after", (speed, termios.CS8, 0))
    # every sign-on message, both ways
    assert traced == [("out", b"/?!\r\n"), ("in", f"/MMM{offered}\\2DLMSFAST-TEST\r\n".encode()),
                      ("out", ack)]


def test_mode_e_silent_head_times_out(pty_pair, monkeypatch):
    from dlmsfast.transport import streams

    master, slave, path = pty_pair
    monkeypatch.setattr(streams, "IDENTIFICATION_TIMEOUT", 0.2)

    async def main():
        stream = SerialStream(path, mode_e=True)
        with pytest.raises(TimeoutError, match="no identification message"):
            await stream.open(lambda d: None, lambda exc: None)
    run(main())
    assert _read_exactly(master, 5) == b"/?!\r\n"


def test_serial_device_missing_is_a_transport_error():
    async def main():
        with pytest.raises(TransportError, match="cannot open serial:///dev/nonexistent-tty"):
            await SerialStream("/dev/nonexistent-tty", 9600).open(lambda d: None, lambda e: None)
    run(main())


# --- a peer that sends octets that are no DLMS framing ---------------------------


class _WrongPeer:
    """A TCP peer on 127.0.0.1 that answers the first octets it receives with
    ``reply`` (a web server, another protocol), then stays or hangs up."""

    def __init__(self, reply: bytes, hang_up: bool = False) -> None:
        import socket

        self.reply, self.hang_up = reply, hang_up
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.listener:
            peer, _ = self.listener.accept()
            with peer:
                peer.settimeout(10)
                peer.recv(4096)
                peer.sendall(self.reply)
                if not self.hang_up:
                    self.done.wait(10)

    def __enter__(self) -> "_WrongPeer":
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join(10)


HTTP_400 = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("blocking", [False, True], ids=["async", "blocking"])
def test_a_web_server_on_the_port_is_named_not_taken_for_a_silent_meter(blocking):
    from dlmsfast import AsyncClient, Client

    with _WrongPeer(HTTP_400) as peer:
        url = f"tcp://127.0.0.1:{peer.port}"
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            if blocking:
                Client(url, timeout=0.5).open()
            else:
                run(AsyncClient(url, timeout=0.5).open())
        assert time.monotonic() - started < 5
    message = str(caught.value)
    assert f"it sent {len(HTTP_400)} octets that are no DLMS wrapper frame" in message
    assert "starting 'HTTP/1.1 400 Bad Request\\r\\nConten'..." in message
    assert "meter silent" not in message


def test_octets_that_are_no_frame_are_named_when_the_peer_hangs_up():
    from dlmsfast import Client

    with _WrongPeer(HTTP_400, hang_up=True) as peer:
        with pytest.raises(ConnectionLost) as caught:
            Client(f"tcp://127.0.0.1:{peer.port}", timeout=5).open()
    assert "closed the connection; before, it sent" in str(caught.value)
    assert "'HTTP/1.1 400" in str(caught.value)


@pytest.mark.parametrize("reply, said", [
    # a wrapper of another version: its header in hex
    (b"\x00\x02\x00\x01\x00\x10\x00\x03abc",
     ["2 octets that are no DLMS wrapper frame, starting 00 02 00 01 00 10 00 03 61 62 63",
      "unsupported wrapper version 2", "9 octets of a wrapper frame that never completed"]),
    # a frame whose length field promises more than ever comes
    (b"\x00\x01\x00\x01\x00\x10\xff\xff" + b"\x61" * 100,
     ["108 octets of a wrapper frame that never completed"]),
    # an answer from another logical device than the one called
    (b"\x00\x01\x00\x05\x00\x10\x00\x03\x61\x01\x00",
     ["1 wrapper frame(s) from wPort 5 to wPort 16, not ours: wrong client/server address?"]),
], ids=["version-2", "never-completed", "another-wport"])
def test_what_came_instead_of_an_answer_is_said(reply, said):
    from dlmsfast import Client

    with _WrongPeer(reply) as peer:
        with pytest.raises(TimeoutError) as caught:
            Client(f"tcp://127.0.0.1:{peer.port}", timeout=0.5).open()
    for words in said:
        assert words in str(caught.value)
    assert "meter silent" not in str(caught.value)


def test_octets_that_are_no_hdlc_frame_are_named_over_hdlc_too():
    from dlmsfast import AsyncClient

    with _WrongPeer(HTTP_400) as peer:
        with pytest.raises(TimeoutError) as caught:
            run(AsyncClient(f"tcp://127.0.0.1:{peer.port}", framing="hdlc", timeout=0.5).open())
    message = str(caught.value)
    assert f"it sent {len(HTTP_400)} octets that are no valid HDLC frame" in message
    assert "'HTTP/1.1 400 Bad Request" in message and "meter silent" not in message


def test_the_wrapper_splitter_keeps_the_start_of_what_it_dropped():
    splitter = WrapperStreamSplitter()
    assert splitter.feed(HTTP_400) == [] and splitter.discarded_bytes == len(HTTP_400)
    assert splitter.dropped_sample == HTTP_400[:33]
    good = WrapperFrame(1, 1, 16, b"\x61\x00").to_bytes()
    assert [f.payload for f in splitter.feed(good + good)] == [b"\x61\x00"] * 2
    assert splitter.dropped_sample == HTTP_400[:33]
    # a later run of garbage replaces the sample: the latest is what is said
    splitter.feed(b"\x00\x02junk")
    assert splitter.dropped_sample == b"\x00\x02junk"


def test_an_hdlc_answer_from_another_address_is_named():
    from dlmsfast import AsyncClient
    from dlmsfast.hdlc.link import HdlcLink

    # the UA of logical device 5 to client 16: the meter is there, not at 1
    other = HdlcLink("server", None, 5)
    other.receive_data(HdlcLink("client", 16, 5).connect())
    list(other.events())
    with _WrongPeer(other.data_to_send()) as peer:
        with pytest.raises(TimeoutError) as caught:
            run(AsyncClient(f"tcp://127.0.0.1:{peer.port}", framing="hdlc", timeout=0.5).open())
    message = str(caught.value)
    assert "it sent 1 HDLC frame(s) for or from other addresses: wrong client/server address?" \
        in message
    assert "meter silent" not in message
