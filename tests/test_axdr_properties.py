"""Properties of the A-XDR codec on random input (hypothesis).

- typed values of every type, nested in arrays, structures and compact-arrays,
  survive encode -> decode_typed unchanged, and the plain decode agrees;
- plain values laid out by a random TypeDescription encode to the same bytes as
  the typed tree, and decode back to themselves;
- random bytes, and published vectors with random damage, raise nothing but
  DlmsError subclasses; hostile lengths and deep nesting fail at once.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import date_time_octets, load_vectors
from dlmsfast.axdr import (
    DONT_CARE,
    BitString,
    Data,
    DataType,
    DateTime,
    Date,
    Time,
    TypeDescription,
    decode,
    decode_from,
    decode_length_from,
    decode_type_description_from,
    decode_typed,
    decode_typed_from,
    encode,
    encode_type_description,
)
from dlmsfast.errors import DecodeError, EncodeError, UsageError

T = DataType
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_INT_RANGE = {
    T.DOUBLE_LONG: (-(1 << 31), (1 << 31) - 1), T.DOUBLE_LONG_UNSIGNED: (0, (1 << 32) - 1),
    T.INTEGER: (-128, 127), T.LONG: (-(1 << 15), (1 << 15) - 1), T.UNSIGNED: (0, 255),
    T.LONG_UNSIGNED: (0, 0xFFFF), T.LONG64: (-(1 << 63), (1 << 63) - 1),
    T.LONG64_UNSIGNED: (0, (1 << 64) - 1), T.ENUM: (0, 255), T.BCD: (0, 255),
    T.DELTA_INTEGER: (-128, 127), T.DELTA_LONG: (-(1 << 15), (1 << 15) - 1),
    T.DELTA_DOUBLE_LONG: (-(1 << 31), (1 << 31) - 1), T.DELTA_UNSIGNED: (0, 255),
    T.DELTA_LONG_UNSIGNED: (0, 0xFFFF), T.DELTA_DOUBLE_LONG_UNSIGNED: (0, (1 << 32) - 1),
}
SIMPLE = [t for t in T if t not in (T.ARRAY, T.STRUCTURE, T.COMPACT_ARRAY)]
# compact-array contents cannot count elements of no octets
DESCRIBABLE = [t for t in SIMPLE if t not in (T.NULL_DATA, T.DONT_CARE)]


def plain_values(kind: DataType) -> st.SearchStrategy:
    """Plain values of a simple type, in the form the plain decoder gives."""
    if kind in _INT_RANGE:
        return st.integers(*_INT_RANGE[kind])
    return {
        T.NULL_DATA: st.none(),
        T.DONT_CARE: st.just(DONT_CARE),
        T.BOOLEAN: st.booleans(),
        T.BIT_STRING: st.text("01", max_size=70).map(BitString.from_str),
        T.OCTET_STRING: st.binary(max_size=300),
        T.VISIBLE_STRING: st.text(st.characters(max_codepoint=0xFF), max_size=140),
        T.UTF8_STRING: st.text(max_size=60),
        T.FLOAT32: st.floats(width=32, allow_nan=False),
        T.FLOAT64: st.floats(allow_nan=False),
        # any 12 / 5 / 4 octets are a valid clock value, "not specified" fields
        # included; a date-time's deviation is in -840..840 (or not specified)
        T.DATE_TIME: date_time_octets().map(DateTime.from_bytes),
        T.DATE: st.binary(min_size=5, max_size=5).map(Date.from_bytes),
        T.TIME: st.binary(min_size=4, max_size=4).map(Time.from_bytes),
    }[kind]


def leaves(kinds=SIMPLE) -> st.SearchStrategy[Data]:
    return st.sampled_from(kinds).flatmap(
        lambda kind: plain_values(kind).map(lambda value: Data(kind, value)))


descriptions = st.recursive(
    st.sampled_from(DESCRIBABLE).map(TypeDescription),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(lambda xs: TypeDescription.structure(*xs)),
        st.tuples(inner, st.integers(1, 3)).map(lambda x: TypeDescription.array(x[0], x[1])),
    ),
    max_leaves=8,
)


def typed_for(description: TypeDescription) -> st.SearchStrategy[Data]:
    """A typed value that the description describes."""
    if description.type == T.STRUCTURE:
        return st.tuples(*(typed_for(e) for e in description.elements)).map(
            lambda xs: Data(T.STRUCTURE, xs))
    if description.type == T.ARRAY:
        return st.lists(typed_for(description.element), min_size=description.count,
                        max_size=description.count).map(lambda xs: Data(T.ARRAY, xs))
    return plain_values(description.type).map(lambda v: Data(description.type, v))


compact_arrays = descriptions.flatmap(
    lambda d: st.lists(typed_for(d), max_size=5).map(
        lambda xs: Data(T.COMPACT_ARRAY, xs, d)))

typed_trees = st.recursive(
    st.one_of(leaves(), compact_arrays),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(lambda xs: Data(T.STRUCTURE, xs)),
        st.lists(inner, max_size=5).map(lambda xs: Data(T.ARRAY, xs)),
    ),
    max_leaves=25,
)


# ---------------------------------------------------------------- round trips


@SETTINGS
@given(typed_trees)
def test_typed_round_trip(node):
    data = encode(node)
    assert decode_typed(data) == node
    assert decode(data) == node.to_plain()
    assert Data.from_meaning(node.to_meaning()) == node
    framed = b"\x7e" + data + b"\x7e"
    assert decode_typed_from(framed, 1) == (node, 1 + len(data))
    assert decode_from(memoryview(framed), 1) == (node.to_plain(), 1 + len(data))


@SETTINGS
@given(descriptions.flatmap(lambda d: st.tuples(st.just(d), st.lists(typed_for(d), max_size=4))))
def test_plain_values_with_their_description(description_and_rows):
    description, rows = description_and_rows
    plain = [row.to_plain() for row in rows]
    buffer = TypeDescription.array(description)
    data = encode(plain, buffer)
    assert data == encode(Data(T.ARRAY, rows))
    assert decode(data) == plain
    compact = encode(plain, TypeDescription.compact_array(description))
    assert compact == encode(Data(T.COMPACT_ARRAY, rows, description))
    assert decode(compact) == plain


@SETTINGS
@given(descriptions)
def test_type_description_round_trip(description):
    data = encode_type_description(description)
    assert decode_type_description_from(data) == (description, len(data))
    assert TypeDescription.from_meaning(description.to_meaning()) == description


any_python = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(1 << 70), 1 << 70), st.floats(),
              st.text(max_size=5), st.binary(max_size=5), st.just(DONT_CARE),
              st.datetimes(), st.dates(), st.times(), st.builds(DateTime), st.just(object())),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.integers(0, 3), inner, max_size=2)),
    max_leaves=6,
)


@SETTINGS
@given(any_python, st.one_of(descriptions, st.sampled_from(SIMPLE),
                             descriptions.map(TypeDescription.compact_array)))
def test_any_python_value_encodes_or_raises_encode_error(value, description):
    try:
        data = encode(value, description)
    except EncodeError:
        return
    decode(data)


@SETTINGS
@given(st.sampled_from(list(T)), any_python)
def test_any_python_value_makes_a_node_or_raises(kind, value):
    try:
        node = Data(kind, value)
    except UsageError:  # EncodeError for a value, UsageError for a missing description
        return
    if node.value == node.value:  # NaN never equals itself
        assert decode_typed(encode(node)) == node


# ---------------------------------------------------------------- hostile input


def _only_dlms_errors(data: bytes) -> None:
    for call in (decode, decode_typed, lambda b: decode_from(b, 0),
                 lambda b: decode_length_from(b, 0), lambda b: decode_type_description_from(b)):
        try:
            call(data)
        except DecodeError as error:
            assert error.offset is not None and 0 <= error.offset <= len(data), error


@SETTINGS
@given(st.binary(max_size=80))
def test_random_bytes_raise_only_dlms_errors(data):
    _only_dlms_errors(data)


@SETTINGS
@given(st.binary(max_size=40).map(lambda b: bytes([0x13]) + b))
def test_random_compact_arrays_raise_only_dlms_errors(data):
    _only_dlms_errors(data)


def _vector_bytes() -> list[bytes]:
    return [bytes.fromhex(r["hex"]) for r in load_vectors("axdr") if len(r["hex"]) < 1200]


@SETTINGS
@given(st.data())
def test_damaged_vectors_raise_only_dlms_errors(data):
    original = bytearray(data.draw(st.sampled_from(_vector_bytes())))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        where = data.draw(st.integers(0, max(0, len(original) - 1)))
        if action == "flip" and original:
            original[where] = data.draw(st.integers(0, 255))
        elif action == "insert":
            original.insert(where, data.draw(st.integers(0, 255)))
        elif action == "delete" and original:
            del original[where]
        else:
            del original[where:]
    _only_dlms_errors(bytes(original))


def test_hostile_length_fails_at_once():
    with pytest.raises(DecodeError) as info:
        decode(b"\x09\x84\xff\xff\xff\xff" + b"\x00" * 4)
    assert info.value.offset == 1
    for tag in (0x01, 0x02, 0x04, 0x0A, 0x0C):
        with pytest.raises(DecodeError):
            decode(bytes([tag]) + b"\x84\xff\xff\xff\xff" + b"\x00" * 4)
    # a compact-array description whose arrays would allocate without bound
    with pytest.raises(DecodeError):
        decode(bytes.fromhex("13 01FFFF 01FFFF 01FFFF 11 84FFFFFFFF 00"))


def test_deep_nesting_is_a_decode_error_not_a_crash():
    for decoder in (decode, decode_typed):
        with pytest.raises(DecodeError, match="nested"):
            decoder(b"\x01\x01" * 100000)
        with pytest.raises(DecodeError, match="nested"):
            decoder(b"\x02\x01" * 100000)
    with pytest.raises(DecodeError, match="nested"):
        decode(b"\x13" + b"\x02\x01" * 100000)
