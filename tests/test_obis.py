"""OBIS codes: every accepted text form, the octet form, range errors, round trips."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmsfast.errors import DecodeError, DlmsError, UsageError
from dlmsfast.cosem.obis import Obis

ENERGY = Obis(1, 0, 1, 8, 0, 255)


@pytest.mark.parametrize(
    "text",
    [
        "1.0.1.8.0.255",
        "1-0:1.8.0*255",
        "1-0:1.8.0",
        "1-0:1.8.0.255",
        "  1.0.1.8.0.255\n",
        "001.000.001.008.000.255",
    ],
)
def test_parse_accepted_text_forms(text):
    assert Obis.parse(text) == ENERGY


def test_reduced_form_without_f_defaults_to_255():
    assert Obis.parse("0-0:96.1.0") == Obis(0, 0, 96, 1, 0, 255)
    assert Obis.parse("0-0:96.1.0*0").f == 0


@pytest.mark.parametrize("raw", [b"\x01\x00\x01\x08\x00\xff", bytearray(b"\x01\x00\x01\x08\x00\xff"),
                                 memoryview(b"\x01\x00\x01\x08\x00\xff")])
def test_parse_and_from_bytes_accept_six_octets(raw):
    assert Obis.parse(raw) == ENERGY
    assert Obis.from_bytes(raw) == ENERGY


def test_printing():
    assert str(ENERGY) == "1.0.1.8.0.255"
    assert ENERGY.to_reduced() == "1-0:1.8.0*255"
    assert repr(ENERGY) == "Obis('1.0.1.8.0.255')"
    assert bytes(ENERGY) == ENERGY.to_bytes() == bytes.fromhex("0100010800FF")


def test_frozen_and_hashable():
    assert {ENERGY: 1}[Obis.parse("1-0:1.8.0")] == 1
    with pytest.raises(AttributeError):
        ENERGY.a = 2  # type: ignore[misc]


def test_parse_returns_obis_unchanged():
    assert Obis.parse(ENERGY) is ENERGY


@pytest.mark.parametrize(
    "text",
    [
        "1.0.1.8.0.256",
        "256-0:1.8.0",
        "1-0:1.8.999*255",
        "1.0.1.8.0",
        "1.0.1.8.0.255.1",
        "1-0:1.8",
        "1-0:1.8.0*",
        "a.b.c.d.e.f",
        "1.0.1.8.0.-1",
        "",
        "1.0.1.8.0.2555",
        "\u0661.0.1.8.0.255",  # Arabic-Indic digit one: int() would take it, OBIS does not
    ],
)
def test_parse_rejects_bad_text(text):
    with pytest.raises(UsageError):
        Obis.parse(text)


@pytest.mark.parametrize("groups", [(256, 0, 1, 8, 0, 255), (1, 0, 1, 8, 0, -1), (1, 0, 1.0, 8, 0, 255),
                                    (True, 0, 1, 8, 0, 255)])
def test_constructor_range_checked(groups):
    with pytest.raises(UsageError):
        Obis(*groups)


def test_parse_rejects_other_types():
    with pytest.raises(UsageError):
        Obis.parse(1080255)  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [0, 5, 7, 12])
def test_from_bytes_wrong_length_is_decode_error(length):
    with pytest.raises(DecodeError) as info:
        Obis.from_bytes(bytes(length))
    assert info.value.offset == min(length, 6)


groups = st.integers(min_value=0, max_value=255)


@settings(max_examples=300, deadline=None)
@given(groups, groups, groups, groups, groups, groups)
def test_round_trips(a, b, c, d, e, f):
    obis = Obis(a, b, c, d, e, f)
    assert Obis.parse(str(obis)) == obis
    assert Obis.parse(obis.to_reduced()) == obis
    assert Obis.from_bytes(bytes(obis)) == obis
    assert Obis.parse(f"{a}-{b}:{c}.{d}.{e}") == Obis(a, b, c, d, e, 255)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30) | st.binary(max_size=10))
def test_random_input_raises_only_dlms_errors(value):
    try:
        Obis.parse(value)
    except DlmsError:
        pass


@settings(max_examples=300, deadline=None)
@given(groups, groups, groups, groups, groups, groups)
def test_against_gurux_logical_names(a, b, c, d, e, f):
    from gurux_dlms.internal._GXCommon import _GXCommon

    obis = Obis(a, b, c, d, e, f)
    assert bytes(_GXCommon.logicalNameToBytes(str(obis))) == bytes(obis)
    assert Obis.parse(_GXCommon.toLogicalName(bytearray(bytes(obis)))) == obis


@settings(max_examples=300, deadline=None)
@given(groups, groups, groups, groups, groups, groups)
def test_against_dlms_cosem_obis(a, b, c, d, e, f):
    from dlms_cosem.cosem.obis import Obis as CosemObis

    obis = Obis(a, b, c, d, e, f)
    theirs = CosemObis.from_bytes(bytes(obis))
    assert Obis.parse(theirs.to_string()) == obis  # "A-B:C.D.E.F"
    assert Obis.parse(theirs.to_string(".")) == obis
    assert theirs.to_bytes() == bytes(obis)
    # dlms-cosem's from_string is not used as an oracle: it drops a written F
    # (always 255) and its "." matches any character, so "0-0:0.0.100" reads as E=1.


def test_from_bytes_refuses_an_int():
    with pytest.raises(UsageError):
        Obis.from_bytes(6)  # bytes(6) would read as 0.0.0.0.0.0


def test_obis_codes_sort_by_their_six_value_groups():
    codes = [Obis.parse(t) for t in ("1.0.2.8.0.255", "1.0.1.8.0.255", "0.0.96.1.0.255",
                                     "1.0.1.8.0.0", "1.1.0.0.0.0", "0.0.1.0.0.255")]
    assert [str(c) for c in sorted(codes)] == [
        "0.0.1.0.0.255", "0.0.96.1.0.255", "1.0.1.8.0.0", "1.0.1.8.0.255",
        "1.0.2.8.0.255", "1.1.0.0.0.0"]
    assert sorted(codes) == sorted(codes, key=bytes)  # the order of the octets
    assert Obis(1, 0, 1, 8, 0) < Obis(1, 0, 1, 8, 1, 0) <= Obis(1, 0, 1, 8, 1, 0) < Obis(1, 0, 1, 8, 1)
    # still equal and hashable as before
    assert Obis.parse("1-0:1.8.0") == ENERGY and len({ENERGY, Obis.parse("1.0.1.8.0.255")}) == 1
    with pytest.raises(TypeError):
        _ = ENERGY < "1.0.1.8.0.255"
