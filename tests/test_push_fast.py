"""The compiled walk of a notification body (dlmsfast.push._push) against the
general path of dlmsfast.push.body: for every body it takes, the same readings
(equal, of the same types, Decimals with the same exponent) and the same meter
names; for everything else, nothing (the general path then decides)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmsfast.axdr import Data, DataType, DateTime, decode_from, encode
from dlmsfast.push import PushDecoder
from dlmsfast.push.body import ReadingBuilder

STAMP = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
CLOCK = bytes((0, 0, 1, 0, 0, 255))
SERIAL = bytes((0, 0, 96, 1, 0, 255))

_INTS = [(DataType.INTEGER, -128, 127), (DataType.LONG, -(1 << 15), (1 << 15) - 1),
         (DataType.UNSIGNED, 0, 255), (DataType.LONG_UNSIGNED, 0, 0xFFFF),
         (DataType.DOUBLE_LONG, -(1 << 31), (1 << 31) - 1),
         (DataType.DOUBLE_LONG_UNSIGNED, 0, 0xFFFFFFFF), (DataType.LONG64, -(1 << 63), (1 << 63) - 1),
         (DataType.LONG64_UNSIGNED, 0, (1 << 64) - 1), (DataType.ENUM, 0, 255)]
CLOCK_OCTETS = DateTime.from_datetime(STAMP).to_bytes()

values = st.one_of(
    st.sampled_from(_INTS).flatmap(lambda t: st.integers(t[1], t[2]).map(lambda v: Data(t[0], v))),
    st.booleans().map(lambda v: Data(DataType.BOOLEAN, v)),
    st.floats(width=32, allow_nan=False).map(lambda v: Data(DataType.FLOAT32, v)),
    st.floats(allow_nan=False).map(lambda v: Data(DataType.FLOAT64, v)),
    st.binary(max_size=14).map(lambda v: Data(DataType.OCTET_STRING, v)),
    st.text("ABCxyz0123 ", max_size=10).map(lambda v: Data(DataType.OCTET_STRING, v.encode())),
    st.just(Data(DataType.OCTET_STRING, CLOCK_OCTETS)),
    st.text("ABCxyz0123 ", max_size=10).map(lambda v: Data(DataType.VISIBLE_STRING, v)),
    st.just(Data(DataType.NULL_DATA)),
    st.just(Data(DataType.DATE_TIME, DateTime.from_datetime(STAMP))),
    st.just(Data(DataType.ARRAY, (Data(DataType.UNSIGNED, 1),))),
)
obis = st.one_of(st.sampled_from([CLOCK, SERIAL, bytes((1, 0, 1, 8, 0, 255))]), st.binary(min_size=6, max_size=6))
scaler_unit = st.one_of(
    st.tuples(st.integers(-128, 127), st.integers(0, 255)).map(
        lambda p: Data(DataType.STRUCTURE, (Data(DataType.INTEGER, p[0]), Data(DataType.ENUM, p[1])))),
    st.just(Data(DataType.STRUCTURE, (Data(DataType.LONG, -1), Data(DataType.UNSIGNED, 30)))),
)
element = st.tuples(obis, values, st.one_of(st.none(), scaler_unit)).map(
    lambda e: Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, e[0]), e[1])
                   + (() if e[2] is None else (e[2],))))
bodies = st.tuples(st.sampled_from([DataType.STRUCTURE, DataType.ARRAY]),
                   st.lists(element, min_size=1, max_size=20)).map(lambda b: Data(b[0], tuple(b[1])))


def _general(octets: bytes) -> ReadingBuilder:
    builder = ReadingBuilder(STAMP, True)
    builder.body(decode_from(octets, 0)[0], ())
    return builder


def _same(fast: ReadingBuilder, general: ReadingBuilder) -> None:
    assert fast.readings == general.readings
    for a, b in zip(fast.readings, general.readings):
        assert [type(getattr(a, f)) for f in a.__slots__] == [type(getattr(b, f)) for f in b.__slots__]
        assert repr(a) == repr(b)  # Decimal('230.10') is not Decimal('230.1')
    assert fast.meter_ids == general.meter_ids and fast.meter_id() == general.meter_id()


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_the_compiled_walk_gives_what_the_general_path_gives(body):
    octets = encode(body)
    fast = ReadingBuilder(STAMP, True)
    if fast.objects_at(octets, 0):
        _same(fast, _general(octets))
    else:
        assert fast.readings == [] and fast.meter_ids == {}


@settings(max_examples=300, deadline=None)
@given(bodies, st.data())
def test_a_mutated_or_cut_body_gives_the_same_or_nothing(body, data):
    octets = bytearray(encode(body))
    for _ in range(data.draw(st.integers(1, 3))):
        octets[data.draw(st.integers(0, len(octets) - 1))] = data.draw(st.integers(0, 255))
    octets = bytes(octets[: data.draw(st.integers(1, len(octets)))])
    fast = ReadingBuilder(STAMP, True)
    if fast.objects_at(octets, 0):
        _same(fast, _general(octets))


def test_the_common_list_takes_the_compiled_walk():
    body = Data(DataType.STRUCTURE, tuple(
        Data(DataType.STRUCTURE, (Data(DataType.OCTET_STRING, bytes((1, 0, 32, 7, 0, 255))),
                                  Data(DataType.LONG_UNSIGNED, 2301),
                                  Data(DataType.STRUCTURE, (Data(DataType.INTEGER, -1),
                                                            Data(DataType.ENUM, 35)))))
        for _ in range(3)))
    builder = ReadingBuilder(None, False)
    assert builder.objects_at(b"\x00" + encode(body), 1)
    assert [(str(r.object), r.value, str(r.scaled), r.unit) for r in builder.readings] == [
        ("1.0.32.7.0.255", 2301, "230.1", "V")] * 3
    # a decoder's notification of that body is the same
    apdu = b"\x0f\x00\x00\x00\x01\x00" + encode(body)
    assert PushDecoder().feed_apdu(apdu)[0].readings == tuple(builder.readings)


# -- HDLC frames back to back: the compiled run against the framer's own checks --

from dlmsfast.push import framing  # noqa: E402

from push_builders import hdlc_frames, notification  # noqa: E402

FRAMES = hdlc_frames(notification(3, repeat=3), 64)


def _framed(stream: bytes, cuts: list[int], compiled: bool) -> tuple:
    framer = framing.PushFramer()
    out = []
    last = 0
    with pytest.MonkeyPatch.context() as patch:
        if not compiled:  # every frame through the framer's own checks
            patch.setattr(framing, "hdlc_run", lambda buf, pos, *rest: (pos, 0))
        for cut in sorted(cuts) + [len(stream)]:
            out += framer.feed(stream[last:cut])
            last = cut
    return ([(type(x).__name__, tuple(x) if isinstance(x, framing.Segment) else str(x)) for x in out],
            framer.frames, framer.bad_frames, framer.discarded_bytes, framer.pending)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(FRAMES), st.sampled_from([b"\x7e", b"\x7e\x7e", b"\xa0", b"\x00"]),
                          st.sampled_from(FRAMES).map(lambda f: f[1:]),   # opening flag lost
                          st.sampled_from(FRAMES).map(lambda f: f[:-1]),  # closing flag lost
                          st.sampled_from(FRAMES).map(lambda f: f[:20] + b"\x00" + f[21:])),  # bad FCS
                max_size=12),
       st.lists(st.integers(0, 4000), max_size=4))
def test_the_compiled_hdlc_run_gives_what_the_framer_checks_give(parts, cuts):
    stream = b"".join(parts)
    cuts = [c for c in cuts if c < len(stream)]
    assert _framed(stream, cuts, True) == _framed(stream, cuts, False)


def test_frames_sharing_flags_and_fill_go_through_the_compiled_run():
    # fill before the first frame, two frames sharing one flag, fill between frames
    stream = (b"\x7e\x7e" + FRAMES[0] + FRAMES[1][1:] + b"\x7e\x7e"
              + b"".join(FRAMES[2:]))
    compiled = _framed(stream, [], True)
    assert compiled == _framed(stream, [], False)
    segments, frames, bad, _, pending = compiled
    assert (frames, bad, pending) == (len(FRAMES), 0, 1)  # the last flag may open a frame
    assert b"".join(seg[1][2] for seg in segments)[3:] == notification(3, repeat=3)


# -- scaled, computed on first read ----------------------------------------------

import copy  # noqa: E402
import dataclasses  # noqa: E402
import pickle  # noqa: E402
from decimal import Decimal  # noqa: E402

from dlmsfast.push import Reading  # noqa: E402
from dlmsfast.push._push import ScaledSlot, Unscaled  # noqa: E402


def _voltage() -> Reading:
    return PushDecoder().feed_apdu(notification(1))[0].readings[3]


def test_scaled_is_computed_on_first_read_and_kept():
    reading = _voltage()
    slot = Reading.__dict__["scaled"]
    assert isinstance(slot, ScaledSlot)
    first = reading.scaled
    assert first == Decimal("230.1") and str(first) == "230.1" and reading.scaled is first
    assert not isinstance(reading.scaled, Unscaled)


def test_a_reading_left_unscaled_behaves_as_a_scaled_one():
    expected = Reading(_voltage().object, 2301, Decimal("230.1"), "V", 35, -1,
                       _voltage().timestamp, False, 2)
    assert _voltage() == expected and hash(_voltage()) == hash(expected)
    assert repr(_voltage()) == repr(expected)
    assert pickle.loads(pickle.dumps(_voltage())) == expected
    assert copy.copy(_voltage()) == expected and copy.deepcopy(_voltage()) == expected
    assert dataclasses.replace(_voltage(), attribute=3).scaled == Decimal("230.1")
    assert dataclasses.astuple(_voltage())[2] == Decimal("230.1")
    assert _voltage().to_json()["scaled"] == 230.1
    with pytest.raises(dataclasses.FrozenInstanceError):
        _voltage().scaled = 1
    with pytest.raises(TypeError):
        Reading.__dict__["scaled"].__get__(object(), Reading)
