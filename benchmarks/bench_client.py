"""C1: the CPU a client spends on one whole session with a meter, dlmsfast's
AsyncClient and blocking Client beside gurux-dlms's own client
(GXDLMSSecureClient over a blocking socket).

The meter is ../shared/interop/gurux_meter.py in its own process (wrapper, port
chosen free). A session: connect, associate as client 1 with HLS-GMAC and
authenticated encryption (general-glo-ciphering, as the meter offers it), read
the clock, the 3 registers with their scaler_unit (one with-list request for
both clients), the 96-row load profile (capture objects, then the buffer in 3
GET-with-datablock blocks), release, close. Measured: CPU time of THIS process
(user + system, ``time.process_time``) per session; the meter is the slow
side and runs elsewhere, so wall time would measure it, not the client.

Two more figures say where the live CPU goes: dlmsfast's own work replayed
with no socket (the meter's recorded answers handed back through the same
client, session and framing), back to back and with the process sleeping
between round trips as it does while a meter computes. The difference is what
waking up costs: on a loaded machine the same Python work runs several times
slower right after a sleep (caches and branch predictors cold), and every
client pays it once per round trip.

    python -m pytest benchmarks/bench_client.py --benchmark-only \\
        --benchmark-columns=median,mean,rounds
    python benchmarks/bench_client.py            # all figures, medians of interleaved rounds
    python benchmarks/bench_client.py --phases   # the replayed session's CPU phase by phase
    python benchmarks/bench_client.py --pauses   # replayed after busy pauses of 0-5 ms
    python benchmarks/bench_client.py --compiled # this code against the same code compiled
                                                 # with Cython (an experiment, not shipped)

``DLMSFAST_SHARED=/work/shared`` where ../shared is not beside the checkout
(a worktree).

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
from typing import Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from interop import AK, EK, GuruxMeter  # noqa: E402  (the one launcher of the test meter)

from dlmsfast import AsyncClient, Client  # noqa: E402

CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
OBJECTS = [(8, "0.0.1.0.0.255", 2), (3, "1.0.1.8.0.255", 2), (3, "1.0.2.8.0.255", 2),
           (3, "1.0.32.7.0.255", 2)]
PROFILE = "1.0.99.1.0.255"


# --- dlmsfast --------------------------------------------------------------------------

SESSION = dict(client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
               system_title=CLIENT_TITLE, timeout=5, challenge=b"CLIENTCHALLENGE1")


async def dlmsfast_session(url: str, trace=None) -> None:
    async with AsyncClient(url, trace=trace, **SESSION) as meter:
        readings = await meter.read_many(OBJECTS)
        profile = await meter.read_profile(PROFILE)
    assert readings[1].value == 1960 and len(profile.rows) == 96


def dlmsfast_blocking_session(url: str) -> None:
    """The same session through the blocking Client (over TCP: a blocking socket
    and the same coroutines run to their end, no event loop)."""
    with Client(url, **SESSION) as meter:
        readings = meter.read_many(OBJECTS)
        profile = meter.read_profile(PROFILE)
    assert readings[1].value == 1960 and len(profile.rows) == 96


class ReplayedMeter:
    """The client's own work alone: the frames one real session received from the
    meter (--deterministic, fixed challenges), handed back in order as each
    request goes out, through the same client, session and framing code, with
    no socket and no meter to wait for. ``pause``: the process sleeps that long
    before each answer, as it does while a meter computes."""

    peer = "replay"

    def __init__(self, answers: list[bytes], pause: float = 0.0) -> None:
        self.answers = answers
        self.pause = pause

    async def open(self, on_data, on_lost) -> None:
        self.next = iter(self.answers)
        self.on_data = on_data

    def write(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        if self.pause:
            loop.call_later(self.pause, self.on_data, next(self.next))
        else:
            loop.call_soon(self.on_data, next(self.next))

    def close(self) -> None:
        pass


class ReplayedBlockingMeter(ReplayedMeter):
    """The same for the blocking Client's stream face (open_now, pump)."""

    blocking = True

    def open_now(self, on_data, on_lost, timeout: float,
                 connect_timeout: Optional[float] = None) -> None:
        self.next = iter(self.answers)
        self.on_data = on_data
        self.answer = None

    def write(self, data: bytes) -> None:
        self.answer = next(self.next)

    def pump(self, timeout: float) -> None:
        if self.pause:
            _wait(self.pause)
        answer, self.answer = self.answer, None
        self.on_data(answer)


