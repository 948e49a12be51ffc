"""The blocking Client over TCP: the AsyncClient's own coroutines run to their end
on a blocking socket, with no event loop (one send and one recv per round trip),
against our server role in threads on loopback."""
from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from dlmsfast import Client
from dlmsfast.errors import ConnectionLost, TimeoutError

from ownmeter import AK, EK, Application, OBJECTS, WrapperMeter, policy


@pytest.fixture
def meter():
    m = WrapperMeter(Application(OBJECTS, policy()))
    yield m
    m.listener.close()


def test_tcp_requests_run_without_an_event_loop(meter, monkeypatch):
    def no_loop(*args, **kwargs):
        raise AssertionError("the blocking client made an event loop")

    monkeypatch.setattr(asyncio, "new_event_loop", no_loop)
    monkeypatch.setattr(asyncio.AbstractEventLoop, "run_until_complete", no_loop)
    frames = []
    with Client(meter.url, client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
                timeout=3, trace=lambda d, f: frames.append(d)) as c:
        reading = c.read("1.0.1.8.0.255", class_id=3)
    assert reading.value == 123456
    # AARQ, HLS pass 3, GET with its scaler_unit, RLRQ: each out answered by one in
    assert frames.count("out") == frames.count("in") >= 4


def test_tcp_client_inside_a_running_loop_needs_no_helper_thread(meter):
    async def notebook_cell():
        before = threading.active_count()
        with Client(meter.url, timeout=3) as c:
            value = c.read("1.0.1.8.0.255", class_id=3).value
            during = threading.active_count()
        return value, during - before

    value, extra_threads = asyncio.run(notebook_cell())
    assert value == 123456
    assert extra_threads <= 1  # the meter's own connection thread, no dlmsfast-client


def test_silent_meter_times_out_on_the_blocking_socket():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError, match="did not answer"):
            Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3).open()
        assert 0.25 < time.monotonic() - started < 3
    finally:
        listener.close()


def test_meter_closing_the_connection_is_connection_lost():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up():
        conn, _ = listener.accept()
        conn.recv(65536)  # the AARQ, then goodbye
        conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        with pytest.raises(ConnectionLost, match="closed the connection"):
            Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=3).open()
    finally:
        listener.close()
