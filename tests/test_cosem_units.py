"""The Blue Book unit table and scaler_unit: codes, symbols, exact scaling."""
from __future__ import annotations

from decimal import Decimal, getcontext, localcontext

import pytest

from dlmsfast.axdr import Data, DataType, decode_typed, encode
from dlmsfast.cosem.units import ScalerUnit, Unit
from dlmsfast.errors import DecodeError, EncodeError, UsageError


def _scaler_unit(scaler: int, unit: int, scaler_type=DataType.INTEGER, unit_type=DataType.ENUM) -> Data:
    return Data(DataType.STRUCTURE, (Data(scaler_type, scaler), Data(unit_type, unit)))


@pytest.mark.parametrize(
    "code, symbol",
    [(27, "W"), (28, "VA"), (29, "var"), (30, "Wh"), (31, "VAh"), (32, "varh"), (33, "A"),
     (35, "V"), (44, "Hz"), (9, "°C"), (13, "m³"), (56, "%"), (255, "count"), (1, "a"),
     (7, "s"), (38, "Ω"), (72, "dB"), (128, "in"), (174, "BTU/d"), (254, "other")],
)
def test_symbols_of_the_blue_book_table(code, symbol):
    assert Unit(code).symbol == symbol
    assert Unit(code).known


def test_codes_match_gurux_enumeration():
    # gurux-dlms's Unit enumeration is an independent transcription of the same
    # table; its NONE = 0 is not a Blue Book code (0 is not defined there).
    from gurux_dlms.enums import Unit as GuruxUnit

    gurux_codes = {int(v) for k, v in vars(GuruxUnit).items() if k.isupper()} - {0}
    assert {int(u) for u in Unit} == gurux_codes


def test_reserved_and_unknown_codes_are_kept_not_refused():
    for code in (0, 58, 59, 68, 100, 200, 253):
        unit = Unit(code)
        assert int(unit) == code
        assert unit.symbol is None and unit.quantity is None and not unit.known
        assert unit is Unit(code)
        assert unit.name == f"UNKNOWN_{code}"
    # read from a meter through the structure, too
    su = ScalerUnit.from_data(_scaler_unit(0, 200))
    assert int(su.unit) == 200 and su.symbol is None
    assert su.to_data() == _scaler_unit(0, 200)


def test_codes_outside_an_octet_are_not_units():
    with pytest.raises(ValueError):
        Unit(256)
    with pytest.raises(DecodeError):
        Unit.read(-1, 3, "unit")
    with pytest.raises(UsageError):
        ScalerUnit(0, 256)


def test_scale_is_exact_for_negative_scalers():
    su = ScalerUnit(-3, Unit.WATT_HOUR)
    scaled = su.scale(1960)
    assert isinstance(scaled, Decimal)
    assert scaled == Decimal("1.96")
    assert str(scaled) == "1.960"  # the meter's resolution stays visible
    assert ScalerUnit(-1, Unit.VOLT).scale(2301) == Decimal("230.1")
    assert ScalerUnit(-2, 33).scale(-5) == Decimal("-0.05")


def test_scale_is_an_int_for_non_negative_scalers():
    assert ScalerUnit(0, 30).scale(1960) == 1960 and type(ScalerUnit(0, 30).scale(1960)) is int
    assert ScalerUnit(3, 30).scale(7) == 7000 and type(ScalerUnit(3, 30).scale(7)) is int


def test_scale_of_a_long64_does_not_round_in_a_small_decimal_context():
    big = 2**64 - 1
    with localcontext() as ctx:
        ctx.prec = 5
        assert ScalerUnit(-3, 30).scale(big) == Decimal("18446744073709551.615")
        assert ScalerUnit(-3, 30).scale(big).as_tuple().digits == tuple(int(c) for c in str(big))
    assert getcontext().prec == 28


def test_scale_of_floats_and_non_numbers():
    assert ScalerUnit(-1, 35).scale(2301.0) == 230.1
    assert ScalerUnit(2, 27).scale(1.5) == 150.0
    assert ScalerUnit(0, 255).scale(b"ABC") == b"ABC"
    assert ScalerUnit(-3, 30).scale(None) is None
    assert ScalerUnit(-3, 30).scale(True) is True


def test_unscale_inverts_scale_and_refuses_lost_digits():
    su = ScalerUnit(-3, 30)
    assert su.unscale(Decimal("1.96")) == 1960
    assert su.unscale(su.scale(123456789)) == 123456789
    assert ScalerUnit(2, 27).unscale(500) == 5
    with pytest.raises(EncodeError):
        ScalerUnit(2, 27).unscale(550)
    with pytest.raises(EncodeError):
        su.unscale(Decimal("1.9605"))


def test_from_data_bytes_round_trip():
    raw = bytes.fromhex("0202 0F FD 16 1E".replace(" ", ""))
    su = ScalerUnit.from_data(decode_typed(raw))
    assert su == ScalerUnit(-3, Unit.WATT_HOUR)
    assert encode(su.to_data()) == raw


@pytest.mark.parametrize(
    "bad",
    [
        Data(DataType.ARRAY, ()),
        Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0),)),
        Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0), Data(DataType.OCTET_STRING, b"\x1e"))),
        Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, b"x"), Data(DataType.ENUM, 30))),
        _scaler_unit(200, 30, scaler_type=DataType.LONG),
        "not data",
    ],
)
def test_malformed_scaler_unit_is_a_decode_error_naming_the_attribute(bad):
    with pytest.raises(DecodeError, match="scaler_unit"):
        ScalerUnit.from_data(bad)


def test_gurux_scaler_unit_encoding_is_read():
    # gurux-dlms's Register encodes attribute 3 itself; we read its bytes.
    from gurux_dlms import GXByteBuffer, GXDLMSSettings
    from gurux_dlms.enums import DataType as GDataType
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.objects import GXDLMSRegister

    reg = GXDLMSRegister("1.0.1.8.0.255")
    reg.scaler = 0.001
    reg.unit = 30
    from gurux_dlms.ValueEventArgs import ValueEventArgs

    settings = GXDLMSSettings(True, None)
    value = reg.getValue(settings, ValueEventArgs(settings, reg, 3, 0, None))
    buf = GXByteBuffer()
    if isinstance(value, (bytes, bytearray)):
        buf.set(value)
    else:
        _GXCommon.setData(settings, buf, GDataType.STRUCTURE, value)
    assert ScalerUnit.from_data(decode_typed(bytes(buf.array()))) == ScalerUnit(-3, Unit.WATT_HOUR)


def test_scale_many_equals_scale_of_each():
    values = [0, 1960, -5, 2**64 - 1, 1.5, None, b"x", True]
    for su in (ScalerUnit(-3, 30), ScalerUnit(0, 30), ScalerUnit(2, 27)):
        many = su.scale_many(values)
        assert many == [su.scale(v) for v in values]
        assert [type(v) for v in many] == [type(su.scale(v)) for v in values]
