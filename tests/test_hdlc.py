"""HDLC frames: every published vector both ways, strict checks, the stream splitter, fuzzing."""
from __future__ import annotations

import pickle
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlmsfast.errors import DecodeError, EncodeError, UsageError
from dlmsfast.hdlc import (
    FrameKind,
    HdlcAddress,
    HdlcControl,
    HdlcFrame,
    HdlcParameters,
    HdlcStreamSplitter,
    LLC_COMMAND,
    LLC_RESPONSE,
    describe_frame,
    fcs16,
    frame_parameters,
    parse_address,
    parse_frame_from,
    split_llc,
    with_llc,
)

from conftest import feed_in_chunks, load_vectors


def _vectors(negative: bool) -> list[dict]:
    return [v for v in load_vectors("hdlc") if v["name"].startswith("NEGATIVE:") == negative]


def _ids(vectors: list[dict]) -> list[str]:
    return [v["name"][:60] for v in vectors]


POSITIVE = _vectors(False)
NEGATIVE = _vectors(True)


def _expected_meaning(vector: dict) -> dict:
    meaning = dict(vector["meaning"])
    meaning.pop("apdu", None)  # APDUs are another layer's business
    meaning.pop("expect", None)
    return meaning


# --------------------------------------------------------------------------- CRC


def test_fcs16_check_value():
    assert fcs16(b"123456789") == 0x906E


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_fcs16_accepts_any_buffer(kind):
    assert fcs16(kind(b"123456789")) == 0x906E


def test_fcs16_of_empty_input():
    assert fcs16(b"") == 0x0000


def test_fcs16_every_length_against_bitwise_definition():
    # Covers the slicing-by-8 main loop and every tail length 0..7.
    rng = random.Random(7)
    for length in range(0, 40):
        data = bytes(rng.randrange(256) for _ in range(length))
        crc = 0xFFFF
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        assert fcs16(data) == crc ^ 0xFFFF


# --------------------------------------------------------------------------- vectors


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_vector_meaning_field_by_field(vector):
    frame = HdlcFrame.from_bytes(bytes.fromhex(vector["hex"]))
    meaning = frame.to_meaning()
    expected = _expected_meaning(vector)
    for key, value in expected.items():
        assert meaning[key] == value, key
    assert set(meaning) == set(expected)


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_vector_fields_and_rebuild(vector):
    raw = bytes.fromhex(vector["hex"])
    meaning = vector["meaning"]
    frame = HdlcFrame.from_bytes(raw)
    for address, key in ((frame.destination, "destination_address"), (frame.source, "source_address")):
        assert address.size == meaning[key]["octets"]
        assert address.upper == meaning[key]["upper"]
        assert address.lower == meaning[key]["lower"]
        assert address.to_bytes().hex().upper() == meaning[key]["hex"]
    assert frame.control.kind.name == meaning["control"]["frame"]
    assert frame.control.ns == meaning["control"].get("ns")
    assert frame.control.nr == meaning["control"].get("nr")
    assert frame.control.pf == bool(meaning["control"]["pf"])
    assert frame.segmented == meaning["format"]["segmented"]
    assert frame.length == meaning["format"]["length"]
    assert frame.information == bytes.fromhex(meaning["information"] or "")
    assert frame.to_bytes() == raw
    rebuilt = HdlcFrame(frame.destination, frame.source, frame.control, frame.information, frame.segmented)
    assert rebuilt == frame and rebuilt.to_bytes() == raw


@pytest.mark.parametrize("vector", POSITIVE + NEGATIVE, ids=_ids(POSITIVE + NEGATIVE))
def test_vector_lenient_description(vector):
    assert describe_frame(bytes.fromhex(vector["hex"])) == _expected_meaning(vector)


