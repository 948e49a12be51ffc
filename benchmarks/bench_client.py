"""C1: the CPU a client spends on one whole session with a meter, dlmsfast's
AsyncClient beside gurux-dlms's own client (GXDLMSSecureClient over a socket).

The meter is ../shared/interop/gurux_meter.py in its own process (wrapper, port
chosen free). A session: connect, associate as client 1 with HLS-GMAC and
authenticated encryption (general-glo-ciphering, as the meter offers it), read
the clock, the 3 registers with their scaler_unit (one with-list request for
both clients), the 96-row load profile (capture objects, then the buffer in 3
GET-with-datablock blocks), release, close. Measured: CPU time of THIS process
(user + system, ``time.process_time``) per session; the meter is the slow
side and runs elsewhere, so wall time would measure it, not the client.

    python -m pytest benchmarks/bench_client.py --benchmark-only \\
        --benchmark-columns=median,mean,rounds
    python benchmarks/bench_client.py            # the two figures and their ratio

Group "C1-session-cpu"; target: dlmsfast <= 1/25 of gurux-dlms's CPU per session.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from interop import AK, EK, GuruxMeter  # noqa: E402  (the one launcher of the test meter)

from dlmsfast import AsyncClient  # noqa: E402

CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
OBJECTS = [(8, "0.0.1.0.0.255", 2), (3, "1.0.1.8.0.255", 2), (3, "1.0.2.8.0.255", 2),
           (3, "1.0.32.7.0.255", 2)]
PROFILE = "1.0.99.1.0.255"


# --- dlmsfast --------------------------------------------------------------------------

async def dlmsfast_session(url: str, trace=None) -> None:
    async with AsyncClient(url, client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
                           system_title=CLIENT_TITLE, timeout=5, trace=trace,
                           challenge=b"CLIENTCHALLENGE1") as meter:
        readings = await meter.read_many(OBJECTS)
        profile = await meter.read_profile(PROFILE)
    assert readings[1].value == 1960 and len(profile.rows) == 96


class ReplayedMeter:
    """The client's own work alone: the frames one real session received from the
    meter (--deterministic, fixed challenges), handed back in order as each
    request goes out, through the same AsyncClient, session and framing code,
    with no socket and no meter to wait for."""

    peer = "replay"

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers

    async def open(self, on_data, on_lost) -> None:
        self.next = iter(self.answers)
        self.on_data = on_data

    def write(self, data: bytes) -> None:
        asyncio.get_running_loop().call_soon(self.on_data, next(self.next))

    def close(self) -> None:
        pass


def record_answers(url: str) -> list[bytes]:
    frames: list[bytes] = []
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(dlmsfast_session(
            url, trace=lambda direction, frame: direction == "in" and frames.append(frame)))
    finally:
        loop.close()
    return frames


def replayed_session(loop, answers: list[bytes]) -> None:
    from dlmsfast.client import requests

    real = requests.connection_for

    def replaying(*args, **kwargs):
        connection = real(*args, **kwargs)
        connection.stream = ReplayedMeter(answers)
        return connection

    requests.connection_for = replaying
    try:
        loop.run_until_complete(dlmsfast_session("tcp://127.0.0.1:1"))
    finally:
        requests.connection_for = real


# --- gurux-dlms's client ---------------------------------------------------------------

class GuruxSession:
    """gurux-dlms's GXDLMSSecureClient driven over a blocking socket, the way its
    examples do (readDataBlock / readDLMSPacket)."""

    def __init__(self, port: int) -> None:
        from gurux_dlms import GXByteBuffer, GXReplyData
        from gurux_dlms.enums import Authentication, InterfaceType, Security
        from gurux_dlms.secure import GXDLMSSecureClient

        self.GXByteBuffer, self.GXReplyData = GXByteBuffer, GXReplyData
        client = GXDLMSSecureClient(True, 1, 1, Authentication.HIGH_GMAC, None,
                                    InterfaceType.WRAPPER)
        client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
        client.ciphering.systemTitle = CLIENT_TITLE
        client.ciphering.blockCipherKey = EK
        client.ciphering.authenticationKey = AK
        self.client = client
        self.sock = socket.create_connection(("127.0.0.1", port))

    def packet(self, data, reply) -> None:
        if data is not None:
            self.sock.sendall(bytes(data))
        buffer = self.GXByteBuffer()
        notify = self.GXReplyData()
        while not self.client.getData(buffer, reply, notify):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the meter closed the connection")
            buffer.set(chunk)

    def data_block(self, messages, reply) -> None:
        if messages and isinstance(messages[0], list):  # readList: one list per batch
            messages = [m for batch in messages for m in batch]
        for message in messages:
            reply.clear()
            self.packet(message, reply)
            while reply.isMoreData():
                self.packet(self.client.receiverReady(reply), reply)

    def run(self) -> None:
        from gurux_dlms.objects import GXDLMSClock, GXDLMSProfileGeneric, GXDLMSRegister

        client = self.client
        reply = self.GXReplyData()
        self.data_block(client.aarqRequest(), reply)
        client.parseAareResponse(reply.data)
        reply.clear()
        if client.getIsAuthenticationRequired():
            self.data_block(client.getApplicationAssociationRequest(), reply)
            client.parseApplicationAssociationResponse(reply.data)
        clock = GXDLMSClock("0.0.1.0.0.255")
        registers = [GXDLMSRegister(ln) for _, ln, _ in OBJECTS[1:]]
        wanted = [(clock, 2)] + [(r, 2) for r in registers] + [(r, 3) for r in registers]
        reply.clear()
        self.data_block(client.readList(wanted), reply)
        client.updateValues(wanted, reply.value)
        profile = GXDLMSProfileGeneric(PROFILE)
        for attribute in (3, 2):
            reply.clear()
            self.data_block(client.read(profile, attribute), reply)
            client.updateValue(profile, attribute, reply.value)
        assert registers[0].value == 1960 and len(profile.buffer) == 96
        reply.clear()
        self.data_block(client.releaseRequest(), reply)
        self.sock.close()


def gurux_session(port: int) -> None:
    # gurux-dlms prints "Encryption is applied." for each APDU: not part of the work
    with contextlib.redirect_stdout(io.StringIO()):
        GuruxSession(port).run()


# --- the floor: what waiting on a slow peer costs any asyncio client ----------------------

def _slow_echo(port: int, work: float) -> None:
    """A peer that computes ``work`` seconds of CPU per answer, as a meter does."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        while data := conn.recv(65536):
            started = time.process_time()
            while time.process_time() - started < work:
                pass
            conn.sendall(data)
        conn.close()


