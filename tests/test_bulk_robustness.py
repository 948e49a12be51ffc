"""The bulk reader when things go wrong around it: a meter whose clock is stuck,
counters the meters refused, a full disk, a second run on the same store, a
worker killed, SIGTERM. Real processes on loopback, real SQLite files, real
signals, each bounded by a timeout."""
from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlmsfast.bulk.store import Store
from test_bulk import ENV, bulk, fleet_factory  # noqa: F401  (the fixture)

QUICK = ("--workers", "1", "--no-clock", "--profile", "none")


def sessions(store: Path, run_id: int | None = None) -> list[tuple]:
    db = sqlite3.connect(store)
    query = "SELECT meter_id, result, error_class, error FROM sessions"
    rows = db.execute(query + (" WHERE run_id = ?" if run_id else "") + " ORDER BY session_id",
                      (run_id,) if run_id else ()).fetchall()
    db.close()
    return rows


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def sessions_ok(store: Path) -> int:
    try:
        db = sqlite3.connect(store)
        try:
            return db.execute("SELECT count(*) FROM sessions WHERE result = 'ok'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0


def start_bulk(fleet, store: Path, *options: str, **popen) -> subprocess.Popen:
    """``dlmsfast bulk`` on ``fleet`` in its own process, 2 workers of 10 sessions,
    its output on pipes (text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "bulk", str(fleet.meters_csv), "--keys",
         str(fleet.keys), "--store", str(store), "--workers", "2", "--concurrency", "10",
         *options], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finish(run: subprocess.Popen, seconds: float) -> tuple[str, str]:
    """Its output once it ended (killed, if it has not within ``seconds``)."""
    try:
        return run.communicate(timeout=seconds)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's /proc)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# -- finding 2: a reading under a stored key with another value ------------------------

STUCK_CLOCK = """\
# the simulator, every meter's clock stuck at 2000-01-01T00:00Z (an RTC reset): its
# registers still follow --fixed-time, so two days give two values at one clock time
import sys
import dlmsfast.simulator.meter as m
from dlmsfast.axdr import Data, DataType
STUCK = m.date_time_octets(946684800)
m.MeterModel._clock_time = lambda self, obis, selection, view: Data(DataType.OCTET_STRING, STUCK)
from dlmsfast.cli import main
sys.exit(main(sys.argv[1:]))
"""


class StuckFleet:
    def __init__(self, folder: Path, day: str) -> None:
        folder.mkdir()
        script = folder / "stuck.py"
        script.write_text(STUCK_CLOCK)
        self.meters_csv, self.keys = folder / "meters.csv", folder / "keys.toml"
        ready = folder / "ready"
        self.process = subprocess.Popen(
            [sys.executable, str(script), "simulate", "--meters", "3", "--base-port", "0",
             "--fixed-time", day, "--write-meters", str(self.meters_csv), "--write-keys",
             str(self.keys), "--ready-file", str(ready)],
            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_for(lambda: ready.exists() or self.process.poll() is not None, 60,
                 "the simulator did not get ready")
        assert self.process.poll() is None, self.process.stderr.read()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def test_a_reading_that_differs_from_the_stored_one_under_its_key_is_reported(tmp_path):
    store = tmp_path / "st.db"
    options = ("--workers", "1", "--profile", "none")
    day1 = StuckFleet(tmp_path / "day1", "2026-01-02T00:00Z")
    try:
        status, first, _ = bulk(day1, store, *options)
        assert status == 0 and first["succeeded"] == 3 and first["readings"] == 12, first
        # identical re-reads: nothing new, nothing to say
        status, again, _ = bulk(day1, store, *options)
        assert status == 0 and again["succeeded"] == 3 and again["readings"] == 0, again
    finally:
        day1.stop()
    kept = {(m, o): v for m, o, v in sqlite3.connect(store).execute(
        "SELECT meter_id, object, value FROM readings")}
    day2 = StuckFleet(tmp_path / "day2", "2026-01-03T00:00Z")
    try:
        status, second, _ = bulk(day2, store, *options)
    finally:
        day2.stop()
    # the day-2 values were read under the day-1 key (the clock stuck): the store
    # keeps the first, and the sessions say so (counted in the summary)
    assert status == 1, second
    assert second["failures"] == {"ConflictingReading": 3} and second["readings"] == 0, second
    assert {(m, o): v for m, o, v in sqlite3.connect(store).execute(
        "SELECT meter_id, object, value FROM readings")} == kept
    last = sessions(store, second["run_id"])
    assert len(last) == 3
    for meter_id, result, error_class, error in last:
        assert (result, error_class) == ("partial", "ConflictingReading")
        # the clock's own reading is the same; the registers that moved differ
        differ = sum(1 for (m, o), v in kept.items() if m == meter_id and o != "0.0.1.0.0.255")
        assert re.match(r"[1-9] readings? differs? from what the store holds under the same "
                        r"key \(kept; first: ", error) and int(error[0]) <= differ, error
        assert "at 2000-01-01T00:00:00+00:00: stored " in error and "clock" in error
        stored_value = kept[(meter_id, error.split("first: ")[1].split(":")[0])]
        assert f"stored {stored_value!r}, read " in error


def test_the_store_keeps_the_first_value_of_a_key_and_says_so_in_the_session(tmp_path):
    key = ("m1", "1.0.1.8.0.255", 2, "2000-01-01T00:00:00+00:00")

    def session(meter_id: str, result: str = "ok") -> tuple:
        return (run, meter_id, "t0", "t1", result, None, None, 0, 0)

    with Store(tmp_path / "s.db", batch_size=1 << 20) as store:
        run = store.begin_run("bulk")
        store.add_readings([(*key, 100, "Wh", 100.0, "authenticated")])
        store.add_sessions([session("m1")])
        assert store.flush() == 1
        # the same value again, for m1 and m2: nothing to say
        store.add_readings([(*key, 100, "Wh", 100.0, "authenticated"),
                            ("m2", *key[1:], 7, "Wh", 7.0, "authenticated")])
        store.add_sessions([session("m1"), session("m2")])
        assert store.flush() == 1 and store.conflicts == 0
        # another value under the key: kept as it was, m1's session says so,
        # m2's and a failed m3's untouched; a meter with no session is counted only
        store.add_readings([(*key, 101, "Wh", 101.0, "authenticated"),
                            ("m2", *key[1:], 7, "Wh", 7.0, "authenticated"),
                            ("m9", *key[1:], 5, "Wh", 5.0, "authenticated")])
        store.add_sessions([session("m1"), session("m2"), session("m3", "failed")])
        assert store.flush() == 1 and store.conflicts == 1
        store.add_readings([("m9", *key[1:], 6, "Wh", 6.0, "authenticated")])
        assert store.flush() == 0 and store.conflicts == 2
        assert [r.value for r in store.readings("m1")] == [100]
        got = store._db.execute("SELECT meter_id, result, error_class, error FROM sessions "
                                "ORDER BY session_id DESC LIMIT 3").fetchall()
    assert got[2][:3] == ("m1", "partial", "ConflictingReading")
    assert got[2][3] == ("1 reading differs from what the store holds under the same key (kept; "
                         "first: 1.0.1.8.0.255:2 at 2000-01-01T00:00:00+00:00: stored 100, read "
                         "101); the meter's clock may be stuck or set back")
    assert got[1] == ("m2", "ok", None, None) and got[0] == ("m3", "failed", None, None)


# -- finding 4: a counter the meter refused is still a guess ----------------------------

def test_invocation_counter_meter_reads_the_counter_after_a_refused_guess_or_a_stale_store(
        fleet_factory, tmp_path):  # noqa: F811
    fleet = fleet_factory(4, "--auth", "hls-gmac", "--security", "authenc")
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    for _ in range(2):  # the meters' counters past the first block (256)
        status, summary, _ = bulk(fleet, a, *QUICK)
        assert status == 0 and summary["succeeded"] == 4
    # a new store guesses 1, twice: both runs refused, each reserving a block; the
    # second still says the counter is a guess (its first now 257), not the
    # client's general advice
    for first in (1, 257):
        status, summary, _ = bulk(fleet, b, *QUICK)
        assert status == 1 and summary["failures"] == {"AuthenticationFailed": 4}, summary
        for _, _, _, error in sessions(b, summary["run_id"]):
            assert "held no confirmed invocation counter for this meter, so the first was " \
                f"{first} (the default)" in error, error
    # `meter`: the refused blocks are no counter of the meter's: it is read first,
    # one session per meter
    status, summary, _ = bulk(fleet, b, "--invocation-counter", "meter", *QUICK)
    assert status == 0 and summary["succeeded"] == 4 and summary["sessions"] == 4, summary
    # confirmed now: the store's counter is used as it is
    status, summary, _ = bulk(fleet, b, *QUICK)
    assert status == 0 and summary["succeeded"] == 4, summary
    # a.db is behind the meters now (a store restored from a backup): with
    # `meter`, the refusal makes the reader ask the meter and try once more
    status, summary, _ = bulk(fleet, a, *QUICK)
    assert status == 1 and summary["failures"] == {"AuthenticationFailed": 4}, summary
    status, summary, _ = bulk(fleet, a, "--invocation-counter", "meter", *QUICK)
    assert status == 0 and summary["succeeded"] == 4 and summary["sessions"] == 8, summary
    run = sessions(a, summary["run_id"])
    assert [r[1] for r in run].count("failed") == 4
    for _, result, error_class, error in run:
        if result == "failed":
            assert error_class == "AuthenticationFailed"
            assert "reading the meter's own counter" in error and "trying once more" in error
            # never advice to give what was given
            assert "--invocation-counter meter" not in error, error


def test_a_store_made_before_confirmed_counters_keeps_trusting_them(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE counters (meter_id TEXT PRIMARY KEY, reserved_until INTEGER NOT NULL)")
    db.execute("INSERT INTO counters VALUES ('m1', 300)")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.known_counters(["m1", "m2"]) == {"m1"}
        store.reserve_counters(["m1", "m2"], 10)
        assert store.known_counters(["m1", "m2"]) == {"m1"}  # m2: a guess until confirmed
        store.confirm_counters(["m2"])
        store.flush()
        assert store.known_counters(["m1", "m2"]) == {"m1", "m2"}
        assert store.counters() == {"m1": 310, "m2": 11}


# -- finding 6: the store fails ----------------------------------------------------------

def _small_files() -> None:
    # a file limit the store outgrows: the kernel's EFBIG, as on a full disk
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_store_that_cannot_be_written_ends_the_run_with_status_3_and_one_line(
        fleet_factory, tmp_path, workers):  # noqa: F811
    fleet = fleet_factory(60)
    store = tmp_path / "r.db"
    done = subprocess.run(
        [sys.executable, "-m", "dlmsfast", "bulk", str(fleet.meters_csv), "--keys",
         str(fleet.keys), "--store", str(store), "--workers", workers, "--json"],
        env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=_small_files)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "Exception in thread" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines()
             if line.startswith("dlmsfast bulk:") and " done, " not in line]  # not progress
    assert len(lines) == 1, done.stderr
    assert f"the store {str(store)!r} failed: " in lines[0] and "sqlite3." in lines[0]
    assert "--resume" in lines[0]
    report = json.loads(done.stdout)
    assert report["error"] == "StoreError" and report["exit_status"] == 3
    assert str(store) in report["message"]
    # what was committed is whole: every "ok" session has its readings
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for meter_id, count in db.execute(
            "SELECT s.meter_id, (SELECT count(*) FROM readings r WHERE r.meter_id = s.meter_id) "
            "FROM sessions s WHERE result = 'ok'"):
        assert count == 4 + 96 * 3, meter_id


# -- finding 7: one run per store ----------------------------------------------------------

def test_a_second_run_on_a_store_in_use_is_refused_and_the_lock_dies_with_the_first(
        fleet_factory, tmp_path):  # noqa: F811
    fleet = fleet_factory(200, "--auth", "hls-gmac", "--security", "authenc", "--latency", "30")
    store = tmp_path / "readings.db"
    first = start_bulk(fleet, store)
    try:
        wait_for(lambda: sessions_ok(store) >= 5, 60, "the first run read nothing")
        status, report, stderr = bulk(fleet, store, "--workers", "1", timeout=60)
        assert status == 2, stderr
        assert f"the store {str(store)!r} is in use by another bulk run (process {first.pid})" \
            in stderr and "Traceback" not in stderr
        assert report["exit_status"] == 2 and report["error"] == "StoreInUse"
        # the refused run touched nothing: one run in the store
        db = sqlite3.connect(store)
        assert db.execute("SELECT count(*) FROM runs").fetchone() == (1,)
        db.close()
    finally:
        first.send_signal(signal.SIGKILL)
        finish(first, 10)
    time.sleep(0.6)  # its orphaned workers see their parent gone and end
    # the lock went with the process: the run goes on where it was killed
    status, summary, _ = bulk(fleet, store, "--resume", timeout=120)
    assert status == 0 and summary["succeeded"] == 200, summary


# -- finding 8: a worker dies -------------------------------------------------------------

def test_a_killed_worker_is_named_and_its_unread_meters_are_recorded_for_resume(
        fleet_factory, tmp_path):  # noqa: F811
    fleet = fleet_factory(300, "--latency", "20")
    store = tmp_path / "readings.db"
    run = start_bulk(fleet, store, "--concurrency", "5", "--json")
    try:
        wait_for(lambda: sessions_ok(store) >= 10, 60, "the run read nothing")
        workers = children(run.pid)
        assert len(workers) == 2, workers
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
    finally:
        out, err = finish(run, 120)
    assert run.returncode == 1, err
    summary = json.loads(out)
    [dead] = summary["workers_failed"]
    assert dead["pid"] == victim and dead["ended"] == "was killed by SIGKILL"
    # its shard is half the fleet; when it dies it may not have reached any of it
    # yet (the ten sessions waited for may all be the other worker's)
    assert 0 < dead["unread"] <= 150 and summary["failures"] == {"WorkerError": dead["unread"]}
    assert f"(process {victim})" in err and "was killed by SIGKILL" in err  # the table
    db = sqlite3.connect(store)
    unread = db.execute("SELECT count(*), min(error) FROM sessions WHERE error_class = "
                        "'WorkerError'").fetchone()
    db.close()
    assert unread[0] == dead["unread"]
    assert unread[1] == (f"worker {dead['worker']} (process {victim}) was killed by SIGKILL "
                         "before this meter was read")
    status, resumed, _ = bulk(fleet, store, "--resume")
    assert status == 0 and resumed["succeeded"] == 300
    assert resumed["skipped"] == 300 - dead["unread"], resumed


# -- finding 11: SIGTERM -----------------------------------------------------------------------

def test_sigterm_stops_a_run_cleanly_and_resume_completes_it(fleet_factory, tmp_path):  # noqa: F811
    fleet = fleet_factory(200, "--latency", "30")
    store = tmp_path / "readings.db"
    run = start_bulk(fleet, store, "--json")
    try:
        wait_for(lambda: sessions_ok(store) >= 10, 60, "the run read nothing")
        workers = children(run.pid)
        run.send_signal(signal.SIGTERM)
    finally:
        out, err = finish(run, 30)
    assert run.returncode == 143, err
    assert "dlmsfast bulk: terminated (SIGTERM); committed readings are kept (--resume " \
        "continues)" in err and "Traceback" not in err
    assert json.loads(out) == {"error": "terminated", "exit_status": 143, "message": (
        "terminated (SIGTERM); committed readings are kept (--resume continues)")}
    wait_for(lambda: not any(map(running, workers)), 10, "a worker outlived the run")
    status, summary, _ = bulk(fleet, store, "--resume")
    assert status == 0 and summary["succeeded"] == 200 and summary["skipped"] >= 10, summary


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_on_bulk_simulate_ends_the_simulator_and_removes_its_files(tmp_path, workers):
    temp = tmp_path / "tmp"
    temp.mkdir()
    run = subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "bulk", "--simulate", "200", "--sim-arg=--latency=30",
         "--workers", workers, "--concurrency", "10"],
        env={**ENV, "TMPDIR": str(temp)}, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: sessions_ok(tmp_path / "readings.db") >= 5, 60, "the run read nothing")
        [folder] = temp.iterdir()
        assert folder.name.startswith("dlmsfast-sim-") and (folder / "keys.toml").exists()
        started = children(run.pid)
        run.send_signal(signal.SIGTERM)
    finally:
        _, err = finish(run, 30)
    assert run.returncode == 143 and "terminated (SIGTERM)" in err and "Traceback" not in err, err
    assert list(temp.iterdir()) == []
    wait_for(lambda: not any(map(running, started)), 10,
             "the simulator or a worker outlived the run")
    shutil.rmtree(temp)


def test_sigterm_while_the_simulator_starts_leaves_nothing_behind(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    run = subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "bulk", "--simulate", "5000"],
        env={**ENV, "TMPDIR": str(temp)}, cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(temp.iterdir()) and children(run.pid), 30,
                 "the simulator was not started")
        started = children(run.pid)
        assert not (tmp_path / "readings.db").exists()  # still starting
        run.send_signal(signal.SIGTERM)
    finally:
        _, err = finish(run, 30)
    assert run.returncode == 143 and "terminated (SIGTERM)" in err and "Traceback" not in err, err
    assert list(temp.iterdir()) == []
    wait_for(lambda: not any(map(running, started)), 10, "the simulator outlived the run")
