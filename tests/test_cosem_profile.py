"""Profile Generic: buffers encoded by gurux-dlms decoded into named, scaled,
timestamped rows; selective access by range and by entry."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

import gurux_dlms.objects as gx
from gurux_dlms import GXByteBuffer, GXDateTime
from gurux_dlms.GXDLMSClient import GXDLMSClient
from gurux_dlms.enums import DataType as GDataType

from cosem_gurux import gurux_encode
from dlmsfast.axdr import Data, DataType, DateTime, decode, decode_typed, encode
from dlmsfast.cosem import CaptureObjectDefinition, Obis, ProfileGeneric, ScalerUnit, Unit
from dlmsfast.cosem.timestamps import plausible_date_time, to_timestamp, to_timestamps
from dlmsfast.errors import DecodeError, UsageError

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
CLOCK = CaptureObjectDefinition(8, Obis.parse("0.0.1.0.0.255"), 2)
STATUS = CaptureObjectDefinition(1, Obis.parse("0.0.96.10.1.255"), 2)
A_PLUS = CaptureObjectDefinition(3, Obis.parse("1.0.1.8.0.255"), 2)
A_MINUS = CaptureObjectDefinition(3, Obis.parse("1.0.2.8.0.255"), 2)
WH = ScalerUnit(-3, Unit.WATT_HOUR)


def _gurux_profile(rows: int = 4):
    clock = gx.GXDLMSClock("0.0.1.0.0.255")
    status = gx.GXDLMSData("0.0.96.10.1.255")
    status.setDataType(2, GDataType.UINT8)
    a_plus = gx.GXDLMSRegister("1.0.1.8.0.255")
    a_plus.setDataType(2, GDataType.UINT32)
    a_minus = gx.GXDLMSRegister("1.0.2.8.0.255")
    a_minus.setDataType(2, GDataType.UINT32)
    profile = gx.GXDLMSProfileGeneric("1.0.99.1.0.255")
    for obj in (clock, status, a_plus, a_minus):
        profile.addCaptureObject(obj, 2, 0)
    profile.capturePeriod = 900
    profile.buffer = [
        [GXDateTime(T0 + dt.timedelta(minutes=15 * i)), 0, 1000 + 10 * i, 500 + 5 * i] for i in range(rows)
    ]
    return profile


def _read_profile(theirs) -> ProfileGeneric:
    ours = ProfileGeneric("1.0.99.1.0.255")
    for index in (2, 3, 4, 5, 7, 8):
        ours.decode_attribute_bytes(index, gurux_encode(theirs, index))
    return ours


def test_gurux_buffer_becomes_named_scaled_timestamped_rows():
    profile = _read_profile(_gurux_profile())
    assert profile.capture_objects == (CLOCK, STATUS, A_PLUS, A_MINUS)
    assert profile.capture_period == 900
    rows = profile.rows(scalers={A_PLUS: WH, "1.0.2.8.0.255": WH})
    assert [c.name for c in rows.columns] == [
        "0.0.1.0.0.255:2", "0.0.96.10.1.255:2", "1.0.1.8.0.255:2", "1.0.2.8.0.255:2"]
    assert [c.class_id for c in rows.columns] == [8, 1, 3, 3]
    assert [c.date_time for c in rows.columns] == [True, False, False, False]
    assert rows.columns[2].unit is Unit.WATT_HOUR and rows.columns[1].unit is None
    assert len(rows) == 4
    for i, row in enumerate(rows):
        assert row == (T0 + dt.timedelta(minutes=15 * i), 0,
                       Decimal(1000 + 10 * i) / 1000, Decimal(500 + 5 * i) / 1000)
        assert row[0].tzinfo is not None and row[0].utcoffset() == dt.timedelta(0)
    assert rows.as_dicts()[1]["1.0.1.8.0.255:2"] == Decimal("1.010")
    assert rows.column("1.0.2.8.0.255") == [Decimal("0.5"), Decimal("0.505"), Decimal("0.51"), Decimal("0.515")]
    assert rows.column(A_PLUS)[0] == Decimal(1)
    with pytest.raises(UsageError):
        rows.column("9.9.9.9.9.9")


def test_plain_buffer_from_the_fast_decoder_gives_the_same_rows():
    theirs = _gurux_profile()
    profile = _read_profile(theirs)
    plain = decode(gurux_encode(theirs, 2))
    assert profile.rows(plain, scalers={A_PLUS: WH}) == profile.rows(scalers={A_PLUS: WH})


def test_unscaled_registers_stay_raw_and_obis_keys_only_scale_values():
    profile = _read_profile(_gurux_profile(1))
    assert profile.rows()[0][2] == 1000
    # an OBIS key names the register's value column; other attributes are not scaled
    profile.capture_objects = (CLOCK, STATUS, A_PLUS, CaptureObjectDefinition(3, A_MINUS.logical_name, 3))
    rows = profile.rows([[b"\xff" * 12, 0, 1000, 7]], scalers={A_PLUS.logical_name: WH,
                                                               A_MINUS.logical_name: WH})
    assert rows[0][2] == Decimal(1) and rows[0][3] == 7


def test_server_role_encodes_a_buffer_gurux_can_read_back():
    ours = ProfileGeneric("1.0.99.1.0.255", capture_objects=(CLOCK, STATUS, A_PLUS, A_MINUS),
                          capture_period=900)
    ours.buffer = [(T0 + dt.timedelta(minutes=15 * i), 0, 1000 + 10 * i, 500 + 5 * i) for i in range(3)]
    ours.buffer_types = (None, DataType.UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED)
    raw = encode(ours.encode_attribute(2))
    first_row = "0204 090C07EA01010400000000000000 1100 06000003E8 06000001F4".replace(" ", "")
    assert raw.hex().upper().startswith("0103" + first_row)
    rows = ours.rows(decode_typed(raw))
    assert [r[0] for r in rows] == [T0 + dt.timedelta(minutes=15 * i) for i in range(3)]
    # gurux-dlms reads our buffer back (its own profile decoder as the oracle)
    theirs = _gurux_profile(0)
    from gurux_dlms.ValueEventArgs import ValueEventArgs
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.internal._GXDataInfo import _GXDataInfo

    settings = GXDLMSSettings(False, None)
    value = _GXCommon.getData(settings, GXByteBuffer(bytearray(raw)), _GXDataInfo())
    e = ValueEventArgs(settings, theirs, 2, 0, None)
    e.value = value
    theirs.setValue(settings, e)
    assert [row[2] for row in theirs.buffer] == [1000, 1010, 1020]
    assert [row[0].value.astimezone(UTC) for row in theirs.buffer] == [
        T0 + dt.timedelta(minutes=15 * i) for i in range(3)]


def test_null_timestamps_continue_from_the_previous_entry():
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=(CLOCK, A_PLUS), capture_period=900)
    first = DateTime.from_datetime(T0).to_bytes()
    rows = profile.rows([(first, 1), (None, 2), (None, 3)])
    assert [r[0] for r in rows] == [T0, T0 + dt.timedelta(minutes=15), T0 + dt.timedelta(minutes=30)]
    asynchronous = ProfileGeneric("0.0.99.98.0.255", capture_objects=(CLOCK, A_PLUS), capture_period=0)
    assert asynchronous.rows([(first, 1), (None, 2)])[1][0] is None


def test_unspecified_fields_keep_the_date_time():
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=(CLOCK,), capture_period=900)
    no_deviation = DateTime(2026, 1, 1, 4, 1, 0, 0, 0, None, 0)
    wildcard = DateTime(2026, 1, None, None, 0, 0, 0, 0, 0, 0)
    rows = profile.rows([(no_deviation.to_bytes(),), (wildcard.to_bytes(),)])
    assert rows[0][0] == no_deviation and isinstance(rows[0][0], DateTime)
    assert rows[1][0] == wildcard
    oslo = ZoneInfo("Europe/Oslo")
    placed = profile.rows([(no_deviation.to_bytes(),)], local_tz=oslo)[0][0]
    assert placed == dt.datetime(2026, 1, 1, 1, 0, tzinfo=oslo) and placed.utcoffset() == dt.timedelta(hours=1)


def test_date_time_tag_and_plausible_octet_strings_in_choice_columns():
    stamp = CaptureObjectDefinition(1, Obis.parse("0.0.1.0.0.255"), 2)
    name = CaptureObjectDefinition(1, Obis.parse("0.0.42.0.0.255"), 2)
    profile = ProfileGeneric("0.0.99.98.0.255", capture_objects=(stamp, name))
    when = DateTime(2026, 5, 1, 5, 12, 0, 0, 0, -120, 0)
    rows = profile.rows([(when.to_bytes(), b"MMM0000012345678"), (when, b"123456789012")])
    expected = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert rows[0] == (expected, b"MMM0000012345678")
    assert rows[1] == (expected, b"123456789012")  # 12 ASCII digits are not a date-time
    assert not plausible_date_time(b"123456789012")


def test_to_timestamp_rules():
    assert to_timestamp(None) is None
    assert to_timestamp(bytes.fromhex("07EA010104000000FF000000")) == T0
    assert to_timestamp(DateTime(2026, 2, 30, None, 0, 0, 0, 0, 0, 0)) == DateTime(2026, 2, 30, None, 0, 0, 0, 0, 0, 0)
    with pytest.raises(DecodeError):
        to_timestamp(b"\x07\xea")


def test_a_column_of_date_times_converts_as_each_cell_does():
    # one instant; UTC+01:00; hundredths unspecified; deviation unspecified;
    # 30 February; hour 24; year unspecified; wildcard day (DST end); 0x8000
    # deviation with a local zone given below
    cells = [bytes.fromhex(h) for h in (
        "07EA010104000000FF000000", "07EA0101040C1E0032FFC400", "07EA0101040C1E00FF000000",
        "07EA01010400000000800000", "07EA021E04000000FF000000", "07EA010104180000FF000000",
        "FFFF010104000000FF000000", "07EA0AFE07030000FF000000", "07EA0101040000000AFA6100",
    )]
    for local_tz in (None, ZoneInfo("Europe/Oslo")):
        assert to_timestamps(cells, local_tz) == [to_timestamp(c, local_tz) for c in cells]
    converted = to_timestamps(cells, ZoneInfo("Europe/Oslo"))
    assert converted[1] == dt.datetime(2026, 1, 1, 12, 30, 0, 500000,
                                       dt.timezone(dt.timedelta(hours=1)))
    assert converted[3] == dt.datetime(2026, 1, 1, 0, 0, tzinfo=ZoneInfo("Europe/Oslo"))
    assert isinstance(converted[4], DateTime) and isinstance(converted[6], DateTime)
    # month 13 is kept as received, not invented into a datetime
    assert to_timestamps([bytes.fromhex("07EA0D0104000000FF000000")])[0].month == 13


def test_malformed_buffers_raise_decode_errors():
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=(CLOCK, A_PLUS))
    with pytest.raises(DecodeError, match=r"buffer\[0\]: 1 values for 2 capture objects"):
        profile.rows([(b"\x00" * 12,)])
    with pytest.raises(DecodeError, match=r"buffer\[0\]\[0\]: a date-time has 12 octets"):
        profile.rows([(b"\x00" * 5, 1)])
    with pytest.raises(DecodeError, match=r"buffer\[0\]\[0\]: expected a date-time"):
        profile.rows([(5, 1)])
    with pytest.raises(DecodeError, match="attribute 2 buffer"):
        profile.decode_attribute(2, Data(DataType.STRUCTURE, ()))
    with pytest.raises(DecodeError, match=r"buffer\[0\]"):
        profile.decode_attribute(2, Data(DataType.ARRAY, (Data(DataType.UNSIGNED, 1),)))
    with pytest.raises(UsageError):
        ProfileGeneric("1.0.99.1.0.255").rows([])


def _gurux_selective_parameters(method, *args) -> bytes:
    """The access-selector and parameters gurux's client puts in a GET."""
    client = GXDLMSClient(True)
    captured = []
    client._read = lambda name, object_type, attribute, buff: captured.append(bytes(buff.array()))
    getattr(client, method)(*args)
    return captured[0]


