"""The meter simulator read by dlmsfast's own client: every framing x
authentication x security of a mixed fleet (``dlmsfast simulate`` in its own
process), values checked against the simulator's deterministic data; the
faults as the client sees them; the --faults syntax; invocation counters."""
from __future__ import annotations

import asyncio
import datetime as _dt
import time
from decimal import Decimal

import pytest

from dlmsfast import Client, errors
from dlmsfast.client.requests import AsyncClient
from dlmsfast.simulator import (
    FleetConfig,
    MeterSimulator,
    assign_faults,
    expected_events,
    expected_profile,
    expected_readings,
    expected_register,
    meter_index,
    parse_faults,
)
from dlmsfast.cosem import Obis
from dlmsfast.simulator import data as sim_data
from simfleet import FIXED_TIME, SimulatorProcess

UTC = _dt.timezone.utc
REGISTER_NAMES = [r[0] for r in sim_data.REGISTERS]


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


@pytest.fixture(scope="module")
def fleet():
    # 48 meters: every framing x authentication x security x referencing (see
    # FleetConfig "mixed")
    process = SimulatorProcess("--meters", "48", "--framing", "mixed", "--auth", "mixed",
                               "--security", "mixed", "--referencing", "mixed",
                               "--profile-rows", "96")
    yield process
    process.stop()


def test_the_mixed_fleet_covers_every_configuration(fleet):
    combos = {(m["framing"], m["auth"], m["security"], m["referencing"]) for m in fleet.meters}
    assert len(combos) == 48
    assert {m["client"] for m in fleet.meters} == {"16", "2", "17", "1"}
    # the keys file holds a table for every meter that needs one, and nothing for the others
    for m in fleet.meters:
        assert bool(m["key_id"]) == (m["auth"] != "none" or m["security"] != "none")
        if m["key_id"]:
            assert set(fleet.keys[m["key_id"]]) >= {"ek", "ak", "system_title"}
            assert ("password" in fleet.keys[m["key_id"]]) == (m["auth"] == "lls")


async def _read_everything(url: str, options: dict) -> dict:
    async with AsyncClient(url, timeout=5, **options) as meter:
        out = {"clock": await meter.read_clock(),
               "registers": await meter.read_many(REGISTER_NAMES),
               "ldn": (await meter.read("0.0.42.0.0.255")).value,
               "serial": (await meter.read("0.0.96.1.0.255")).value,
               "profile": await meter.read_profile("1.0.99.1.0.255")}
        out["range"] = await meter.read_profile(
            "1.0.99.1.0.255", FIXED_TIME - _dt.timedelta(hours=2), FIXED_TIME - _dt.timedelta(hours=1))
        # naive bounds are the meter's local time (deviation not specified),
        # which is UTC on the simulated meters
        out["naive range"] = await meter.read_profile(
            "1.0.99.1.0.255", (FIXED_TIME - _dt.timedelta(hours=2)).replace(tzinfo=None),
            (FIXED_TIME - _dt.timedelta(hours=1)).replace(tzinfo=None))
        out["entries"] = await meter.read_profile("1.0.99.1.0.255", from_entry=3, to_entry=5)
        out["events"] = await meter.read_profile("0.0.99.98.0.255")
        return out


@pytest.mark.parametrize("index", range(48))
def test_our_client_reads_every_configuration(fleet, index):
    row = fleet.meters[index]
    k = meter_index(row["id"])
    got = run(_read_everything(row["url"], fleet.client_options(row)))
    assert got["clock"] == FIXED_TIME
    for reading, obis in zip(got["registers"], REGISTER_NAMES):
        expected = expected_register(k, obis, FIXED_TIME)
        assert (reading.value, reading.scaled, reading.unit.symbol) == (
            expected.value, expected.scaled, expected.unit)
    assert got["ldn"] == sim_data.logical_device_name(k)
    assert got["serial"] == str(sim_data.serial_number(k)).encode()
    rows = [tuple(r) for r in got["profile"].rows]
    assert rows == expected_profile(k, FIXED_TIME, 96)
    assert len(rows) == 96 and rows[-1][0] == FIXED_TIME
    start, end = FIXED_TIME - _dt.timedelta(hours=2), FIXED_TIME - _dt.timedelta(hours=1)
    assert [tuple(r) for r in got["range"].rows] == expected_profile(k, FIXED_TIME, 96, start, end)
    assert len(got["range"].rows) == 5  # both ends inclusive
    assert got["naive range"].rows == got["range"].rows
    assert [tuple(r) for r in got["entries"].rows] == expected_profile(k, FIXED_TIME, 96)[2:5]
    events = [tuple(e) for e in got["events"].rows]
    assert events == expected_events(k, FIXED_TIME) and len(events) == sim_data.EVENTS


def test_expected_readings_give_registers_then_profile_cells():
    readings = expected_readings(3, FIXED_TIME, profile_rows=4)
    assert [r.object for r in readings[:5]] == REGISTER_NAMES
    cells = readings[5:]
    assert len(cells) == 8
    assert cells[-1].capture_time == FIXED_TIME and cells[-1].object == "1.0.2.8.0.255"
    assert readings[2].scaled == Decimal(readings[2].value).scaleb(-1)
    # registers show the value of the last capture: the profile's newest row
    assert readings[0].value == cells[-2].value