class _MarkedReplay(ReplayedBlockingMeter):
    """ReplayedBlockingMeter that notes this process's CPU clock before and
    after each wait (the pause), so that the work between waits is measured
    phase by phase."""

    def __init__(self, answers: list[bytes], pause: float, marks: list[float]) -> None:
        super().__init__(answers, pause)
        self.marks = marks

    def pump(self, timeout: float) -> None:
        self.marks.append(time.process_time())
        if self.pause:
            time.sleep(self.pause)
        self.marks.append(time.process_time())
        answer, self.answer = self.answer, None
        self.on_data(answer)


PHASES = ("Client() .. AARQ sent", "AARE .. HLS pass 3 sent", "pass 4 .. with-list sent",
          "with-list answer .. capture objects asked", "capture objects .. buffer asked",
          "block 1 .. block 2 asked", "block 2 .. block 3 asked", "block 3, rows .. RLRQ sent",
          "RLRE .. closed")


def phase_cpu(answers: list[bytes], pause: float, sessions: int) -> list[float]:
    """Median CPU (s) of each phase of the replayed blocking session: the work
    between one wait and the next, every wait (and the session's start) a
    ``pause`` s sleep."""
    import statistics

    per_session = []
    for number in range(sessions + 2):
        marks: list[float] = []
        if pause:
            time.sleep(pause)
        marks.append(time.process_time())
        with replaying(_MarkedReplay(answers, pause, marks)):
            dlmsfast_blocking_session("tcp://127.0.0.1:1")
        marks.append(time.process_time())
        if number >= 2:  # two warm-up sessions
            per_session.append([marks[i + 1] - marks[i] for i in range(0, len(marks), 2)])
    return [statistics.median(phase) for phase in zip(*per_session)]


def record_answers(url: str) -> list[bytes]:
    frames: list[bytes] = []
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(dlmsfast_session(
            url, trace=lambda direction, frame: direction == "in" and frames.append(frame)))
    finally:
        loop.close()
    return frames


@contextlib.contextmanager
def replaying(stream) -> None:
    """Every connection the client opens meanwhile talks to ``stream``."""
    from dlmsfast.client import requests
    from dlmsfast.transport.connection import Connection

    real = requests.connection_for

    def connection_for(*args, **kwargs):
        made = real(*args, **kwargs)
        return Connection(stream, made.framing, timeout=made.timeout, trace=made.trace)

    requests.connection_for = connection_for
    try:
        yield
    finally:
        requests.connection_for = real


def replayed_session(loop, answers: list[bytes], pause: float = 0.0) -> None:
    with replaying(ReplayedMeter(answers, pause)):
        loop.run_until_complete(dlmsfast_session("tcp://127.0.0.1:1"))


def replayed_blocking_session(answers: list[bytes], pause: float = 0.0) -> None:
    with replaying(ReplayedBlockingMeter(answers, pause)):
        dlmsfast_blocking_session("tcp://127.0.0.1:1")


class _Spin:
    """A wait that keeps the CPU busy in C instead of sleeping: no system call,
    no idle vCPU, and a footprint of a few cache lines (OpenSSL's PBKDF2 on
    8-octet inputs), so that what it leaves behind is time passing and nothing
    else. Its own CPU is counted in ``spent``, to be taken off."""

    def __init__(self) -> None:
        import hashlib

        self.pbkdf2 = hashlib.pbkdf2_hmac
        started = time.perf_counter()
        self.pbkdf2("sha256", b"password", b"saltsalt", 20000)
        self.per_iteration = (time.perf_counter() - started) / 20000
        self.spent = 0.0

    def __call__(self, seconds: float) -> None:
        started = time.process_time()
        self.pbkdf2("sha256", b"password", b"saltsalt", max(1, int(seconds / self.per_iteration)))
        self.spent += time.process_time() - started


_WAITER = time.sleep


def _wait(seconds: float) -> None:
    _WAITER(seconds)


# --- gurux-dlms's client ---------------------------------------------------------------

class GuruxSession:
    """gurux-dlms's GXDLMSSecureClient driven over a blocking socket, the way its
    examples do (readDataBlock / readDLMSPacket)."""

    def __init__(self, port: int, answers: Optional[list[bytes]] = None,
                 pause: float = 0.0) -> None:
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
        if answers is None:
            self.sock = socket.create_connection(("127.0.0.1", port))
        else:
            # its own work alone, like ReplayedMeter: the same client challenge
            # as the recorded session, so that the meter's pass 4 verifies
            client.settings.useCustomChallenge = True
            client.settings.ctoSChallenge = b"CLIENTCHALLENGE1"
            self.sock = _ReplayedSocket(answers, pause)

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