def test_range_access_matches_gurux_client():
    theirs = _gurux_profile()
    ours = _read_profile(theirs)
    start, end = T0, T0 + dt.timedelta(hours=1)
    access = ours.range_access(start, end)
    raw = bytes([access.access_selector]) + encode(access.access_parameters)
    gurux = _gurux_selective_parameters("readRowsByRange", theirs, start, end)
    # same selector, restricting object (the clock's time) and empty column list;
    # the bounds are the same instants (gurux writes day_of_week and status its own way)
    assert raw[:1] == gurux[:1] == b"\x01"
    ours_params, theirs_params = decode_typed(raw[1:]), decode_typed(gurux[1:])
    assert ours_params.value[0] == theirs_params.value[0] == CLOCK.to_data()
    assert ours_params.value[3] == theirs_params.value[3] == Data(DataType.ARRAY, ())
    for i in (1, 2):
        assert to_timestamp(ours_params.value[i].value) == to_timestamp(theirs_params.value[i].value)
    parameters = access.range_parameters()
    assert parameters.restricting_object == CLOCK
    assert to_timestamp(parameters.from_value.value) == start


def test_entry_access_matches_gurux_client():
    theirs = _gurux_profile()
    ours = _read_profile(theirs)
    access = ours.entry_access(2, 3)
    raw = bytes([access.access_selector]) + encode(access.access_parameters)
    assert raw == _gurux_selective_parameters("readRowsByEntry", theirs, 2, 2)


