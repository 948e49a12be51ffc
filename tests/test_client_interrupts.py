"""What an association promises when its use is cut short or shared, on real
parts (our simulator, in this loop or as its own process, over loopback):

- a request cancelled (asyncio.timeout, task.cancel()) or interrupted (Ctrl-C)
  gives the association up as a timeout does, and its late answer is never
  handed to the next request; an answer is taken only by the request whose
  invoke id it carries;
- a re-opened ciphered client goes on with its invocation counter;
- a blocking Client shared by threads serialises their requests; an
  AsyncClient serves the event loop that opened it;
- short-name attributes outside their class are refused before anything is
  sent (base name + 8 (attribute - 1) would name another object's);
- over HDLC an answer that keeps coming in segments is not cut by the
  timeout, within a hard bound;
- the options' names in messages, secrets out of the client's attributes.
"""
from __future__ import annotations

import asyncio
import datetime as _dt
import select
import signal
import socket
import threading
import time

import pytest

from dlmsfast import AsyncClient, Client, errors
from dlmsfast.axdr import Data, DataType, DateTime
from dlmsfast.hdlc.link import ApduReceived, HdlcLink
from dlmsfast.simulator import FleetConfig, MeterSimulator

from ownmeter import AK, EK, OBJECTS, Application, UdpWrapperMeter, WrapperMeter, policy
from simfleet import SimulatorProcess

LDN = "0.0.42.0.0.255"
ENERGY = "1.0.1.8.0.255"


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


# --- 1. cancelled or interrupted requests ------------------------------------------


@pytest.mark.parametrize("transport,framing", [("tcp", "wrapper"), ("udp", "wrapper"),
                                               ("tcp", "hdlc")])
def test_a_request_cut_by_asyncio_timeout_gives_the_association_up(transport, framing):
    config = FleetConfig(meters=1, base_port=0, latency=(0.3, 0.3), transport=transport,
                         framing=framing)

    async def scenario():
        async with MeterSimulator(config) as sim:
            meter = AsyncClient(sim.url(0), framing=framing, timeout=5)
            async with meter:
                name = (await meter.read(LDN, class_id=1)).value
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await meter.read(ENERGY, class_id=3)
                # the energy's answer comes meanwhile: never taken for this one
                await asyncio.sleep(0.5)
                with pytest.raises(errors.LocalProtocolError) as caught:
                    await meter.read(LDN, class_id=1)
            # and opened again, the client reads what it asks for
            async with meter:
                again = (await meter.read(LDN, class_id=1)).value
            return name, str(caught.value), again

    name, message, again = run(scenario())
    # the energy and its scaler_unit, in one with-list request
    assert "when get-with-list of 2 attributes was interrupted (CancelledError)" in message
    assert "open it again" in message
    assert again == name and isinstance(name, bytes)


def test_a_cancelled_task_gives_the_association_up_and_close_still_works():
    config = FleetConfig(meters=1, base_port=0, latency=(0.3, 0.3))

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                task = asyncio.create_task(meter.read(ENERGY, class_id=3))
                await asyncio.sleep(0.1)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert meter._conn is not None and not meter._conn._open
                with pytest.raises(errors.LocalProtocolError, match="interrupted"):
                    await meter.read(LDN, class_id=1)

    run(scenario())


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ctrl_c_during_a_blocking_request_gives_the_association_up(transport):
    # the blocking client runs TCP without a loop and UDP on a private one: a
    # KeyboardInterrupt lands inside the request or in the loop's own wait
    sim = SimulatorProcess("--latency", "300ms", "--transport", transport)

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with Client(sim.meters[0]["url"], timeout=5) as meter:
            name = meter.read(LDN, class_id=1).value
            signal.setitimer(signal.ITIMER_REAL, 0.1)
            with pytest.raises(KeyboardInterrupt):
                meter.read(ENERGY, class_id=3)
            time.sleep(0.5)  # the energy's answer arrives meanwhile
            with pytest.raises(errors.LocalProtocolError, match="interrupted .KeyboardInterrupt"):
                meter.read(LDN, class_id=1)
            meter.close()
            meter.open()
            assert meter.read(LDN, class_id=1).value == name
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        sim.stop()


def test_an_answer_carrying_another_invoke_id_is_never_handed_to_the_request():
    # a request left without its answer (sent behind the client's back): the
    # meter's answer to it comes first, and the read waiting for its own refuses it
    config = FleetConfig(meters=1, base_port=0)

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                await meter.read(LDN, class_id=1)
                meter._conn.send(meter._session.get((3, ENERGY, 2)))
                with pytest.raises(errors.ProtocolError) as caught:
                    await meter.get(1, LDN, 2)
                return str(caught.value)

    message = run(scenario())
    assert "answered invoke id" in message and "get 1/0.0.42.0.0.255/2" in message


# --- 3. the invocation counter across close() and open() ---------------------------