def _expected_offset(vector: dict) -> int:
    raw = bytes.fromhex(vector["hex"])
    expect = vector["meaning"]["expect"]
    if "length" in expect:
        return 1
    if "HCS" in expect:
        header = 3 + vector["meaning"]["destination_address"]["octets"]
        return header + vector["meaning"]["source_address"]["octets"] + 1
    assert "FCS" in expect
    return len(raw) - 3


@pytest.mark.parametrize("vector", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_vector_rejected_with_offset(vector):
    with pytest.raises(DecodeError) as info:
        HdlcFrame.from_bytes(bytes.fromhex(vector["hex"]))
    assert info.value.offset == _expected_offset(vector)
    assert f"offset {info.value.offset}" in str(info.value)


@pytest.mark.parametrize("vector", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_vector_dropped_by_splitter(vector):
    splitter = HdlcStreamSplitter()
    good = bytes.fromhex(POSITIVE[0]["hex"])
    frames = splitter.feed(bytes.fromhex(vector["hex"]) + good)
    assert frames == [HdlcFrame.from_bytes(good)]
    assert splitter.bad_frames == 1
    assert isinstance(splitter.last_error, DecodeError)
    assert splitter.pending == 0


def test_parameters_of_vectors():
    for vector in POSITIVE:
        expected = vector["meaning"].get("parameters")
        params = frame_parameters(HdlcFrame.from_bytes(bytes.fromhex(vector["hex"])))
        if expected is None:
            assert params is None
            continue
        for name in ("max_info_field_length_transmit", "max_info_field_length_receive",
                     "window_size_transmit", "window_size_receive"):
            assert getattr(params, name) == expected.get(name)


def test_llc_of_vectors():
    for vector in POSITIVE:
        info = bytes.fromhex(vector["meaning"]["information"] or "")
        llc, rest = split_llc(info)
        if "llc" in vector["meaning"]:
            assert llc.hex().upper() == vector["meaning"]["llc"]
            assert with_llc(rest, response=llc == LLC_RESPONSE) == info
        else:
            assert llc is None and rest == info


# --------------------------------------------------------------------------- strict checks


def _frame(info=b"\xe6\xe6\x00\xc0\x01\x81", **kw):
    return HdlcFrame(HdlcAddress.server(1, 17), HdlcAddress.client(16),
                     kw.pop("control", HdlcControl(FrameKind.I, ns=1, nr=2)), info, **kw)


def test_missing_flags():
    raw = _frame().to_bytes()
    with pytest.raises(DecodeError) as info:
        HdlcFrame.from_bytes(raw[1:])
    assert info.value.offset == 0
    with pytest.raises(DecodeError) as info:
        HdlcFrame.from_bytes(raw[:-1])
    assert info.value.offset == len(raw) - 2
    with pytest.raises(DecodeError) as info:
        HdlcFrame.from_bytes(b"")
    assert info.value.offset == 0


def test_wrong_format_type():
    raw = bytearray(_frame().to_bytes())
    raw[1] = 0x90 | (raw[1] & 0x0F)
    with pytest.raises(DecodeError, match="format type 9") as info:
        HdlcFrame.from_bytes(bytes(raw))
    assert info.value.offset == 1


def test_bad_address_extension_bits():
    # 3-octet destination: the third octet ends it, which is not allowed.
    body = bytes([0xA0, 0x09, 0x02, 0x02, 0x23, 0x21, 0x93])
    raw = b"\x7e" + body + fcs16(body).to_bytes(2, "little") + b"\x7e"
    with pytest.raises(DecodeError, match="3 octets") as info:
        HdlcFrame.from_bytes(raw)
    assert info.value.offset == 5
    # 5 octets without an end bit: the 4th octet should have ended the address.
    body = bytes([0xA0, 0x0B, 0x02, 0x02, 0x02, 0x02, 0x23, 0x21, 0x93])
    raw = b"\x7e" + body + fcs16(body).to_bytes(2, "little") + b"\x7e"
    with pytest.raises(DecodeError, match="longer than 4") as info:
        HdlcFrame.from_bytes(raw)
    assert info.value.offset == 6


def test_unsupported_control_field():
    body = bytes([0xA0, 0x07, 0x03, 0x21, 0x09])  # REJ: not used by DLMS
    raw = b"\x7e" + body + fcs16(body).to_bytes(2, "little") + b"\x7e"
    with pytest.raises(DecodeError, match="control field 0x09") as info:
        HdlcFrame.from_bytes(raw)
    assert info.value.offset == 5


def test_length_too_short_for_header():
    # 6 octets between the flags: the control field would sit where the FCS is.
    with pytest.raises(DecodeError, match="too short") as info:
        HdlcFrame.from_bytes(bytes.fromhex("7EA0060321935A7E"))
    assert info.value.offset == 1


def test_hcs_without_information_rejected():
    header = bytes([0xA0, 0x09, 0x03, 0x21, 0x10])
    hcs = fcs16(header).to_bytes(2, "little")
    body = header + hcs
    raw = b"\x7e" + body + fcs16(body).to_bytes(2, "little") + b"\x7e"
    with pytest.raises(DecodeError, match="no information field") as info:
        HdlcFrame.from_bytes(raw)
    assert info.value.offset == 1


def test_trailing_or_missing_octets_are_length_mismatch():
    raw = _frame().to_bytes()
    for bad in (raw[:-2] + raw[-1:], raw[:-1] + b"\x00\x7e"):
        with pytest.raises(DecodeError, match="length field") as info:
            HdlcFrame.from_bytes(bad)
        assert info.value.offset == 1


def test_every_single_bit_flip_is_detected():
    raw = _frame().to_bytes()
    for index in range(1, len(raw) - 1):
        for bit in range(8):
            bad = bytearray(raw)
            bad[index] ^= 1 << bit
            with pytest.raises(DecodeError):
                HdlcFrame.from_bytes(bytes(bad))


# --------------------------------------------------------------------------- building


@pytest.mark.parametrize(
    "control, byte",
    [
        (HdlcControl(FrameKind.I, ns=0, nr=0), 0x10),
        (HdlcControl(FrameKind.I, ns=2, nr=2), 0x54),
        (HdlcControl(FrameKind.I, ns=3, nr=4, pf=True), 0x96),
        (HdlcControl(FrameKind.I, ns=7, nr=7, pf=False), 0xEE),
        (HdlcControl(FrameKind.RR, nr=2), 0x51),
        (HdlcControl(FrameKind.RR, nr=3), 0x71),
        (HdlcControl(FrameKind.RNR, nr=1), 0x35),
        (HdlcControl(FrameKind.SNRM), 0x93),
        (HdlcControl(FrameKind.DISC), 0x53),
        (HdlcControl(FrameKind.UA), 0x73),
        (HdlcControl(FrameKind.DM), 0x1F),
        (HdlcControl(FrameKind.FRMR), 0x97),
        (HdlcControl(FrameKind.UI), 0x13),
        (HdlcControl(FrameKind.UI, pf=False), 0x03),
    ],
)
def test_control_octets(control, byte):
    assert int(control) == byte
    assert HdlcControl.from_byte(byte) == control
    assert HdlcControl.from_byte(byte).kind is control.kind


def test_every_control_octet_decodes_or_raises():
    kinds = {}
    for byte in range(256):
        try:
            control = HdlcControl.from_byte(byte, 5)
        except DecodeError as exc:
            assert exc.offset == 5
            continue
        assert int(control) == byte
        assert HdlcControl(control.kind, control.ns, control.nr, control.pf) == control
        kinds[control.kind] = kinds.get(control.kind, 0) + 1
    assert kinds[FrameKind.I] == 128
    assert kinds[FrameKind.RR] == kinds[FrameKind.RNR] == 16
    assert all(kinds[k] == 2 for k in (FrameKind.SNRM, FrameKind.DISC, FrameKind.UA,
                                       FrameKind.DM, FrameKind.FRMR, FrameKind.UI))


@pytest.mark.parametrize(
    "args",
    [(FrameKind.I, 8, 0), (FrameKind.I, 0, -1), (FrameKind.RR, 1, 0), (FrameKind.SNRM, None, 1),
     ("X", None, None), (FrameKind.I, 1.0, 0)],
)
def test_control_misuse(args):
    with pytest.raises(UsageError):
        HdlcControl(*args)


@pytest.mark.parametrize(
    "address, raw",
    [
        (HdlcAddress.client(16), "21"),
        (HdlcAddress.client(1), "03"),
        (HdlcAddress.server(1), "03"),
        (HdlcAddress.server(1, 17), "0223"),
        (HdlcAddress.server(1, 17, 4), "00020023"),
        (HdlcAddress.server(17, 5481), "002254D3"),
        (HdlcAddress.server(0x3FFF, 0x3FFF), "FEFEFEFF"),
        (HdlcAddress(127, 127), "FEFF"),
    ],
)
def test_addresses(address, raw):
    assert address.to_bytes().hex().upper() == raw
    parsed, end = parse_address(bytes.fromhex(raw))
    assert parsed == address and end == len(raw) // 2
    assert hash(parsed) == hash(address)
    assert pickle.loads(pickle.dumps(address)) == address


@pytest.mark.parametrize(
    "args",
    [(128,), (1, 128, 2), (1, None, 2), (1, 5, 1), (0x4000, 1, 4), (1, 1, 3), (-1,), ("1",)],
)
def test_address_misuse(args):
    with pytest.raises(UsageError):
        HdlcAddress(*args)


def test_parse_address_errors():
    with pytest.raises(DecodeError) as info:
        parse_address(b"\x02\x02", 0)
    assert info.value.offset == 2


def test_build_sets_segmentation_bit_and_length():
    frame = _frame(info=bytes(200), segmented=True)
    raw = frame.to_bytes()
    assert raw[1] & 0x08
    assert ((raw[1] & 0x07) << 8 | raw[2]) == len(raw) - 2 == frame.length
    assert HdlcFrame.from_bytes(raw) == frame


def test_frame_kind_shortcut_and_empty_information():
    frame = HdlcFrame(HdlcAddress.server(1), HdlcAddress.client(16), FrameKind.DISC)
    assert frame.control == HdlcControl(FrameKind.DISC, pf=True)
    assert frame.information == b""
    raw = frame.to_bytes()
    assert raw[:6] == bytes.fromhex("7EA007032153") and len(raw) == 9
    assert HdlcFrame.from_bytes(raw) == frame


@pytest.mark.parametrize("information", [5, "text", None])
def test_information_must_be_bytes_like(information):
    with pytest.raises(UsageError):
        HdlcFrame(HdlcAddress.server(1), HdlcAddress.client(16), FrameKind.UI, information)


def test_longest_frame_and_too_long():
    longest = _frame(info=bytes(0x7FF - 10))
    assert HdlcFrame.from_bytes(longest.to_bytes()).length == 0x7FF
    with pytest.raises(EncodeError):
        _frame(info=bytes(0x7FF - 9))


def test_frame_is_immutable_hashable_picklable():
    frame = _frame()
    with pytest.raises(AttributeError):
        frame.information = b""  # type: ignore[misc]
    assert {frame: 1}[HdlcFrame.from_bytes(frame.to_bytes())] == 1
    assert pickle.loads(pickle.dumps(frame)) == frame
    assert "HdlcFrame(" in repr(frame)


def test_parameters_build_and_parse():
    params = HdlcParameters(256, 256, 7, 7)
    raw = params.to_bytes()
    assert raw == bytes.fromhex("8180140502010006020100070400000007080400000007")
    assert HdlcParameters.from_bytes(raw) == params
    assert HdlcParameters().to_bytes() == bytes.fromhex("818000")
    assert HdlcParameters(max_info_field_length_transmit=512).resolved() == HdlcParameters(512, 128, 1, 1)
    assert params.to_meaning()["group_length"] == 20


@pytest.mark.parametrize(
    "raw, offset",
    [
        ("818003050100", 3 + 2),          # zero max info length
        ("828003050180", 0),              # format identifier
        ("818103050180", 1),              # group identifier
        ("818004050180", 2),              # group length beyond the field
        ("81800305038000", 2),
        ("818003050380", 4),              # value of 3 octets
        ("8180030502" "80", 5),           # value cut short
        ("81800108", 3),                  # identifier without size
        ("8180020704", 5),
        ("818006070400000008", 5),        # window 8
        ("8180", 2),
    ],
)
def test_parameters_errors(raw, offset):
    data = bytes.fromhex(raw)
    with pytest.raises(DecodeError) as info:
        HdlcParameters.from_bytes(data)
    assert info.value.offset == offset


def test_unknown_parameter_is_skipped():
    assert HdlcParameters.from_bytes(bytes.fromhex("81800709020001050180")) == HdlcParameters(128)


def test_unparsable_parameters_are_described_not_raised():
    frame = HdlcFrame(HdlcAddress.client(16), HdlcAddress.server(1), FrameKind.UA, b"\x00\x01\x02")
    meaning = frame.to_meaning()
    assert "parameters" not in meaning
    assert "format identifier" in meaning["parameters_error"]
    with pytest.raises(DecodeError):
        frame_parameters(frame)


def test_llc_helpers():
    assert with_llc(b"\xc0") == LLC_COMMAND + b"\xc0"
    assert with_llc(b"\xc4", response=True) == LLC_RESPONSE + b"\xc4"
    assert split_llc(b"\xe6\xe6") == (None, b"\xe6\xe6")


# --------------------------------------------------------------------------- splitter


def _positive_raws() -> list[bytes]:
    return [bytes.fromhex(v["hex"]) for v in POSITIVE]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_splitter_whole_and_byte_by_byte(vector):
    raw = bytes.fromhex(vector["hex"])
    expected = HdlcFrame.from_bytes(raw)
    assert parse_frame_from(raw) == (len(raw), expected)
    splitter = HdlcStreamSplitter()
    assert splitter.feed(raw) == [expected]
    assert splitter.pending == 0
    splitter = HdlcStreamSplitter()
    got = []
    for index in range(len(raw)):
        got += splitter.feed(raw[index : index + 1])
        if index < len(raw) - 1:
            assert got == []
    assert got == [expected]
    assert splitter.discarded_bytes == 0 and splitter.bad_frames == 0


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_splitter_garbage_before_between_and_partial_tail(vector):
    raw = bytes.fromhex(vector["hex"])
    expected = HdlcFrame.from_bytes(raw)
    garbage = b"\x01\x02\xa0\x7e\x33"
    stream = garbage + raw + garbage + raw + raw[:-4]
    splitter = HdlcStreamSplitter()
    assert splitter.feed(stream) == [expected, expected]
    assert splitter.pending == len(raw) - 4
    assert splitter.feed(raw[-4:]) == [expected]
    assert splitter.pending == 0
    assert splitter.discarded_bytes == 2 * len(garbage)


def test_parse_frame_from_used_counts():
    raws = _positive_raws()
    raw = raws[2]
    # Partial frame: nothing used, wait for more.
    for cut in range(len(raw)):
        assert parse_frame_from(raw[:cut]) == (0, None)
    # Garbage in front is used together with the frame that follows it.
    data = b"\x11\x22" + raw + raw
    assert parse_frame_from(data) == (2 + len(raw), HdlcFrame.from_bytes(raw))
    assert parse_frame_from(data, 2 + len(raw)) == (len(raw), HdlcFrame.from_bytes(raw))
    # Garbage before a partial frame: the garbage is used, then wait.
    assert parse_frame_from(b"\x11\x22" + raw[:10]) == (2, None)
    assert parse_frame_from(b"\x11\x22" + raw[:10], 2) == (0, None)
    # Garbage only: everything is used.
    assert parse_frame_from(b"\x01\x02\x03") == (3, None)
    with pytest.raises(UsageError):
        parse_frame_from(raw, len(raw) + 1)


def test_shared_and_separate_flags():
    a, b, c = (HdlcFrame.from_bytes(r) for r in _positive_raws()[2:5])
    shared = a.to_bytes() + b.to_bytes()[1:] + c.to_bytes()[1:]
    separate = a.to_bytes() + b.to_bytes() + b"\x7e\x7e" + c.to_bytes()
    for stream in (shared, separate):
        splitter = HdlcStreamSplitter()
        assert splitter.feed(stream) == [a, b, c]
        assert splitter.discarded_bytes == 0 and splitter.pending == 0
        offset, found = 0, []
        while True:
            used, frame = parse_frame_from(stream, offset)
            if used == 0:
                break
            offset += used
            found.append(frame)
        assert found == [a, b, c] and offset == len(stream)
    # The shared flag also works across feeds, one octet at a time.
    splitter = HdlcStreamSplitter()
    got = []
    for index in range(len(shared)):
        got += splitter.feed(shared[index : index + 1])
    assert got == [a, b, c]


def test_flag_inside_information_field():
    frame = _frame(info=b"\x7e\x7e\xa0\x7e" * 10)
    stream = frame.to_bytes() * 3
    splitter = HdlcStreamSplitter()
    assert splitter.feed(stream) == [frame] * 3


def test_bad_frame_then_resync_and_error_offset():
    good = _frame().to_bytes()
    bad = bytearray(good)
    bad[-3] ^= 0xFF  # FCS
    splitter = HdlcStreamSplitter()
    assert splitter.feed(b"\x00" * 5 + bytes(bad) + good) == [HdlcFrame.from_bytes(good)]
    assert splitter.bad_frames == 1
    # The bad frame's closing flag also opens the good frame: it is not discarded.
    assert splitter.discarded_bytes == 5 + len(bad) - 1
    assert splitter.last_error.offset == 5 + len(bad) - 3
    assert splitter.frames == 1


def test_garbage_claiming_long_length_is_rejected_at_the_hcs():
    # Flag, format with length 2047, plausible addresses and I control, wrong HCS:
    # the splitter must not wait for 2047 octets.
    fake = bytes([0x7E, 0xA7, 0xFF, 0x03, 0x21, 0x10, 0x00, 0x00])
    good = _frame().to_bytes()
    splitter = HdlcStreamSplitter()
    assert splitter.feed(fake + good) == [HdlcFrame.from_bytes(good)]
    assert splitter.bad_frames == 1


def test_clear_drops_pending():
    splitter = HdlcStreamSplitter()
    raw = _frame().to_bytes()
    splitter.feed(raw[:6])
    splitter.clear()
    assert splitter.pending == 0
    assert splitter.feed(raw) == [HdlcFrame.from_bytes(raw)]


# --------------------------------------------------------------------------- properties

addresses = st.one_of(
    st.builds(HdlcAddress.client, st.integers(0, 0x7F)),
    st.builds(lambda u, l: HdlcAddress(u, l, 2), st.integers(0, 0x7F), st.integers(0, 0x7F)),
    st.builds(lambda u, l: HdlcAddress(u, l, 4), st.integers(0, 0x3FFF), st.integers(0, 0x3FFF)),
)
controls = st.integers(0, 255).filter(
    lambda b: (b & 1) == 0 or (b & 0x0F) in (0x01, 0x05) or (b & 0xEF) in (0x83, 0x43, 0x63, 0x0F, 0x87, 0x03)
).map(HdlcControl.from_byte)
frames = st.builds(
    HdlcFrame, addresses, addresses, controls, st.binary(max_size=300), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(frames)
def test_build_parse_round_trip(frame):
    raw = frame.to_bytes()
    assert HdlcFrame.from_bytes(raw) == frame
    assert describe_frame(raw)["fcs_valid"]


def _mutate(args):
    raw, index, value = args
    return raw[:index] + bytes([value]) + raw[index + 1 :]


mutated_frames = frames.map(lambda f: f.to_bytes()).flatmap(
    lambda raw: st.tuples(st.just(raw), st.integers(0, len(raw) - 1), st.integers(0, 255))
).map(_mutate)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=80) | mutated_frames)
def test_random_and_mutated_bytes_raise_only_dlms_errors(data):
    for parse in (HdlcFrame.from_bytes, describe_frame):
        try:
            parse(data)
        except DecodeError as error:
            assert error.offset is not None and 0 <= error.offset <= len(data), error
    splitter = HdlcStreamSplitter()
    for frame in splitter.feed(data) + splitter.feed(data):
        assert HdlcFrame.from_bytes(frame.to_bytes()) == frame
    offset = 0
    while offset < len(data):
        used, _ = parse_frame_from(data, offset)
        if used == 0:
            break
        offset += used


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(frames, max_size=8), st.lists(st.integers(1, 64), min_size=1), st.booleans(),
       st.binary(max_size=6).filter(lambda g: 0x7E not in g))