def test_object_list_access_rights_and_clock_setting():
    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0)) as sim:
            async with AsyncClient(sim.url(0), timeout=5) as meter:
                elements = await meter.object_list()
                names = {str(e.logical_name): e for e in elements}
                with pytest.raises(errors.DataAccessError):
                    await meter.read("0.0.40.0.0.255:7", class_id=15)  # the secret
                when = _dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
                await meter.set_clock(when)
                clock = await meter.read_clock()
                with pytest.raises(errors.DataAccessError):
                    await meter.write("1.0.1.8.0.255", 5, class_id=3)
                return names, clock, when

    names, clock, when = run(scenario())
    assert {"0.0.1.0.0.255", "0.0.42.0.0.255", "1.0.1.8.0.255", "1.0.99.1.0.255",
            "0.0.99.98.0.255", "0.0.40.0.0.255", "0.0.43.0.0.255", "0.0.25.9.0.255",
            "0.0.43.1.0.255"} <= set(names)
    assert names["0.0.1.0.0.255"].access_rights.can_write(2)
    assert not names["1.0.1.8.0.255"].access_rights.can_write(2)
    assert not names["0.0.40.0.0.255"].access_rights.can_read(7)
    # a profile's buffer lists the selectors it serves (by range, by entry), as
    # a meter does; attributes without selective access list none
    for profile in ("1.0.99.1.0.255", "0.0.99.98.0.255"):
        rights = names[profile].access_rights
        assert rights.for_attribute(2).access_selectors == (1, 2)
        assert rights.for_attribute(3).access_selectors is None
    assert names["0.0.1.0.0.255"].access_rights.for_attribute(2).access_selectors is None
    assert abs((clock - when).total_seconds()) < 2


def test_short_name_reads_of_methods_and_unknown_names():
    # sans-IO: the meter's association answers a client session's APDUs directly
    from dlmsfast.axdr import Data, DataType
    from dlmsfast.session import AccessDenied, AssociationSettings, ClientSession, ObjectUndefined
    from dlmsfast.session import events as ev
    from dlmsfast.simulator.fleet import SimulatedMeter, meter_specs
    from dlmsfast.simulator.meter import Catalog

    config = FleetConfig(meters=1, base_port=0, referencing="sn", fixed_time=FIXED_TIME)
    catalog = Catalog(short_names=True)
    meter = SimulatedMeter(meter_specs(config)[0], config, catalog, FIXED_TIME.timestamp)
    answer = meter.associate(16)
    client = ClientSession(AssociationSettings(logical_name_referencing=False))

    def exchange(request: bytes) -> list:
        return [event for apdu in answer(request) for event in client.receive_apdu(apdu)]

    assert any(isinstance(e, ev.Associated) for e in exchange(client.associate()))
    names = {target: name for name, target in catalog.names.items()}
    reset = names[("method", 3, Obis.parse("1.0.1.8.0.255"), 1)]
    value = names[("attribute", 3, Obis.parse("1.0.1.8.0.255"), 2)]
    (result,) = exchange(client.read([value, reset, 0x0008]))
    assert result.values[0] == Data(DataType.DOUBLE_LONG_UNSIGNED, expected_register(
        0, "1.0.1.8.0.255", FIXED_TIME).value)
    # a method's name read plainly names no attribute; an unassigned name nothing
    assert all(isinstance(v, ObjectUndefined) for v in result.values[1:])
    # invoked with parameters (read) or by a write: the meter refuses the reset
    (result,) = exchange(client.read([reset], [(0, Data(DataType.INTEGER, 0))]))
    assert isinstance(result.values[0], AccessDenied)
    (written,) = exchange(client.write([reset], [Data(DataType.INTEGER, 0)]))
    assert isinstance(written.results[0], AccessDenied)


@pytest.fixture(scope="module")
def udp_fleet():
    process = SimulatorProcess("--meters", "48", "--transport", "udp", "--auth", "mixed",
                               "--security", "mixed", "--referencing", "mixed")
    yield process
    process.stop()


@pytest.mark.parametrize("index", [0, 5, 10, 13, 23, 26, 31, 46])
def test_our_client_reads_meters_over_udp(udp_fleet, index):
    row = udp_fleet.meters[index]
    assert row["url"].startswith("udp://") and row["framing"] == "wrapper"
    k = meter_index(row["id"])
    got = run(_read_everything(row["url"], udp_fleet.client_options(row)))
    assert [tuple(r) for r in got["profile"].rows] == expected_profile(k, FIXED_TIME, 96)
    assert [tuple(r) for r in got["entries"].rows] == expected_profile(k, FIXED_TIME, 96)[2:5]
    assert got["ldn"] == sim_data.logical_device_name(k)
    # the blocking client over the same datagrams; a ciphered meter refuses counters
    # it has seen: the next one is pre-read through the public client (IDIS), which
    # speaks the meter's referencing (an SN meter refuses an LN AARQ)
    from dlmsfast import Client

    options = udp_fleet.client_options(row)
    if row["security"] != "none" or row["auth"] == "hls-gmac":
        options["invocation_counter"] = "meter"
    with Client(row["url"], timeout=5, **options) as meter:
        assert meter.read("1.0.1.8.0.255").value == expected_register(
            k, "1.0.1.8.0.255", FIXED_TIME).value


