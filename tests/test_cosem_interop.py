"""The objects of ../shared/interop's meter (README's object table), encoded by
that meter's own gurux-dlms objects, read through dlmsfast's classes: the
values the session and client layers will get from it over the wire."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cosem_gurux import interop_meter_encodings
from dlmsfast.axdr import DateTime, encode
from dlmsfast.cosem import AssociationLN, CaptureObjectDefinition, Obis, ProfileGeneric, Unit
from dlmsfast.cosem.classes.profile_generic import SortMethod

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)


def _selections():
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=tuple(
        CaptureObjectDefinition(c, Obis.parse(n), 2) for c, n in (
            (8, "0.0.1.0.0.255"), (1, "0.0.96.10.1.255"), (3, "1.0.1.8.0.255"), (3, "1.0.2.8.0.255"))))
    clock_column, a_plus = profile.capture_objects[0], profile.capture_objects[2]
    accesses = [
        profile.range_access(T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2),
                             columns=(clock_column, a_plus)),
        profile.range_access(dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
                             dt.datetime(2026, 1, 1, 1, 30)),  # naive: deviation unspecified = UTC here
        profile.entry_access(95, 0, 2, 3),
    ]
    return [(a.access_selector, encode(a.access_parameters).hex()) for a in accesses]


@pytest.fixture(scope="module")
def meter():
    return interop_meter_encodings(_selections())


@pytest.fixture(scope="module")
def objects(meter):
    """Every object of the meter's object list, read attribute by attribute."""
    association = AssociationLN("0.0.40.0.0.255", 1)
    association.decode_attribute_bytes(2, bytes.fromhex(meter["object_list"]))
    read = {}
    for element in association.object_list:
        obj = element.make_object()
        for attribute in obj.attribute_table(obj.version):
            if element.access_rights.can_read(attribute.index) and element.class_id != 15:
                raw = bytes.fromhex(meter["attributes"][str(element.logical_name)][str(attribute.index)])
                obj.decode_attribute_bytes(attribute.index, raw)
        read[str(element.logical_name)] = (element, obj)
    return read


def test_object_list_names_the_nine_objects_with_their_rights(objects):
    assert {name: (e.class_id, e.version) for name, (e, _) in objects.items()} == {
        "0.0.1.0.0.255": (8, 0), "0.0.42.0.0.255": (1, 0), "0.0.96.1.0.255": (1, 0),
        "0.0.96.10.1.255": (1, 0), "1.0.1.8.0.255": (3, 0), "1.0.2.8.0.255": (3, 0),
        "1.0.32.7.0.255": (3, 0), "1.0.99.1.0.255": (7, 1), "0.0.40.0.0.255": (15, 1)}
    association = objects["0.0.40.0.0.255"][0].access_rights
    assert all(association.can_read(i) for i in range(1, 10) if i != 7)
    assert not association.can_read(7)  # the secret
    assert association.can_call(1) and not association.can_call(2)
    register = objects["1.0.1.8.0.255"][0].access_rights
    assert register.can_read(2) and not register.can_write(2) and not register.can_call(1)


def test_registers_give_physical_values_with_units(objects):
    a_plus, a_minus, voltage = (objects[n][1] for n in ("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.32.7.0.255"))
    assert (a_plus.value, a_plus.scaler, a_plus.unit) == (1960, -3, Unit.WATT_HOUR)
    assert a_plus.scaled == Decimal("1.96") and a_plus.unit.symbol == "Wh"
    assert (a_minus.value, a_minus.scaled) == (980, Decimal("0.98"))
    assert (voltage.value, voltage.scaled, voltage.unit.symbol) == (2301, Decimal("230.1"), "V")


def test_data_objects(objects):
    assert objects["0.0.42.0.0.255"][1].value == b"MMM0000012345678"
    assert objects["0.0.96.1.0.255"][1].value == b"12345678"
    assert objects["0.0.96.10.1.255"][1].value == 0


def test_clock(objects):
    clock = objects["0.0.1.0.0.255"][1]
    assert clock.datetime() == dt.datetime(2026, 1, 2, tzinfo=UTC)
    assert (clock.time_zone, clock.status, clock.daylight_savings_deviation,
            clock.daylight_savings_enabled, int(clock.clock_base)) == (0, 0, 0, False, 0)
    assert clock.daylight_savings_begin == DateTime()  # every field "not specified"


def test_load_profile_rows(objects):
    profile = objects["1.0.99.1.0.255"][1]
    registers = {n: objects[n][1].scaler_unit for n in ("1.0.1.8.0.255", "1.0.2.8.0.255")}
    assert profile.capture_period == 900 and profile.sort_method is SortMethod.FIFO
    assert profile.entries_in_use == profile.profile_entries == 96
    assert profile.capture_objects == tuple(
        CaptureObjectDefinition(c, Obis.parse(n), 2) for c, n in (
            (8, "0.0.1.0.0.255"), (1, "0.0.96.10.1.255"), (3, "1.0.1.8.0.255"), (3, "1.0.2.8.0.255")))
    rows = profile.rows(scalers=registers)
    assert len(rows) == 96
    for i, row in enumerate(rows):
        assert row == (T0 + dt.timedelta(minutes=15 * i), 0,
                       Decimal(1000 + 10 * i) / 1000, Decimal(500 + 5 * i) / 1000)


def test_selective_access_as_the_meter_serves_it(meter):
    """The meter's own row selection applied to our selective access: both
    range ends inclusive, the columns asked for; by entry, 1-based."""
    by_range, by_local_range, by_entry = meter["selections"]
    assert by_range == [list(range(4, 9)), ["0.0.1.0.0.255", "1.0.1.8.0.255"]]
    # 02:00+01:00 is 01:00Z (row 4); a naive 01:30 (deviation unspecified) the meter takes as UTC (row 6)
    assert by_local_range == [[4, 5, 6], None]
    assert by_entry == [[94, 95], ["0.0.96.10.1.255", "1.0.1.8.0.255"]]