def test_a_reopened_ciphered_client_goes_on_with_its_invocation_counter():
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            keys = sim.specs[0].keys()
            meter = AsyncClient(sim.url(0), client=sim.specs[0].client, auth="hls-gmac",
                                security="authenc", ek=keys["ek"], ak=keys["ak"],
                                system_title=keys["system_title"], timeout=3)
            values = []
            counters = []
            for _ in range(3):
                async with meter:
                    values.append((await meter.read(ENERGY, class_id=3)).value)
                    counters.append(meter._session.security_context.invocation_counter)
            return values, counters

    values, counters = run(scenario())
    assert len(values) == 3 and all(type(v) is int for v in values)
    assert counters[0] < counters[1] < counters[2]


# --- 5. shared clients --------------------------------------------------------------


@pytest.mark.parametrize("kind", [WrapperMeter, UdpWrapperMeter])
def test_a_blocking_client_shared_by_threads_serialises_their_requests(kind):
    meter = kind(Application(OBJECTS, policy()))
    errors_seen: list = []
    values: list = []
    try:
        with Client(meter.url, timeout=3) as client:
            def reader():
                for _ in range(15):
                    try:
                        values.append(client.read(ENERGY, class_id=3).value)
                        values.append(client.read(LDN, class_id=1).value)
                    except Exception as exc:  # noqa: BLE001 - every failure is the finding
                        errors_seen.append(exc)

            threads = [threading.Thread(target=reader) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert not any(thread.is_alive() for thread in threads)
    finally:
        (meter.listener if kind is WrapperMeter else meter).close()
    assert errors_seen == []
    assert sorted(set(values), key=repr) == sorted({123456, b"DLMSFAST-METER01"}, key=repr)
    assert len(values) == 4 * 15 * 2


def test_an_async_client_serves_the_loop_that_opened_it():
    meter = WrapperMeter(Application(OBJECTS, policy()))
    client = AsyncClient(meter.url, timeout=3)

    async def first():
        await client.open()
        return (await client.read(ENERGY, class_id=3)).value

    async def elsewhere():
        with pytest.raises(errors.UsageError, match="opened in another event loop"):
            await client.read(ENERGY, class_id=3)
        await client.close()  # drops the connection of the gone loop, never raises

    async def again():
        async with client:
            return await asyncio.gather(*(client.read(ENERGY, class_id=3) for _ in range(5)))

    try:
        assert run(first()) == 123456
        run(elsewhere())
        # opened in a new loop it serves that one, concurrent tasks taking turns
        assert [r.value for r in run(again())] == [123456] * 5
    finally:
        meter.close()


# --- 2. short names checked against the class ---------------------------------------


def test_short_name_attributes_and_methods_outside_their_class_are_refused():
    config = FleetConfig(meters=1, base_port=0, referencing="sn",
                         fixed_time=_dt.datetime(2026, 1, 2, tzinfo=_dt.timezone.utc))
    late = Data(DataType.OCTET_STRING, DateTime(2030, 1, 1, hour=0, minute=0, second=0,
                                                deviation=0).to_bytes())

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), referencing="sn", timeout=3) as meter:
                before = await meter.read_clock()
                refused = []
                for attempt in (
                        lambda: meter.read(f"{ENERGY}:99"),
                        lambda: meter.read(f"{ENERGY}:0"),
                        lambda: meter.get(3, ENERGY, 4),
                        lambda: meter.write(LDN, late, attribute=-30),
                        lambda: meter.write("0.0.1.0.0.255", late, attribute=10),
                        lambda: meter.call("0.0.1.0.0.255", 99)):
                    with pytest.raises(errors.UsageError) as caught:
                        await attempt()
                    refused.append(str(caught.value))
                after = await meter.read_clock()
                energy = await meter.read(ENERGY)
                return before, after, refused, energy

    before, after, refused, energy = run(scenario())
    assert after == before  # nothing was written
    assert "Register (class 3) has attributes 1..3, not 99" in refused[0]
    assert "not 0" in refused[1] and "not 4" in refused[2]
    assert "Data (class 1) has attributes 1..2, not -30" in refused[3]
    assert "Clock (class 8)" in refused[4]
    assert "no method 99" in refused[5]
    assert energy.attribute == 2 and type(energy.value) is int


# --- 6. a slow segmented answer over HDLC -------------------------------------------


def test_an_hdlc_answer_whose_segments_keep_coming_is_not_cut_by_the_timeout():
    # a segment every 0.15 s, the object list in many of them: far longer than
    # the timeout in all, each segment well within it
    sim = SimulatorProcess("--framing", "hdlc", "--latency", "150ms", "--hdlc-max-info", "64")
    try:
        with Client(sim.meters[0]["url"], framing="hdlc", hdlc_max_info=64,
                    timeout=0.5) as meter:
            started = time.monotonic()
            objects = meter.object_list()
            took = time.monotonic() - started
    finally:
        sim.stop()
    assert len(objects) > 5
    assert took > 1.0