def test_selected_columns_of_a_selective_read():
    ours = _read_profile(_gurux_profile())
    by_entry = ours.entry_access(1, 0, 3, 4)
    assert ours.selected_columns(by_entry) == (A_PLUS, A_MINUS)
    rows = ours.rows([(1000, 500)], access=by_entry, scalers={A_PLUS: WH})
    assert [c.name for c in rows.columns] == ["1.0.1.8.0.255:2", "1.0.2.8.0.255:2"]
    assert rows[0] == (Decimal(1), 500)
    by_range = ours.range_access(T0, T0, columns=(CLOCK, A_MINUS))
    assert ours.selected_columns(by_range) == (CLOCK, A_MINUS)
    assert ours.selected_columns(ours.range_access(T0, T0)) is None
    naive = ours.range_access(dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2))
    assert DateTime.from_bytes(naive.range_parameters().from_value.value).deviation is None


def test_clock_column_falls_back_to_the_clock():
    assert ProfileGeneric("1.0.99.1.0.255").clock_column() == CLOCK
    custom = CaptureObjectDefinition(4, Obis.parse("1.0.1.6.0.255"), 5)
    profile = ProfileGeneric("1.0.98.1.0.255", capture_objects=(A_PLUS, custom))
    assert profile.clock_column() == custom  # Extended Register capture_time is a date-time
