"""The wrapper splitter (IEC 62056-47): cutting a TCP byte stream into frames.

W3-wrapper-split: 10,000 wrapper frames (server wPort 1 to client 16, 200-octet
APDUs) cut by ``WrapperStreamSplitter.feed``:

- ``whole``: the stream in one call;
- ``segments``: the stream in 1460-octet pieces, as TCP segments deliver it
  (frames cut anywhere, the rest kept for the next call);
- ``noisy``: 16 octets that are no frame before every 100th frame (a run the
  splitter drops, counts and keeps the start of, then resynchronises), in
  1460-octet pieces, so that the path taken after garbage is measured as well.
  (Fed in one call, the resynchronisation's look for a frame ending at the end
  of the input scans the rest of that input each time: cost grows with the
  size of one feed, bounded by what one receive returns.)

Rates are in ``extra_info`` (``items`` = frames per call).

    python -m pytest benchmarks/bench_wrapper.py --benchmark-only \\
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import pytest

from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter

FRAMES = 10_000
APDU_LENGTH = 200
SEGMENT = 1460
NOISE = b"HTTP/1.1 400 Bad"  # 16 octets with no 00 01 pair in them


def _frames() -> list[bytes]:
    return [WrapperFrame(1, 1, 16, bytes((i + k) % 256 for k in range(APDU_LENGTH))).to_bytes()
            for i in range(FRAMES)]


STREAMS = {
    "whole": lambda frames: [b"".join(frames)],
    "segments": lambda frames: [
        stream[i:i + SEGMENT] for stream in [b"".join(frames)]
        for i in range(0, len(stream), SEGMENT)],
    "noisy": lambda frames: [
        stream[i:i + SEGMENT] for stream in [b"".join((NOISE if n % 100 == 0 else b"") + frame
                                                      for n, frame in enumerate(frames))]
        for i in range(0, len(stream), SEGMENT)],
}


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    return _frames()


@pytest.mark.parametrize("shape", list(STREAMS))
def test_w3_wrapper_split(benchmark, frames, shape):
    chunks = STREAMS[shape](frames)

    def split() -> int:
        splitter = WrapperStreamSplitter()
        count = 0
        for chunk in chunks:
            count += len(splitter.feed(chunk))
        return count

    got = benchmark(split)
    # after each run of noise the splitter waits for the next header to confirm
    # a frame, so every frame still comes out
    assert got == FRAMES
    benchmark.extra_info["items"] = FRAMES