class _PushingInsteadOfAnswering(Application):
    """Associates, then answers a GET with nothing but UI-frame notifications."""

    def __init__(self) -> None:
        super().__init__(OBJECTS, policy())
        self.asked = threading.Event()
        self.pushed = 0

    def handle(self, session, apdu: bytes) -> list[bytes]:
        if apdu[:1] == b"\xC0":
            self.asked.set()
            return []
        return super().handle(session, apdu)


def _serve_hdlc_pushing(listener: socket.socket, app: _PushingInsteadOfAnswering,
                        stop: threading.Event) -> None:
    conn, _ = listener.accept()
    link = HdlcLink("server", None, 1)
    sessions: dict = {}
    notification = b"\x0F\x00\x00\x00\x01\x00\x12\x00\x01"
    next_push = 0.0
    with conn:
        while not stop.is_set():
            if app.asked.is_set() and time.monotonic() >= next_push:
                conn.sendall(link.send_ui(notification))
                app.pushed += 1
                next_push = time.monotonic() + 0.1
            if not select.select([conn], [], [], 0.02)[0]:
                continue
            data = conn.recv(4096)
            if not data:
                return
            link.receive_data(data)
            for event in link.events():
                if isinstance(event, ApduReceived):
                    session = sessions.setdefault(16, app.session(16))
                    for apdu in app.handle(session, event.apdu):
                        conn.sendall(link.send_apdu(apdu))
            out = link.data_to_send()
            if out:
                conn.sendall(out)


def test_hdlc_notifications_never_extend_a_request():
    app = _PushingInsteadOfAnswering()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()
    server = threading.Thread(target=_serve_hdlc_pushing, args=(listener, app, stop),
                              daemon=True)
    server.start()
    try:
        with Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", framing="hdlc",
                    timeout=0.5) as meter:
            started = time.monotonic()
            with pytest.raises(errors.TimeoutError, match="within 0.5 s"):
                meter.get(3, ENERGY, 2)
            took = time.monotonic() - started
            pushed = app.pushed
    finally:
        stop.set()
        server.join(5)
        listener.close()
    assert took < 1.0
    assert pushed >= 3  # during the wait: none moved the deadline


def test_segments_extend_a_wait_a_bounded_number_of_times():
    # a meter whose segments never end: each comes within the timeout, yet the
    # request times out after at most 1 + MAX_EXTENSIONS timeouts
    from dlmsfast.transport.hdlc import MAX_EXTENSIONS

    sim = SimulatorProcess("--framing", "hdlc", "--latency", "150ms", "--hdlc-max-info", "32",
                           "--profile-rows", "2000")
    try:
        with Client(sim.meters[0]["url"], framing="hdlc", hdlc_max_info=32,
                    timeout=0.2) as meter:
            started = time.monotonic()
            with pytest.raises(errors.TimeoutError, match="did not answer"):
                meter.read_profile("1.0.99.1.0.255")
            took = time.monotonic() - started
    finally:
        sim.stop()
    assert MAX_EXTENSIONS == 8
    assert 0.2 * (1 + MAX_EXTENSIONS) - 0.1 < took < 0.2 * (1 + MAX_EXTENSIONS) + 2.0


# --- 11, 15. the options' names; secrets; the HDLC window ---------------------------


@pytest.mark.parametrize("options,named", [
    ({"security": "authenc"}, "give ek and ak"),
    ({"auth": "hls-gmac"}, "give ek and ak"),
    ({"security": "authenc", "ek": EK}, "ak is required"),
    ({"security": "enc", "ak": AK}, "ek is required"),
])
def test_missing_keys_are_named_as_the_client_names_them(options, named):
    with pytest.raises(errors.ConfigurationError) as caught:
        Client("tcp://127.0.0.1:1", **options)
    message = str(caught.value)
    assert named in message
    assert "block_cipher_key" not in message and "authentication_key" not in message


def test_no_secret_in_the_clients_plain_attributes():
    client = AsyncClient("tcp://127.0.0.1:1", auth="lls", password="Secret-Pw-42",
                         security="authenc", ek=EK, ak=AK)
    shown = repr(vars(client)) + repr(vars(Client("tcp://127.0.0.1:1", auth="lls",
                                                  password="Secret-Pw-42")))
    assert "Secret-Pw-42" not in shown and "Secret-Pw-42".encode().hex() not in shown
    for key in (EK, AK):
        assert repr(key) not in shown and key.hex() not in shown.lower()


@pytest.mark.parametrize("window", [0, 8, -1, True, 1.0])
def test_an_hdlc_window_outside_1_to_7_is_a_usage_error(window):
    with pytest.raises(errors.UsageError, match="hdlc_window is 1..7"):
        Client("tcp://127.0.0.1:1", framing="hdlc", hdlc_window=window)
