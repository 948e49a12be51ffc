"""xDLMS APDUs side by side: dlmsfast, dlms-cosem and gurux-dlms on the same bytes.

- X1-build-get-request: a get-request-normal for Register 1.0.1.8.0.255 attribute 2
  (dlms-cosem ``GetRequestNormal.to_bytes``; gurux ``GXDLMSClient.read`` in PDU mode,
  its cheapest way to make the APDU).
- X2-parse-get-response: a get-response-normal carrying double-long-unsigned 5009,
  decoded with its value (dlms-cosem ``XDlmsApduFactory`` then its data parser;
  gurux ``GXDLMSClient.getData``).
- X3-parse-get-response-with-list: the 9-result get-response-with-list of a real meter
  (shared/vectors/xdlms.json), decoded with every value.
- X4-parse-datablock: a get-response-with-datablock of 1182 raw octets (gurux has no
  stand-alone parser for one block, so only dlms-cosem is compared).

Each call handles one APDU (``items`` = 1).

    python -m pytest benchmarks/bench_xdlms.py --benchmark-only \
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import pytest

from dlmsfast.apdu import CosemAttributeDescriptor, GetRequestNormal, parse_apdu
from dlmsfast.axdr import Data

IMPLS = ["dlmsfast", "dlms-cosem", "gurux-dlms"]

GET_REQUEST = bytes.fromhex("C001C100030100010800FF0200")
GET_RESPONSE = bytes.fromhex("C401C1000600001391")
GET_RESPONSE_WITH_LIST = bytes.fromhex(
    "C403C109001200320012000000120000001200000012000000120000001208FE00020706019056"
    "0B120326111111021200F01200011200000002051202D0120CA8111811200FC0"
)
RAW_DATA = bytes(i & 0xFF for i in range(0x49E))
DATABLOCK = bytes.fromhex("C402C1 00 00000001 00 82049E") + RAW_DATA


def _run(benchmark, fn):
    benchmark.extra_info["items"] = 1
    return benchmark(fn)


def _gurux_client():
    from gurux_dlms import GXDLMSClient
    from gurux_dlms.enums import InterfaceType

    return GXDLMSClient(True, 16, 1, interfaceType=InterfaceType.PDU)


def _gurux_get_data():
    from gurux_dlms import GXByteBuffer, GXReplyData

    client = _gurux_client()

    def run(raw):
        reply = GXReplyData()
        client.getData(GXByteBuffer(raw), reply)
        return reply.value

    return run


def _cosem_parse_with_values(raw):
    from dlms_cosem.connection import XDlmsApduFactory
    from dlms_cosem.dlms_data import DlmsDataParser

    apdu = XDlmsApduFactory.apdu_from_bytes(raw)
    data = getattr(apdu, "data", None)
    if data is not None:
        return DlmsDataParser().parse(data, limit=1)[0].to_python()
    return [item.to_python() for item in apdu.response_data]


@pytest.mark.benchmark(group="X1-build-get-request")
@pytest.mark.parametrize("impl", IMPLS)
def test_x1_build_get_request(benchmark, impl):
    if impl == "dlmsfast":
        descriptor = CosemAttributeDescriptor(3, "1.0.1.8.0.255", 2)
        fn = lambda: GetRequestNormal(cosem_attribute_descriptor=descriptor).to_bytes()  # noqa: E731
    elif impl == "dlms-cosem":
        from dlms_cosem import cosem, enumerations
        from dlms_cosem.protocol.xdlms import GetRequestNormal as CosemGet

        attribute = cosem.CosemAttribute(
            interface=enumerations.CosemInterface.REGISTER,
            instance=cosem.Obis.from_string("1.0.1.8.0.255"),
            attribute=2,
        )
        fn = lambda: CosemGet(cosem_attribute=attribute).to_bytes()  # noqa: E731
    else:
        from gurux_dlms.objects import GXDLMSRegister

        client, register = _gurux_client(), GXDLMSRegister("1.0.1.8.0.255")
        fn = lambda: bytes(client.read(register, 2)[0])  # noqa: E731
    assert bytes(_run(benchmark, fn)) == GET_REQUEST


@pytest.mark.benchmark(group="X2-parse-get-response")
@pytest.mark.parametrize("impl", IMPLS)
def test_x2_parse_get_response(benchmark, impl):
    fn = {
        "dlmsfast": lambda: parse_apdu(GET_RESPONSE).result.value,
        "dlms-cosem": lambda: _cosem_parse_with_values(GET_RESPONSE),
        "gurux-dlms": (lambda g: lambda: g(GET_RESPONSE))(_gurux_get_data()),
    }[impl]
    assert _run(benchmark, fn) == 5009


@pytest.mark.benchmark(group="X3-parse-get-response-with-list")
@pytest.mark.parametrize("impl", IMPLS)
def test_x3_parse_get_response_with_list(benchmark, impl):
    fn = {
        "dlmsfast": lambda: parse_apdu(GET_RESPONSE_WITH_LIST).result,
        "dlms-cosem": lambda: _cosem_parse_with_values(GET_RESPONSE_WITH_LIST),
        "gurux-dlms": (lambda g: lambda: g(GET_RESPONSE_WITH_LIST))(_gurux_get_data()),
    }[impl]
    result = _run(benchmark, fn)
    assert len(result) == 9
    first = result[0]
    assert (first.value if isinstance(first, Data) else first) == 50


@pytest.mark.benchmark(group="X4-parse-datablock")
@pytest.mark.parametrize("impl", IMPLS[:2])
def test_x4_parse_datablock(benchmark, impl):
    if impl == "dlmsfast":
        fn = lambda: parse_apdu(DATABLOCK).result.result  # noqa: E731
    else:
        from dlms_cosem.connection import XDlmsApduFactory

        fn = lambda: XDlmsApduFactory.apdu_from_bytes(DATABLOCK).data  # noqa: E731
    assert _run(benchmark, fn) == RAW_DATA
