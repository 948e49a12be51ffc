"""A-XDR against the published vectors (tests/vectors/axdr.json), plus the
value classes (DateTime, Date, Time, BitString, TypeDescription) and malformed input.

The vectors' informational keys ``interpreted_as`` and ``fields`` (on octet-strings
that hold an OBIS code or a date-time) are not part of the encoding: they are
dropped before comparing. ``array_contents`` of a compact-array is produced by
``to_meaning()`` and compared.
"""
from __future__ import annotations

import datetime as dt
import gc

import pytest

from conftest import load_vectors
from dlmsfast import axdr
from dlmsfast.axdr import (
    DONT_CARE,
    BitString,
    Data,
    DataType,
    Date,
    DateTime,
    Time,
    TypeDescription,
    decode,
    decode_from,
    decode_length_from,
    decode_typed,
    decode_typed_from,
    encode,
    encode_length,
)
from dlmsfast.errors import DecodeError, EncodeError, UsageError

INFORMATIONAL = ("interpreted_as", "fields")
NON_MINIMAL = "Association LN object_list (Kamstrup, 123 entries) with non-minimal length 0x82 0x007B"


def _names() -> list[str]:
    return [record["name"] for record in load_vectors("axdr")]


_CACHE: dict[str, dict] = {}


@pytest.fixture(params=_names())
def vector(request) -> dict:
    if not _CACHE:
        _CACHE.update({record["name"]: record for record in load_vectors("axdr")})
    return _CACHE[request.param]


def _strip(meaning):
    if isinstance(meaning, dict):
        return {k: _strip(v) for k, v in meaning.items() if k not in INFORMATIONAL}
    if isinstance(meaning, list):
        return [_strip(v) for v in meaning]
    return meaning


def _minimal(record: dict) -> bytes:
    """The bytes a minimal-length encoder writes for the vector."""
    data = bytes.fromhex(record["hex"])
    if record["name"] == NON_MINIMAL:
        # the only vector with a non-minimal length: array count 82 00 7B -> 7B
        assert data[:4] == bytes.fromhex("0182007B")
        return b"\x01\x7b" + data[4:]
    return data


def _plain(meaning):
    """The plain value a meaning stands for, written independently of Data."""
    kind = meaning["type"]
    value = meaning.get("value")
    if kind == "null-data":
        return None
    if kind == "dont-care":
        return DONT_CARE
    if kind in ("array", "compact-array"):
        return [_plain(v) for v in value]
    if kind == "structure":
        return tuple(_plain(v) for v in value)
    if kind == "octet-string":
        return bytes.fromhex(value)
    if kind == "bcd":
        return int(value, 16)
    if kind == "bit-string":
        bits = value + "0" * (-len(value) % 8)
        return BitString(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)), len(value))
    if kind in ("date-time", "date", "time"):
        fields = dict(value)
        if "clock_status" in fields and fields["clock_status"] is not None:
            fields["clock_status"] = int(fields["clock_status"], 16)
        return {"date-time": DateTime, "date": Date, "time": Time}[kind](**fields)
    return value


def test_vector_count():
    assert len(load_vectors("axdr")) == 75


def test_typed_decode_gives_the_meaning(vector):
    node = decode_typed(bytes.fromhex(vector["hex"]))
    assert node.to_meaning() == _strip(vector["meaning"])


def test_plain_decode_agrees_with_the_meaning(vector):
    value = decode(bytes.fromhex(vector["hex"]))
    assert value == _plain(vector["meaning"])
    assert decode_typed(bytes.fromhex(vector["hex"])).to_plain() == value


def test_typed_round_trip_gives_the_bytes(vector):
    node = decode_typed(bytes.fromhex(vector["hex"]))
    assert encode(node) == _minimal(vector)
    assert decode_typed(encode(node)) == node


def test_meaning_encodes_to_the_bytes(vector):
    node = Data.from_meaning(vector["meaning"])
    assert encode(node) == _minimal(vector)
    assert node == decode_typed(bytes.fromhex(vector["hex"]))


