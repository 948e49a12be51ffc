"""Untrusted values into every attribute of every class: a value or a
DecodeError naming the object and attribute, never another exception."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import date_time_octets
from dlmsfast.axdr import Data, DataType, DateTime, decode_typed, encode
from dlmsfast.cosem import ProfileGeneric, ScalerUnit, registered_classes
from dlmsfast.errors import DecodeError

_SIMPLE = st.one_of(
    st.builds(lambda: Data(DataType.NULL_DATA)),
    st.booleans().map(lambda v: Data(DataType.BOOLEAN, v)),
    st.integers(-128, 127).map(lambda v: Data(DataType.INTEGER, v)),
    st.integers(0, 255).map(lambda v: Data(DataType.UNSIGNED, v)),
    st.integers(0, 255).map(lambda v: Data(DataType.ENUM, v)),
    st.integers(-0x8000, 0x7FFF).map(lambda v: Data(DataType.LONG, v)),
    st.integers(0, 0xFFFF).map(lambda v: Data(DataType.LONG_UNSIGNED, v)),
    st.integers(0, 0xFFFFFFFF).map(lambda v: Data(DataType.DOUBLE_LONG_UNSIGNED, v)),
    st.binary(max_size=14).map(lambda v: Data(DataType.OCTET_STRING, v)),
    st.text(alphabet="abc019", max_size=4).map(lambda v: Data(DataType.VISIBLE_STRING, v)),
    date_time_octets().map(lambda v: Data(DataType.DATE_TIME, DateTime.from_bytes(v))),
)
DATA = st.recursive(
    _SIMPLE,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(lambda v: Data(DataType.STRUCTURE, tuple(v))),
        st.lists(inner, max_size=4).map(lambda v: Data(DataType.ARRAY, tuple(v))),
    ),
    max_leaves=20,
)
TARGETS = [(cls, version, attribute.index)
           for cls in registered_classes().values()
           for version in cls.versions
           for attribute in cls.attribute_table(version)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TARGETS), DATA)
def test_any_data_gives_a_value_or_a_decode_error(target, data):
    cls, version, index = target
    obj = cls("1.2.3.4.5.6", version)
    try:
        obj.decode_attribute(index, data)
    except DecodeError as exc:
        assert "1.2.3.4.5.6" in str(exc) and f"attribute {index}" in str(exc)
        return
    # what was accepted is served back as valid A-XDR that reads the same
    again = cls("1.2.3.4.5.6", version)
    again.decode_attribute(index, decode_typed(encode(obj.encode_attribute(index))))
    assert again.get(index) == obj.get(index)


@settings(max_examples=200, deadline=None)
@given(DATA, st.lists(st.sampled_from([(8, 2), (1, 2), (3, 2), (4, 5), (99, 2)]), min_size=1, max_size=4))
def test_any_buffer_gives_rows_or_a_decode_error(buffer, columns):
    from dlmsfast.cosem import CaptureObjectDefinition

    captures = tuple(CaptureObjectDefinition(c, "0.0.1.0.0.255", a) for c, a in columns)
    profile = ProfileGeneric("1.0.99.1.0.255", capture_objects=captures, capture_period=900)
    scalers = {c: ScalerUnit(-2, 30) for c in captures}
    try:
        rows = profile.rows(buffer, scalers=scalers)
    except DecodeError as exc:
        assert "1.0.99.1.0.255" in str(exc)
        return
    assert all(len(row) == len(captures) for row in rows)
