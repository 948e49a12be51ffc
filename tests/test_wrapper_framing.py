"""WrapperFraming takes a chunk that is exactly one whole answer without the
stream splitter; whatever the chunks, it must give the APDUs the splitter
alone gives (answers from the server's wPort to ours, in order)."""
from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from dlmsfast.transport.connection import WrapperFraming
from dlmsfast.wrapper import WrapperStreamSplitter

CLIENT, SERVER = 16, 1


def frame(source: int, destination: int, payload: bytes) -> bytes:
    return struct.pack(">HHHH", 1, source, destination, len(payload)) + payload


def splitter_apdus(chunks: list[bytes]) -> list[bytes]:
    splitter = WrapperStreamSplitter()
    return [f.payload for chunk in chunks for f in splitter.feed(chunk)
            if f.source_wport == SERVER and f.destination_wport == CLIENT]


def framing_apdus(chunks: list[bytes], trace=None) -> list[bytes]:
    framing = WrapperFraming(CLIENT, SERVER, trace=trace)
    got = []
    for chunk in chunks:
        framing.receive_data(chunk)
        got += framing.apdus()
    return got


payloads = st.binary(max_size=40)
frames = st.one_of(
    payloads.map(lambda p: frame(SERVER, CLIENT, p)),            # an answer
    payloads.map(lambda p: frame(SERVER, 2, p)),                 # for another client
    payloads.map(lambda p: frame(3, CLIENT, p)),                 # from another device
    st.binary(min_size=1, max_size=12),                          # garbage
)


@given(st.lists(frames, max_size=8), st.lists(st.integers(0, 400), max_size=6))
def test_same_apdus_as_the_splitter_whatever_the_chunks(parts, cuts):
    stream = b"".join(parts)
    bounds = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    chunks = [stream[a:b] for a, b in zip(bounds, bounds[1:])]
    assert framing_apdus(chunks) == splitter_apdus(chunks)


def test_whole_answers_one_per_chunk():
    chunks = [frame(SERVER, CLIENT, b"\xc4\x01\xc1\x00\x06\x00\x00\x07\xa8"),
              frame(SERVER, CLIENT, b"\x61\x29"), frame(SERVER, CLIENT, b"")]
    assert framing_apdus(chunks) == [b"\xc4\x01\xc1\x00\x06\x00\x00\x07\xa8", b"\x61\x29", b""]


def test_after_garbage_the_splitter_decides():
    # a truncated header, then a whole answer in the next chunk: the splitter
    # resynchronises, and so must the framing (no shortcut past its state)
    chunks = [b"\x00\x01\x00\x01\x00\x10\x00\x05\xaa", frame(SERVER, CLIENT, b"\x01\x02")]
    assert framing_apdus(chunks) == splitter_apdus(chunks)


def test_trace_sees_every_frame_in():
    seen = []
    framing_apdus([frame(SERVER, CLIENT, b"\x61\x00")], trace=lambda d, f: seen.append((d, f)))
    assert seen == [("in", frame(SERVER, CLIENT, b"\x61\x00"))]
