"""Real pushed HAN/P1 captures (../shared/han/frames.json) decode to the values
their publishers give: scaled values, units, timestamps.

The captures are others' test data under their own licences: they are read
from ../shared/han, never copied here. Where the folder is absent the module
is skipped with the reason, except under CI, where it fails.
"""
from __future__ import annotations

import datetime as dt

import pytest
from han_frames import (
    BY_ID,
    FRAMES,
    GOOD,
    NO_OBIS,
    SUSPECT,
    TIMESTAMPS,
    as_datetime,
    expected_obis,
    expected_unit,
    same_value,
)

from dlmsfast.axdr import DateTime
from dlmsfast.cosem.obis import Obis
from dlmsfast.errors import DecodeError, DlmsError, SecurityError
from dlmsfast.push import Notification, PushDecoder, PushKeys, Reading, readings_of


def _keys(entry):
    keys = entry.get("keys")
    if not keys:
        return None, True
    return PushKeys(ek=keys["ek"], ak=keys["ak"]), keys["ak"] is not None


def _decode(entry) -> list[Notification]:
    keys, verify = _keys(entry)
    return readings_of(bytes.fromhex(entry["hex"]), keys=keys, verify_tag=verify)


def test_the_set_is_what_the_readme_says():
    assert len(FRAMES) == 19
    assert len({e["make"] for e in FRAMES}) >= 8


@pytest.mark.parametrize("entry", GOOD, ids=lambda e: e["id"])
def test_entry_decodes_to_its_expected_values(entry):
    notifications = _decode(entry)
    assert len(notifications) == 1
    notification = notifications[0]
    readings = notification.readings
    assert readings, "no readings"
    by_obis = {}
    for reading in readings:
        assert isinstance(reading.object, Obis)
        by_obis.setdefault(str(reading.object), reading)
    for item in entry["expected"] or ():
        obis = expected_obis(item)
        if obis == NO_OBIS:
            assert any(same_value(item["value"], r.value, r.scaled) for r in readings), item
            continue
        assert obis in by_obis, f"{obis} missing ({item})"
        reading = by_obis[obis]
        assert same_value(item["value"], reading.value, reading.scaled), (item, reading)
        if "unit" in item:
            symbol, scaler = expected_unit(item["unit"])
            assert reading.unit == symbol, (item, reading)
            if scaler is not None:
                assert reading.scaler == scaler
        if "scaler" in item:
            assert reading.scaler == item["scaler"]
    if entry["id"] in TIMESTAMPS:
        assert as_datetime(notification.date_time) == TIMESTAMPS[entry["id"]]
        assert all(as_datetime(r.timestamp) == TIMESTAMPS[entry["id"]] for r in readings)
    # a reading is authenticated exactly when a tag was checked
    expect_auth = bool(entry.get("keys") and entry["keys"].get("ak"))
    assert all(r.authenticated is expect_auth for r in readings)


def _gurux_reads(entry):
    peer = entry.get("peers", {}).get("gurux_dlms_1.0.203", {})
    return peer.get("reads") or []


# Where gurux and the standard disagree, the standard wins: Energomera pushes the
# push setup's push_object_list and then one value per object; gurux reads each
# descriptor's attribute index (2) as the object's value.
GURUX_WRONG = {"dp-energomera-raw"}


@pytest.mark.parametrize("entry", [e for e in GOOD if _gurux_reads(e) and e["id"] not in GURUX_WRONG],
                         ids=lambda e: e["id"])
def test_entry_agrees_with_gurux_where_gurux_reads_it(entry):
    """gurux-dlms's values (raw value, scaler, unit code), recorded when the set
    was collected, are an independent oracle for the OBIS-carrying lists."""
    readings = {str(r.object): r for r in _decode(entry)[0].readings}
    for obis, value, scaler, unit in _gurux_reads(entry):
        reading = readings[obis]
        if isinstance(value, int):
            assert reading.value == value, obis
        elif isinstance(reading.value, (dt.datetime, DateTime)):
            # gurux gives a date-time as its 12 octets in hex
            assert len(value) == 24
        else:
            assert str(reading.value) == value, obis
        if scaler is not None:
            assert (reading.scaler, reading.unit_code) == (scaler, unit), obis


def test_energomera_values_follow_the_push_object_list():
    readings = {str(r.object): r.value for r in _decode(BY_ID["dp-energomera-raw"])[0].readings}
    assert readings["0.0.42.0.0.255"] == "EMR0222173608710"
    assert readings["0.0.97.98.10.255"] == 65535
    assert "0.0.25.9.0.255" not in readings  # the push setup: its value is the list itself