def test_udp_peers_are_associations_of_their_own_and_idle_ones_are_forgotten():
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, transport="udp", idle_timeout=0.4,
                             fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            url = sim.url(0)
            # two clients from two source ports at once: each its own association
            async with AsyncClient(url, timeout=2) as first, AsyncClient(url, timeout=2) as second:
                values = [(await first.read("1.0.2.8.0.255")).value,
                          (await second.read("1.0.2.8.0.255")).value]
                await first.close()
                values.append((await second.read("1.0.1.8.0.255")).value)
            forgotten = AsyncClient(url, timeout=2)
            await forgotten.open()
            await asyncio.sleep(0.8)  # twice the idle timeout: the meter forgot the peer
            with pytest.raises(errors.DlmsError):
                await forgotten.read("1.0.2.8.0.255")
            await forgotten.close()
            return values

    values = run(scenario())
    assert values == [expected_register(0, "1.0.2.8.0.255", FIXED_TIME).value] * 2 + [
        expected_register(0, "1.0.1.8.0.255", FIXED_TIME).value]


def test_a_blocking_client_failure_carries_no_chained_loop_error(udp_fleet):
    from dlmsfast import Client

    with pytest.raises(errors.AssociationRejected) as caught:
        Client(udp_fleet.meters[0]["url"], timeout=5, client=99).open()
    # not "During handling of RuntimeError: no running event loop, ..." in the traceback
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_a_udp_port_keeps_a_bounded_number_of_clients(monkeypatch):
    from dlmsfast.transport import server

    monkeypatch.setattr(server, "MAX_UDP_PEERS", 2)

    async def scenario():
        config = FleetConfig(meters=1, base_port=0, transport="udp", idle_timeout=None,
                             fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            clients = [AsyncClient(sim.url(0), timeout=1) for _ in range(3)]
            for client in clients:
                await client.open()
            values = [(await c.read("1.0.2.8.0.255", class_id=3)).value for c in clients[1:]]
            # the third client made the port forget the first: its association is gone
            with pytest.raises(errors.DlmsError):
                await clients[0].read("1.0.2.8.0.255", class_id=3)
            for client in clients:
                await client.close()
            return values

    assert run(scenario()) == [expected_register(0, "1.0.2.8.0.255", FIXED_TIME).value] * 2


def test_udp_takes_the_wrapper_only():
    with pytest.raises(errors.UsageError, match="over UDP the framing is the wrapper"):
        FleetConfig(transport="udp", framing="hdlc")


def test_short_names_follow_the_blue_book_and_the_same_rules():
    from dlmsfast.cosem import AssociationSN, make_object

    async def scenario():
        config = FleetConfig(meters=1, base_port=0, referencing="sn", auth="hls-gmac",
                             security="authenc", fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            keys = spec.keys()
            async with AsyncClient(sim.url(0), timeout=5, referencing="sn", client=spec.client,
                                   auth="hls-gmac", security="authenc", ek=keys["ek"],
                                   ak=keys["ak"], system_title=keys["system_title"]) as meter:
                elements = await meter.object_list()
                rights = (await meter.get(12, "0.0.40.0.0.255", 3))
                voltage = await meter.read("1.0.32.7.0.255")
                with pytest.raises(errors.DataAccessError):
                    await meter.write("1.0.1.8.0.255", 5)
                with pytest.raises(errors.DataAccessError):  # register reset: not granted
                    await meter.call("1.0.1.8.0.255", 1, 0)
                when = _dt.datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
                await meter.set_clock(when)
                clock = await meter.read_clock()
                return elements, rights, voltage, clock, when

    elements, rights, voltage, clock, when = run(scenario())
    bases = {str(e.logical_name): e.base_name for e in elements}
    # the current association's Association SN at 0xFA00; the others by 0x100
    assert bases["0.0.40.0.0.255"] == 0xFA00
    assert sorted(b for n, b in bases.items() if n != "0.0.40.0.0.255") == \
        [0x100 * (i + 1) for i in range(len(bases) - 1)]
    assert {e.class_id for e in elements if str(e.logical_name) == "0.0.40.0.0.255"} == {12}
    access = AssociationSN("0.0.40.0.0.255", version=2)
    access.decode_attribute(3, rights)
    by_base = {r.base_name: r for r in access.access_rights_list}
    assert set(by_base) == set(bases.values())
    clock_rights = {a.attribute_id: a.access_mode for a in by_base[bases["0.0.1.0.0.255"]].attribute_access}
    assert int(clock_rights[2]) == 3 and int(clock_rights[3]) == 1  # time writable, zone not
    # what the short names reach: the register's scaler_unit (base + 0x10) scales
    expected = expected_register(0, "1.0.32.7.0.255", FIXED_TIME)
    assert (voltage.value, voltage.scaled) == (expected.value, expected.scaled)
    register = make_object(3, "1.0.32.7.0.255")
    assert register.attribute_short_name(bases["1.0.32.7.0.255"], 3) == bases["1.0.32.7.0.255"] + 0x10
    assert abs((clock - when).total_seconds()) < 2


@pytest.mark.parametrize("auth, mechanism_id", [("hls-md5", 3), ("hls-sha1", 4),
                                                ("hls-sha256", 6)])
def test_hls_with_a_secret_and_with_a_wrong_one(auth, mechanism_id):
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, auth=auth, fixed_time=FIXED_TIME)
        async with MeterSimulator(config) as sim:
            keys = sim.specs[0].keys()
            options = dict(client=1, auth=auth, password=keys["password"],
                           system_title=keys["system_title"], timeout=5)
            async with AsyncClient(sim.url(0), **options) as meter:
                name = (await meter.read("0.0.40.0.0.255:6", class_id=15)).value
                voltage = await meter.read("1.0.32.7.0.255")
            with pytest.raises(errors.AuthenticationError):
                async with AsyncClient(sim.url(0), **{**options, "password": "0" * 16}):
                    pass
            return keys, name, voltage

    keys, name, voltage = run(scenario())
    assert len(keys["password"]) == 16 and "ek" in keys  # the secret travels in keys.toml
    assert name == (2, 16, 756, 5, 8, 2, mechanism_id)  # Association LN's mechanism_name
    assert voltage.scaled == expected_register(0, "1.0.32.7.0.255", FIXED_TIME).scaled


@pytest.mark.parametrize("framing", ["wrapper", "hdlc"])
def test_many_logical_devices_behind_one_port(framing):
    config = FleetConfig(meters=6, base_port=0, devices_per_port=3, framing=framing)

    async def scenario():
        async with MeterSimulator(config) as sim:
            assert len(set(sim.port_of.values())) == 2
            names = []
            for k in range(6):
                spec = sim.specs[k]
                async with AsyncClient(sim.url(k), framing=framing, server=spec.server,
                                       timeout=5) as meter:
                    names.append((await meter.read("0.0.42.0.0.255")).value)
            return names

    assert run(scenario()) == [sim_data.logical_device_name(k) for k in range(6)]


# --- invocation counters ----------------------------------------------------------


def test_invocation_counters_only_increase_and_replays_are_refused():
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            keys = spec.keys()
            options = dict(client=spec.client, auth="hls-gmac", security="authenc",
                           ek=keys["ek"], ak=keys["ak"], system_title=keys["system_title"],
                           timeout=5)
            async with AsyncClient(sim.url(0), invocation_counter=10, **options) as meter:
                first = (await meter.read("0.0.43.1.0.255", class_id=1)).value
            # the GET carried IC n and read n + 1; the ciphered RLRQ then used n + 1
            released = sim.meters[0]._last_counter()
            with pytest.raises(errors.AssociationRejected):
                async with AsyncClient(sim.url(0), invocation_counter=10, **options):
                    pass
            async with AsyncClient(sim.url(0), invocation_counter="meter", **options) as meter:
                second = (await meter.read("0.0.43.1.0.255", class_id=1)).value
            return first, released, second

    first, released, second = run(scenario())
    assert first == released > 10
    assert second > first


def test_the_pre_read_counter_moves_a_given_security_context_forward():
    # the bulk reader gives its own SecurityContext (whose hook persists each
    # IC); invocation_counter="meter" used to be ignored then, and a context
    # behind the meter was refused
    from dlmsfast.security import SecurityContext

    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            keys = spec.keys()
            options = dict(client=spec.client, auth="hls-gmac", security="authenc", timeout=5)
            async with AsyncClient(sim.url(0), invocation_counter=5000, ek=keys["ek"],
                                   ak=keys["ak"], system_title=keys["system_title"], **options):
                pass
            seen = sim.meters[0]._last_counter()
            persisted: list[int] = []

            def context(first: int) -> SecurityContext:
                return SecurityContext(
                    system_title=bytes.fromhex(keys["system_title"]), block_cipher_key=keys["ek"],
                    authentication_key=keys["ak"], invocation_counter=first,
                    on_invocation_counter=persisted.append)

            with pytest.raises(errors.AssociationRejected):
                async with AsyncClient(sim.url(0), security_context=context(1), **options):
                    pass
            behind = context(1)
            async with AsyncClient(sim.url(0), security_context=behind,
                                   invocation_counter="meter", **options) as meter:
                await meter.read("0.0.42.0.0.255")
            # a context ahead of the meter is never moved back
            ahead = context(900_000)
            async with AsyncClient(sim.url(0), security_context=ahead,
                                   invocation_counter="meter", **options):
                pass
            return seen, behind.invocation_counter, ahead.invocation_counter, persisted

    seen, behind, ahead, persisted = run(scenario())
    assert seen >= 5000 and behind > seen + 1
    assert ahead > 900_000
    # every IC the pre-read context sent went through its write-ahead hook first
    assert seen + 2 in persisted and 900_000 in persisted


# --- faults -------------------------------------------------------------------------

HLS = ("hls-gmac", "authenc")
NONE = ("none", "none")


async def _session(config: FleetConfig, timeout: float = 1.0) -> float:
    async with MeterSimulator(config) as sim:
        spec = sim.specs[0]
        keys = spec.keys()
        options = dict(framing=spec.framing, client=spec.client, auth=spec.auth,
                       security=spec.security, timeout=timeout, referencing=spec.referencing)
        if spec.key_id:
            options.update(ek=keys["ek"], ak=keys["ak"], system_title=keys["system_title"])
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with AsyncClient(sim.url(0), **options) as meter:
            await meter.read_clock()
            await meter.read_profile("1.0.99.1.0.255")
        return loop.time() - started


FAULT_CASES = [
    ("silent", "wrapper", NONE, errors.TimeoutError),
    ("silent", "hdlc", HLS, errors.TimeoutError),
    ("drop-mid-block", "wrapper", NONE, errors.ConnectionLost),
    ("drop-mid-block", "hdlc", HLS, errors.ConnectionLost),
    # no checksum under the wrapper: the damaged octet is the APDU's tag
    ("corrupt", "wrapper", NONE, errors.ProtocolError),
    # HDLC frames with a bad HCS/FCS are dropped: the meter looks silent
    ("corrupt", "hdlc", NONE, errors.TimeoutError),
    ("wrong-tag", "wrapper", HLS, errors.TagError),
    ("wrong-tag", "hdlc", ("hls-gmac", "none"), errors.AuthenticationError),
    ("refuse-association", "wrapper", HLS, errors.AssociationRejected),
    ("refuse-association", "hdlc", NONE, errors.AssociationRejected),
    ("exception-response", "wrapper", HLS, errors.ServiceError),
    ("exception-response", "hdlc", NONE, errors.ServiceError),
    ("slow-drip:5ms", "wrapper", NONE, errors.TimeoutError),
    ("latency:700ms", "hdlc", NONE, errors.TimeoutError),
]


@pytest.mark.parametrize("fault, framing, association, error", FAULT_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2][0]}" for c in FAULT_CASES])
def test_each_fault_is_the_right_error_on_the_client(fault, framing, association, error):
    auth, security = association
    config = FleetConfig(meters=1, base_port=0, framing=framing, auth=auth,
                         security=security, faults=f"{fault}@0")
    with pytest.raises(error) as caught:
        run(_session(config, timeout=0.5))
    if fault == "wrong-tag" and security != "none":
        assert "tag" in str(caught.value)


