"""B1/B2: the bulk reader against the simulator, both on this machine's cores.

Wrapper framing, HLS-GMAC with authenticated encryption; each session reads the
clock and 3 registers with their scaler_unit (one with-list request), the
96-row load profile (capture objects, then the buffer in GET-with-datablock
blocks), releases and closes; every reading goes into a fresh SQLite store.
The simulator is ``dlmsfast simulate`` in its own process; the reader is
``dlmsfast bulk`` (its workers, one per core by default). Figures from
``--json``: sessions/s, seconds, peak RSS of the reader (parent + workers);
the simulator's peak RSS from ``/usr/bin/time``-like ``ru_maxrss`` of its process.

    python benchmarks/bench_bulk.py a            # (a) no latency, 10,000 meters
    python benchmarks/bench_bulk.py a 2000       # (a) with 2,000 meters (start and end weigh more)
    python benchmarks/bench_bulk.py b            # (b) 10,000 meters, 100 ms per answer
    DLMSFAST_LOOP=asyncio python benchmarks/bench_bulk.py a   # on asyncio's own loop
    python -m pytest benchmarks/bench_bulk.py --benchmark-only

Targets (issue 9): (a) >= 1,000 sessions/s; (b) 10,000 meters in <= 15 s with
<= 1 GiB peak RSS.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from dlmsfast.transport.loop import loop_name

# the dlmsfast under test: src/ in a working copy, site-packages where installed
SRC = str(Path(__import__("dlmsfast").__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run(meters: int, latency_ms: int = 0, concurrency: Optional[int] = None) -> dict:
    """One bulk run of a fresh simulated fleet into a fresh store; the summary
    plus the simulator's peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-bulk-") as folder:
        base = Path(folder)
        ready = base / "ready"
        options = ["--latency", str(latency_ms)] if latency_ms else []
        simulator = subprocess.Popen(
            [sys.executable, "-m", "dlmsfast", "simulate", "--meters", str(meters),
             "--base-port", "0", "--auth", "hls-gmac", "--security", "authenc",
             "--write-meters", str(base / "meters.csv"), "--write-keys", str(base / "keys.toml"),
             "--ready-file", str(ready), *options],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not ready.exists():
            assert simulator.poll() is None, "the simulator did not start"
            time.sleep(0.05)
        started = time.perf_counter()
        reader = subprocess.run(
            [sys.executable, "-m", "dlmsfast", "bulk", str(base / "meters.csv"), "--keys",
             str(base / "keys.toml"), "--store", str(base / "readings.db"), "--json",
             *(["--concurrency", str(concurrency)] if concurrency else [])],
            env=ENV, capture_output=True, text=True)
        wall = time.perf_counter() - started
        simulator.terminate()
        simulator.wait()
        summary = json.loads(reader.stdout)
        summary["wall_seconds"] = round(wall, 2)
        summary["loop"] = loop_name()
        # the largest child waited for so far: the simulator (the reader's own
        # figure is in the summary)
        summary["children_max_rss_bytes"] = resource.getrusage(
            resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        return summary


def test_b1_sessions_per_second_without_latency(benchmark):
    # CI's smoke pass (--benchmark-disable) runs each benchmark once: a small fleet
    meters = 200 if benchmark.disabled else 10_000
    result = benchmark.pedantic(run, args=(meters,), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["failed"] == 0


def test_b2_ten_thousand_meters_with_100_ms_latency(benchmark):
    meters = 300 if benchmark.disabled else 10_000
    result = benchmark.pedantic(run, args=(meters, 100), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    assert result["failed"] == 0


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "a"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    figures = run(count) if which == "a" else run(count, 100)
    print(json.dumps(figures))
