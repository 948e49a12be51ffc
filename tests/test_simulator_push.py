"""Simulated meters that push (Push Setup, IC 40): ``dlmsfast simulate --push-to``
received by ``dlmsfast listen`` (both real processes on loopback, over UDP and
TCP, plain and ciphered), the push method called through dlmsfast's Client, the
Push Setup as read agreeing with what is pushed, invocation counters shared with
the association, the spread of the periodic pushes, and gurux-dlms and
dlms-cosem deciphering and decoding the same push as independent oracles."""
from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import socket
import subprocess
import sys

import pytest
from decimal import Decimal
from conftest import PACKAGE_PARENT

from dlmsfast import errors
from dlmsfast.apdu import DataNotification
from dlmsfast.axdr import Data, DataType
from dlmsfast.client.requests import AsyncClient
from dlmsfast.cosem.classes.push_setup import MessageType, TransportService
from dlmsfast.push import PushDecoder, PushKeys, readings_of
from dlmsfast.security.ciphered import parse_ciphered
from dlmsfast.simulator import FleetConfig, MeterSimulator, expected_push, meter_specs
from dlmsfast.simulator import data as sim_data
from dlmsfast.simulator.meter import PUSH_OBJECTS
from dlmsfast.simulator.push import PUSH_CLIENT_SAP, push_destination, write_push_keys
from dlmsfast.wrapper import WrapperFrame
from simfleet import FIXED_TIME, SimulatorProcess

# the peers are in the test extra: without them these tests fail, not skip
from gurux_dlms import GXByteBuffer, GXReplyData
from gurux_dlms.enums import InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureClient
from dlms_cosem import security as dc_security
from dlms_cosem.dlms_data import DataArray, DataStructure, DlmsDataParser
from dlms_cosem.protocol.xdlms.data_notification import DataNotification as DcNotification
from dlms_cosem.protocol.xdlms.general_global_cipher import GeneralGlobalCipher

UTC = _dt.timezone.utc
AT = _dt.datetime(2024, 5, 1, 12, 7, 30, tzinfo=UTC)
TIMEOUT = 30


def run(coroutine, timeout: float = TIMEOUT):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def _udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def _client_options(spec) -> dict:
    options = dict(framing=spec.framing, client=spec.client, server=spec.server, auth=spec.auth,
                   security=spec.security, timeout=5)
    if spec.key_id:
        keys = spec.keys()
        options.update(ek=keys["ek"], ak=keys["ak"], system_title=keys["system_title"])
    return options


def _keys(k: int, ak: bool = True) -> PushKeys:
    return PushKeys(ek=sim_data.block_cipher_key(k),
                    ak=sim_data.authentication_key(k) if ak else None,
                    system_title=sim_data.server_system_title(k))


def _decoded(frame: bytes, k: int, security: str = "authenc") -> list[tuple]:
    """(object, attribute, value) of the readings the push decoder finds in a frame.
    An encryption-only push carries no tag: deciphered with the EK alone (given
    the AK, the decoder requires authentication, as a listener should)."""
    tagged = security != "enc"
    [notification] = readings_of(frame, keys=_keys(k, tagged), verify_tag=tagged)
    return [(str(r.object), r.attribute, r.value) for r in notification.readings]


def _expected(k: int, at: _dt.datetime) -> list[tuple]:
    """The readings of a push: each value pushed, but a register's scaler_unit
    (attribute 3), which scales its value's reading instead of being one."""
    return [(e.object, e.attribute, e.value) for e in expected_push(k, at) if e.attribute != 3]


