"""A whole association, sans-IO, CPU time per session (time.process_time).

S1-session-client-and-server: a ClientSession against a ServerSession with no
sockets: associate with HLS-GMAC and authenticated encryption (general-glo), read
the clock and 3 registers (4 GETs), the 96-row load profile (3 blocks of the
1024-octet PDU), release. Both roles' CPU.
S2-session-client: the same session, the client alone, fed the server's recorded
answers (challenges and invocation counters fixed, so they are the same bytes).
S3-session-server: the server alone, fed the client's recorded requests.

    python -m pytest benchmarks/bench_session.py --benchmark-only \
        --benchmark-columns=median,ops,rounds
"""
from __future__ import annotations

import time

import pytest

from dlmsfast.apdu import CosemAttributeDescriptor
from dlmsfast.axdr import Data, DataType
from dlmsfast.security import SecurityContext
from dlmsfast.session import (
    AssociationSettings,
    AuthenticationPolicy,
    ClientAccess,
    ClientSession,
    GetRequested,
    NeedToSend,
    ServerSession,
    ServerSettings,
)

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
SERVER_TITLE = bytes.fromhex("4D4D4D0000BC614E")
CLOCK = CosemAttributeDescriptor(8, "0.0.1.0.0.255", 2)
REGISTERS = [CosemAttributeDescriptor(3, obis, 2)
             for obis in ("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.32.7.0.255")]
PROFILE = CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2)
VALUES = {
    CLOCK: Data(DataType.OCTET_STRING, bytes.fromhex("07EA010205000000000000FF")),
    **{r: Data(DataType.DOUBLE_LONG_UNSIGNED, 1960 + i) for i, r in enumerate(REGISTERS)},
    PROFILE: Data(DataType.ARRAY, tuple(Data(DataType.STRUCTURE, (
        Data(DataType.OCTET_STRING, bytes((7, 0xEA, 1, 1, 4, i // 4, 15 * (i % 4), 0, 0, 0, 0, 0))),
        Data(DataType.UNSIGNED, 0),
        Data(DataType.DOUBLE_LONG_UNSIGNED, 1000 + 10 * i),
        Data(DataType.DOUBLE_LONG_UNSIGNED, 500 + 5 * i))) for i in range(96))),
}
CLIENT_SETTINGS = AssociationSettings(
    authentication="hls-gmac", security="authenc", system_title=CLIENT_TITLE,
    block_cipher_key=EK, authentication_key=AK, invocation_counter=1, challenge=b"C" * 16)


def _server() -> ServerSession:
    context = SecurityContext(system_title=SERVER_TITLE, block_cipher_key=EK,
                              authentication_key=AK)
    return ServerSession(ServerSettings(system_title=SERVER_TITLE, challenge=lambda: b"S" * 16),
                         AuthenticationPolicy([ClientAccess(client_address=1,
                                                            authentication="hls-gmac",
                                                            security_context=context)]),
                         client_address=1)


def _serve(server: ServerSession, apdu: bytes) -> list[bytes]:
    replies = []
    for event in server.receive_apdu(apdu):
        if type(event) is NeedToSend:
            replies.append(event.apdu)
        elif type(event) is GetRequested:
            replies.append(server.respond_get(event, VALUES[event.descriptor]))
    return replies


def _client_session(answer) -> None:
    client = ClientSession(CLIENT_SETTINGS)

    def run(apdu: bytes) -> None:
        queue = [apdu]
        while queue:
            for reply in answer(queue.pop(0)):
                for event in client.receive_apdu(reply):
                    if type(event) is NeedToSend:
                        queue.append(event.apdu)

    run(client.associate())
    for descriptor in (CLOCK, *REGISTERS, PROFILE):
        run(client.get(descriptor))
    run(client.release())


def _both() -> dict[bytes, list[bytes]]:
    server = _server()
    transcript = {}

    def answer(apdu: bytes) -> list[bytes]:
        transcript[apdu] = _serve(server, apdu)
        return transcript[apdu]

    _client_session(answer)
    return transcript


TRANSCRIPT = _both()


def _server_alone() -> None:
    server = _server()
    for apdu in TRANSCRIPT:
        _serve(server, apdu)


@pytest.mark.benchmark(group="session", timer=time.process_time)
def test_s1_session_client_and_server(benchmark):
    benchmark.extra_info["items"] = 1
    benchmark(_both)


@pytest.mark.benchmark(group="session", timer=time.process_time)
def test_s2_session_client(benchmark):
    benchmark.extra_info["items"] = 1
    benchmark(_client_session, TRANSCRIPT.__getitem__)


@pytest.mark.benchmark(group="session", timer=time.process_time)
def test_s3_session_server(benchmark):
    benchmark.extra_info["items"] = 1
    assert len(TRANSCRIPT) == 10  # AARQ, pass 3, 4 GETs, profile + 2 next, RLRQ
    benchmark(_server_alone)