class _Echo(asyncio.Protocol):
    waiter = None

    def data_received(self, data: bytes) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)


async def _bare_session(port: int, round_trips: int) -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(_Echo, "127.0.0.1", port)
    for _ in range(round_trips):
        protocol.waiter = loop.create_future()
        transport.write(b"\x00" * 64)
        await protocol.waiter
    transport.close()


def asyncio_floor(work: float, round_trips: int = 10, sessions: int = 50) -> float:
    """CPU per session of a bare asyncio client (no DLMS at all) doing
    ``round_trips`` exchanges with a peer that computes ``work`` s per answer."""
    import multiprocessing

    from interop import free_port

    port = free_port()
    peer = multiprocessing.Process(target=_slow_echo, args=(port, work), daemon=True)
    peer.start()
    loop = asyncio.new_event_loop()
    try:
        for _ in range(100):
            try:
                loop.run_until_complete(_bare_session(port, 1))
                break
            except OSError:
                time.sleep(0.02)
        return cpu_per_session(lambda: loop.run_until_complete(_bare_session(port, round_trips)),
                               sessions)
    finally:
        loop.close()
        peer.terminate()
        peer.join()


# --- measuring ---------------------------------------------------------------------------

def cpu_per_session(session, sessions: int) -> float:
    """Seconds of this process's CPU per session (after two warm-up sessions)."""
    for _ in range(2):
        session()
    started = time.process_time()
    for _ in range(sessions):
        session()
    return (time.process_time() - started) / sessions


METER_OPTIONS = ("--wrapper", "--auth", "high-gmac", "--security", "authenc", "--deterministic")


@pytest.fixture(scope="module")
def meter():
    m = GuruxMeter(*METER_OPTIONS)
    yield m
    m.stop()


@pytest.mark.benchmark(group="C1-session-cpu", timer=time.process_time)
def test_dlmsfast_session_cpu(benchmark, meter):
    loop = asyncio.new_event_loop()
    try:
        benchmark.extra_info.update(impl="dlmsfast", items=1)
        benchmark.pedantic(lambda: loop.run_until_complete(dlmsfast_session(meter.url)),
                           rounds=60, warmup_rounds=3)
    finally:
        loop.close()


@pytest.mark.benchmark(group="C1-session-cpu", timer=time.process_time)
def test_dlmsfast_replayed_session_cpu(benchmark, meter):
    answers = record_answers(meter.url)
    loop = asyncio.new_event_loop()
    try:
        benchmark.extra_info.update(impl="dlmsfast-replayed", items=1)
        benchmark.pedantic(lambda: replayed_session(loop, answers), rounds=200, warmup_rounds=3)
    finally:
        loop.close()


@pytest.mark.benchmark(group="C1-session-cpu", timer=time.process_time)
def test_gurux_session_cpu(benchmark, meter):
    benchmark.extra_info.update(impl="gurux-dlms", items=1)
    benchmark.pedantic(lambda: gurux_session(meter.port), rounds=15, warmup_rounds=2)


def main() -> None:
    meter = GuruxMeter(*METER_OPTIONS)
    loop = asyncio.new_event_loop()
    try:
        ours = cpu_per_session(lambda: loop.run_until_complete(dlmsfast_session(meter.url)), 100)
        answers = record_answers(meter.url)
        alone = cpu_per_session(lambda: replayed_session(loop, answers), 300)
        theirs = cpu_per_session(lambda: gurux_session(meter.port), 20)
    finally:
        loop.close()
        meter.stop()
    print(f"client CPU per session: dlmsfast {ours * 1e3:.2f} ms (1/{theirs / ours:.1f}), "
          f"its own work replayed without socket {alone * 1e3:.2f} ms "
          f"(1/{theirs / alone:.1f}), gurux-dlms {theirs * 1e3:.2f} ms; target 1/25")
    instant, slow = asyncio_floor(0.0), asyncio_floor(0.005)
    print(f"floor, a bare asyncio client with 10 round trips and no DLMS: {instant * 1e3:.2f} ms "
          f"against an instant peer, {slow * 1e3:.2f} ms against one computing 5 ms per answer")


if __name__ == "__main__":
    main()
