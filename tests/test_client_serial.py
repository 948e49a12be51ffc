"""The client over a serial line (a real pseudo-terminal pair) against dlmsfast's
own server role, with and without the IEC 62056-21 mode E hand-over; and the
IDIS invocation-counter pre-read against the same server over TCP."""
from __future__ import annotations

import os
import threading
import time

import pytest

from dlmsfast import Client
from dlmsfast.apdu import parse_apdu

from ownmeter import AK, EK, OBJECTS, Application, WrapperMeter, policy, serve_hdlc_fd


def _read_line(fd: int, timeout: float = 3.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while not got.endswith(b"\r\n"):
        if time.monotonic() > deadline:
            raise AssertionError(f"no line from the client, got {got!r}")
        try:
            got += os.read(fd, 64)
        except BlockingIOError:
            time.sleep(0.005)
    return got


def _optical_sign_on(fd: int) -> None:
    assert _read_line(fd) == b"/?!\r\n"
    os.write(fd, b"/DLF5\\2TESTMETER\r\n")
    assert _read_line(fd) == b"\x06252\r\n"


@pytest.mark.parametrize("mode_e", [False, True])
def test_read_over_a_serial_line(mode_e):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    app = Application(OBJECTS, policy())
    stop = threading.Event()
    meter = threading.Thread(target=serve_hdlc_fd, daemon=True,
                             args=(master, app, stop, _optical_sign_on if mode_e else None))
    meter.start()
    url = f"serial://{path}?mode-e=1" if mode_e else f"serial://{path}?baud=9600"
    frames = []
    try:
        with Client(url, timeout=3, trace=lambda d, f: frames.append((d, f))) as c:
            name, energy = c.read_many([(1, "0.0.42.0.0.255", 2), (3, "1.0.1.8.0.255", 2)])
            assert name.value == b"DLMSFAST-METER01"
            assert (energy.value, energy.scaler, energy.unit.symbol) == (123456, 0, "Wh")
    finally:
        stop.set()
        meter.join(3)
        os.close(master)
        os.close(slave)
    # SNRM first, DISC last: the link was opened and closed on the line
    hdlc = [f for d, f in frames if f[:1] == b"\x7e"]
    assert hdlc[0][:1] == b"\x7e" and hdlc[0][5] & 0xEF == 0x83   # SNRM
    assert any(f[5] & 0xEF == 0x43 for d, f in frames if d == "out" and f[:1] == b"\x7e")  # DISC
    if mode_e:
        assert frames[0] == ("in", b"/DLF5\\2TESTMETER\r\n")


def test_invocation_counter_read_from_the_meter():
    app = Application(OBJECTS, policy())
    meter = WrapperMeter(app)
    try:
        with Client(meter.url, client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
                    invocation_counter="meter", timeout=3) as c:
            assert c.read("0.0.42.0.0.255", class_id=1).value == b"DLMSFAST-METER01"
    finally:
        meter.close()
    # the public client read 0.0.43.1.0.255 (1000); the ciphered AARQ then used 1001
    aarqs = [apdu for apdu in app.received if apdu[0] == 0x60]
    assert len(aarqs) == 2
    ciphered = parse_apdu(aarqs[1]).user_information
    assert ciphered[0] == 0x21 and int.from_bytes(ciphered[3:7], "big") == 1001