def test_kaifa_date_time_with_an_extra_type_octet():
    """Kaifa (Norway) writes 09 0C + 12 octets where the header has 0C + 12."""
    entry = BY_ID["dp-kaifa-ma304h3e-list2"]
    raw = bytes.fromhex(entry["hex"])
    assert raw[12:13] == b"\x0f"  # data-notification right after the LLC
    assert raw[17:19] == b"\x09\x0c"
    notification = _decode(entry)[0]
    assert notification.layout == "no-kaifa-list2-3p"
    assert notification.date_time == DateTime(2017, 9, 15, 5, 5, 33, 40, None, None, 0)


def test_a_flag_octet_and_an_escape_octet_inside_a_frame_are_data():
    """0x7E and 0x7D in the information field: the length field delimits the
    frame, and DLMS HDLC has no byte stuffing."""
    kaifa = _decode(BY_ID["amshan-hdlc-kaifa-list1"])[0].readings
    assert [(str(r.object), r.value, r.unit) for r in kaifa] == [("1.0.1.7.0.255", 5502, "W")]
    aidon = _decode(BY_ID["amshan-hdlc-aidon-list1"])[0].readings
    assert [(str(r.object), r.value, r.unit) for r in aidon] == [("1.0.1.7.0.255", 1661, "W")]


def test_encryption_only_push_needs_the_named_option():
    entry = BY_ID["netznoe-evn-example-mbus"]
    keys = PushKeys(ek=entry["keys"]["ek"])
    with pytest.raises(DlmsError, match="no-tag-check"):
        PushDecoder(keys=keys)
    notification = readings_of(bytes.fromhex(entry["hex"]), keys=keys, verify_tag=False)[0]
    assert notification.authenticated is False
    assert notification.layout == "at-evn-kaifa-ma309"
    assert {str(r.object): r.value for r in notification.readings}["0.0.96.1.0.255"] == "181220000009"


def test_tag_checked_push_deciphers_without_the_ak_only_when_asked():
    """Kamstrup's SC 0x30 push with only the EK: deciphered, marked unauthenticated."""
    entry = BY_ID["dp-kamstrup-omnipower-ciphered"]
    with_ak = _decode(entry)[0]
    without = readings_of(bytes.fromhex(entry["hex"]), keys=PushKeys(ek=entry["keys"]["ek"]),
                          verify_tag=False)[0]
    assert with_ak.authenticated and not without.authenticated
    assert [(r.object, r.value) for r in with_ak.readings] == \
        [(r.object, r.value) for r in without.readings]


def test_wrong_authentication_key_is_a_tag_error():
    entry = BY_ID["dp-lg-e450-gbt-ciphered"]
    keys = PushKeys(ek=entry["keys"]["ek"], ak=bytes(16))
    with pytest.raises(SecurityError):
        readings_of(bytes.fromhex(entry["hex"]), keys=keys)


def test_ciphered_push_without_its_key_is_a_security_error():
    entry = BY_ID["dp-kmswest-mbus-ciphered-nokey"]
    with pytest.raises(SecurityError, match="454C536570000001"):
        _decode(entry)


def test_replayed_push_is_rejected():
    entry = BY_ID["dp-lg-e450-gbt-ciphered"]
    decoder = PushDecoder(keys=_keys(entry)[0])
    raw = bytes.fromhex(entry["hex"])
    first = decoder.feed(raw)
    second = decoder.feed(raw)
    assert isinstance(first[0], Notification)
    assert len(second) == 1 and isinstance(second[0].error, SecurityError)


@pytest.mark.parametrize("entry", SUSPECT, ids=lambda e: e["id"])
def test_suspect_entry_gives_readings_or_a_dlms_error(entry):
    try:
        notifications = _decode(entry)
    except DlmsError:
        return
    assert all(isinstance(r, Reading) for n in notifications for r in n.readings)


def test_the_zmf100_frame_as_published_fails_its_fcs():
    with pytest.raises(DecodeError, match="FCS"):
        _decode(BY_ID["dp-lg-zmf100-suspect"])


@pytest.mark.parametrize("entry", [e for e in GOOD if e["transport"] != "raw-apdu"],
                         ids=lambda e: e["id"])
def test_entry_fed_byte_by_byte_gives_the_same_readings(entry):
    whole = _decode(entry)[0].readings
    raw = bytes.fromhex(entry["hex"])
    keys, verify = _keys(entry)
    decoder = PushDecoder(keys=keys, verify_tag=verify)
    events = []
    for i in range(len(raw)):
        events += decoder.feed(raw[i : i + 1])
    events += decoder.finish()
    got = [r for e in events if isinstance(e, Notification) for r in e.readings]
    assert got == list(whole)
