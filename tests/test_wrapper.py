"""IEC 62056-47 wrapper: the published vectors both ways, strict checks, the stream splitter."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmsfast.errors import DecodeError, EncodeError
from dlmsfast.wrapper import (
    WrapperFrame,
    WrapperStreamSplitter,
    describe_wrapper,
    parse_wrapper_from,
    payload_kind,
)

from conftest import feed_in_chunks, load_vectors

VECTORS = load_vectors("wrapper")
POSITIVE = [v for v in VECTORS if not v["name"].startswith("NEGATIVE:")]
NEGATIVE = [v for v in VECTORS if v["name"].startswith("NEGATIVE:")]


def _ids(vectors):
    return [v["name"][:60] for v in vectors]


def _meaning(vector):
    meaning = dict(vector["meaning"])
    meaning.pop("expect", None)
    return meaning


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_vector_parse_meaning_and_rebuild(vector):
    raw = bytes.fromhex(vector["hex"])
    meaning = vector["meaning"]
    frame = WrapperFrame.from_bytes(raw)
    assert frame.version == meaning["version"]
    assert frame.source_wport == meaning["source_wport"]
    assert frame.destination_wport == meaning["destination_wport"]
    assert frame.length == meaning["length"]
    assert frame.payload.hex().upper() == meaning["payload"]
    result = frame.to_meaning()
    for key, value in meaning.items():
        assert result[key] == value, key
    assert set(result) == set(meaning)
    assert frame.to_bytes() == raw
    assert WrapperFrame(frame.version, frame.source_wport, frame.destination_wport, frame.payload) == frame


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_vector_lenient_description(vector):
    assert describe_wrapper(bytes.fromhex(vector["hex"])) == _meaning(vector)


@pytest.mark.parametrize("vector", NEGATIVE, ids=_ids(NEGATIVE))
def test_negative_vector_rejected(vector):
    raw = bytes.fromhex(vector["hex"])
    expect = vector["meaning"]["expect"]
    with pytest.raises(DecodeError) as info:
        WrapperFrame.from_bytes(raw)
    if "version" in expect:
        assert info.value.offset == 0
        # A stream with a wrong version is dropped up to the next plausible header.
        splitter = WrapperStreamSplitter()
        good = bytes.fromhex(POSITIVE[1]["hex"])
        assert splitter.feed(raw + good) == [WrapperFrame.from_bytes(good)]
        assert splitter.bad_frames >= 1 and splitter.last_error.offset == 0
    else:
        assert "length" in expect
        assert info.value.offset == 6
        # "reject or wait for more data": a stream waits for the missing octets.
        assert parse_wrapper_from(raw) == (0, None)
        splitter = WrapperStreamSplitter()
        assert splitter.feed(raw) == []
        assert splitter.pending == len(raw)
        frames = splitter.feed(b"!!")
        assert [f.payload for f in frames] == [raw[8:] + b"!!"]


@pytest.mark.parametrize("vector", POSITIVE, ids=_ids(POSITIVE))
def test_splitter_whole_byte_by_byte_and_partial_tail(vector):
    raw = bytes.fromhex(vector["hex"])
    expected = WrapperFrame.from_bytes(raw)
    assert parse_wrapper_from(raw) == (len(raw), expected)
    for cut in range(len(raw)):
        assert parse_wrapper_from(raw[:cut]) == (0, None)
    splitter = WrapperStreamSplitter()
    got = []
    for index in range(len(raw)):
        got += splitter.feed(raw[index : index + 1])
    assert got == [expected] and splitter.pending == 0
    splitter = WrapperStreamSplitter()
    assert splitter.feed(b"\x07\x08" + raw + raw + raw[:5]) == [expected, expected]
    assert splitter.pending == 5 and splitter.discarded_bytes == 2
    assert splitter.feed(raw[5:]) == [expected]


def test_parse_from_offsets_and_garbage():
    raw = bytes.fromhex(POSITIVE[1]["hex"])
    data = raw + b"\xff\xee\x00" + raw
    used, frame = parse_wrapper_from(data)
    assert used == len(raw) and frame is not None
    assert parse_wrapper_from(data, used) == (3, None)
    assert parse_wrapper_from(data, used + 3) == (len(raw), frame)
    assert parse_wrapper_from(b"\x00\x00\x00\x01", 0) == (2, None)
    # A trailing 00 may start the next header: it is kept.
    assert parse_wrapper_from(b"\x05\x06\x00") == (2, None)


def test_empty_payload_and_limits():
    frame = WrapperFrame(1, 16, 1, b"")
    assert frame.to_bytes() == bytes.fromhex("0001001000010000")
    assert WrapperFrame.from_bytes(frame.to_bytes()) == frame
    assert WrapperFrame.from_bytes(WrapperFrame(1, 0xFFFF, 0, bytes(0xFFFF)).to_bytes()).length == 0xFFFF
    with pytest.raises(EncodeError):
        WrapperFrame(1, 16, 1, bytes(0x10000))
    with pytest.raises(EncodeError):
        WrapperFrame(1, 0x10000, 1, b"")
    with pytest.raises(DecodeError) as info:
        WrapperFrame.from_bytes(b"\x00\x01\x00")
    assert info.value.offset == 3


def test_payload_kinds():
    assert payload_kind(b"\xc0\x01") == "get-request"
    assert payload_kind(b"\xdb\x08") == "general-glo-ciphering APDU (0xDB)"
    assert payload_kind(b"\xc8\x10") == "glo-get-request APDU (0xC8)"
    assert payload_kind(b"") == "opaque"
    assert payload_kind(b"\x60", version=2) == "opaque"


payloads = st.binary(max_size=200)
ports = st.integers(0, 0xFFFF)
wrappers = st.builds(WrapperFrame, st.just(1), ports, ports, payloads)


@settings(max_examples=300, deadline=None)
@given(st.lists(wrappers, max_size=6), st.lists(st.integers(1, 40), min_size=1))
def test_splitter_returns_exactly_the_frames(frames, chunk_sizes):
    stream = b"".join(f.to_bytes() for f in frames)
    splitter = WrapperStreamSplitter()
    got = feed_in_chunks(splitter, bytes(stream), chunk_sizes)
    assert got == frames and splitter.pending == 0 and splitter.bad_frames == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60))
def test_random_bytes_raise_only_dlms_errors(data):
    for parse in (WrapperFrame.from_bytes, describe_wrapper):
        try:
            parse(data)
        except DecodeError as error:
            assert error.offset is not None and 0 <= error.offset <= len(data), error
    splitter = WrapperStreamSplitter()
    for frame in splitter.feed(data):
        assert WrapperFrame.from_bytes(frame.to_bytes()) == frame
    assert splitter.pending <= len(data)


# --------------------------------------------------------------------------- peers


@settings(max_examples=200, deadline=None)
@given(wrappers)
def test_against_dlms_cosem_both_ways(frame):
    from dlms_cosem.protocol.wrappers import WrapperHeader, WrapperProtocolDataUnit

    theirs = WrapperProtocolDataUnit.from_bytes(frame.to_bytes())
    header = theirs.wrapper_header
    assert (header.version, header.source_wport, header.destination_wport, header.length) == (
        1, frame.source_wport, frame.destination_wport, len(frame.payload))
    assert theirs.data == frame.payload
    built = WrapperProtocolDataUnit(
        frame.payload, WrapperHeader(frame.source_wport, frame.destination_wport, len(frame.payload))
    ).to_bytes()
    assert WrapperFrame.from_bytes(built) == frame


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(min_size=1, max_size=200))
def test_gurux_client_frames_parse_in_dlmsfast(client, server, payload):
    from gurux_dlms import GXByteBuffer
    from gurux_dlms.enums import InterfaceType
    from gurux_dlms.GXDLMS import GXDLMS
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings

    settings_ = GXDLMSSettings(False, None)
    settings_.interfaceType = InterfaceType.WRAPPER
    settings_.clientAddress = client
    settings_.serverAddress = server
    raw = bytes(GXDLMS.getWrapperFrame(settings_, 0xC0, GXByteBuffer(payload)))
    assert WrapperFrame.from_bytes(raw) == WrapperFrame(1, client, server, payload)


def test_an_int_payload_is_refused_not_zero_filled():
    with pytest.raises(EncodeError):
        WrapperFrame(1, 1, 1, 5)
    assert WrapperFrame(1, 1, 1, bytearray(b"\x01")).payload == b"\x01"