# the same faults on short-name meters and on UDP (where a dropped "connection" is
# a forgotten peer: the client waits in vain for the next block)
SN_UDP_FAULT_CASES = [
    ("drop-mid-block", {"referencing": "sn"}, HLS, errors.ConnectionLost),
    ("wrong-tag", {"referencing": "sn"}, HLS, errors.TagError),
    ("exception-response", {"referencing": "sn"}, NONE, errors.ServiceError),
    ("refuse-association", {"referencing": "sn"}, NONE, errors.AssociationRejected),
    ("silent", {"transport": "udp"}, HLS, errors.TimeoutError),
    ("drop-mid-block", {"transport": "udp"}, NONE, errors.TimeoutError),
    ("corrupt", {"transport": "udp"}, NONE, errors.ProtocolError),
    ("wrong-tag", {"transport": "udp", "referencing": "sn"}, HLS, errors.TagError),
]


@pytest.mark.parametrize("fault, extras, association, error", SN_UDP_FAULT_CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1].values())}" for c in SN_UDP_FAULT_CASES])
def test_faults_on_short_name_and_udp_meters(fault, extras, association, error):
    auth, security = association
    config = FleetConfig(meters=1, base_port=0, auth=auth, security=security,
                         faults=f"{fault}@0", **extras)
    with pytest.raises(error):
        run(_session(config, timeout=0.5))
    # without the fault the same meter reads
    run(_session(FleetConfig(meters=1, base_port=0, auth=auth, security=security, **extras),
                 timeout=2.0))