def _one_push_frame(k: int, security: str) -> bytes:
    """One push of meter k of a fleet of k + 1 meters (Pusher.push: no client)."""
    sock = _udp_socket()
    config = FleetConfig(meters=k + 1, base_port=0, fixed_time=AT, security=security,
                         auth="hls-gmac" if security != "none" else "none",
                         push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            sim.pusher.push(sim.meters[k])
            await sim.pusher.sender.drain()

    run(scenario())
    frame = sock.recv(4096)
    sock.close()
    return frame


# -- in one process: the push, the Push Setup, the method, the counters ----------------


def test_expected_push_follows_the_deterministic_data():
    """expected_push is computed from data.py alone (not from the meter model)."""
    q = sim_data.quarter_of(AT)
    got = {(e.object, e.attribute): e.value for e in expected_push(5, AT)}
    assert got[("0.0.42.0.0.255", 2)] == "DFS0000031000005"
    assert got[("0.0.1.0.0.255", 2)] == AT
    assert got[("1.0.1.8.0.255", 2)] == sim_data.import_energy(5, q)
    assert got[("1.0.2.8.0.255", 2)] == sim_data.export_energy(5, q)
    assert got[("1.0.32.7.0.255", 2)] == sim_data.voltage(5, q)
    assert got[("1.0.32.7.0.255", 3)] == (-1, 35)
    assert got[("1.0.1.8.0.255", 3)] == (0, 30)


@pytest.mark.parametrize("security, general", [("none", True), ("authenc", True),
                                               ("auth", True), ("enc", False)])
def test_push_method_through_the_client_sends_one_push(security, general):
    # without general-protection offered to clients, the push is still general-glo:
    # data-notification has no glo- tag
    """ACTION 1 on the Push Setup through our Client: one push arrives, framed from the
    meter's SAP to the push client SAP, holding the meter's deterministic values."""
    sock = _udp_socket()
    config = FleetConfig(meters=2, base_port=0, auth="hls-gmac" if security != "none" else "none",
                         security=security, fixed_time=AT, general_protection=general,
                         push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[1]
            async with AsyncClient(sim.url(1), **_client_options(spec)) as meter:
                assert await meter.call("0.0.25.9.0.255", 1, 0, class_id=40) is None
            await asyncio.sleep(0.05)
            return sim.pusher.pushes, sim.pusher.sender.sent

    pushes, sent = run(scenario())
    assert (pushes, sent) == (1, 1)
    frame = sock.recv(4096)
    sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        sock.recv(4096)  # exactly one
    sock.close()
    wrapper = WrapperFrame.from_bytes(frame)
    assert (wrapper.source_wport, wrapper.destination_wport) == (1, PUSH_CLIENT_SAP)
    if security == "none":
        assert wrapper.payload[0] == 0x0F
    else:
        ciphered = parse_ciphered(wrapper.payload)
        assert wrapper.payload[0] == 0xDB  # general-glo-ciphering
        assert ciphered.system_title == sim_data.server_system_title(1)
        assert ciphered.security_control.value & 0x30 == _SC_BITS[security]
    assert _decoded(frame, 1, security) == _expected(1, AT)


_SC_BITS = {"auth": 0x10, "enc": 0x20, "authenc": 0x30}


def test_push_setup_as_read_is_what_is_pushed():
    """Attributes 2 and 3 read through a client are the list the push begins with
    and the destination it goes to."""
    sock = _udp_socket()
    port = sock.getsockname()[1]
    config = FleetConfig(meters=1, base_port=0, fixed_time=AT, push_to=f"udp://127.0.0.1:{port}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                objects = (await meter.read("0.0.25.9.0.255:2", class_id=40)).value
                destination = (await meter.read("0.0.25.9.0.255:3", class_id=40)).value
                await meter.call("0.0.25.9.0.255", 1, class_id=40)
            await asyncio.sleep(0.05)
            return objects, destination

    objects, destination = run(scenario())
    frame = sock.recv(4096)
    sock.close()
    listed = [(i.class_id, i.logical_name.to_bytes(), i.attribute_index, i.data_index)
              for i in PUSH_OBJECTS]
    assert tuple(objects) == PUSH_OBJECTS
    assert (destination.transport_service, destination.destination, destination.message) == (
        TransportService.UDP, f"127.0.0.1:{port}".encode(), MessageType.A_XDR_ENCODED_XDLMS_APDU)
    # the push opens with the same list, then one value per listed attribute
    body = DataNotification.from_bytes(WrapperFrame.from_bytes(frame).payload).notification_body
    first = body.value[0]
    assert [tuple(x.value for x in item.value) for item in first.value] == listed
    assert len(body.value) == len(PUSH_OBJECTS)
    assert _decoded(frame, 0, "none") == _expected(0, AT)


def test_push_setup_says_how_the_meter_pushes():
    """randomisation_start_interval reads the push interval (the spread), and
    number_of_retries 0: a push that fails is not sent again."""
    sock = _udp_socket()
    config = FleetConfig(meters=1, base_port=0, fixed_time=AT, push_interval=90.5,
                         push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                return [(await meter.read(f"0.0.25.9.0.255:{a}", class_id=40)).value
                        for a in (4, 5, 6)]

    assert run(scenario()) == [(), 90, 0]  # any time of day, within 90 s, no retry
    sock.close()


def test_pushes_take_their_counters_from_the_association():
    """The action-response and the push it triggers are ciphered by the same
    SecurityContext: the push carries the next IC, and the association goes on."""
    sock = _udp_socket()
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc",
                         fixed_time=AT, push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            context = sim.meters[0].push_context()
            async with AsyncClient(sim.url(0), **_client_options(sim.specs[0])) as meter:
                before = context.invocation_counter
                await meter.call("0.0.25.9.0.255", 1, 0, class_id=40)
                await asyncio.sleep(0.05)
                after_push = context.invocation_counter
                # the client refuses a replayed IC: this read proves the answers went on above it
                value = (await meter.read("1.0.1.8.0.255")).value
            return before, after_push, value

    before, after_push, value = run(scenario())
    frame = sock.recv(4096)
    sock.close()
    pushed_ic = parse_ciphered(WrapperFrame.from_bytes(frame).payload).invocation_counter
    # IC `before` went to the action-response, the next one to the push
    assert pushed_ic == before + 1
    assert after_push == before + 2
    assert value == sim_data.import_energy(0, sim_data.quarter_of(AT))


def test_push_method_parameter_must_be_integer_zero():
    config = FleetConfig(meters=1, base_port=0, fixed_time=AT, push_to="udp://127.0.0.1:9")

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                with pytest.raises(errors.DlmsError, match="type-unmatched|TYPE_UNMATCHED"):
                    await meter.call("0.0.25.9.0.255", 1, Data(DataType.OCTET_STRING, b"x"),
                                     class_id=40)
                with pytest.raises(errors.DlmsError, match="read-write-denied|READ_WRITE_DENIED"):
                    await meter.call("0.0.25.9.0.255", 2, 0, class_id=40)
            return sim.pusher.pushes

    assert run(scenario()) == 0


def test_periodic_pushes_are_spread_over_the_interval():
    """Meter k first pushes k/N of the interval after the start, then every interval."""
    sock = _udp_socket()
    config = FleetConfig(meters=4, base_port=0, fixed_time=AT, push_interval=0.4,
                         push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            loop = asyncio.get_running_loop()
            start = loop.time()
            first = {k: timer.when() - start for k, timer in sim.pusher._timers.items()}
            await asyncio.sleep(1.0)
            return first, sim.pusher.pushes

    first, pushes = run(scenario())
    for k, offset in first.items():
        assert abs(offset - 0.1 * k) < 0.05, (k, offset)
    # in 1.0 s: meters 0 and 1 push three times (0, 0.4, 0.8 / 0.1, 0.5, 0.9), 2 and 3 twice
    assert 9 <= pushes <= 11
    senders = []
    sock.settimeout(0.5)
    try:
        while True:
            frame = sock.recv(4096)
            [notification] = readings_of(frame)
            senders.append(notification.meter_id)
    except socket.timeout:
        pass
    sock.close()
    assert len(senders) == pushes
    assert senders[:4] == [f"DFS{31000000 + k:013d}" for k in range(4)]


def test_faulty_meters_push_as_they_answer():
    """wrong-tag: the push's tag does not verify; corrupt: octet 8 (the APDU's
    first) is inverted; silent: no push at all. Meters 0-2 of a ciphered fleet."""
    sock = _udp_socket()
    config = FleetConfig(meters=4, base_port=0, auth="hls-gmac", security="authenc", fixed_time=AT,
                         faults="wrong-tag@0,corrupt@1,silent@2",
                         push_to=f"udp://127.0.0.1:{sock.getsockname()[1]}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            for k in range(4):
                sim.pusher.push(sim.meters[k])
            return sim.pusher.pushes

    assert run(scenario()) == 3
    frames = [sock.recv(4096) for _ in range(3)]
    sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        sock.recv(4096)
    sock.close()
    with pytest.raises(errors.TagError):
        readings_of(frames[0], keys=_keys(0))
    assert frames[1][8] == 0xDB ^ 0xFF
    # no APDU starts with that octet: in a stream the push decoder skips the
    # frame as line garbage (and counts it); a datagram is whole, so there the
    # push is reported lost
    decoder = PushDecoder(keys=_keys(1))
    assert decoder.feed(frames[1]) + decoder.finish() == []
    assert decoder.framer.discarded_bytes == len(frames[1])
    decoder = PushDecoder(keys=_keys(1))
    [rejected] = decoder.feed_chunk(frames[1], datagram=True)
    assert isinstance(rejected.error, errors.DecodeError)
    assert f"{len(frames[1])} of the datagram's {len(frames[1])} octets" in str(rejected.error)
    assert decoder.rejected == 1
    assert _decoded(frames[2], 3) == _expected(3, AT)


@pytest.mark.parametrize("options, message", [
    (dict(push_interval=5.0), "push_interval needs push_to"),
    (dict(push_to="serial:///dev/ttyUSB0"), "udp://HOST:PORT or tcp://HOST:PORT"),
    (dict(push_to="http://127.0.0.1:80"), "scheme"),
    (dict(push_to="udp://127.0.0.1"), "host and port"),
    (dict(push_to="udp://127.0.0.1:4059", push_interval=0), "seconds > 0"),
])
def test_push_options_are_checked(options, message):
    with pytest.raises(errors.UsageError, match=message):
        FleetConfig(meters=1, **options)


def test_push_destination_octets():
    assert push_destination("tcp://10.1.2.3:4059").destination == b"10.1.2.3:4059"
    assert push_destination("udp://[::1]:4059").transport_service == TransportService.UDP


def test_unreachable_tcp_destination_is_counted_not_raised():
    # a port nobody listens on: the meter goes on serving
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = FleetConfig(meters=1, base_port=0, fixed_time=AT, push_to=f"tcp://127.0.0.1:{port}")

    async def scenario():
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                await meter.call("0.0.25.9.0.255", 1, 0, class_id=40)
                await sim.pusher.sender.drain()
                assert (await meter.read("0.0.42.0.0.255")).value == b"DFS0000031000000"
            return sim.pusher.sender

    sender = run(scenario())
    assert (sender.sent, sender.failed) == (0, 1)
    assert f"tcp://127.0.0.1:{port}" in sender.last_error


# -- gurux-dlms as an independent oracle --------------------------------------------------


@pytest.mark.parametrize("security", ["none", "authenc"])
def test_gurux_deciphers_and_decodes_the_same_push(security):
    """gurux-dlms's client (wrapper interface, the meter's keys) reads the pushed
    frame into the same values as our decoder: ciphering, framing and A-XDR checked
    by an independent implementation. (Its reading of the described body, each
    descriptor's attribute taken as a value, is not the standard's and not used.)"""
    frame = _one_push_frame(2, security)
    client = GXDLMSSecureClient(True, PUSH_CLIENT_SAP, 1, interfaceType=InterfaceType.WRAPPER)
    if security != "none":
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.blockCipherKey = sim_data.block_cipher_key(2)
        client.ciphering.authenticationKey = sim_data.authentication_key(2)
        client.ciphering.systemTitle = sim_data.client_system_title(2)
    reply, notify = GXReplyData(), GXReplyData()
    client.getData(GXByteBuffer(frame), reply, notify)
    assert notify.isComplete()
    values = notify.value
    listed = [(c, bytes(o), a, i) for c, o, a, i in values[0]]
    assert listed == [(i.class_id, i.logical_name.to_bytes(), i.attribute_index, i.data_index)
                      for i in PUSH_OBJECTS]
    ours = _decoded(frame, 2)
    theirs = []
    for (class_id, obis, attribute, _), value in zip(listed[1:], values[1:]):
        if class_id == 3 and attribute == 3:
            continue  # a scaler_unit: it scales the value's reading in ours
        if isinstance(value, bytearray):
            value = bytes(value)
        if isinstance(value, list):
            value = tuple(value)
        theirs.append(value)
    assert theirs[0].decode() == ours[0][2]                       # logical device name
    assert theirs[1] == bytes.fromhex("07E80501030C071E00000000")  # 2024-05-01 12:07:30 UTC
    assert theirs[2:] == [value for _, _, value in ours[2:]]


def _dc_plain(value):
    if isinstance(value, (DataStructure, DataArray)):
        return tuple(_dc_plain(v) for v in value.value)
    return bytes(value.value) if isinstance(value.value, bytearray) else value.value


def test_dlms_cosem_deciphers_and_decodes_the_same_push():
    """dlms-cosem, by its own parts (general-glo-cipher APDU, GCM decrypt, data-
    notification, A-XDR parser), finds the same IC, list and values."""
    frame = _one_push_frame(1, "authenc")
    apdu = WrapperFrame.from_bytes(frame).payload
    ciphered = GeneralGlobalCipher.from_bytes(apdu)
    assert bytes(ciphered.system_title) == sim_data.server_system_title(1)
    assert ciphered.invocation_counter == parse_ciphered(apdu).invocation_counter
    plain = dc_security.decrypt(ciphered.security_control, bytes(ciphered.system_title),
                                ciphered.invocation_counter, sim_data.block_cipher_key(1),
                                ciphered.ciphered_text, sim_data.authentication_key(1))
    notification = DcNotification.from_bytes(plain)
    assert notification.date_time is None
    [body] = DlmsDataParser().parse(notification.body)
    values = _dc_plain(body)
    assert values[0] == tuple((i.class_id, i.logical_name.to_bytes(), i.attribute_index,
                               i.data_index) for i in PUSH_OBJECTS)
    ours = [value for _, _, value in _decoded(frame, 1)]
    assert values[1].decode() == ours[0]
    assert values[2] == bytes.fromhex("07E80501030C071E00000000")  # 2024-05-01 12:07:30 UTC
    scaler_units = {i for i, item in enumerate(PUSH_OBJECTS)
                    if item.class_id == 3 and item.attribute_index == 3}
    assert tuple(v for i, v in enumerate(values) if i >= 3 and i not in scaler_units) == \
        tuple(ours[2:])


# -- real processes: dlmsfast simulate pushing to dlmsfast listen ------------------------


def _listener(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "dlmsfast", "listen", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd="/")


def _ready_address(process: subprocess.Popen) -> str:
    line = process.stderr.readline().decode()
    assert "listening on" in line, line + process.stderr.read().decode()
    return line.rsplit(" ", 1)[1].strip()


def _consecutive_free_ports(count: int) -> int:
    """A port P with P .. P+count-1 free now (--workers needs a --base-port)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            others = [socket.socket() for _ in range(count - 1)]
            try:
                for i, other in enumerate(others, 1):
                    other.bind(("127.0.0.1", port + i))
                return port
            except OSError:
                continue
            finally:
                for other in others:
                    other.close()
    raise AssertionError(f"no {count} consecutive free ports")


def _keys_file(path, meters: int, security: str) -> str:
    specs = meter_specs(FleetConfig(meters=meters, auth="hls-gmac", security=security))
    assert write_push_keys(path, specs) == meters
    table = json.loads(path.read_text())
    assert table[sim_data.server_system_title(1).hex().upper()] == {
        "ek": sim_data.block_cipher_key(1).hex().upper(),
        "ak": sim_data.authentication_key(1).hex().upper()}
    assert os.stat(path).st_mode & 0o077 == 0  # secrets: the owner's only
    return str(path)


def _notifications(lines: list[dict]) -> dict[int, list[list[tuple]]]:
    """The listener's JSON readings grouped into notifications by meter index
    (each push holds one reading per pushed value, the logical device name first)."""
    # the push setup's list and each register's scaler_unit are no reading of their own
    size = sum(1 for item in PUSH_OBJECTS if item.class_id != 40 and item.attribute_index != 3)
    assert len(lines) % size == 0, lines
    out: dict[int, list] = {}
    for i in range(0, len(lines), size):
        group = lines[i:i + size]
        assert group[0]["object"] == "0.0.42.0.0.255", group
        k = int(group[0]["value"][3:]) - sim_data.SERIAL_BASE
        out.setdefault(k, []).append(group)
    return out


def _as_listened(expected: list, authenticated: bool) -> list[tuple]:
    """expected_push as ``dlmsfast listen --json`` prints it (a register's
    scaler_unit scales its value's reading: no reading of its own)."""
    out = []
    for e in expected:
        if e.attribute == 3:
            continue
        value = e.value.isoformat() if isinstance(e.value, _dt.datetime) else e.value
        value = list(value) if isinstance(value, tuple) else value
        out.append((e.object, value, authenticated))
    return out


@pytest.mark.parametrize("scheme, security, extra", [
    ("udp", "none", []),
    ("tcp", "none", []),
    ("udp", "authenc", ["--workers", "2", "--devices-per-port", "2"]),
    ("tcp", "authenc", ["--no-general-protection"]),
])
def test_simulate_pushes_to_listen(tmp_path, scheme, security, extra):
    """Four meters push every 0.3 s; the listener (its own process) decodes every
    push into the simulator's deterministic values, deciphering with the meters'
    keys. With --workers each worker process pushes for its own meters."""
    meters = 4
    rounds = 2
    count = meters * rounds
    keys = [] if security == "none" else [
        "--keys-file", _keys_file(tmp_path / "keys.json", meters, security)]
    listener = _listener(f"{scheme}://127.0.0.1:0", "--json", "--count", str(count),
                         "--idle-timeout", "20", *keys)
    simulator = None
    try:
        address = _ready_address(listener)
        options = ["--meters", str(meters), "--push-to", address, "--push-interval", "0.3"]
        if security != "none":
            options += ["--auth", "hls-gmac", "--security", security]
            options += ["--write-push-keys", str(tmp_path / "written.json")]
        if "--workers" in extra:
            options += ["--base-port", str(_consecutive_free_ports(2))]
        simulator = SimulatorProcess(*options, *extra)
        if keys:
            # what the simulator wrote for the listener is the file the listener uses
            assert (tmp_path / "written.json").read_text() == (tmp_path / "keys.json").read_text()
        out, err = listener.communicate(timeout=TIMEOUT)
    finally:
        if simulator is not None:
            final = simulator.stop()
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    assert listener.returncode == 0, err.decode()
    assert "rejected" not in err.decode(), err.decode()
    assert "pushing to " + address in final
    lines = [json.loads(line) for line in out.decode().splitlines()]
    grouped = _notifications(lines)
    assert sorted(grouped) == list(range(meters))
    expected_auth = security in ("auth", "authenc")
    for k, pushes in grouped.items():
        want = _as_listened(expected_push(k, FIXED_TIME), expected_auth)
        for push in pushes:
            assert [(r["object"], r["value"], r["authenticated"]) for r in push] == want


def test_listener_applies_a_pushed_scaler_unit_to_its_value():
    """A push that lists a register's value (attribute 2) and its scaler_unit
    (attribute 3): one reading, the value scaled, with its unit (not the raw
    value and a second reading holding (-1, 35))."""
    frame = _one_push_frame(0, "none")
    [notification] = readings_of(frame)
    voltage = [r for r in notification.readings if str(r.object) == "1.0.32.7.0.255"]
    expected = next(e for e in expected_push(0, AT) if e.object == "1.0.32.7.0.255")
    assert [(r.scaled, r.unit) for r in voltage] == [(expected.scaled, "V")]


def test_simulate_cli_refuses_an_interval_without_destination():
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "simulate", "--base-port", "0",
                           "--push-interval", "1", "--duration", "1"],
                          capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    assert done.returncode == 2
    assert b"push_interval needs push_to" in done.stderr


@pytest.mark.parametrize("options, message", [
    (["--workers", "0"], b"--workers must be at least 1, got 0"),
    (["--latency", "abc"], b"argument --latency: 'abc' is not a duration"),
    (["--faults", "silent@9"], b"meter 9 is not in a fleet of 1"),
    (["--max-pdu", "5"], b"max_pdu must be 12..65535"),
])
def test_simulate_cli_refuses_settings_it_cannot_serve(options, message):
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "simulate", "--base-port", "0",
                           "--duration", "1", *options],
                          capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    assert done.returncode == 2, done
    assert message in done.stderr and b"Traceback" not in done.stderr, done.stderr


def test_a_pushed_scaler_unit_scales_only_the_attributes_it_belongs_to():
    """Register (3): attribute 3 scales 2; Demand Register (5): attribute 4
    scales 2 and 3; a scaler_unit pushed without its value stays a reading."""
    def descriptor(class_id, obis, attribute):
        return Data(DataType.STRUCTURE, (
            Data(DataType.LONG_UNSIGNED, class_id), Data(DataType.OCTET_STRING, bytes(obis)),
            Data(DataType.INTEGER, attribute), Data(DataType.LONG_UNSIGNED, 0)))

    def scaler_unit(scaler, unit):
        return Data(DataType.STRUCTURE, (Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit)))

    energy, demand, alone = (1, 0, 1, 8, 0, 255), (1, 0, 1, 4, 0, 255), (1, 0, 2, 8, 0, 255)
    # the push setup's own list first (its value: the list itself), as meters send it
    listed = [(40, (0, 0, 25, 9, 0, 255), 2), (3, energy, 2), (3, energy, 3), (5, demand, 2), (5, demand, 3), (5, demand, 4),
              (3, alone, 3)]
    values = [Data(DataType.DOUBLE_LONG_UNSIGNED, 12345), scaler_unit(-2, 30),
              Data(DataType.DOUBLE_LONG_UNSIGNED, 1500), Data(DataType.DOUBLE_LONG_UNSIGNED, 1400),
              scaler_unit(1, 27), scaler_unit(3, 30)]
    body = Data(DataType.STRUCTURE, (
        Data(DataType.ARRAY, tuple(descriptor(*item) for item in listed)), *values))
    assert len(listed) == len(body.value)
    apdu = DataNotification(date_time=b"", notification_body=body).to_bytes()
    [notification] = readings_of(apdu)
    got = [(str(r.object), r.attribute, r.value, r.scaled, r.unit) for r in notification.readings]
    assert got == [
        ("1.0.1.8.0.255", 2, 12345, Decimal("123.45"), "Wh"),
        ("1.0.1.4.0.255", 2, 1500, 15000, "W"),
        ("1.0.1.4.0.255", 3, 1400, 14000, "W"),
        ("1.0.2.8.0.255", 3, (3, 30), (3, 30), None),
    ]