def test_non_minimal_length_is_accepted_and_rewritten_minimal():
    record = next(r for r in load_vectors("axdr") if r["name"] == NON_MINIMAL)
    data = bytes.fromhex(record["hex"])
    node = decode_typed(data)
    assert len(node.value) == 0x7B
    assert node.to_meaning() == _strip(record["meaning"])
    assert encode(node).hex().upper() == record["hex"].replace("0182007B", "017B", 1)
    assert decode_length_from(data, 1) == (0x7B, 4)


def test_bytes_like_inputs_and_offsets(vector):
    data = bytes.fromhex(vector["hex"])
    expected = decode(data)
    assert decode(bytearray(data)) == expected
    assert decode(memoryview(data)) == expected
    framed = b"\xaa\xbb" + data + b"\xcc\xdd"
    assert decode_from(framed, 2) == (expected, 2 + len(data))
    node, end = decode_typed_from(memoryview(framed), 2)
    assert end == 2 + len(data)
    assert node == decode_typed(data)


def test_trailing_bytes_are_rejected(vector):
    data = bytes.fromhex(vector["hex"])
    for decoder in (decode, decode_typed):
        with pytest.raises(DecodeError) as info:
            decoder(data + b"\x00")
        assert info.value.offset == len(data)
    assert decode_typed_from(data + b"\x00\x01", 0)[1] == len(data)


def test_every_truncation_is_rejected(vector):
    data = bytes.fromhex(vector["hex"])
    step = 1 if len(data) < 700 else 37
    for cut in range(0, len(data), step):
        with pytest.raises(DecodeError) as info:
            decode(data[:cut])
        assert 0 <= info.value.offset <= cut
        with pytest.raises(DecodeError):
            decode_typed(data[:cut])


# ---------------------------------------------------------------- lengths