def test_the_same_fleet_without_faults_reads_in_those_configurations():
    for framing, (auth, security) in (("wrapper", HLS), ("hdlc", HLS), ("hdlc", NONE)):
        run(_session(FleetConfig(meters=1, base_port=0, framing=framing, auth=auth,
                                 security=security), timeout=2.0))


def test_latency_delays_every_answer_and_a_range_is_drawn_within_bounds():
    plain = run(_session(FleetConfig(meters=1, base_port=0)))
    slow = run(_session(FleetConfig(meters=1, base_port=0, latency=(0.05, 0.05))))
    ranged = run(_session(FleetConfig(meters=1, base_port=0, faults="latency:30-60ms")))
    # AARQ, clock, capture_objects, 3 buffer blocks, scaler_units, RLRQ: 8 answers
    assert slow >= 8 * 0.05 and slow > plain
    # the draws lie in 30..60 ms (the upper bound with room for a loaded machine)
    assert 8 * 0.03 <= ranged <= 8 * 0.06 + 1.0


def test_a_slow_drip_meter_in_its_own_process_answers_slowly_but_whole():
    # the simulator process runs on its default loop (uvloop), whose call_at gives
    # a plain Handle, without when(), for a time already past: the drip of a later
    # answer once dropped the connection instead of dripping
    process = SimulatorProcess("--meters", "1", "--faults", "slow-drip:0.2ms")
    try:
        row = process.meters[0]
        started = time.monotonic()
        with Client(row["url"], timeout=10, **process.client_options(row)) as meter:
            values = [meter.read(name, class_id=3).value for name in REGISTER_NAMES[:4]]
        took = time.monotonic() - started
    finally:
        log = process.stop()
    assert values == [expected_register(0, name, FIXED_TIME).value for name in REGISTER_NAMES[:4]]
    assert "Traceback" not in log and "Error" not in log, log
    # each octet comes alone, at least 0.2 ms after the last: the AARE and four
    # answers hold well over 100 octets
    assert took > 100 * 0.0002


