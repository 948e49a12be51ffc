"""What a read gives back where an object's value needs another attribute to
make sense of it: a Demand Register scaled by its attribute 4 (not 3), a
malformed scaler_unit failing its own object only, a Profile Generic's buffer
read as a plain object (rows with timestamps), and ``--profile`` of an object
that is not a Profile Generic. Our own server role on loopback (ownmeter) and
the simulator; the CLI in-process, the bulk reader into a real SQLite file."""
from __future__ import annotations

import asyncio
import datetime as _dt
import json
import sqlite3
from decimal import Decimal

import pytest
from ownmeter import OBJECTS, Application, WrapperMeter, policy

from dlmsfast import Client
from dlmsfast.axdr import Data, DataType, DateTime
from dlmsfast.bulk.engine import run_bulk
from dlmsfast.bulk.inputs import KeyRing, MeterRow, PlanObject, ReadPlan
from dlmsfast.cli import main
from dlmsfast.client.requests import AsyncClient
from dlmsfast.client.values import Profile
from dlmsfast.cosem import ObjectListElement, Obis, ProfileGeneric, Unit
from dlmsfast.cosem.access import object_list_type
from dlmsfast.cosem.descriptors import CaptureObjectDefinition
from dlmsfast.cosem.interface import SCALER_UNITS, registered_classes
from dlmsfast.errors import DecodeError
from dlmsfast.session.errors import ObjectUndefined
from dlmsfast.simulator import FleetConfig, MeterSimulator

UTC = _dt.timezone.utc
DEMAND = "1.0.1.4.0.255"       # Demand Register, W, scaler -1
EXTENDED = "1.0.1.6.0.255"     # Extended Register, W, scaler 0
ENERGY = "1.0.1.8.0.255"       # Register (ownmeter's OBJECTS), Wh, scaler 0
BAD = "1.0.2.8.0.255"          # Register whose scaler_unit is no structure
PROFILE = "1.0.99.1.0.255"     # clock, demand current and last average, energy
LOG = "0.0.99.98.0.255"        # a profile whose capture_objects the meter does not serve
QUARTERS = [_dt.datetime(2026, 1, 1, 0, 15 * i, tzinfo=UTC) for i in range(1, 4)]


def u32(value: int) -> Data:
    return Data(DataType.DOUBLE_LONG_UNSIGNED, value)


def scaler_unit(scaler: int, unit: int) -> Data:
    return Data(DataType.STRUCTURE, (Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit)))


def date_time(when: _dt.datetime) -> Data:
    return Data(DataType.OCTET_STRING, DateTime.from_datetime(when).to_bytes())


def _objects() -> dict:
    profile = ProfileGeneric(PROFILE, capture_objects=(
        CaptureObjectDefinition(8, "0.0.1.0.0.255", 2),
        CaptureObjectDefinition(5, DEMAND, 2),
        CaptureObjectDefinition(5, DEMAND, 3),
        CaptureObjectDefinition(3, ENERGY, 2)))
    buffer = Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (date_time(when), u32(1200 + i), u32(5600 + i), u32(123000 + i)))
        for i, when in enumerate(QUARTERS)))
    log = Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (date_time(when), Data(DataType.LONG_UNSIGNED, i)))
        for i, when in enumerate(QUARTERS)))
    objects = {
        **OBJECTS,
        (5, DEMAND, 2): u32(1234),             # current_average_value
        (5, DEMAND, 3): u32(5678),             # last_average_value
        (5, DEMAND, 4): scaler_unit(-1, 27),   # scaler_unit: 10^-1 W
        (4, EXTENDED, 2): u32(999),
        (4, EXTENDED, 3): scaler_unit(0, 27),
        (3, BAD, 2): u32(7),
        (3, BAD, 3): u32(1),
        (7, PROFILE, 2): buffer,
        (7, PROFILE, 3): profile.encode_attribute(3),
        (7, LOG, 2): log,
    }
    listed = sorted({(c, o) for c, o, _ in objects})
    elements = [ObjectListElement(c, 1 if c == 7 else 0, Obis.parse(o)) for c, o in listed]
    objects[(15, "0.0.40.0.0.255", 2)] = object_list_type(1).encode(elements, "object_list")
    return objects


