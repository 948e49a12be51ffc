"""HDLC side by side: dlmsfast, gurux-dlms and dlms-cosem splitting the same byte stream.

W3-hdlc-split: a stream of 10,000 I-frames (server 1/17 to client 16, 200-octet
information fields, N(S) cycling 0..7 and N(R) 0, as a
server sends them when no client I-frame comes in between) is cut into frames with HCS and FCS
checked and the information field taken out:

- dlmsfast: ``HdlcStreamSplitter().feed(stream)``.
- gurux-dlms: ``GXDLMS.getHdlcData`` over a ``GXByteBuffer`` (the HDLC part of
  ``GXDLMS.getData``; ``data.xml`` set, as its translator does, so that its
  client-side sequence-number check does not drop frames) and
  ``GXDLMS.getDataFromFrame`` to take the information field out.
- dlms-cosem: ``HdlcConnection.receive_data`` then ``next_event()`` per frame
  (each frame is an answer, so its state is put back to AWAITING_RESPONSE).
  It takes the next 0x7E as a frame's end, so a 0x7E inside the information
  field, HCS or FCS gives NEED_DATA; calling ``next_event()`` again (as a
  client does when more octets arrive) searches on from there.

dlms-cosem logs every frame at debug level through structlog; the benchmark
raises structlog's level to INFO while it runs, so the figure is its parsing,
not its console output.

The peers run on the first PEER_FRAMES frames of the same stream, a few rounds;
rates are in ``extra_info`` (``items`` = frames per call, ``frames_per_s``).

fcs16: CRC-16/X.25 over 2 KiB against gurux ``_GXFCS16.countFCS16`` and
dlms-cosem ``CRCCCITT.calculate_for``.

    python -m pytest benchmarks/bench_hdlc.py --benchmark-only \
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import contextlib
import logging

import pytest

from dlmsfast.hdlc import FrameKind, HdlcAddress, HdlcControl, HdlcFrame, HdlcStreamSplitter, fcs16

FRAMES = 10_000
PEER_FRAMES = 1_000
PEER_ROUNDS = 3
INFO_LENGTH = 200
IMPLS = ["dlmsfast", "gurux-dlms", "dlms-cosem"]


def _frames(count: int) -> list[HdlcFrame]:
    client, server = HdlcAddress.client(16), HdlcAddress.server(1, 17)
    frames = []
    for i in range(count):
        info = bytes((i + k) % 256 for k in range(INFO_LENGTH))
        control = HdlcControl(FrameKind.I, ns=i % 8, nr=0)
        frames.append(HdlcFrame(client, server, control, info))
    return frames


@pytest.fixture(scope="module")
def frames() -> list[HdlcFrame]:
    return _frames(FRAMES)


@pytest.fixture(scope="module")
def stream(frames) -> bytes:
    return b"".join(frame.to_bytes() for frame in frames)


def _dlmsfast_split(stream: bytes) -> list[bytes]:
    return [frame.information for frame in HdlcStreamSplitter().feed(stream)]


def _gurux_split(stream: bytes) -> list[bytes]:
    from gurux_dlms import GXByteBuffer, GXReplyData
    from gurux_dlms.enums import InterfaceType, TranslatorOutputType
    from gurux_dlms.GXDLMS import GXDLMS
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.GXDLMSTranslatorStructure import GXDLMSTranslatorStructure

    settings = GXDLMSSettings(False, None)
    settings.interfaceType = InterfaceType.HDLC
    settings.clientAddress = 16
    settings.serverAddress = (1 << 7) | 17
    xml = GXDLMSTranslatorStructure(TranslatorOutputType.SIMPLE_XML, True, True, False, False, None)
    reply = GXByteBuffer(stream)
    out = []
    while reply.position < len(reply):
        data = GXReplyData()
        data.xml = xml
        GXDLMS.getHdlcData(False, settings, reply, data, None)
        if not data.complete:
            break
        GXDLMS.getDataFromFrame(reply, data, True)
        out.append(bytes(data.data.array()))
        reply.position = data.packetLength + 3  # past the FCS and the closing flag
    return out


def _cosem_split(stream: bytes) -> list[bytes]:
    from dlms_cosem.hdlc import address, connection, state

    conn = connection.HdlcConnection(
        client_address=address.HdlcAddress(16, None, "client"),
        server_address=address.HdlcAddress(1, 17, "server"),
    )
    conn.receive_data(stream)
    out = []
    while True:
        conn.state.current_state = state.AWAITING_RESPONSE
        event = conn.next_event()
        if event is state.NEED_DATA:
            if conn.buffer_search_position >= len(conn.buffer):
                break
            continue
        out.append(event.payload)
    return out


@contextlib.contextmanager
def _quiet_structlog():
    import structlog

    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        yield
    finally:
        structlog.configure(**saved)


SPLITTERS = {"dlmsfast": _dlmsfast_split, "gurux-dlms": _gurux_split, "dlms-cosem": _cosem_split}


@pytest.mark.benchmark(group="W3-hdlc-split")
@pytest.mark.parametrize("impl", IMPLS)
def test_w3_hdlc_split(benchmark, impl, frames, stream):
    count = FRAMES if impl == "dlmsfast" else PEER_FRAMES
    data = stream if impl == "dlmsfast" else stream[: sum(len(f.to_bytes()) for f in frames[:count])]
    split = SPLITTERS[impl]
    benchmark.extra_info["items"] = count
    if impl == "dlmsfast":
        result = benchmark(split, data)
    else:
        quiet = _quiet_structlog() if impl == "dlms-cosem" else contextlib.nullcontext()
        with quiet:
            result = benchmark.pedantic(split, args=(data,), rounds=PEER_ROUNDS, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["frames_per_s"] = round(count / stats.stats.median)
    # The LLC-less information fields come out whole, in order, from every library.
    assert result == [frame.information for frame in frames[:count]]


CRC_DATA = bytes(range(256)) * 8


def _gurux_crc(data: bytes) -> int:
    from gurux_dlms._GXFCS16 import _GXFCS16

    return _GXFCS16.countFCS16(data, 0, len(data))


def _cosem_crc(data: bytes) -> bytes:
    from dlms_cosem.crc import CRCCCITT

    return CRCCCITT().calculate_for(data)


@pytest.mark.benchmark(group="fcs16-2KiB")
@pytest.mark.parametrize("impl", IMPLS)
def test_fcs16(benchmark, impl):
    benchmark.extra_info["items"] = 1
    benchmark.extra_info["octets"] = len(CRC_DATA)
    if impl == "dlmsfast":
        assert benchmark(fcs16, CRC_DATA) == fcs16(CRC_DATA)
        return
    crc = _gurux_crc if impl == "gurux-dlms" else _cosem_crc
    result = benchmark.pedantic(crc, args=(CRC_DATA,), rounds=20, iterations=1)
    value = fcs16(CRC_DATA)
    assert result in (int.from_bytes(value.to_bytes(2, "little"), "big"), value.to_bytes(2, "little"))