class _ReplayedSocket:
    def __init__(self, answers: list[bytes], pause: float = 0.0) -> None:
        self.next = iter(answers)
        self.pause = pause

    def sendall(self, data: bytes) -> None:
        pass

    def recv(self, size: int) -> bytes:
        if self.pause:
            _wait(self.pause)
        return next(self.next)

    def close(self) -> None:
        pass


class _RecordingSocket:
    def __init__(self, sock: socket.socket, answers: list[bytes]) -> None:
        self.sock = sock
        self.answers = answers

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def recv(self, size: int) -> bytes:
        data = self.sock.recv(size)
        self.answers.append(data)
        return data

    def close(self) -> None:
        self.sock.close()


def gurux_session(port: int, answers: Optional[list[bytes]] = None, pause: float = 0.0) -> None:
    # gurux-dlms prints "Encryption is applied." for each APDU: not part of the work
    with contextlib.redirect_stdout(io.StringIO()):
        GuruxSession(port, answers, pause).run()


def record_gurux_answers(port: int) -> list[bytes]:
    """What the meter sends gurux-dlms's client in one session with the fixed
    client challenge (the meter runs --deterministic)."""
    answers: list[bytes] = []
    with contextlib.redirect_stdout(io.StringIO()):
        session = GuruxSession(port, [])
        session.sock = _RecordingSocket(socket.create_connection(("127.0.0.1", port)), answers)
        session.run()
    return answers


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


