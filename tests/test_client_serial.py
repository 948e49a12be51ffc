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
            # one octet at a time: the SNRM may follow the ACK at once, and it
            # belongs to the HDLC server that reads next
            got += os.read(fd, 1)
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
        # the sign-on's messages both ways, then the HDLC frames
        assert frames[:3] == [("out", b"/?!\r\n"), ("in", b"/DLF5\\2TESTMETER\r\n"),
                              ("out", b"\x06252\r\n")]


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


def test_write_call_and_clock_over_udp():
    import datetime as dt

    from dlmsfast.axdr import Data, DataType
    from ownmeter import UdpWrapperMeter

    objects = {**OBJECTS, (8, "0.0.1.0.0.255", 2): Data(DataType.OCTET_STRING, bytes(12)),
               (1, "0.0.96.3.10.255", 2): Data(DataType.UNSIGNED, 1)}
    app = Application(objects, policy())
    meter = UdpWrapperMeter(app)
    when = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    try:
        with Client(meter.url, timeout=3) as c:
            c.write("0.0.96.3.10.255", 0, class_id=1)          # the type it has now: unsigned
            assert c.read("0.0.96.3.10.255", class_id=1).value == 0
            c.set_clock(when)
            assert c.read_clock() == when
            assert c.call("0.0.10.0.0.255", 1, 0, class_id=9) == 7
    finally:
        meter.close()
    descriptor, parameters = app.calls[0]
    assert (descriptor.class_id, str(descriptor.instance_id), descriptor.method_id) == \
        (9, "0.0.10.0.0.255", 1)
    assert parameters == Data(DataType.INTEGER, 0)


def test_blocking_client_inside_a_running_event_loop():
    import asyncio

    app = Application(OBJECTS, policy())
    meter = WrapperMeter(app)

    async def notebook_cell():
        # a loop already runs in this thread (as in Jupyter): the blocking client
        # runs its own loop in a helper thread
        with Client(meter.url, timeout=3) as c:
            return c.read("1.0.1.8.0.255", class_id=3).value

    try:
        assert asyncio.run(notebook_cell()) == 123456
    finally:
        meter.close()


def test_silent_serial_line_retries_snrm_then_times_out():
    from dlmsfast.errors import TimeoutError

    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="did not answer the link set-up"):
            Client(f"serial://{path}", timeout=0.2).open()
        elapsed = time.monotonic() - started
        sent = b""
        while True:
            try:
                os.set_blocking(master, False)
                sent += os.read(master, 4096)
            except (BlockingIOError, OSError):
                break
    finally:
        os.close(master)
        os.close(slave)
    # a serial line loses frames: the SNRM went out three times (2 retries)
    assert sent.count(b"\x7e\xa0") == 3 and 0.55 < elapsed < 2.0


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_short_name_referencing(security):
    from ownmeter import AK, EK

    from dlmsfast.axdr import Data, DataType

    security_setup = (64, "0.0.43.0.0.255", 2)
    app = Application({**OBJECTS, security_setup: Data(DataType.ENUM, 0)}, policy(),
                      short_names=True)
    meter = WrapperMeter(app)
    options = {} if security == "none" else dict(client=1, auth="hls-gmac", security=security,
                                                 ek=EK, ak=AK)
    try:
        with Client(meter.url, referencing="sn", timeout=3, **options) as c:
            # classes and base names come from Association SN's object list
            name, energy = c.read_many(["0.0.42.0.0.255", "1.0.1.8.0.255"])
            assert name.value == b"DLMSFAST-METER01"
            assert (energy.value, energy.scaler, energy.unit.symbol) == (123456, 0, "Wh")
            c.write("0.0.43.1.0.255", 1234)
            assert c.read("0.0.43.1.0.255").value == 1234
            listed = {str(e.logical_name): e.base_name for e in c.object_list()}
            assert listed["1.0.1.8.0.255"] in (0x100, 0x200, 0x300)
            # methods: Register's reset (method 1) at base + 0x28 (Blue Book)
            assert c.call("1.0.1.8.0.255", 1) is None
            assert c.call("1.0.1.8.0.255", 1, 5) is None
            # a method that returns data: a ReadRequest with parameterized access,
            # asked for (a method the tables do not say returns) ...
            assert c.call("1.0.1.8.0.255", 1, 9, returns=True) == 7
            # ... or as the Blue Book's table says: Security Setup's export_certificate
            assert c.call("0.0.43.0.0.255", 7, 2) == 7
            from dlmsfast.errors import UsageError
            with pytest.raises(UsageError, match="returns is None, True or False"):
                c.call("1.0.1.8.0.255", 1, returns="yes")
    finally:
        meter.close()
    from dlmsfast.cosem.obis import Obis

    register = Obis.parse("1.0.1.8.0.255")
    assert app.calls == [((3, register, 1), Data(DataType.INTEGER, 0)),
                         ((3, register, 1), Data(DataType.INTEGER, 5)),
                         ((3, register, 1), (0, Data(DataType.INTEGER, 9))),
                         ((64, Obis.parse("0.0.43.0.0.255"), 7), (0, Data(DataType.INTEGER, 2)))]
    # short-name services went out: ReadRequest 0x05, WriteRequest 0x06 (plain or ciphered)
    if security == "none":
        assert {apdu[0] for apdu in app.received} >= {0x05, 0x06}


def test_concurrent_requests_on_one_client_are_served_in_turn():
    import asyncio

    from dlmsfast import AsyncClient

    app = Application(OBJECTS, policy())
    meter = WrapperMeter(app)

    async def main():
        async with AsyncClient(meter.url, timeout=3) as c:
            return await asyncio.gather(*(c.read(o, class_id=k) for k, o in
                                          [(1, "0.0.42.0.0.255"), (3, "1.0.1.8.0.255")] * 5))

    try:
        readings = asyncio.run(main())
    finally:
        meter.close()
    assert [r.value for r in readings] == [b"DLMSFAST-METER01", 123456] * 5
