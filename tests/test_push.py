"""The push decoder's parts: framing (HDLC, M-Bus, wrapper), block transfer,
deciphering forms, notification quirks, layouts, keys, readings and the store."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from decimal import Decimal

import pytest

from dlmsfast.apdu import EventNotificationRequest
from dlmsfast.axdr import Data, DataType, DateTime
from dlmsfast.bulk.store import Store, StoredReading
from dlmsfast.cosem.descriptors import CosemAttributeDescriptor
from dlmsfast.cosem.obis import Obis
from dlmsfast.errors import (
    ConfigurationError, DecodeError, ProtocolError, SecurityError, UsageError,
)
from dlmsfast.push import (
    Notification, PushDecoder, PushFramer, PushKeys, Reading, Rejected, builtin_layouts,
    keys_table, layout_from_dict, load_keys_file, load_layouts, readings_of,
)
from dlmsfast.security import SecurityContext
from dlmsfast.transport.listen import capture_chunks, parse_url

from push_builders import (
    AK, EK, METER_TITLE, ciphered, expected_rows, gbt_blocks, hdlc_frames, mbus_frames,
    meter_context, notification,
)


CET = dt.timezone(dt.timedelta(hours=1))


def _readings(events) -> list[Reading]:
    return [r for e in events if isinstance(e, Notification) for r in e.readings]


def _pairs(events) -> set:
    return {(str(r.object), r.value) for r in _readings(events)}


# -- framing -------------------------------------------------------------------


def test_mbus_multi_telegram_is_joined_in_order():
    decoder = PushDecoder(keys=PushKeys(ek=EK, ak=AK))
    frames = mbus_frames(ciphered(notification(3), meter_context()), 40)
    assert len(frames) >= 4
    events = decoder.feed(b"".join(frames))
    assert _pairs(events) == expected_rows(3)
    assert events[0].authenticated and events[0].system_title == METER_TITLE


def test_mbus_segment_out_of_order_is_rejected_and_the_next_apdu_decodes():
    frames = mbus_frames(notification(1), 30)
    stream = frames[0] + frames[2] + b"".join(mbus_frames(notification(2), 30))
    events = PushDecoder().feed(stream)
    assert isinstance(events[0], Rejected) and "segment" in str(events[0].error)
    assert _pairs(events) == expected_rows(2)


def test_mbus_checksum_and_stop_octet_are_checked():
    frame = bytearray(mbus_frames(notification(1))[0])
    frame[-2] ^= 1
    framer = PushFramer()
    [error] = framer.feed(bytes(frame))
    assert isinstance(error, DecodeError) and "checksum" in str(error)
    assert framer.bad_frames == 1 and framer.last_error is error and framer.frames == 0


def test_mbus_frame_of_another_ci_is_reported_not_decoded():
    content = bytes((0x08, 0xFF, 0x72)) + bytes(12)
    frame = bytes((0x68, len(content), len(content), 0x68)) + content + bytes((sum(content) & 0xFF, 0x16))
    events = PushDecoder().feed(frame + b"".join(mbus_frames(notification(4))))
    assert [str(e.error) for e in events if isinstance(e, Rejected)] == [
        "M-Bus CI 0x72 carries no DLMS APDU segment (at byte offset 6)"]
    assert _pairs(events) == expected_rows(4)


def test_wrapper_frames_in_a_tcp_stream():
    apdu = notification(6)
    wrapped = b"\x00\x01\x00\x01\x00\x66" + len(apdu).to_bytes(2, "big") + apdu
    events = PushDecoder().feed(b"\x01\x02" + wrapped + wrapped[:5])
    assert _pairs(events) == expected_rows(6)


def test_hdlc_segments_of_two_senders_are_not_mixed():
    from dlmsfast.hdlc import LLC_RESPONSE, FrameKind, HdlcAddress, HdlcControl, HdlcFrame

    a = hdlc_frames(notification(1), 30)
    # the same list from another server address
    info = LLC_RESPONSE + notification(2)
    parts = [info[i : i + 30] for i in range(0, len(info), 30)]
    b = [HdlcFrame(HdlcAddress.client(0x10), HdlcAddress.server(2, None, 1),
                   HdlcControl(FrameKind.UI, pf=True), p, segmented=i < len(parts) - 1).to_bytes()
         for i, p in enumerate(parts)]
    interleaved = b"".join(x + y for x, y in zip(a, b)) + b"".join(a[len(b):] + b[len(a):])
    assert _pairs(PushDecoder().feed(interleaved)) == expected_rows(1) | expected_rows(2)


def test_gbt_block_missing_is_a_protocol_error():
    blocks = gbt_blocks(notification(1), 20)
    stream = b"".join(hdlc_frames(b)[0] for i, b in enumerate(blocks) if i != 1)
    events = PushDecoder().feed(stream)
    assert any(isinstance(e, Rejected) and isinstance(e.error, ProtocolError) for e in events)
    assert not _readings(events)


def test_bare_apdu_with_and_without_llc():
    apdu = notification(9)
    assert _pairs(PushDecoder().feed_apdu(apdu)) == expected_rows(9)
    assert _pairs(PushDecoder().feed_apdu(b"\xe6\xe7\x00" + apdu)) == expected_rows(9)
    assert _pairs(PushDecoder().feed_chunk(apdu)) == expected_rows(9)
    # in a framed stream, octets outside frames are line noise
    decoder = PushDecoder()
    assert decoder.feed(apdu) == [] and decoder.finish() == []
    assert decoder.framer.discarded_bytes == len(apdu)


def test_input_ending_inside_an_apdu_is_reported():
    frames = hdlc_frames(notification(1), 30)
    decoder = PushDecoder()
    decoder.feed(b"".join(frames[:-1]))
    events = decoder.finish()
    assert len(events) == 1 and isinstance(events[0], Rejected)


# -- deciphering -----------------------------------------------------------------


def test_glo_and_ded_forms_and_the_dedicated_key():
    dk = bytes(range(16, 32))
    meter = SecurityContext(system_title=METER_TITLE, block_cipher_key=EK, authentication_key=AK,
                            dedicated_key=dk, invocation_counter=5)
    keys = {METER_TITLE.hex(): {"ek": EK.hex(), "ak": AK.hex(), "dk": dk.hex()}}
    ded = meter.encrypt(notification(1), form="general-ded")
    assert ded[0] == 0xDC
    assert _pairs(PushDecoder(keys=keys).feed_apdu(ded)) == expected_rows(1)
    # glo-/ded- service APDUs do not carry the system title: the keys entry does
    event = EventNotificationRequest(
        cosem_attribute_descriptor=CosemAttributeDescriptor(3, Obis.parse("1.0.1.8.0.255").to_bytes(), 2),
        attribute_value=Data(DataType.DOUBLE_LONG_UNSIGNED, 4242))
    glo = meter.encrypt(event.to_bytes(), form="glo")
    keyed = PushKeys(ek=EK, ak=AK, system_title=METER_TITLE)
    got = PushDecoder(keys=keyed).feed_apdu(glo)
    assert [(str(r.object), r.value, r.authenticated) for r in _readings(got)] == \
        [("1.0.1.8.0.255", 4242, True)]
    with pytest.raises(SecurityError, match="system title"):
        readings_of(glo, keys=PushKeys(ek=EK, ak=AK))


def test_an_ak_refuses_an_encryption_only_push():
    meter = meter_context()
    weak = meter.encrypt(notification(1), form="general-glo", security_control=0x20)
    events = PushDecoder(keys=PushKeys(ek=EK, ak=AK)).feed_apdu(weak)
    assert isinstance(events[0], Rejected) and isinstance(events[0].error, SecurityError)
    ok = PushDecoder(keys=PushKeys(ek=EK), verify_tag=False).feed_apdu(weak)
    assert _pairs(ok) == expected_rows(1) and not ok[0].authenticated


def test_a_changed_ciphertext_is_caught_by_the_tag_not_without_it():
    apdu = bytearray(ciphered(notification(1), meter_context()))
    apdu[40] ^= 0x01
    events = PushDecoder(keys=PushKeys(ek=EK, ak=AK)).feed_apdu(bytes(apdu))
    assert isinstance(events[0], Rejected) and isinstance(events[0].error, SecurityError)


def test_keys_never_in_reprs_or_errors(tmp_path):
    keys = PushKeys(ek=EK, ak=AK)
    decoder = PushDecoder(keys=keys)
    for text in (repr(keys), repr(decoder)):
        assert EK.hex() not in text.lower() and AK.hex() not in text.lower()
    bad = tmp_path / "keys.json"
    bad.write_text('{"*": {"ek": "' + EK.hex() + '", "ak": "zz' + AK.hex() + '"}}')
    with pytest.raises(ConfigurationError) as info:
        load_keys_file(bad)
    assert AK.hex() not in str(info.value).lower()
    bad.write_text('{"*": {"ek": "' + EK.hex() + '",}')
    with pytest.raises(ConfigurationError) as info:
        load_keys_file(bad)
    assert EK.hex() not in str(info.value).lower()


def test_keys_file_by_system_title(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({METER_TITLE.hex().upper(): {"ek": EK.hex(), "ak": AK.hex()}}))
    table = load_keys_file(path)
    assert set(table) == {METER_TITLE}
    with pytest.raises(UsageError):
        keys_table({"*": {"ek": EK.hex(), "colour": "red"}})
    other = SecurityContext(system_title=b"OTHERMTR", block_cipher_key=EK, authentication_key=AK)
    events = PushDecoder(keys=table).feed_apdu(other.encrypt(notification(1), form="general-glo"))
    assert "no key given" in str(events[0].error)


# -- notifications and readings ----------------------------------------------------


def test_reading_is_a_frozen_slotted_dataclass():
    reading = _readings(PushDecoder().feed_apdu(notification(1)))[3]
    assert dataclasses.is_dataclass(reading) and not hasattr(reading, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.value = 1
    assert reading == Reading(Obis.parse("1.0.32.7.0.255"), 2301, Decimal("230.1"), "V", 35, -1,
                              dt.datetime(2024, 5, 1, 12, 0, 1, tzinfo=CET), False, 2)
    assert reading.to_json() == {"object": "1.0.32.7.0.255", "value": 2301, "unit": "V",
                                 "scaled": 230.1, "timestamp": "2024-05-01T12:00:01+01:00",
                                 "authenticated": False}


def test_the_dlms_cosem_optional_flag_date_time_form():
    apdu = bytearray(notification(2))
    assert apdu[5] == 0x0C
    apdu[5] = 0x01
    events = PushDecoder().feed_apdu(bytes(apdu))
    assert events[0].date_time == dt.datetime(2024, 5, 1, 12, 0, 2, tzinfo=CET)


def test_no_date_time_takes_the_clock_object():
    clock = DateTime.from_datetime(dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=CET)).to_bytes()
    body = Data(DataType.STRUCTURE, (
        Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes((0, 0, 1, 0, 0, 255))),
                                  Data(DataType.OCTET_STRING, clock))),
        Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes((1, 0, 1, 8, 0, 255))),
                                  Data(DataType.DOUBLE_LONG_UNSIGNED, 7))),
    ))
    from dlmsfast.apdu import DataNotification

    apdu = DataNotification(notification_body=body).to_bytes()
    readings = _readings(PushDecoder().feed_apdu(apdu))
    assert {r.timestamp for r in readings} == {dt.datetime(2023, 1, 2, 3, 4, 5, tzinfo=CET)}


def test_a_list_without_obis_and_without_a_layout_says_what_to_do():
    body = Data(DataType.STRUCTURE, tuple(Data(DataType.LONG_UNSIGNED, i) for i in range(7)))
    from dlmsfast.apdu import DataNotification

    events = PushDecoder().feed_apdu(DataNotification(notification_body=body).to_bytes())
    assert isinstance(events[0].error, ProtocolError) and "--layouts" in str(events[0].error)


def test_date_times_without_deviation_take_the_local_zone_when_given():
    from zoneinfo import ZoneInfo

    apdu = bytearray(notification(3))
    apdu[15:17] = b"\x80\x00"  # the header's deviation: not specified
    plain = PushDecoder().feed_apdu(bytes(apdu))[0]
    assert isinstance(plain.date_time, DateTime) and plain.date_time.deviation is None
    assert plain.readings[0].to_json()["timestamp"] == "2024-05-01T12:00:03"
    oslo = PushDecoder(local_tz=ZoneInfo("Europe/Oslo")).feed_apdu(bytes(apdu))[0]
    assert oslo.date_time == dt.datetime(2024, 5, 1, 12, 0, 3, tzinfo=ZoneInfo("Europe/Oslo"))
    assert oslo.readings[0].to_json()["timestamp"] == "2024-05-01T12:00:03+02:00"
    # a zone name is taken as --timezone takes it (audit E9); a bad one is refused
    assert PushDecoder(local_tz="Europe/Oslo").feed_apdu(bytes(apdu))[0].date_time == oslo.date_time
    with pytest.raises(ConfigurationError):
        PushDecoder(local_tz="Europe/Nowhere")


# -- layouts -----------------------------------------------------------------------


def test_builtin_layouts_load_and_have_unique_names():
    layouts = builtin_layouts()
    names = [layout.name for layout in layouts]
    assert len(names) == len(set(names)) >= 6


def test_a_user_layout_folder_comes_first_and_replaces_by_name(tmp_path):
    body = Data(DataType.STRUCTURE, (Data(DataType.VISIBLE_STRING, b"ACME_1"),
                                     Data(DataType.LONG_UNSIGNED, 2301)))
    from dlmsfast.apdu import DataNotification

    apdu = DataNotification(notification_body=body).to_bytes()
    (tmp_path / "acme.json").write_text(json.dumps({
        "name": "acme-list", "match": {"values": {"0": "ACME_1"}},
        "objects": [{"obis": "1.1.0.2.129.255"},
                    {"obis": "1-0:32.7.0", "scaler": -1, "unit": "V"}]}))
    (tmp_path / "override.json").write_text(json.dumps([{
        "name": "no-kaifa-list1", "match": {"count": 1}, "objects": [{"obis": "1.0.2.7.0.255"}]}]))
    layouts = load_layouts(tmp_path)
    assert [l.name for l in layouts].count("no-kaifa-list1") == 1
    readings = _readings(PushDecoder(layouts=tmp_path).feed_apdu(apdu))
    assert [(str(r.object), r.scaled, r.unit) for r in readings] == [
        ("1.1.0.2.129.255", "ACME_1", None), ("1.0.32.7.0.255", Decimal("230.1"), "V")]


@pytest.mark.parametrize("layout, message", [
    ({}, "needs a name"),
    ({"name": "x", "colour": 1}, "unknown field"),
    ({"name": "x", "objects": [{"obis": "1.2.3"}]}, "not an OBIS"),
    ({"name": "x", "objects": [{"obis": "1.0.1.8.0.255", "unit": "parsec"}]}, "unknown unit"),
    ({"name": "x", "match": {"count": 2}, "objects": [{"obis": "1.0.1.8.0.255"}]}, "objects"),
])
def test_bad_layouts_are_configuration_errors(layout, message):
    with pytest.raises(ConfigurationError, match=message):
        layout_from_dict(layout, "mine.json")


# -- listen helpers ------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("7E A0 08\n03 13", [b"\x7e\xa0\x08", b"\x03\x13"]),
    ("7e:a0:08, 0x03;13 # comment\n\n", [b"\x7e\xa0\x08\x03\x13"]),
    ("7EA008", [b"\x7e\xa0\x08"]),
])
def test_capture_hex_text(text, expected):
    assert capture_chunks(text.encode()) == expected


def test_capture_raw_octets():
    raw = bytes(range(256))
    assert capture_chunks(raw) == [raw]


def test_listen_urls():
    assert str(parse_url("serial:///dev/ttyUSB0?baud=115200&parity=e")) == \
        "serial:///dev/ttyUSB0?baud=115200&parity=E"
    assert parse_url("tcp://0.0.0.0:4059").port == 4059
    assert parse_url("-").path == "-"
    for bad in ("tcp://:1", "serial://", "serial:///dev/x?baud=fast", "file:", "http://x"):
        with pytest.raises(UsageError):
            parse_url(bad)


# -- store ---------------------------------------------------------------------------


def _row(n: int, value=1) -> StoredReading:
    return StoredReading("m1", "1.0.1.8.0.255", 2, f"2024-01-01T00:00:{n:02d}", value, "Wh", value,
                         "authenticated")


def test_store_writes_are_batched_and_idempotent(tmp_path):
    path = tmp_path / "r.db"
    with Store(path, batch_size=3) as store:
        run = store.begin_run("listen")
        session = store.begin_session(run, "m1")
        store.add_readings([_row(1), _row(2)])
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT count(*) FROM readings").fetchone() == (0,)
        store.add_readings([_row(3)])  # the batch is full: committed
        with sqlite3.connect(path) as other:
            assert other.execute("SELECT count(*) FROM readings").fetchone() == (3,)
        store.add_readings([_row(1, value=99), _row(4)])  # a repeat keeps the first value
        assert store.flush() == 1
        store.end_session(session, result="failed", error=ProtocolError("cut"), bytes=10, exchanges=2)
        store.end_run(run)
    with Store(path) as again:
        rows = again.readings("m1")
        assert [r.value for r in rows] == [1, 1, 1, 1]
        assert again._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert again._db.execute(
            "SELECT result, error_class, error, bytes, exchanges FROM sessions").fetchall() == \
            [("failed", "ProtocolError", "cut", 10, 2)]
        assert again._db.execute("SELECT ended IS NOT NULL FROM runs").fetchall() == [(1,)]


def test_store_in_a_missing_folder_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError):
        Store(tmp_path / "no" / "such" / "r.db")


# -- DSMR over DLMS (Luxembourg Smarty) ------------------------------------------------

TELEGRAM = (
    b"/Sag5\\2\r\n\r\n"
    b"1-3:0.2.8(42)\r\n"
    b"0-0:1.0.0(230412153045S)\r\n"
    b"0-0:42.0.0(53414733303331303030303033333130)\r\n"
    b"1-0:1.8.0(001234.567*kWh)\r\n"
    b"1-0:1.7.0(01.193*kW)\r\n"
    b"1-0:32.7.0(230.1*V)\r\n"
    b"0-1:24.2.1(230412150000S)(00012.785*m3)\r\n"
    b"!EF2A\r\n"
)


def test_a_dsmr_telegram_in_bare_general_glo_ciphering():
    apdu = meter_context().encrypt(TELEGRAM, form="general-glo", security_control=0x30)
    events = PushDecoder(keys=PushKeys(ek=EK, ak=AK)).feed(b"\x00\x55junk" + apdu + b"\x0d\x0a")
    assert len(events) == 1, events
    notification = events[0]
    when = dt.datetime(2023, 4, 12, 15, 30, 45, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert notification.date_time == when and notification.authenticated
    got = {str(r.object): (r.value, r.scaled, r.unit) for r in notification.readings}
    assert got["1.0.1.8.0.255"] == (Decimal("1234.567"), Decimal("1234567"), "Wh")
    assert got["1.0.1.7.0.255"] == (Decimal("1.193"), Decimal("1193"), "W")
    assert got["1.0.32.7.0.255"] == (Decimal("230.1"), Decimal("230.1"), "V")
    assert got["0.1.24.2.1.255"][0] == Decimal("12.785") and got["0.1.24.2.1.255"][2] == "m³"
    assert got["1.3.0.2.8.255"][0] == 42
    assert all(r.timestamp == when for r in notification.readings)


def test_a_plain_telegram_is_not_taken_for_an_apdu():
    events = PushDecoder().feed_apdu(TELEGRAM)
    assert isinstance(events[0], Rejected) and isinstance(events[0].error, ProtocolError)


def test_a_stray_general_glo_tag_does_not_hold_the_stream():
    # DB 08, a title, then a length of 16 KiB: not a plausible push; the frame after it decodes
    stray = b"\xdb\x08" + bytes(8) + b"\x82\x40\x00\x30"
    events = PushDecoder().feed(stray + b"".join(hdlc_frames(notification(2))))
    assert _pairs(events) == expected_rows(2)


def test_notification_meaning_is_json():
    apdu = notification(4)
    pushed = readings_of(b"".join(hdlc_frames(ciphered(apdu, meter_context()))),
                         keys=PushKeys(ek=EK, ak=AK))[0]
    meaning = json.loads(json.dumps(pushed.to_meaning()))
    assert meaning["system_title"] == METER_TITLE.hex().upper() and meaning["authenticated"]
    assert meaning["invocation_counter"] == 1 and meaning["date_time"] == "2024-05-01T12:00:04+01:00"
    assert [r["object"] for r in meaning["readings"]] == [
        str(r.object) for r in readings_of(apdu)[0].readings]


def test_a_bad_frame_is_reported_in_stream_order():
    broken = bytearray(hdlc_frames(notification(1))[0])
    broken[-3] ^= 0xFF
    good = b"".join(hdlc_frames(notification(2)))
    events = PushDecoder().feed(good + bytes(broken) + good)
    assert [type(e).__name__ for e in events] == ["Notification", "Rejected", "Notification"]


def test_a_lost_last_segment_costs_only_its_own_apdu():
    first = hdlc_frames(notification(1), 30)
    second = hdlc_frames(notification(2), 30)
    events = PushDecoder().feed(b"".join(first[:-1]) + b"".join(second))
    assert isinstance(events[0], Rejected) and "cut after" in str(events[0].error)
    assert _pairs(events) == expected_rows(2)


def test_a_third_member_that_is_not_a_scaler_unit():
    from dlmsfast.apdu import DataNotification

    odd = Data(DataType.STRUCTURE, (
        Data(DataType.OCTET_STRING, bytes((1, 0, 1, 8, 0, 255))),
        Data(DataType.DOUBLE_LONG_UNSIGNED, 5),
        Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0),
                                  Data(DataType.ARRAY, (Data(DataType.UNSIGNED, 1),)))),
    ))
    body = Data(DataType.STRUCTURE, (odd, Data(DataType.STRUCTURE, (
        Data(DataType.OCTET_STRING, bytes((1, 0, 2, 8, 0, 255))),
        Data(DataType.DOUBLE_LONG_UNSIGNED, 6)))))
    events = PushDecoder().feed_apdu(DataNotification(notification_body=body).to_bytes())
    assert _pairs(events) == {("1.0.2.8.0.255", 6)}
    assert len(events[0].unnamed) == 1