def _bare_blocking_session(port: int, round_trips: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(round_trips):
            sock.sendall(b"\x00" * 64)
            sock.recv(65536)


def floors(work: float, round_trips: int = 10, sessions: int = 50) -> tuple[float, float]:
    """CPU per session of a bare client (no DLMS at all) doing ``round_trips``
    exchanges with a peer that computes ``work`` s per answer: asyncio, and a
    blocking socket."""
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
        return (cpu_per_session(lambda: loop.run_until_complete(_bare_session(port, round_trips)),
                                sessions),
                cpu_per_session(lambda: _bare_blocking_session(port, round_trips), sessions))
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
def test_dlmsfast_blocking_session_cpu(benchmark, meter):
    benchmark.extra_info.update(impl="dlmsfast-blocking", items=1)
    benchmark.pedantic(lambda: dlmsfast_blocking_session(meter.url), rounds=60, warmup_rounds=3)


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
def test_dlmsfast_blocking_replayed_session_cpu(benchmark, meter):
    answers = record_answers(meter.url)
    benchmark.extra_info.update(impl="dlmsfast-blocking-replayed", items=1)
    benchmark.pedantic(lambda: replayed_blocking_session(answers), rounds=200, warmup_rounds=3)


@pytest.mark.benchmark(group="C1-session-cpu", timer=time.process_time)
def test_gurux_replayed_session_cpu(benchmark, meter):
    answers = record_gurux_answers(meter.port)
    benchmark.extra_info.update(impl="gurux-dlms-replayed", items=1)
    benchmark.pedantic(lambda: gurux_session(0, answers), rounds=15, warmup_rounds=2)


@pytest.mark.benchmark(group="C1-session-cpu", timer=time.process_time)
def test_gurux_session_cpu(benchmark, meter):
    benchmark.extra_info.update(impl="gurux-dlms", items=1)
    benchmark.pedantic(lambda: gurux_session(meter.port), rounds=15, warmup_rounds=2)


PAUSE = 0.005  # about what the gurux meter takes per HLS-GMAC authenc answer


def main(runs: int = 5) -> None:
    """Every figure in each of ``runs`` rounds, interleaved, so that all of them
    see the same machine load; medians (and the median of each round's ratio)."""
    import statistics

    from dlmsfast.transport.loop import new_event_loop

    meter = GuruxMeter(*METER_OPTIONS)
    loop = asyncio.new_event_loop()
    uv_loop = new_event_loop()  # the programs' loop: uvloop where installed
    try:
        answers = record_answers(meter.url)
        theirs = record_gurux_answers(meter.port)
        figures = {  # name: (session, sessions per round)
            "live: dlmsfast AsyncClient": (
                lambda: loop.run_until_complete(dlmsfast_session(meter.url)), 40),
            "live: dlmsfast AsyncClient, uvloop": (
                lambda: uv_loop.run_until_complete(dlmsfast_session(meter.url)), 40),
            "live: dlmsfast Client (blocking)": (
                lambda: dlmsfast_blocking_session(meter.url), 40),
            "live: gurux-dlms": (lambda: gurux_session(meter.port), 8),
            "replayed: dlmsfast AsyncClient": (lambda: replayed_session(loop, answers), 200),
            "replayed: dlmsfast Client": (lambda: replayed_blocking_session(answers), 200),
            "replayed: gurux-dlms": (lambda: gurux_session(0, theirs), 8),
            f"replayed, {PAUSE * 1e3:g} ms sleeps: dlmsfast Client": (
                lambda: replayed_blocking_session(answers, PAUSE), 20),
            f"replayed, {PAUSE * 1e3:g} ms sleeps: gurux-dlms": (
                lambda: gurux_session(0, theirs, PAUSE), 8),
        }
        results: dict[str, list[float]] = {name: [] for name in figures}
        for _ in range(runs):
            for name, (session, count) in figures.items():
                results[name].append(cpu_per_session(session, count))
    finally:
        loop.close()
        uv_loop.close()
        meter.stop()
    print(f"client CPU per session, median of {runs} interleaved rounds; (1/n) = median of "
          "the rounds' ratios to gurux-dlms live; target 1/25")
    gurux = results["live: gurux-dlms"]
    for name, values in results.items():
        ratio = statistics.median(g / v for g, v in zip(gurux, values))
        print(f"  {name:42} {statistics.median(values) * 1e3:6.2f} ms  (1/{ratio:.1f})  "
              f"rounds: {' '.join(f'{v * 1e3:.2f}' for v in values)}")
    (instant, instant_blocking), (slow, slow_blocking) = floors(0.0), floors(PAUSE)
    print(f"floor, a bare client doing 10 round trips with no DLMS, asyncio / blocking socket: "
          f"{instant * 1e3:.2f} / {instant_blocking * 1e3:.2f} ms against an instant peer, "
          f"{slow * 1e3:.2f} / {slow_blocking * 1e3:.2f} ms against one computing "
          f"{PAUSE * 1e3:g} ms per answer")


def main_phases(sessions: int = 60) -> None:
    """Where a wait's cost lands: each phase of the replayed blocking session,
    back to back and with a 5 ms sleep before it (as while a meter computes)."""
    meter = GuruxMeter(*METER_OPTIONS)
    try:
        answers = record_answers(meter.url)
    finally:
        meter.stop()
    warm = phase_cpu(answers, 0.0, sessions * 5)
    cold = phase_cpu(answers, PAUSE, sessions)
    print(f"CPU per phase of the replayed blocking session (median of {sessions} sessions), "
          f"back to back / after a {PAUSE * 1e3:g} ms sleep")
    for name, before, after in zip(PHASES, warm, cold):
        print(f"  {name:42} {before * 1e6:6.1f} / {after * 1e6:6.1f} us  x{after / before:.1f}")
    print(f"  {'whole session':42} {sum(warm) * 1e6:6.1f} / {sum(cold) * 1e6:6.1f} us")


def _cpu_less_spin(session, sessions: int, spin: _Spin) -> float:
    """cpu_per_session less the CPU that the spin itself used."""
    for _ in range(2):
        session()
    spin.spent = 0.0
    started = time.process_time()
    for _ in range(sessions):
        session()
    return (time.process_time() - started - spin.spent) / sessions


def main_pauses(sessions: int = 30) -> None:
    """The same recorded sessions replayed with no socket (dlmsfast's blocking
    Client, gurux-dlms's client), each answer handed over after a pause in which
    the CPU stays busy in C (:class:`_Spin`): what the client does between
    answers is unchanged, only time passes. The spin's own CPU is taken off."""
    import statistics

    global _WAITER
    meter = GuruxMeter(*METER_OPTIONS)
    try:
        answers = record_answers(meter.url)
        theirs = record_gurux_answers(meter.port)
    finally:
        meter.stop()
    spin = _Spin()
    _WAITER = spin
    print("client CPU per replayed session (no socket), answers after a busy pause "
          "(median of 5 interleaved rounds); the spin's own CPU taken off")
    print(f"  {'pause':>8}  {'dlmsfast Client':>16}  {'gurux-dlms':>11}  ratio")
    try:
        for pause in (0.0, 0.0005, 0.001, 0.002, 0.005):
            ours, gurux = [], []
            for _ in range(5):
                for figures, session, count in (
                        (ours, lambda p=pause: replayed_blocking_session(answers, p), sessions * 4),
                        (gurux, lambda p=pause: gurux_session(0, theirs, p), max(3, sessions // 6))):
                    figures.append(_cpu_less_spin(session, count, spin))
            ratio = statistics.median(g / o for g, o in zip(gurux, ours))
            print(f"  {pause * 1e3:6.1f} ms  {statistics.median(ours) * 1e6:13.0f} us  "
                  f"{statistics.median(gurux) * 1e3:8.2f} ms  1/{ratio:.1f}")
    finally:
        _WAITER = time.sleep


# --- the client's path compiled with Cython: an experiment -------------------------------

# Every pure-Python module a replayed blocking session runs (cProfile, 200 sessions).
CLIENT_PATH = (
    "session.client cosem.classes.profile_generic client.requests transport.connection "
    "apdu.cursor cosem.timestamps apdu.acse cosem.units cosem.interface cosem.obis "
    "security.context apdu.service cosem.descriptors session._core _util client.values "
    "apdu._ber security.hls client.blocking session.settings security.ciphered "
    "apdu.initiate cosem.types axdr.values apdu.action apdu.get _enum session._state "
    "transport.dial wrapper apdu.invoke apdu.xdlms").split()


def _compiled_copy(where: Path) -> Path:
    """A copy of this checkout's package (compiled core included) in which every
    module of CLIENT_PATH is compiled by Cython in pure-Python mode (annotations
    ignored, so that it behaves as the interpreted module does)."""
    import shutil
    import subprocess

    source = Path(__file__).resolve().parents[1] / "src"
    shutil.copytree(source, where / "src", ignore=shutil.ignore_patterns("__pycache__"))
    script = where / "build.py"
    script.write_text(
        "from Cython.Build import cythonize\n"
        "from setuptools import Extension, setup\n"
        f"MODULES = {CLIENT_PATH!r}\n"
        "setup(ext_modules=cythonize([Extension('dlmsfast.' + m, ['src/dlmsfast/' + "
        "m.replace('.', '/') + '.py']) for m in MODULES], language_level=3, nthreads=2, "
        "compiler_directives={'binding': True, 'annotation_typing': False}), "
        "package_dir={'': 'src'})\n")
    subprocess.run([sys.executable, str(script), "-q", "build_ext", "--inplace", "-j", "2"],
                   cwd=where, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return where / "src"


def main_side() -> None:
    """One side of --compiled, in its own process: replayed back to back, after
    2 and 5 ms busy pauses, and live against a fresh meter; JSON, in us."""
    import json

    import dlmsfast.session.client

    meter = GuruxMeter(*METER_OPTIONS)
    figures = {"compiled": dlmsfast.session.client.__file__.endswith(".so")}
    try:
        answers = record_answers(meter.url)
        spin = _Spin()
        global _WAITER
        _WAITER = spin
        for name, pause, count in (("replayed", 0.0, 200), ("after 2 ms", 0.002, 60),
                                   ("after 5 ms", 0.005, 40)):
            figures[name] = _cpu_less_spin(
                lambda p=pause: replayed_blocking_session(answers, p), count, spin)
        _WAITER = time.sleep
        figures["live"] = cpu_per_session(lambda: dlmsfast_blocking_session(meter.url), 40)
    finally:
        meter.stop()
    print(json.dumps({k: v if isinstance(v, bool) else round(v * 1e6) for k, v in figures.items()}))


def main_compiled(rounds: int = 3) -> None:
    """The blocking Client's CPU per session, this code against the same code with
    CLIENT_PATH compiled by Cython, the two alternating in separate processes."""
    import json
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        sides = {"interpreted": str(Path(__file__).resolve().parents[1] / "src"),
                 "compiled": str(_compiled_copy(Path(scratch)))}
        results: dict[str, list[dict]] = {side: [] for side in sides}
        for _ in range(rounds):
            for side, path in sides.items():
                env = dict(os.environ, PYTHONPATH=path)
                done = subprocess.run([sys.executable, __file__, "--side"], env=env, check=True,
                                      capture_output=True, text=True)
                results[side].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"blocking Client, CPU per session in us, {rounds} alternating rounds per side")
    for side, runs in results.items():
        assert all(run["compiled"] == (side == "compiled") for run in runs)
        for name in ("replayed", "after 2 ms", "after 5 ms", "live"):
            print(f"  {side:12} {name:11} {' / '.join(str(run[name]) for run in runs)}")


if __name__ == "__main__":
    {"--phases": main_phases, "--pauses": main_pauses, "--compiled": main_compiled,
     "--side": main_side}.get(
        sys.argv[1] if sys.argv[1:] else "", main)()