@pytest.fixture(scope="module")
def meter():
    m = WrapperMeter(Application(_objects(), policy()))
    yield m
    m.close()


def read_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(["read", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_scaler_unit_table_is_the_blue_books():
    # IEC 62056-6-2: Register and Extended Register keep scaler_unit in attribute
    # 3 for their value (2); Demand Register in attribute 4, for attributes 2
    # (current_average_value) and 3 (last_average_value)
    assert SCALER_UNITS == {3: (3, (2,)), 4: (3, (2,)), 5: (4, (2, 3))}
    for class_id, (held, _) in SCALER_UNITS.items():
        (row,) = [a for a in registered_classes()[class_id].attributes if a.index == held]
        assert row.name == "scaler_unit"


def test_demand_register_values_are_scaled_by_attribute_4(meter):
    with Client(meter.url, timeout=5) as client:
        current, last, extended = client.read_many([DEMAND, f"{DEMAND}:3", EXTENDED])
        # the scaler_unit, once known, scales the other value too (no second read)
        last_alone = client.read(f"{DEMAND}:3")
    assert (current.class_id, current.value, current.scaler, current.unit, current.scaled) == (
        5, 1234, -1, Unit.WATT, Decimal("123.4"))
    assert (last.value, last.scaler, last.unit, last.scaled) == (5678, -1, Unit.WATT, Decimal("567.8"))
    assert last_alone.scaled == Decimal("567.8")
    assert (extended.value, extended.unit, extended.scaled) == (999, Unit.WATT, 999)


def test_a_malformed_scaler_unit_fails_its_object_alone(meter):
    with Client(meter.url, timeout=5) as client:
        bad, energy, demand = client.read_many([BAD, ENERGY, DEMAND])
        with pytest.raises(DecodeError) as caught:
            client.read(BAD)
        after = client.read(ENERGY)  # the association goes on
    assert isinstance(bad, DecodeError)
    assert f"{BAD} attribute 3 scaler_unit must be a structure" in str(bad)
    assert str(caught.value) == str(bad)
    assert (energy.value, energy.unit) == (123456, Unit.WATT_HOUR)
    assert demand.scaled == Decimal("123.4")
    assert after.value == 123456


def test_the_cli_reads_every_object_but_the_malformed_one(meter, capsys):
    status, out, err = read_cli(capsys, meter.url, "--json", DEMAND, BAD, f"{DEMAND}:3", EXTENDED)
    assert status == 1
    demand, bad, last, extended = json.loads(out)["results"]
    assert demand == {"object": DEMAND, "attribute": 2, "class_id": 5, "value": 1234,
                      "scaler": -1, "unit": "W", "scaled": 123.4}
    assert last["scaled"] == 567.8 and last["attribute"] == 3
    assert bad["object"] == BAD
    assert bad["error"].startswith("DecodeError: ") and "scaler_unit" in bad["error"]
    assert extended["scaled"] == 999 and extended["unit"] == "W"
    assert err.count("\n") == 1 and BAD in err

    status, out, _ = read_cli(capsys, meter.url, DEMAND, BAD)
    assert status == 1
    assert f"{DEMAND}:2  123.4 W  (value 1234, scaler -1)" in out.splitlines()


def test_a_profile_with_demand_register_columns_is_scaled_by_attribute_4(meter):
    with Client(meter.url, timeout=5) as client:
        profile = client.read_profile(PROFILE)
    assert [c.unit for c in profile.columns] == [None, Unit.WATT, Unit.WATT, Unit.WATT_HOUR]
    assert profile.rows[0] == (QUARTERS[0], Decimal("120.0"), Decimal("560.0"), 123000)
    assert profile.rows[-1] == (QUARTERS[-1], Decimal("120.2"), Decimal("560.2"), 123002)


def test_a_profile_buffer_read_as_an_object_comes_as_rows_with_timestamps(meter, capsys):
    with Client(meter.url, timeout=5) as client:
        buffer, log = client.read_many([f"{PROFILE}:2", f"{LOG}:2"])
    # decoded with the capture objects read beside it, as read_profile gives it;
    # unscaled: the value held
    assert isinstance(buffer.value, Profile)
    assert buffer.value.rows == [(when, 1200 + i, 5600 + i, 123000 + i)
                                 for i, when in enumerate(QUARTERS)]
    assert [(c.class_id, str(c.logical_name), c.attribute_index) for c in buffer.value.columns] == [
        (8, "0.0.1.0.0.255", 2), (5, DEMAND, 2), (5, DEMAND, 3), (3, ENERGY, 2)]
    assert buffer.scaled is None and buffer.data.type is DataType.ARRAY
    # no capture_objects to be had: date-times still known by their shape
    assert log.value == [(when, i) for i, when in enumerate(QUARTERS)]

    status, out, _ = read_cli(capsys, meter.url, "--json", f"{PROFILE}:2", f"{LOG}:2")
    assert status == 0
    rows, logged = json.loads(out)["results"]
    # as --profile gives a profile: columns and rows
    assert rows["rows"][0] == ["2026-01-01T00:15:00+00:00", 1200, 5600, 123000]
    assert [(c["class_id"], c["object"], c["attribute"]) for c in rows["columns"]] == [
        (8, "0.0.1.0.0.255", 2), (5, DEMAND, 2), (5, DEMAND, 3), (3, ENERGY, 2)]
    assert (rows["object"], rows["attribute"], rows["class_id"]) == (PROFILE, 2, 7)
    assert logged["value"][-1] == ["2026-01-01T00:45:00+00:00", 2]
    status, out, _ = read_cli(capsys, meter.url, f"{PROFILE}:2")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0] == f"{PROFILE}:2  profile, 3 rows"
    assert lines[2:] == ["  2026-01-01T00:15:00+00:00 | 1200 | 5600 | 123000",
                         "  2026-01-01T00:30:00+00:00 | 1201 | 5601 | 123001",
                         "  2026-01-01T00:45:00+00:00 | 1202 | 5602 | 123002"]


def test_bulk_stores_demand_register_values_and_columns_scaled(meter, tmp_path):
    store = tmp_path / "readings.db"
    plan = ReadPlan(objects=(PlanObject(5, Obis.parse(DEMAND), 2), PlanObject(5, Obis.parse(DEMAND), 3)),
                    clock=False, profile=Obis.parse(PROFILE))
    summary = run_bulk([MeterRow("m1", meter.url)], KeyRing(), plan, store, workers=1)
    assert summary.succeeded == 1, summary
    db = sqlite3.connect(store)
    got = {(obj, attribute, when): (value, unit, scaled) for obj, attribute, when, value, unit, scaled
           in db.execute("SELECT object, attribute, capture_time, value, unit, scaled FROM readings")}
    db.close()
    registers = {(a, v, u, s) for (o, a, w), (v, u, s) in got.items()
                 if o == DEMAND and w not in {q.isoformat() for q in QUARTERS}}
    assert registers == {(2, 1234, "W", 123.4), (3, 5678, "W", 567.8)}
    first = QUARTERS[0].isoformat()
    assert got[(DEMAND, 2, first)] == (1200, "W", 120.0)
    assert got[(DEMAND, 3, first)] == (5600, "W", 560.0)
    assert got[(ENERGY, 2, first)] == (123000, "Wh", 123000)


# --- --profile of an object that is no Profile Generic ------------------------------

def _run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


@pytest.mark.parametrize("referencing", ["ln", "sn"])
def test_a_profile_of_another_class_names_its_class(referencing):
    async def scenario():
        async with MeterSimulator(FleetConfig(meters=1, base_port=0, profile_rows=4,
                                              referencing=referencing)) as sim:
            out = {}
            sent: list[bytes] = []

            def trace(direction: str, frame: bytes) -> None:
                if direction == "out":
                    sent.append(frame)

            async with AsyncClient(sim.url(0), timeout=5, referencing=referencing,
                                   trace=trace) as meter:
                with pytest.raises(ObjectUndefined) as register:
                    await meter.read_profile(ENERGY)  # the object list not read before
                out["register"] = str(register.value)
                before = len(sent)
                with pytest.raises(ObjectUndefined) as clock:
                    await meter.read_profile("0.0.1.0.0.255")  # the object list known now
                out["clock"], out["clock_requests"] = str(clock.value), len(sent) - before
                with pytest.raises(ObjectUndefined) as missing:
                    await meter.read_profile("9.9.9.9.9.9")
                out["missing"] = str(missing.value)
            sent.clear()
            async with AsyncClient(sim.url(0), timeout=5, referencing=referencing,
                                   trace=trace) as meter:
                start = len(sent)
                profile = await meter.read_profile(PROFILE)
                out["rows"], out["profile_requests"] = len(profile.rows), len(sent) - start
            return out

    out = _run(scenario())
    assert out["register"] == f"{ENERGY} is a Register (class 3), not a Profile Generic (class 7)"
    assert out["clock"] == "0.0.1.0.0.255 is a Clock (class 8), not a Profile Generic (class 7)"
    assert out["clock_requests"] == 0
    assert "9.9.9.9.9.9" in out["missing"] and "Profile Generic" not in out["missing"]
    # the successful path asks what it asked before: capture_objects, buffer,
    # scaler_units (short names: the object list first, for the base names)
    assert out["rows"] == 4
    assert out["profile_requests"] == (3 if referencing == "ln" else 4)


def test_the_cli_says_a_register_is_no_profile(meter, capsys):
    status, out, err = read_cli(capsys, meter.url, "--profile", ENERGY, "--json")
    assert status == 1
    (result,) = json.loads(out)["results"]
    assert result["error"] == (f"ObjectUndefined: {ENERGY} is a Register (class 3), "
                               "not a Profile Generic (class 7)")
    assert err.count("\n") == 1


# --- pushes read the same table ----------------------------------------------------

def test_a_pushed_demand_register_is_scaled_by_its_attribute_4():
    from dlmsfast.apdu import DataNotification
    from dlmsfast.push import PushDecoder

    def descriptor(class_id: int, obis: str, attribute: int) -> Data:
        return Data(DataType.STRUCTURE, (Data(DataType.LONG_UNSIGNED, class_id),
                                         Data(DataType.OCTET_STRING, bytes(Obis.parse(obis))),
                                         Data(DataType.INTEGER, attribute),
                                         Data(DataType.LONG_UNSIGNED, 0)))

    # a push setup's push_object_list first, then one value per object
    listed = [(40, "0.0.25.9.0.255", 2), (5, DEMAND, 2), (5, DEMAND, 3), (5, DEMAND, 4),
              (4, EXTENDED, 2), (4, EXTENDED, 3)]
    push_list = Data(DataType.ARRAY, tuple(descriptor(*d) for d in listed))
    body = Data(DataType.STRUCTURE, (push_list, u32(1234), u32(5678), scaler_unit(-1, 27),
                                     u32(999), scaler_unit(0, 27)))
    apdu = DataNotification(date_time=DateTime.from_datetime(QUARTERS[0]).to_bytes(),
                            notification_body=body).to_bytes()
    (notification,) = PushDecoder().feed_apdu(apdu)
    got = {(str(r.object), r.attribute): (r.value, r.scaled, r.unit) for r in notification.readings}
    assert got == {(DEMAND, 2): (1234, Decimal("123.4"), "W"),
                   (DEMAND, 3): (5678, Decimal("567.8"), "W"),
                   (EXTENDED, 2): (999, 999, "W")}