@pytest.mark.parametrize("n, encoded", [
    (0, "00"), (0x7F, "7F"), (0x80, "8180"), (0xFF, "81FF"), (0x100, "820100"),
    (0xFFFF, "82FFFF"), (0x10000, "83010000"), (0x1000000, "8401000000"),
    (0xFFFFFFFF, "84FFFFFFFF"),
])
def test_encode_length_is_minimal(n, encoded):
    assert encode_length(n).hex().upper() == encoded
    padded = bytes.fromhex(encoded) + bytes(n if n < 300 else 0)
    if n < 300:
        assert decode_length_from(padded, 0) == (n, len(encoded) // 2)


@pytest.mark.parametrize("encoded, n", [
    ("8105", 5), ("820005", 5), ("83000005", 5), ("8400000005", 5),
])
def test_non_minimal_lengths_decode(encoded, n):
    data = bytes.fromhex(encoded) + bytes(5)
    assert decode_length_from(data, 0) == (n, len(encoded) // 2)
    assert decode(b"\x09" + data) == bytes(5)


def test_length_errors():
    with pytest.raises(EncodeError):
        encode_length(-1)
    with pytest.raises(EncodeError):
        encode_length(1 << 32)
    for bad in ("80", "85", "FF"):
        with pytest.raises(DecodeError) as info:
            decode_length_from(bytes.fromhex(bad) + bytes(8), 0)
        assert info.value.offset == 0
    with pytest.raises(DecodeError) as info:
        decode_length_from(b"\x00\x05\x01", 1)
    assert info.value.offset == 1
    with pytest.raises(UsageError):
        decode_length_from(b"\x00", 5)


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize("hex_, offset", [
    ("", 0),                          # no tag
    ("07", 0),                        # unknown tag
    ("FE", 0),                        # unknown tag
    ("0203110111", 5),                # structure of 3, only 2 elements
    ("0602", 1),                      # double-long-unsigned truncated
    ("0905AABB", 1),                  # octet-string longer than what remains
    ("0C02C328", 2),                  # utf8-string not valid UTF-8 (offset of the bad sequence)
    ("0411FF", 2),                    # bit-string of 17 bits needs 3 octets
    ("1911", 1),                      # date-time truncated
    ("0180", 1),                      # indefinite length form
    ("0185", 1),                      # 5-octet length form
    ("13120211", 2),                  # compact-array contents of 2 octets, 1 given
    ("13120100", 3),                  # compact-array: half a long-unsigned in the contents
    ("131301", 1),                    # compact-array inside a contents description
    ("1301000100", 1),                # array of null-data: elements of no octets
    ("130200", 1),                    # empty structure: elements of no octets
])
def test_malformed_input_raises_decode_error_with_offset(hex_, offset):
    for decoder in (decode, decode_typed):
        with pytest.raises(DecodeError) as info:
            decoder(bytes.fromhex(hex_))
        assert info.value.offset == offset, str(info.value)


def test_wrong_input_type_is_a_usage_error():
    with pytest.raises(UsageError):
        decode("0600001391")
    with pytest.raises(UsageError):
        decode(12)  # bytes(12) would be twelve zero octets
    assert decode(memoryview(b"\x11\x00\x05\x00")[::2]) == 5  # strided: its octets
    with pytest.raises(UsageError):
        decode_from(b"\x00", 2)


# ---------------------------------------------------------------- clock values


def test_date_time_to_datetime_with_deviation():
    value = DateTime.from_bytes(bytes.fromhex("07E50118FF0E303950FFC400"))
    assert value.deviation == -60 and value.day_of_week is None and value.clock_status == 0
    converted = value.to_datetime()
    # -60 is minutes from local time to UTC: local = UTC+01:00
    assert converted.utcoffset() == dt.timedelta(minutes=60)
    assert converted == dt.datetime(2021, 1, 24, 14, 48, 57, 800000,
                                    dt.timezone(dt.timedelta(hours=1)))
    assert converted.astimezone(dt.timezone.utc).hour == 13
    assert DateTime.from_datetime(converted, clock_status=0).to_bytes() == bytes.fromhex(
        "07E501180E0E303950FFC400".replace("0E0E", "070E", 1))


def test_date_time_keeps_unspecified_fields_and_status():
    raw = bytes.fromhex("07E10A010700000000FFC480")
    value = DateTime.from_bytes(raw)
    assert value.clock_status == 0x80 and value.deviation == -60 and value.day_of_week == 7
    assert value.to_bytes() == raw
    wild = DateTime.from_bytes(bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF"))
    assert wild == DateTime()
    assert wild.to_bytes() == bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")
    with pytest.raises(UsageError, match="year"):
        wild.to_datetime()
    naive = DateTime.from_bytes(bytes.fromhex("07E2020CFF00000000800000"))
    assert naive.deviation is None and naive.to_datetime().tzinfo is None
    assert naive.date == Date(2018, 2, 12, None) and naive.time == Time(0, 0, 0, 0)


def test_date_time_hundredths_not_specified_count_as_zero():
    value = DateTime.from_bytes(bytes.fromhex("07D20C04030A060BFF007800"))
    assert value.hundredths is None
    assert value.to_datetime() == dt.datetime(2002, 12, 4, 10, 6, 11,
                                              tzinfo=dt.timezone(dt.timedelta(hours=-2)))


def test_date_and_time():
    assert Date.from_bytes(bytes.fromhex("07E8021D04")).to_date() == dt.date(2024, 2, 29)
    assert Date.from_date(dt.date(2024, 2, 29)).to_bytes() == bytes.fromhex("07E8021D04")
    assert Date.from_bytes(bytes.fromhex("FFFFFFFFFF")) == Date()
    with pytest.raises(UsageError):
        Date(2024, None, 1).to_date()
    assert Time.from_bytes(bytes.fromhex("173B3BFF")).to_time() == dt.time(23, 59, 59)
    assert Time.from_time(dt.time(8, 30, 15, 230000)).to_bytes() == bytes.fromhex("081E0F17")
    with pytest.raises(UsageError):
        Time().to_time()


def test_clock_field_ranges_are_checked():
    with pytest.raises(EncodeError):
        DateTime(2020, 13 * 20, 1).to_bytes()
    with pytest.raises(EncodeError):
        DateTime(deviation=-0x8000).to_bytes()
    with pytest.raises(EncodeError):
        Date(year=0xFFFF).to_bytes()
    with pytest.raises(DecodeError):
        DateTime.from_bytes(b"\x00" * 11)


def test_datetime_values_encode_through_octet_strings_and_tags():
    when = dt.datetime(2023, 10, 26, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert encode(when, DataType.OCTET_STRING) == bytes.fromhex("090C07E70A1A040C1E0000FFC400")
    assert encode(Data(DataType.DATE_TIME, when)) == bytes.fromhex("1907E70A1A040C1E0000FFC400")
    assert decode(bytes.fromhex("1907E70A1A040C1E0000FFC400")).to_datetime() == when


def test_a_utc_offset_of_seconds_is_refused_not_cut_to_minutes():
    half_minute = dt.timezone(dt.timedelta(seconds=30))
    with pytest.raises(EncodeError, match="not whole minutes"):
        DateTime.from_datetime(dt.datetime(2026, 1, 1, 12, 0, tzinfo=half_minute))
    behind = dt.timezone(-dt.timedelta(hours=5, seconds=30))
    with pytest.raises(EncodeError, match="not whole minutes"):
        DateTime.from_datetime(dt.datetime(2026, 1, 1, 12, 0, tzinfo=behind))
    with pytest.raises(EncodeError, match="not whole minutes"):
        encode(dt.datetime(2026, 1, 1, 12, 0, tzinfo=half_minute), DataType.OCTET_STRING)
    # whole minutes either side of UTC: the deviation counts local time to UTC
    chatham = dt.timezone(dt.timedelta(hours=12, minutes=45))
    assert DateTime.from_datetime(dt.datetime(2026, 1, 1, tzinfo=chatham)).deviation == -765
    new_york = dt.timezone(-dt.timedelta(hours=5))
    assert DateTime.from_datetime(dt.datetime(2026, 1, 1, tzinfo=new_york)).deviation == 300


@pytest.mark.parametrize("deviation", [-840, -780, -720, 0, 720, 840])
def test_deviations_of_real_time_zones_round_trip(deviation):
    # UTC+14 (Kiribati) is -840, New Zealand's summer time -780: the standard's
    # range is written for offsets -12 h..+14 h, in either sign convention
    value = DateTime(2026, 1, 1, 4, 12, 0, 0, 0, deviation, 0)
    assert DateTime.from_bytes(value.to_bytes()) == value
    assert value.to_datetime().utcoffset() == dt.timedelta(minutes=-deviation)


@pytest.mark.parametrize("deviation", [1000, -841, 841, 0x7FFF, -0x7FFF])
def test_a_deviation_no_time_zone_has_is_refused_on_encode_and_kept_on_decode(deviation):
    with pytest.raises(EncodeError, match="deviation"):
        DateTime(2026, 1, 1, 4, 12, 0, 0, 0, deviation, 0).to_bytes()
    with pytest.raises(EncodeError, match="deviation"):
        encode(Data(DataType.DATE_TIME, DateTime(2026, 1, 1, 4, 12, 0, 0, 0, deviation, 0)))
    # received, it is kept as transmitted, as every clock field is: a profile
    # or a push is not lost for one odd clock (the standard gives the range,
    # not what a receiver does outside it); it is not sent on again
    raw = bytes.fromhex("07EA010104120000") + b"\x00" + deviation.to_bytes(2, "big", signed=True) \
        + b"\x00"
    value = decode(b"\x19" + raw)
    assert value.deviation == deviation
    with pytest.raises(EncodeError, match="deviation"):
        value.to_bytes()
    # 0x8000 is "not specified", not a deviation
    assert DateTime.from_bytes(raw[:9] + b"\x80\x00\x00").deviation is None
    assert DateTime(deviation=None).to_bytes()[9:11] == b"\x80\x00"


# ---------------------------------------------------------------- other value classes


def test_bit_string():
    bits = BitString.from_str("1100000001")
    assert bits.data == b"\xc0\x40" and len(bits) == 10 and str(bits) == "1100000001"
    assert list(bits)[:3] == [True, True, False] and bits[-1] is True
    assert encode(bits, DataType.BIT_STRING) == bytes.fromhex("040AC040")
    with pytest.raises(EncodeError):
        BitString(b"\x00", 9)
    with pytest.raises(EncodeError):
        BitString.from_str("10x")
    padded = decode(bytes.fromhex("0403A7"))
    assert str(padded) == "101" and padded.data == b"\xa7"
    assert encode(decode_typed(bytes.fromhex("0403A7"))) == bytes.fromhex("0403A7")


def test_bit_strings_are_equal_on_their_bits_whatever_the_padding():
    assert BitString(b"\xa0", 3) == BitString(b"\xa1", 3) == BitString.from_str("101")
    assert hash(BitString(b"\xa0", 3)) == hash(BitString(b"\xa1", 3))
    assert len({BitString(b"\xa0", 3), BitString(b"\xbf", 3)}) == 1
    assert BitString(b"\xa0", 3) != BitString(b"\xc0", 3)  # 101 vs 110
    assert BitString(b"\xa0", 3) != BitString(b"\xa0", 4)  # 101 vs 1010
    assert BitString(b"\xc0\x40", 10) == BitString(b"\xc0\x7f", 10)
    assert BitString(b"\xff", 8) != BitString(b"\xfe", 8)  # no padding: every bit counts
    assert BitString(b"", 0) == BitString.from_str("")
    # the padding is still kept for re-encoding
    assert BitString(b"\xa1", 3).data == b"\xa1"
    assert BitString(b"\xa0", 3) != "101"


def test_data_type_names():
    assert DataType.DOUBLE_LONG_UNSIGNED.blue_book_name == "double-long-unsigned"
    assert DataType.from_blue_book_name("delta-long-unsigned") is DataType.DELTA_LONG_UNSIGNED
    assert DataType.from_blue_book_name("dont-care") == 255
    with pytest.raises(UsageError):
        DataType.from_blue_book_name("double")


def test_type_description_encoding():
    description = TypeDescription.structure(
        DataType.LONG_UNSIGNED, TypeDescription.array(DataType.UNSIGNED, count=3))
    encoded = axdr.encode_type_description(description)
    assert encoded == bytes.fromhex("02021201000311")
    assert axdr.decode_type_description_from(encoded) == (description, len(encoded))
    assert TypeDescription.from_meaning(description.to_meaning()) == description
    with pytest.raises(EncodeError):
        axdr.encode_type_description(TypeDescription.array(DataType.UNSIGNED))
    with pytest.raises(UsageError):
        TypeDescription(DataType.UNSIGNED, count=3)


def test_dont_care_and_null_data():
    assert decode(b"\xff") is DONT_CARE
    assert decode(b"\x00") is None
    assert decode_typed(b"\xff") == Data(DataType.DONT_CARE)
    assert encode(Data(DataType.DONT_CARE, DONT_CARE)) == b"\xff"
    assert Data(DataType.DONT_CARE).to_meaning() == {"type": "dont-care"}
    assert Data.from_meaning({"type": "dont-care"}).to_plain() is DONT_CARE


# ---------------------------------------------------------------- encoding plain values


PROFILE_ROW = TypeDescription.structure(
    DataType.OCTET_STRING, DataType.UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED)


def test_plain_values_with_a_description_encode_like_the_profile_vector():
    record = next(r for r in load_vectors("axdr") if r["name"].startswith("Profile Generic"))
    data = bytes.fromhex(record["hex"])
    rows = decode(data)
    assert encode(rows, TypeDescription.array(PROFILE_ROW)) == data
    assert encode(rows, TypeDescription.array(PROFILE_ROW, count=len(rows))) == data
    with pytest.raises(EncodeError):
        encode(rows, TypeDescription.array(PROFILE_ROW, count=3))


def test_description_of_a_typed_row_encodes_more_rows():
    record = next(r for r in load_vectors("axdr") if r["name"].startswith("Profile Generic"))
    data = bytes.fromhex(record["hex"])
    buffer = decode_typed(data)
    assert TypeDescription.of(buffer.value[0]) == PROFILE_ROW
    assert encode(decode(data), TypeDescription.of(buffer)) == data
    with pytest.raises(UsageError):
        TypeDescription.of(Data(DataType.ARRAY, ()))
    compact = decode_typed(bytes.fromhex("131206000100020003"))
    assert TypeDescription.of(compact) == TypeDescription.compact_array(DataType.LONG_UNSIGNED)


@pytest.mark.parametrize("value, description", [
    (256, DataType.UNSIGNED), (-1, DataType.LONG_UNSIGNED), (1 << 31, DataType.DOUBLE_LONG),
    (1 << 64, DataType.LONG64_UNSIGNED), (-(1 << 63) - 1, DataType.LONG64), (1.5, DataType.LONG),
    ("x", DataType.OCTET_STRING), (7, DataType.VISIBLE_STRING), ("€", DataType.VISIBLE_STRING),
    (2, DataType.BOOLEAN), (1, DataType.NULL_DATA), (1e39, DataType.FLOAT32), ("1", DataType.FLOAT64),
    ((1, 2), PROFILE_ROW), (5, PROFILE_ROW), (b"\x00", DataType.DATE_TIME), (True, DataType.UNSIGNED),
])
def test_bad_plain_values_raise_encode_error(value, description):
    with pytest.raises(EncodeError):
        encode(value, description)


def test_encode_error_names_type_and_range():
    with pytest.raises(EncodeError, match=r"long-unsigned takes an int in 0\.\.65535, not 70000"):
        encode(70000, DataType.LONG_UNSIGNED)


def test_none_in_described_rows_is_null_data():
    assert encode((None, 5, DONT_CARE), PROFILE_ROW) == bytes.fromhex("020300110506".replace("06", "FF"))


def test_data_nodes_inside_plain_values_keep_their_type():
    row = (b"", Data(DataType.LONG, -2), 7)
    assert encode(row, PROFILE_ROW) == bytes.fromhex("0203090010FFFE0600000007")


def test_compact_array_from_plain_values():
    description = TypeDescription.compact_array(
        TypeDescription.structure(DataType.LONG_UNSIGNED, DataType.UNSIGNED))
    assert encode([(1, 5), (2, 6)], description) == bytes.fromhex("130202121106000105000206")


def test_data_checks_its_value_when_made():
    with pytest.raises(EncodeError):
        Data(DataType.UNSIGNED, 300)
    with pytest.raises(EncodeError):
        Data(DataType.STRUCTURE, (1, 2))
    with pytest.raises(UsageError):
        Data(200, 1)
    with pytest.raises(UsageError):
        Data(DataType.COMPACT_ARRAY, ())
    with pytest.raises(EncodeError):
        Data(DataType.COMPACT_ARRAY, (Data(DataType.LONG, 1),), DataType.UNSIGNED)
    with pytest.raises(UsageError):
        encode(5)
    node = Data(DataType.OCTET_STRING, bytearray(b"ab"))
    assert node.value == b"ab" and type(node.value) is bytes
    assert Data(DataType.BOOLEAN, 1).value is True
    assert hash(node) == hash(Data(DataType.OCTET_STRING, b"ab"))
    assert repr(Data(DataType.UNSIGNED, 5)) == "Data(DataType.UNSIGNED, 5)"


def test_decoded_values_keep_out_of_the_garbage_collector():
    # structures of atoms and typed nodes cannot form cycles: the collector
    # need not walk them (what keeps decoding of large buffers fast)
    assert not gc.is_tracked(decode(bytes.fromhex("0202110109020102")))
    assert gc.is_tracked(decode(bytes.fromhex("020201001100")))  # holds a list
    assert not gc.is_tracked(decode_typed(bytes.fromhex("0202110109020102")))


def test_text_nodes_normalise_octets_to_text():
    assert Data(DataType.VISIBLE_STRING, bytearray(b"ab")).value == "ab"
    assert Data(DataType.UTF8_STRING, "Zä".encode()).value == "Zä"
    with pytest.raises(EncodeError):
        Data(DataType.UTF8_STRING, b"\xc3")