def test_wrong_tag_leaves_unciphered_associations_alone():
    run(_session(FleetConfig(meters=1, base_port=0, faults="wrong-tag@0")))


# --- the --faults syntax ---------------------------------------------------------------


def test_fault_spec_shares_are_deterministic_disjoint_and_rounded():
    spec = "silent:2%,drop-mid-block:1%,latency:100-300ms:5%,refuse-association@3+7-9"
    a = assign_faults(spec, 500, seed=42)
    b = assign_faults(spec, 500, seed=42)
    c = assign_faults(spec, 500, seed=43)
    assert a == b and a != c
    silent = {k for k, f in a.items() if f.silent}
    dropping = {k for k, f in a.items() if f.drop_mid_block}
    slow = {k for k, f in a.items() if f.latency == (0.1, 0.3)}
    assert (len(silent), len(dropping), len(slow)) == (10, 5, 25)
    assert not (silent & dropping) and not (silent & slow) and not (dropping & slow)
    assert {k for k, f in a.items() if f.refuse_association} == {3, 7, 8, 9}
    assert a[3].kinds[-1] == "refuse-association"


def test_fault_spec_items_without_share_apply_to_every_meter():
    assignment = assign_faults("slow-drip,latency:20", 3)
    assert all(f.drip == 0.02 and f.latency == (0.02, 0.02) for f in assignment.values())
    assert len(assignment) == 3
    base = assign_faults("silent@1", 3, latency=(0.1, 0.2))
    assert base[0].latency == (0.1, 0.2) and base[1].silent and base[1].latency == (0.1, 0.2)


@pytest.mark.parametrize("spec, message", [
    ("sleepy:2%", "unknown kind"),
    ("silent:200%", "0..100%"),
    ("latency:2%", "needs a duration"),
    ("silent:100ms:2%", "only latency and slow-drip"),
    ("latency:fast:2%", "not a duration"),
    ("latency:300-100ms", "goes down"),
    ("silent@x", "indexes"),
    ("silent:2%@3", "not both"),
])
def test_bad_fault_specs_name_the_item(spec, message):
    with pytest.raises(errors.UsageError, match=message):
        parse_faults(spec)


def test_meters_beyond_the_fleet_are_refused():
    with pytest.raises(errors.UsageError, match="meter 999 is not in a fleet of 1"):
        assign_faults("silent@999", 1)
    assert set(assign_faults("silent@0+2", 3)) == {0, 2}


@pytest.mark.parametrize("field, value, message", [
    ("max_pdu", 5, "max_pdu must be 12..65535"),
    ("max_pdu", 70000, "max_pdu must be 12..65535"),
    ("hdlc_window", 0, "hdlc_window must be 1..7"),
    ("hdlc_window", 8, "hdlc_window must be 1..7"),
    ("hdlc_max_info", 0, r"hdlc_max_info \(--hdlc-max-info\) is the largest HDLC information "
                         r"field, 32\.\.2030"),
])
def test_fleet_settings_a_meter_could_not_serve_are_refused_up_front(field, value, message):
    # before: accepted, and every association then failed inside the simulator
    with pytest.raises(errors.UsageError, match=message):
        FleetConfig(meters=1, base_port=0, **{field: value})


def test_shares_beyond_the_fleet_are_refused():
    with pytest.raises(errors.UsageError, match="add up"):
        assign_faults("silent:60%,corrupt:50%", 10)


def test_profile_values_agree_with_the_register_functions():
    for k in (0, 1, 49, 50, 12345):
        quarters = range(0, 400, 7)
        assert sim_data.profile_values(k, quarters) == (
            [sim_data.import_energy(k, q) for q in quarters],
            [sim_data.export_energy(k, q) for q in quarters])


def test_profile_values_take_any_sequence_of_quarters():
    quarters = [5, 96, 97, 1000]
    assert sim_data.profile_values(3, quarters) == (
        [sim_data.import_energy(3, q) for q in quarters],
        [sim_data.export_energy(3, q) for q in quarters])


