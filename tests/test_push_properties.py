"""Property tests of the push decoder: any octets give only readings or
DlmsErrors (never a crash, a hang or unbounded memory), and a stream cut
anywhere gives the same readings as the whole."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlmsfast.errors import DlmsError
from dlmsfast.push import MAX_APDU, Notification, PushDecoder, PushKeys, Reading, Rejected
from dlmsfast.push.framing import MAX_WRAPPER_PAYLOAD

from push_builders import AK, EK, ciphered, gbt_blocks, hdlc_frames, mbus_frames, meter_context, notification

# the most a framer keeps while it waits for the rest of a candidate frame
_MAX_PENDING = MAX_WRAPPER_PAYLOAD + 8


def _stream(rounds: int) -> bytes:
    context = meter_context()
    parts = []
    for n in range(rounds):
        parts += hdlc_frames(notification(n), 40)
        parts += [b"\x7e\x7e\x01\x02"]
        parts += [f for block in gbt_blocks(ciphered(notification(10 + n), context), 50)
                  for f in hdlc_frames(block)]
        parts += mbus_frames(ciphered(notification(20 + n), context), 90)
        parts += [b"\x00\x01\x00\x01\x00\x10\x00\x07"]  # a wrapper header cut short
    return b"".join(parts)


STREAM = _stream(4)
# each kind of unit once: the every-octet cut runs the decoder twice per octet
SHORT = _stream(1)


def _decoder() -> PushDecoder:
    return PushDecoder(keys=PushKeys(ek=EK, ak=AK))


def _check(events) -> list[Reading]:
    readings = []
    for event in events:
        if isinstance(event, Notification):
            assert all(isinstance(r, Reading) for r in event.readings)
            readings.extend(event.readings)
        else:
            assert isinstance(event, Rejected) and isinstance(event.error, DlmsError)
    return readings


def _feed(decoder: PushDecoder, pieces) -> list[Reading]:
    readings = []
    for piece in pieces:
        readings += _check(decoder.feed(piece))
        assert decoder.framer.pending <= _MAX_PENDING
    return readings + _check(decoder.finish())


WHOLE = _feed(_decoder(), [STREAM])


def test_the_stream_holds_every_notification():
    assert len(WHOLE) == 12 * 5


def test_a_cut_at_every_octet_gives_the_same_readings():
    whole = _feed(_decoder(), [SHORT])
    assert len(whole) == 3 * 5
    for cut in range(1, len(SHORT)):
        assert _feed(_decoder(), [SHORT[:cut], SHORT[cut:]]) == whole, cut


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, len(STREAM) - 1), max_size=40))
def test_any_cuts_give_the_same_readings(cuts):
    points = [0, *sorted(set(cuts)), len(STREAM)]
    assert _feed(_decoder(), [STREAM[a:b] for a, b in zip(points, points[1:])]) == WHOLE


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_random_octets_give_only_readings_or_dlms_errors(data):
    decoder = _decoder()
    _feed(decoder, [data])
    _check(decoder.feed_apdu(data)) if data else None
    _check(decoder.feed_chunk(data, datagram=True)) if data else None


_FRAME_OPENERS = st.sampled_from([b"\x7e", b"\x7e\xa0", b"\x7e\xa8\xff", b"\x68\xff\xff\x68",
                                  b"\x00\x01\x00\x01\x00\x01\x3f\xff\x0f", b"\xe6\xe7\x00\x0f"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(STREAM) - 1),
                          st.one_of(st.binary(min_size=1, max_size=8), _FRAME_OPENERS),
                          st.integers(0, 8)), max_size=12))
def test_mutated_streams_give_only_readings_or_dlms_errors(mutations):
    data = bytearray(STREAM)
    for at, insert, delete in mutations:
        at = min(at, len(data))
        data[at : at + delete] = insert
    readings = _feed(_decoder(), [bytes(data)])
    # a damaged frame costs its own notification, never the ones around it
    assert len(readings) <= len(WHOLE) + 5 * len(mutations)


def test_a_sender_that_never_ends_its_segments_is_bounded():
    decoder = _decoder()
    first, more = hdlc_frames(b"\x0f" + bytes(3000), 1000)[:2]  # both with the S bit
    events = decoder.feed(first)
    for _ in range(MAX_APDU // 1000 + 2):
        events += decoder.feed(more)
    assert any(isinstance(e, Rejected) and "longer than" in str(e.error) for e in events)


def test_a_huge_claimed_length_allocates_nothing():
    # a data-notification whose body claims a 2**31-element array
    apdu = bytes.fromhex("0f0000000100") + b"\x01\x84\x7f\xff\xff\xff" + b"\x11\x01"
    events = _decoder().feed_apdu(apdu)
    assert len(events) == 1 and isinstance(events[0], Rejected)


@pytest.mark.parametrize("garbage", [b"\x7e" * 5000, b"\x68" * 5000, b"\x00\x01" * 3000,
                                     bytes(range(256)) * 20], ids=["flags", "mbus", "wrapper", "all"])
def test_long_garbage_is_skipped_and_the_next_frame_found(garbage):
    decoder = _decoder()
    frames = hdlc_frames(notification(1))
    readings = _feed(decoder, [garbage, b"".join(frames)])
    assert len(readings) == 5


def test_doubled_and_missing_flags():
    frames = [hdlc_frames(notification(n)) [0] for n in range(4)]
    doubled = b"\x7e".join(frames)               # 7E f1 7E 7E f2 ...
    shared = b"".join(f[:-1] for f in frames) + b"\x7e"  # 7E f1 7E f2 7E (one flag between)
    missing = frames[0][:-1] + frames[1][1:-1] + frames[2] + frames[3][1:]  # no flag at all
    for stream in (doubled, shared, missing):
        assert len(_feed(_decoder(), [stream])) == 20
