"""A-XDR side by side: dlmsfast, dlms-cosem and gurux-dlms on the same profile buffer.

The workload is a Profile Generic buffer of 10,000 rows, each a structure of
{octet-string (12-octet date-time), unsigned, double-long-unsigned x4, long-unsigned}.

- W1-decode: the encoded buffer into Python values (dlms-cosem: ``DlmsDataParser``
  then ``to_python()``; gurux-dlms: ``_GXCommon.getData``); ``dlmsfast-typed`` is
  ``decode_typed`` (Data nodes that keep every DLMS type).
- W2-encode: the rows into A-XDR. dlmsfast takes plain values and a TypeDescription;
  the peers take their own typed trees (dlms-cosem ``DataArray`` of ``DataStructure``,
  gurux ``GXArray`` of ``GXStructure`` of ``GXUInt*``), built outside the timed part,
  so only their serialisation is timed; ``dlmsfast-typed`` encodes a Data tree.

Rates are in ``extra_info`` (``items`` = rows per call, ``rows_per_s``); the peers run
only a few rounds to stay quick.

    python -m pytest benchmarks/bench_axdr.py --benchmark-only \
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import pytest

from dlmsfast.axdr import DataType, TypeDescription, decode, decode_typed, encode

ROWS = 10_000
PEER_ROUNDS = 3
IMPLS = ["dlmsfast", "dlmsfast-typed", "dlms-cosem", "gurux-dlms"]

ROW = TypeDescription.structure(
    DataType.OCTET_STRING, DataType.UNSIGNED,
    DataType.DOUBLE_LONG_UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED,
    DataType.DOUBLE_LONG_UNSIGNED, DataType.DOUBLE_LONG_UNSIGNED,
    DataType.LONG_UNSIGNED,
)
BUFFER = TypeDescription.array(ROW)


def _clock(i: int) -> bytes:
    hour, minute = divmod(i % 1440, 60)
    return bytes((0x07, 0xE8, 1 + i // 43200 % 12, 1 + i // 1440 % 28, 0xFF, hour, minute,
                  0, 0, 0xFF, 0xC4, 0x00))


@pytest.fixture(scope="module")
def rows() -> list[tuple]:
    return [
        (_clock(i), i & 0xFF, 100_000 + i, 7 * i, 3_000_000_000 + i, i * i % 4_000_000_000,
         (i * 7) & 0xFFFF)
        for i in range(ROWS)
    ]


@pytest.fixture(scope="module")
def buffer(rows) -> bytes:
    return encode(rows, BUFFER)


def _run(benchmark, impl: str, fn):
    benchmark.extra_info["items"] = ROWS
    if impl.startswith("dlmsfast"):
        result = benchmark(fn)
    else:
        result = benchmark.pedantic(fn, rounds=PEER_ROUNDS, iterations=1)
    stats = getattr(benchmark, "stats", None)
    if stats is not None:
        benchmark.extra_info["rows_per_s"] = round(ROWS / stats.stats.median)
    return result


# ---------------------------------------------------------------- peers' forms


def _cosem_decode(data: bytes):
    from dlms_cosem.dlms_data import DlmsDataParser

    return DlmsDataParser().parse(data, limit=1)[0].to_python()


def _gurux_decoder():
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.internal._GXDataInfo import _GXDataInfo

    settings = GXDLMSSettings(True, None)
    return lambda data: _GXCommon.getData(settings, GXByteBuffer(data), _GXDataInfo())


def _cosem_tree(rows):
    from dlms_cosem import dlms_data as d

    return d.DataArray([
        d.DataStructure([
            d.OctetStringData(clock), d.UnsignedIntegerData(status),
            d.DoubleLongUnsignedData(a), d.DoubleLongUnsignedData(b),
            d.DoubleLongUnsignedData(c), d.DoubleLongUnsignedData(e),
            d.UnsignedLongData(f),
        ])
        for clock, status, a, b, c, e, f in rows
    ])


def _gurux_encoder(rows):
    from gurux_dlms.enums import DataType as GuruxType
    from gurux_dlms.GXArray import GXArray
    from gurux_dlms.GXByteBuffer import GXByteBuffer
    from gurux_dlms.GXDLMSSettings import GXDLMSSettings
    from gurux_dlms.GXStructure import GXStructure
    from gurux_dlms.GXUInt8 import GXUInt8
    from gurux_dlms.GXUInt16 import GXUInt16
    from gurux_dlms.GXUInt32 import GXUInt32
    from gurux_dlms.internal._GXCommon import _GXCommon

    settings = GXDLMSSettings(True, None)
    tree = GXArray()
    for clock, status, a, b, c, e, f in rows:
        row = GXStructure()
        row.extend((bytearray(clock), GXUInt8(status), GXUInt32(a), GXUInt32(b), GXUInt32(c),
                    GXUInt32(e), GXUInt16(f)))
        tree.append(row)

    def run():
        out = GXByteBuffer()
        _GXCommon.setData(settings, out, GuruxType.ARRAY, tree)
        return out.array()

    return run


# ---------------------------------------------------------------- W1, W2


@pytest.mark.benchmark(group="W1-decode")
@pytest.mark.parametrize("impl", IMPLS)
def test_w1_decode_profile_buffer(benchmark, impl, buffer, rows):
    fn = {
        "dlmsfast": lambda: decode(buffer),
        "dlmsfast-typed": lambda: decode_typed(buffer),
        "dlms-cosem": lambda: _cosem_decode(buffer),
        "gurux-dlms": (lambda g: lambda: g(buffer))(_gurux_decoder()),
    }[impl]
    result = _run(benchmark, impl, fn)
    if impl == "dlmsfast-typed":
        result = result.to_plain()
    assert len(result) == ROWS
    assert list(result[-1])[1:] == list(rows[-1])[1:]
    assert bytes(result[-1][0]) == rows[-1][0]


@pytest.mark.benchmark(group="W2-encode")
@pytest.mark.parametrize("impl", IMPLS)
def test_w2_encode_profile_buffer(benchmark, impl, buffer, rows):
    if impl == "dlmsfast":
        fn = lambda: encode(rows, BUFFER)  # noqa: E731
    elif impl == "dlmsfast-typed":
        tree = decode_typed(buffer)
        fn = lambda: encode(tree)  # noqa: E731
    elif impl == "dlms-cosem":
        tree = _cosem_tree(rows)
        fn = tree.to_bytes
    else:
        fn = _gurux_encoder(rows)
    assert bytes(_run(benchmark, impl, fn)) == buffer