@pytest.mark.parametrize("local", [False, True], ids=["utc", "local-time"])
@pytest.mark.parametrize("rows", [96, 200])
@pytest.mark.parametrize("at", [FIXED_TIME, sim_data.EPOCH + _dt.timedelta(minutes=150),
                                sim_data.EPOCH])
def test_the_shared_profile_octets_are_the_row_by_row_encoding(at, rows, local):
    # The whole load profile comes from octets shared by meters of the same rates,
    # with each meter's base added into them: the same octets as encoding its rows
    # one by one, and rows that say what expected_profile says (200 rows: the
    # array's length takes 2 octets). A local-time fleet's rows differ only in
    # their date-times' deviation (not specified).
    from dlmsfast.axdr import decode_typed
    from dlmsfast.simulator import meter as sim_meter

    catalog = sim_meter.Catalog(profile_rows=rows, local_time=local)
    clock = at.timestamp
    for k in (0, 1, 7, 49, 50, 99, 12345, 4_000_000):
        model = sim_meter.MeterModel(k, catalog, clock)
        got = model.get(7, sim_meter.LOAD_PROFILE, 2)
        expected = expected_profile(k, at, rows)
        assert [tuple(cell.value for cell in row.value) for row in decode_typed(got).value] == [
            (sim_meter.date_time_octets(int(when.timestamp()), local), status, plus, minus)
            for when, status, plus, minus in expected]
        quarters = sim_data.profile_quarters(sim_data.quarter_of(at), rows)
        plus, minus = sim_data.profile_values(k, quarters)
        by_rows = sim_meter._buffer(
            list(zip(sim_meter._times(quarters[0], len(quarters), local), (0,) * len(quarters),
                     plus, minus)), sim_meter._LP_TYPES, None)
        assert got == by_rows
        assert sim_meter._profile_octets(k, quarters, local) == by_rows  # the shortcut was taken
        # the first row's date-time: deviation 0 (UTC), or 0x8000 (not specified)
        assert got[got.index(b"\x09\x0c") + 11:][:2] == (b"\x80\x00" if local else b"\x00\x00")


def test_a_profile_longer_than_the_shared_rows_is_computed_per_read():
    # Beyond SHARED_ROWS quarters nothing is kept (the caches stay small with
    # profile_rows up to 100,000): values and octets are computed per read, and right.
    from dlmsfast.axdr import decode_typed
    from dlmsfast.simulator import meter as sim_meter

    rows = sim_data.SHARED_ROWS + 10
    quarters = sim_data.profile_quarters(sim_data.quarter_of(FIXED_TIME), rows)
    before = sim_data._import_steps.cache_info().currsize
    assert sim_data.profile_values(7, quarters) == (
        [sim_data.import_energy(7, q) for q in quarters],
        [sim_data.export_energy(7, q) for q in quarters])
    got = sim_meter.MeterModel(7, sim_meter.Catalog(profile_rows=rows),
                               FIXED_TIME.timestamp).get(7, sim_meter.LOAD_PROFILE, 2)
    assert sim_data._import_steps.cache_info().currsize == before
    table = decode_typed(got).value
    assert len(table) == rows
    assert [cell.value for cell in table[-1].value][2:] == list(expected_profile(7, FIXED_TIME, rows)[-1][2:])


def test_a_profile_value_beyond_its_field_is_refused_as_before():
    # A+ of meter 4,300,000 passes 2**32 - 1 (double-long-unsigned): no shortcut
    # (a carry would spill into the next octet); the meter answers other-reason,
    # as encoding the rows one by one fails.
    from dlmsfast.simulator import meter as sim_meter

    k = 4_300_000
    quarters = sim_data.profile_quarters(sim_data.quarter_of(FIXED_TIME), 96)
    assert sim_meter._profile_octets(k, quarters) is None
    model = sim_meter.MeterModel(k, sim_meter.Catalog(), FIXED_TIME.timestamp)
    assert model.get(7, sim_meter.LOAD_PROFILE, 2) is sim_meter.OTHER


# --- the command line ------------------------------------------------------------------


def _free_base_port(count: int) -> int:
    import random
    import socket

    for _ in range(50):
        base = random.randint(20000, 60000 - count)
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def _simulate(*options: str, timeout: float = 30.0):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "dlmsfast", "simulate", *options],
                          capture_output=True, text=True, timeout=timeout)


def test_workers_serve_slices_of_one_fleet_and_count_the_sessions(tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    base = _free_base_port(6)
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "simulate", "--meters", "6", "--base-port", str(base),
         "--workers", "2", "--write-meters", str(tmp_path / "m.csv"), "--ready-file", str(ready),
         "--json", "--duration", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.02)
        urls = [line.split(",")[1] for line in (tmp_path / "m.csv").read_text().splitlines()[1:]]
        assert urls == [f"tcp://127.0.0.1:{base + k}" for k in range(6)]

        async def read_all():
            names = []
            for url in urls:
                async with AsyncClient(url, timeout=5) as meter:
                    names.append((await meter.read("0.0.42.0.0.255", class_id=1)).value)
            return names

        assert run(read_all()) == [sim_data.logical_device_name(k) for k in range(6)]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    summary = json.loads(out)
    assert summary["meters"] == 6 and summary["sessions"] == 6


