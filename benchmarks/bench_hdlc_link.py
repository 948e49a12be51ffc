"""The HDLC link: frames per second through a client link and a server link, no sockets.

hdlc-link-pair: a connected client/server pair (server 1/17, client 16) carries
a 64 KiB request and a 64 KiB response, segmented into 128-octet or 2,030-octet
information fields, with windows 1 and 7: every I-frame, and every RR that asks
for the next window, goes through ``receive_data`` / ``events`` /
``data_to_send`` of the other side and is counted. ``frames_per_s`` in
``extra_info`` is frames (both directions) over the median time.

hdlc-llc-split: 10,000 I-frames whose information fields start with the LLC
header, cut into frames and the LLC taken off: ``HdlcLinkSplitter.feed`` (the
link's batch path, LLC in the compiled scan) against ``HdlcStreamSplitter.feed``
followed by ``split_llc`` on each frame (the path before the link existed).

    python -m pytest benchmarks/bench_hdlc_link.py --benchmark-only \\
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import pytest

from dlmsfast.hdlc import (
    FrameKind,
    HdlcAddress,
    HdlcControl,
    HdlcFrame,
    HdlcLink,
    HdlcParameters,
    HdlcStreamSplitter,
    split_llc,
    with_llc,
)
from dlmsfast.hdlc._hdlc import HdlcLinkSplitter

APDU = bytes(range(256)) * 256  # 64 KiB
FRAMES = 10_000


def _connected_pair(window: int, info: int) -> tuple[HdlcLink, HdlcLink]:
    parameters = HdlcParameters(info, info, window, window)
    client = HdlcLink("client", 16, 1, 17, parameters=parameters)
    server = HdlcLink("server", 16, 1, 17, parameters=parameters)
    server.receive_data(client.connect())
    server.events()
    client.receive_data(server.data_to_send())
    client.events()
    return client, server


def _carry(sender_octets: bytes, receiver: HdlcLink, sender: HdlcLink) -> list:
    """Ping-pong until the receiver has an event; the events it made."""
    octets = sender_octets
    while True:
        receiver.receive_data(octets)
        events = receiver.events()
        if events:
            return events
        sender.receive_data(receiver.data_to_send())
        sender.events()
        octets = sender.data_to_send()


def _exchange(client: HdlcLink, server: HdlcLink) -> int:
    """One 64 KiB request and its 64 KiB response; the number of frames carried."""
    before = client._splitter.frames + server._splitter.frames
    (request,) = _carry(client.send_apdu(APDU), server, client)
    (response,) = _carry(server.send_apdu(APDU), client, server)
    assert request.apdu == response.apdu == APDU
    return client._splitter.frames + server._splitter.frames - before


@pytest.mark.benchmark(group="hdlc-link-pair")
@pytest.mark.parametrize("window", [1, 7])
@pytest.mark.parametrize("info", [128, 2030])
def test_link_pair_frames(benchmark, window, info):
    client, server = _connected_pair(window, info)
    frames = _exchange(client, server)
    benchmark.extra_info["items"] = frames
    benchmark(_exchange, client, server)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["frames_per_s"] = round(frames / stats.stats.median)
    assert client.bad_frames == server.bad_frames == 0


@pytest.fixture(scope="module")
def llc_stream() -> bytes:
    client, server = HdlcAddress.client(16), HdlcAddress.server(1, 17)
    frames = []
    for i in range(FRAMES):
        info = with_llc(bytes((i + k) % 256 for k in range(197)), response=True)
        frames.append(HdlcFrame(client, server, HdlcControl(FrameKind.I, ns=i % 8, nr=0), info).to_bytes())
    return b"".join(frames)


def _link_split(stream: bytes) -> list[bytes]:
    return [item[3] for item in HdlcLinkSplitter(HdlcAddress.client(16)).feed(stream)]


def _splitter_then_split_llc(stream: bytes) -> list[bytes]:
    return [split_llc(frame.information)[1] for frame in HdlcStreamSplitter().feed(stream)]


@pytest.mark.benchmark(group="hdlc-llc-split")
@pytest.mark.parametrize("path", ["HdlcLinkSplitter", "HdlcStreamSplitter+split_llc"])
def test_llc_split(benchmark, path, llc_stream):
    split = _link_split if path == "HdlcLinkSplitter" else _splitter_then_split_llc
    benchmark.extra_info["items"] = FRAMES
    result = benchmark(split, llc_stream)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["frames_per_s"] = round(FRAMES / stats.stats.median)
    assert len(result) == FRAMES and result[1] == bytes((1 + k) % 256 for k in range(197))
