"""Push decoding side by side: dlmsfast, gurux-dlms and dlms-cosem reading the
same pushed HDLC frames into values.

W5-push-plain / W5-push-ciphered: FRAMES data-notifications, each a structure
of 15 {OBIS, value, scaler_unit} objects and a date-time (a HAN list like
Iskra's or Aidon's), in UI frames as a meter's HAN port sends them; the
ciphered set is general-glo-ciphered (SC 0x30, tag checked) and, being longer
than one frame, cut into two segmented frames.

- dlmsfast: ``PushDecoder.feed(push)`` for each push as it arrives: frames found,
  segments joined, deciphered, tag checked, and every value turned into a
  :class:`~dlmsfast.push.Reading` (OBIS object, value, unit symbol, timestamp;
  its ``scaled`` value is computed on first read and is not read here, as
  the peers do not scale: BENCHMARKS.md gives the cost of reading it).
- gurux-dlms: ``GXDLMSClient.getData`` (``GXDLMSSecureClient`` with the keys for
  the ciphered set) per frame until the notification is complete; the result
  is its nested list of raw values, not scaled. Its ciphering path prints two
  lines per APDU; stdout is redirected while it runs.
- dlms-cosem: ``UnnumberedInformationFrame.from_bytes`` per frame (its API
  takes one frame: it is handed the frames already cut), the
  information fields joined, ``GeneralGlobalCipher.to_plain_apdu`` for the
  ciphered set, ``DataNotification.from_bytes`` and ``utils.parse_as_dlms_data``
  on the body (its raw values).

The peers do less (no scaling, no Reading objects), and run on the first
PEER_FRAMES frames; rates are in ``extra_info`` (``items`` = frames per call).

    python -m pytest benchmarks/bench_push.py --benchmark-only \\
        --benchmark-columns=median,ops,rounds
    python benchmarks/ratios.py bench.json   (with --benchmark-json=bench.json)
"""
from __future__ import annotations

import contextlib
import io
import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from push_builders import (  # noqa: E402
    AK, EK, ciphered, hdlc_frames, meter_context, notification,
)

from dlmsfast.push import Notification, PushDecoder, PushKeys  # noqa: E402

FRAMES = 2_000
PEER_FRAMES = 200
PEER_ROUNDS = 3
OBJECTS_PER_LIST = 15
IMPLS = ["dlmsfast", "gurux-dlms", "dlms-cosem"]


def _pushes(kind: str) -> list[list[bytes]]:
    """Each push as its list of HDLC frames."""
    context = meter_context()
    pushes = []
    for n in range(FRAMES):
        apdu = notification(n, repeat=OBJECTS_PER_LIST // 5)
        if kind == "ciphered":
            apdu = ciphered(apdu, context)
        pushes.append(hdlc_frames(apdu, 256))
    return pushes


FRAMED = {kind: _pushes(kind) for kind in ("plain", "ciphered")}
# what arrives on the port: each push's frames back to back
PUSHES = {kind: [b"".join(frames) for frames in FRAMED[kind]] for kind in FRAMED}


def _dlmsfast(pushes: list[bytes], kind: str) -> list:
    decoder = PushDecoder(keys=PushKeys(ek=EK, ak=AK) if kind == "ciphered" else None)
    return [event for push in pushes for event in decoder.feed(push)]


def _pairs(events: list) -> list:
    assert all(isinstance(e, Notification) for e in events)
    return [[(str(r.object), r.value) for r in e.readings] for e in events]


def _gurux(pushes: list[bytes], kind: str) -> list:
    from gurux_dlms import GXByteBuffer, GXReplyData
    from gurux_dlms.enums import InterfaceType, Security
    from gurux_dlms.secure import GXDLMSSecureClient

    client = GXDLMSSecureClient(True, 16, 1)
    client.interfaceType = InterfaceType.HDLC
    if kind == "ciphered":
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.systemTitle = b"DLMSFAST"
        client.ciphering.blockCipherKey = EK
        client.ciphering.authenticationKey = AK
    out = []
    with contextlib.redirect_stdout(io.StringIO()):
        for push in pushes:
            reply, notify = GXReplyData(), GXReplyData()
            data = GXByteBuffer(push)
            while data.position < len(data):
                client.getData(data, reply, notify)
            out.append([(".".join(map(str, obis)), value) for obis, value, _ in notify.value])
    return out


def _cosem(pushes: list[list[bytes]], kind: str) -> list:
    from dlms_cosem import utils
    from dlms_cosem.hdlc.frames import UnnumberedInformationFrame
    from dlms_cosem.protocol.xdlms.data_notification import DataNotification
    from dlms_cosem.protocol.xdlms.general_global_cipher import GeneralGlobalCipher

    out = []
    for push in pushes:
        info = b"".join(UnnumberedInformationFrame.from_bytes(f).payload for f in push)[3:]
        if kind == "ciphered":
            info = GeneralGlobalCipher.from_bytes(info).to_plain_apdu(EK, AK)
        body = utils.parse_as_dlms_data(DataNotification.from_bytes(info).body)
        out.append([(".".join(map(str, obis)), value) for obis, value, _ in body])
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


DECODERS = {"dlmsfast": _dlmsfast, "gurux-dlms": _gurux, "dlms-cosem": _cosem}


def _run(benchmark, impl: str, kind: str) -> None:
    count = FRAMES if impl == "dlmsfast" else PEER_FRAMES
    pushes = (FRAMED if impl == "dlms-cosem" else PUSHES)[kind][:count]
    benchmark.extra_info["items"] = count
    decode = DECODERS[impl]
    if impl == "dlmsfast":
        result = benchmark(decode, pushes, kind)
    else:
        quiet = _quiet_structlog() if impl == "dlms-cosem" else contextlib.nullcontext()
        with quiet:
            result = benchmark.pedantic(decode, args=(pushes, kind), rounds=PEER_ROUNDS,
                                        iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["frames_per_s"] = round(count / stats.stats.median)
    if impl == "dlmsfast":
        result = _pairs(result)
    # every library reads the same (OBIS, raw value) pairs out of every push
    assert result[:PEER_FRAMES] == _pairs(_dlmsfast(PUSHES[kind][:PEER_FRAMES], kind))
    assert len(result) == count and len(result[0]) == OBJECTS_PER_LIST


@pytest.mark.benchmark(group="W5-push-plain")
@pytest.mark.parametrize("impl", IMPLS)
def test_w5_push_plain(benchmark, impl):
    _run(benchmark, impl, "plain")


@pytest.mark.benchmark(group="W5-push-ciphered")
@pytest.mark.parametrize("impl", IMPLS)
def test_w5_push_ciphered(benchmark, impl):
    _run(benchmark, impl, "ciphered")