def test_simulate_stops_on_sigterm_and_reports(tmp_path):
    fleet = SimulatorProcess("--meters", "2")
    url = fleet.meters[0]["url"]

    async def one():
        async with AsyncClient(url, timeout=5) as meter:
            return (await meter.read("0.0.96.1.0.255", class_id=1)).value

    assert run(one()) == str(sim_data.serial_number(0)).encode()
    output = fleet.stop()
    assert fleet.process.returncode == 0
    assert "2 meters, 1 sessions served" in output


def test_simulate_usage_errors_are_one_line_and_status_2(tmp_path):
    bad = _simulate("--faults", "sleepy:5%", "--duration", "1")
    assert bad.returncode == 2 and "unknown kind 'sleepy'" in bad.stderr
    assert bad.stderr.count("\n") == 1
    base = _free_base_port(1)
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base))
        taken.listen()
        busy = _simulate("--base-port", str(base), "--duration", "1")
    assert busy.returncode == 2 and "cannot serve" in busy.stderr
    assert "Traceback" not in busy.stderr + bad.stderr


def test_the_keys_file_is_private_and_holds_no_key_in_the_meters_file(tmp_path):
    fleet = SimulatorProcess("--meters", "3", "--auth", "hls-gmac", "--security", "authenc")
    try:
        assert (fleet.keys_file.stat().st_mode & 0o777) == 0o600
        meters_text = fleet.meters_file.read_text()
        for table in fleet.keys.values():
            assert table["ek"] not in meters_text and table["ak"] not in meters_text
        assert len(fleet.keys) == 3
    finally:
        fleet.stop()


def test_an_idle_connection_is_closed_by_the_meter():
    config = FleetConfig(meters=1, base_port=0, idle_timeout=0.2)

    async def scenario():
        async with MeterSimulator(config) as sim:
            meter = AsyncClient(sim.url(0), timeout=5)
            await meter.open()
            first = (await meter.read("0.0.96.1.0.255", class_id=1)).value
            await asyncio.sleep(0.5)
            with pytest.raises(errors.ConnectionLost):
                await meter.read("0.0.96.1.0.255", class_id=1)
            await meter.close()
            return first, sim.server.idle_closed

    first, closed = run(scenario())
    assert first == str(sim_data.serial_number(0)).encode() and closed == 1


def test_hdlc_parameters_and_glo_ciphering_are_served_as_configured():
    config = FleetConfig(meters=1, base_port=0, framing="hdlc", hdlc_max_info=512,
                         hdlc_window=3, auth="hls-gmac", security="authenc",
                         general_protection=False, fixed_time=FIXED_TIME)
    frames: list[bytes] = []

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            keys = spec.keys()
            async with AsyncClient(sim.url(0), framing="hdlc", client=spec.client,
                                   auth="hls-gmac", security="authenc", ek=keys["ek"],
                                   ak=keys["ak"], system_title=keys["system_title"],
                                   hdlc_max_info=512, hdlc_window=3, timeout=5,
                                   trace=lambda direction, frame: frames.append(frame)) as meter:
                return await meter.read_profile("1.0.99.1.0.255")

    profile = run(scenario())
    assert [tuple(r) for r in profile.rows] == expected_profile(0, FIXED_TIME, 96)
    lengths = [((f[1] & 0x07) << 8 | f[2]) + 2 for f in frames]
    assert max(lengths) > 400  # 512-octet information fields, not the default 128
    # without general-protection our client ciphers with glo- (0xC8 get-request)
    informations = [f for f in frames if b"\xe6\xe6\x00" in f]
    assert any(f[f.index(b"\xe6\xe6\x00") + 3] == 0xC8 for f in informations)
    assert not any(f[f.index(b"\xe6\xe6\x00") + 3] == 0xDB for f in informations)


@pytest.mark.parametrize("framing", ["wrapper", "hdlc"])
def test_garbage_never_stops_the_simulator(framing):
    import random

    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0, framing=framing)) as sim:
            port = sim.port_of[0]
            rng = random.Random(7)
            for _ in range(20):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
                if rng.random() < 0.5:  # a plausible header in front of the junk
                    junk = (b"\x00\x01\x00\x10\x00\x01" + len(junk).to_bytes(2, "big")
                            if framing == "wrapper" else b"\x7e\xa0\x20\x03\x21\x93") + junk
                writer.write(junk)
                await writer.drain()
                await asyncio.sleep(0.01)
                writer.close()
            async with AsyncClient(sim.url(0), framing=framing, timeout=5) as meter:
                return (await meter.read("0.0.42.0.0.255", class_id=1)).value

    assert run(scenario()) == sim_data.logical_device_name(0)


def test_meter_ids_give_their_index():
    assert meter_index("sim-00042") == 42 and meter_index("sim-123456") == 123456
    with pytest.raises(errors.UsageError):
        meter_index("meter-7")
