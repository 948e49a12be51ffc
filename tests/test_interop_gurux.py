"""dlmsfast's client against an independent meter: ../shared/interop/gurux_meter.py,
driven by gurux-dlms's own server classes, as a subprocess on loopback.

All 42 combinations the meter offers: framing {wrapper, HDLC} x authentication
{none (client 16), LLS (client 17), HLS-GMAC (client 1)} x security {none,
auth, enc, authenc}, each ciphered one with general-glo-ciphering (the meter
offers general-protection) and with glo-ciphering (--no-general-protection).
One meter process per group (framing x ciphering form, --security any), read in
every association: the clock, the three registers with their scaler_unit, the
logical device name and the 96-row load profile, whole and by range. The
expected values are those of the meter's README (object table), with
--deterministic fixing its clock at 2026-01-02T00:00:00 UTC.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dlmsfast import Client
from dlmsfast.errors import DlmsError

from interop import GuruxMeter, client_options

UTC = dt.timezone.utc
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
REGISTERS = {
    "1.0.1.8.0.255": (1960, -3, "Wh", Decimal("1.960")),
    "1.0.2.8.0.255": (980, -3, "Wh", Decimal("0.980")),
    "1.0.32.7.0.255": (2301, -1, "V", Decimal("230.1")),
}
COLUMNS = [(8, "0.0.1.0.0.255", 2), (1, "0.0.96.10.1.255", 2), (3, "1.0.1.8.0.255", 2),
           (3, "1.0.2.8.0.255", 2)]


def expected_row(i: int) -> tuple:
    return (START + dt.timedelta(minutes=15 * i), 0,
            Decimal(1000 + 10 * i).scaleb(-3), Decimal(500 + 5 * i).scaleb(-3))


GROUPS = {
    # name: gurux_meter.py options
    "wrapper-general-glo": ("--wrapper",),
    "wrapper-glo": ("--wrapper", "--no-general-protection"),
    "hdlc-general-glo": ("--hdlc",),
    "hdlc-glo": ("--hdlc", "--no-general-protection"),
}


def combinations():
    """The 42 (group, auth, security): unciphered ones once per framing."""
    for group in GROUPS:
        for auth in ("none", "lls", "hls-gmac"):
            for security in ("none", "auth", "enc", "authenc"):
                if security == "none" and group.endswith("-glo") and "general" not in group:
                    continue  # no ciphering: the form does not matter
                yield group, auth, security


COMBINATIONS = list(combinations())
assert len(COMBINATIONS) == 42


@pytest.fixture(scope="module")
def meters():
    started: dict[str, GuruxMeter] = {}

    def get(group: str) -> GuruxMeter:
        if group not in started:
            started[group] = GuruxMeter(*GROUPS[group], "--auth", "all", "--security", "any",
                                        "--deterministic")
        return started[group]

    yield get
    for meter in started.values():
        meter.stop()


def read_everything(meter: GuruxMeter, framing: str, **options) -> None:
    with Client(meter.url, framing=framing, timeout=5, **options) as c:
        readings = c.read_many(["0.0.1.0.0.255", "0.0.42.0.0.255", *REGISTERS])
        clock, name, *registers = readings
        assert not any(isinstance(r, DlmsError) for r in readings), readings
        assert clock.class_id == 8
        assert clock.value == dt.datetime(2026, 1, 2, tzinfo=UTC)
        assert name.value == b"MMM0000012345678"
        for reading, (obis, (value, scaler, unit, scaled)) in zip(registers, REGISTERS.items()):
            assert (str(reading.object), reading.class_id, reading.value, reading.scaler,
                    reading.unit.symbol, reading.scaled) == (obis, 3, value, scaler, unit, scaled)
        whole = c.read_profile("1.0.99.1.0.255")
        assert [(col.class_id, str(col.logical_name), col.attribute_index)
                for col in whole.columns] == COLUMNS
        assert whole.rows == [expected_row(i) for i in range(96)]
        part = c.read_profile("1.0.99.1.0.255", START + dt.timedelta(hours=1),
                              START + dt.timedelta(hours=2))
        assert part.rows == [expected_row(i) for i in range(4, 9)]
        entries = c.read_profile("1.0.99.1.0.255", from_entry=3, to_entry=5)
        assert entries.rows == [expected_row(i) for i in range(2, 5)]
        assert c.association is not None


@pytest.mark.parametrize("group, auth, security", COMBINATIONS,
                         ids=[f"{g}-{a}-{s}" for g, a, s in COMBINATIONS])
def test_read_gurux_meter(meters, group, auth, security):
    meter = meters(group)
    options = client_options(auth, security)
    # the ciphering form is chosen by what the meter grants: general-glo where it
    # offers general-protection, glo where it does not
    read_everything(meter, group.split("-")[0], **options)


@pytest.mark.parametrize("group, auth, security", [("wrapper-general-glo", "none", "none"),
                                                    ("hdlc-glo", "hls-gmac", "authenc")])
def test_a_profile_buffer_read_beside_other_objects(meters, group, auth, security):
    # The buffer goes alone (get-request-normal, its blocks), not inside the
    # with-list: gurux-dlms's server cannot send a with-list answer in blocks (its
    # first block comes as C4 03 without the DataBlock-G result tag, IEC 62056-5-3
    # has C4 02 with it; get-request-next then gets an empty APDU).
    meter = meters(group)
    with Client(meter.url, framing=group.split("-")[0], timeout=5,
                **client_options(auth, security)) as c:
        profile, energy, objects = c.read_many(["1.0.99.1.0.255:2", "1.0.1.8.0.255",
                                                "0.0.40.0.0.255:2"])
    assert [(col.class_id, str(col.logical_name), col.attribute_index)
            for col in profile.value.columns] == COLUMNS
    assert len(profile.value.rows) == 96 and profile.value.rows[0][0] == START
    assert (energy.value, energy.scaled) == (1960, Decimal("1.960"))
    assert any(str(o.logical_name) == "1.0.99.1.0.255" for o in objects.value)


def test_many_blocks_with_max_pdu_256():
    meter = GuruxMeter("--wrapper", "--max-pdu", "256", "--security", "any", "--deterministic")
    try:
        read_everything(meter, "wrapper", **client_options("hls-gmac", "authenc"))
        read_everything(meter, "wrapper", **client_options("none", "none"))
        # 60 attributes do not fit one with-list request of 256 octets: batches
        with Client(meter.url, timeout=5, **client_options("lls", "enc")) as c:
            targets = [(3, obis, attribute) for obis in REGISTERS for attribute in (2, 3)] * 10
            readings = c.read_many(targets)
        assert [readings[0].value, str(readings[1].value)] == [1960, "10^-3 Wh"]
        assert len(readings) == 60 and readings[58].value == 2301
    finally:
        meter.stop()


def test_many_segments_with_hdlc_max_info_32():
    # The meter answers FRMR to a glo-ciphered request spanning several HDLC
    # frames (its README): here unciphered and general-glo-ciphered only.
    meter = GuruxMeter("--hdlc", "--hdlc-max-info", "32", "--security", "any", "--deterministic")
    try:
        read_everything(meter, "hdlc", hdlc_max_info=32, **client_options("none", "none"))
        read_everything(meter, "hdlc", hdlc_max_info=32, **client_options("lls", "authenc"))
        read_everything(meter, "hdlc", hdlc_max_info=32, **client_options("hls-gmac", "authenc"))
    finally:
        meter.stop()