def test_splitter_returns_exactly_the_frames(frame_list, chunk_sizes, share_flags, garbage):
    stream = bytearray(garbage)
    for index, frame in enumerate(frame_list):
        raw = frame.to_bytes()
        stream += raw[1:] if share_flags and index else raw
    splitter = HdlcStreamSplitter()
    got = feed_in_chunks(splitter, bytes(stream), chunk_sizes)
    assert got == frame_list
    assert splitter.pending == 0
    assert splitter.discarded_bytes == len(garbage) and splitter.bad_frames == 0


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(frames, st.binary(max_size=12)), min_size=1, max_size=6),
       st.lists(st.integers(1, 64), min_size=1))
def test_splitter_finds_every_frame_between_arbitrary_garbage(pairs, chunk_sizes):
    # Garbage may hold flags and fragments of headers; a candidate that fails is
    # left one octet after its flag, so a real frame behind it is never lost.
    stream = b"".join(garbage + frame.to_bytes() for frame, garbage in pairs)
    splitter = HdlcStreamSplitter()
    got = feed_in_chunks(splitter, bytes(stream), chunk_sizes)
    assert got == [frame for frame, _ in pairs]


@settings(max_examples=300, deadline=None)
@given(st.builds(HdlcParameters,
                 st.none() | st.integers(1, 0xFFFFFFFF), st.none() | st.integers(1, 0xFFFFFFFF),
                 st.none() | st.integers(1, 7), st.none() | st.integers(1, 7)))
def test_parameters_round_trip(params):
    raw = params.to_bytes()
    assert HdlcParameters.from_bytes(raw) == params
    assert params.to_meaning()["group_length"] == len(raw) - 3
    resolved = params.resolved()
    assert None not in (resolved.max_info_field_length_transmit, resolved.window_size_receive)


def test_error_offsets_count_from_the_start_of_the_stream_across_feeds():
    good = _frame().to_bytes()
    bad = bytearray(good)
    bad[-3] ^= 0x01
    splitter = HdlcStreamSplitter()
    assert splitter.feed(good + bad[:5]) == [HdlcFrame.from_bytes(good)]
    assert splitter.feed(bytes(bad[5:]) + good) == [HdlcFrame.from_bytes(good)]
    assert splitter.last_error.offset == len(good) + len(bad) - 3
    assert splitter.frames == 2 and splitter.bad_frames == 1


def test_with_llc_refuses_an_int():
    with pytest.raises(EncodeError):
        with_llc(5)
    assert with_llc(memoryview(b"\xc0"), response=True) == b"\xe6\xe7\x00\xc0"
