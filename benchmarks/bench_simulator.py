"""S1/S2: what the meter simulator costs per session, so that it is never the
bottleneck of the bulk benchmarks.

A session as the bulk benchmark has it: wrapper, client 1 with HLS-GMAC and
authenticated encryption (general-glo), read the clock and 3 registers (one
with-list request), the 96-row load profile (capture objects, the buffer in 3
blocks, the scaler_units), release.

- S1 (pytest-benchmark, group "S1-simulator-session"): the simulator's own work
  for one session, no socket: the APDUs of a real session, made by our client
  once, fed to a fresh meter's responder (AARQ, pass 3, GETs, RLRQ) as the
  transport would. What one loop can serve is about 1 / this.
- S2 (``python benchmarks/bench_simulator.py [--meters N --sessions S
  --concurrency C --clients P]``): ``dlmsfast simulate`` in its own process, P
  client processes (dlmsfast's AsyncClient, C sessions in flight each) reading
  every meter in turn; prints sessions/s served and the simulator process's
  CPU per session (from /proc), which is what a fleet costs the machine.

    python -m pytest benchmarks/bench_simulator.py --benchmark-only
    python benchmarks/bench_simulator.py --meters 1000 --sessions 4000
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from dlmsfast import AsyncClient
from dlmsfast.simulator import FleetConfig, MeterSimulator
from dlmsfast.simulator.fleet import SimulatedMeter
from dlmsfast.simulator.meter import Catalog

OBJECTS = [(8, "0.0.1.0.0.255", 2), (3, "1.0.1.8.0.255", 2), (3, "1.0.2.8.0.255", 2),
           (3, "1.0.32.7.0.255", 2)]
PROFILE = "1.0.99.1.0.255"
# a fixed StoC: the recorded pass 3 checks again in every round
CONFIG = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc",
                     challenge=b"SERVERCHALLENGE1")


async def session(url: str, options: dict) -> int:
    async with AsyncClient(url, timeout=30, **options) as meter:
        readings = await meter.read_many(OBJECTS)
        profile = await meter.read_profile(PROFILE)
    return len(readings) + len(profile.rows)


def _options(spec, seed: int = 0, invocation_counter: int = 1) -> dict:
    keys = spec.keys(seed)
    return dict(client=spec.client, auth=spec.auth, security=spec.security, ek=keys["ek"],
                ak=keys["ak"], system_title=keys["system_title"],
                invocation_counter=invocation_counter, challenge=b"CLIENTCHALLENGE1")


def record_session() -> list[bytes]:
    """The APDUs our client sends in one session with meter 0 (recorded on loopback)."""
    sent: list[bytes] = []

    def trace(direction: str, frame: bytes) -> None:
        if direction == "out":
            sent.append(frame[8:])  # the wrapper header off

    async def run() -> None:
        async with MeterSimulator(CONFIG) as sim:
            options = _options(sim.specs[0])
            async with AsyncClient(sim.url(0), timeout=5, trace=trace, **options) as meter:
                await meter.read_many(OBJECTS)
                await meter.read_profile(PROFILE)

    asyncio.run(run())
    return sent


def test_s1_simulator_work_per_session(benchmark):
    benchmark.group = "S1-simulator-session"
    requests = record_session()
    spec = MeterSimulator(CONFIG).specs[0]
    catalog = Catalog(96, 0x30, 1024, 0)
    clock = time.time

    def serve_once() -> int:
        # a fresh meter each round: its counters have not seen these requests
        meter = SimulatedMeter(spec, CONFIG, catalog, clock)
        responder = meter.associate(1)
        return [answer for apdu in requests for answer in responder(apdu)]

    answers = serve_once()
    # AARE, pass 4, every GET answered ciphered (no exception-response), RLRE
    assert len(answers) == len(requests)
    assert answers[0][0] == 0x61 and answers[-1][0] == 0x63
    assert all(a[0] == 0xDB for a in answers[1:-1])
    benchmark(serve_once)


# --- S2: the simulator in its own process ------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_process(rows: list[dict], keys: dict, sessions: int, concurrency: int,
                    queue) -> None:
    async def main() -> int:
        semaphore = asyncio.Semaphore(concurrency)
        done = 0

        async def one(i: int) -> None:
            nonlocal done
            row = rows[i % len(rows)]
            k = keys[row["key_id"]]
            # each meter's counter only grows: a later session starts above the last one
            options = dict(client=int(row["client"]), auth=row["auth"],
                           security=row["security"], ek=k["ek"], ak=k["ak"],
                           system_title=k["system_title"],
                           invocation_counter=1 + 1000 * (i // len(rows)))
            async with semaphore:
                await session(row["url"], options)
            done += 1

        await asyncio.gather(*(one(i) for i in range(sessions)))
        return done

    queue.put(asyncio.run(main()))


def run_s2(meters: int, sessions: int, concurrency: int, clients: int, latency: str | None
           ) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-sim-"))
    ready = folder / "ready"
    command = [sys.executable, "-m", "dlmsfast", "simulate", "--meters", str(meters),
               "--base-port", "0", "--auth", "hls-gmac", "--security", "authenc",
               "--write-meters", str(folder / "meters.csv"),
               "--write-keys", str(folder / "keys.toml"), "--ready-file", str(ready)]
    if latency:
        command += ["--latency", latency]
    simulator = subprocess.Popen(command, stdout=subprocess.PIPE)
    try:
        while not ready.exists():
            if simulator.poll() is not None:
                raise RuntimeError("dlmsfast simulate did not start")
            time.sleep(0.05)
        with open(folder / "meters.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        with open(folder / "keys.toml", "rb") as handle:
            keys = tomllib.load(handle)
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        cpu_before = _cpu_seconds(simulator.pid)
        started = time.perf_counter()
        shares = [rows[i::clients] for i in range(clients)]
        workers = [context.Process(target=_client_process,
                                   args=(share, keys, sessions // clients, concurrency, queue))
                   for share in shares]
        for worker in workers:
            worker.start()
        done = sum(queue.get() for _ in workers)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(simulator.pid) - cpu_before
        for worker in workers:
            worker.join()
    finally:
        simulator.terminate()
        final = simulator.communicate(timeout=30)[0].decode().strip()
    return {"meters": meters, "sessions": done, "seconds": round(seconds, 2),
            "sessions_per_s": round(done / seconds, 1),
            "simulator_cpu_ms_per_session": round(1000 * cpu / done, 3),
            "simulator_capacity_sessions_per_cpu_s": round(done / cpu, 1) if cpu else None,
            "simulator": final}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--latency", help="the simulator's --latency (e.g. 100)")
    args = parser.parse_args()
    print(run_s2(args.meters, args.sessions, args.concurrency, args.clients, args.latency))


if __name__ == "__main__":
    main()
