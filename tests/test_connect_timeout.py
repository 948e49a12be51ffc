"""``connect_timeout``: how long opening the connection may take, apart from the
per-request ``timeout``. A real loopback listener whose accept queue is full
(backlog 0, one connection never accepted) drops further SYNs, so a connect to
it hangs in the kernel's SYN retries, as to a meter that is off or unreachable.
Also the blocking socket's deadlines for a wait that gets part of a frame. The
blocking client's tests run both ways it keeps its deadlines: the kernel's
(SO_RCVTIMEO/SO_SNDTIMEO, Linux) and Python's socket timeouts (elsewhere)."""
from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time

import pytest

from dlmsfast import AsyncClient, Client
from dlmsfast.cli import main
from dlmsfast.errors import TimeoutError, TransportError, UsageError
from dlmsfast.transport.streams import BlockingTcpStream


# the kernel's deadlines are the Linux path; Python's timeouts run everywhere
WAYS = [True, False] if sys.platform.startswith("linux") else [False]


@pytest.fixture(params=WAYS, ids=lambda kernel: "kernel-deadlines" if kernel else "python-timeouts")
def deadlines(request, monkeypatch):
    """The blocking client keeps its deadlines the kernel's way, then Python's."""
    monkeypatch.setattr(BlockingTcpStream, "kernel_deadlines", request.param)
    return request.param


@pytest.fixture
def unreachable():
    """The URL of a listener that lets no more connections in."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):  # the kernel takes backlog + 1 before it drops SYNs
        filler = socket.socket()
        filler.settimeout(0.2)
        try:
            filler.connect(("127.0.0.1", port))
        except socket.timeout:
            filler.close()
            break
        fillers.append(filler)
    else:
        pytest.fail("the listen backlog never filled up")
    yield f"tcp://127.0.0.1:{port}"
    for filler in fillers:
        filler.close()
    listener.close()


def test_blocking_client_gives_up_connecting_after_connect_timeout(unreachable, deadlines):
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="connect") as raised:
        Client(unreachable, timeout=5, connect_timeout=0.3).open()
    assert 0.25 < time.monotonic() - started < 2
    assert unreachable in str(raised.value) and "0.3 s" in str(raised.value)


def test_async_client_gives_up_connecting_after_connect_timeout(unreachable):
    async def connect():
        async with AsyncClient(unreachable, timeout=5, connect_timeout=0.3):
            pass

    started = time.monotonic()
    with pytest.raises(TimeoutError, match="connect") as raised:
        asyncio.run(connect())
    assert 0.25 < time.monotonic() - started < 2
    assert unreachable in str(raised.value)


def test_a_host_name_is_looked_up_and_bounded_too(unreachable, deadlines):
    named = unreachable.replace("127.0.0.1", "localhost")
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="connect") as raised:
        Client(named, timeout=5, connect_timeout=0.3).open()
    assert 0.25 < time.monotonic() - started < 2 and "localhost" in str(raised.value)


def test_nobody_listening_is_a_transport_error_at_once(deadlines):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        with pytest.raises(TransportError, match="cannot connect"):
            Client(f"tcp://127.0.0.1:{port}", timeout=5).open()


def test_without_connect_timeout_the_timeout_bounds_the_connect(unreachable, deadlines):
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="cannot connect"):
        Client(unreachable, timeout=0.3).open()
    assert 0.25 < time.monotonic() - started < 2


def test_read_command_takes_connect_timeout(unreachable, capsys):
    started = time.monotonic()
    status = main(["read", unreachable, "--timeout", "5", "--connect-timeout", "0.3",
                   "1.0.1.8.0.255"])
    _, err = capsys.readouterr()
    assert status == 2 and time.monotonic() - started < 2
    assert "TimeoutError" in err and "connect" in err and unreachable in err


@pytest.mark.parametrize("bad", [0, -1.0, "1", True, float("nan")])
def test_connect_timeout_is_positive_seconds(bad):
    with pytest.raises(UsageError, match="connect_timeout"):
        Client("tcp://127.0.0.1:1", connect_timeout=bad)
    with pytest.raises(UsageError, match="connect_timeout"):
        AsyncClient("tcp://127.0.0.1:1", connect_timeout=bad)


def _meter_that_answers(octets: bytes, after: float):
    """A listener that reads the first request, then sends ``octets`` (part of a
    frame) ``after`` seconds later, then stays silent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    kept = []

    def serve():
        conn, _ = listener.accept()
        kept.append(conn)
        conn.recv(65536)
        time.sleep(after)
        conn.sendall(octets)

    threading.Thread(target=serve, daemon=True).start()
    return listener, kept


def test_a_short_connect_timeout_does_not_shorten_the_waits_for_answers(deadlines):
    listener, kept = _meter_that_answers(b"", 0)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match="did not answer"):
            Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.6,
                   connect_timeout=0.05).open()
        assert 0.55 < time.monotonic() - started < 3
    finally:
        listener.close()
        for conn in kept:
            conn.close()


def test_blocking_wait_keeps_its_deadline_when_part_of_a_frame_comes(deadlines):
    # half a wrapper header 0.5 s into a 1 s wait: the rest of the wait is
    # 0.5 s, not another whole timeout on the socket (1.5 s in all)
    listener, kept = _meter_that_answers(bytes.fromhex("00010001"), 0.5)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match="did not answer"):
            Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=1.0).open()
        assert 0.95 < time.monotonic() - started < 1.3
    finally:
        listener.close()
        for conn in kept:
            conn.close()
