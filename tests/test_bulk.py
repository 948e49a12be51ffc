"""The bulk reader end to end: ``dlmsfast simulate`` in its own process on loopback,
``dlmsfast bulk`` in another, a real SQLite file, values checked against the
simulator's deterministic data (:mod:`dlmsfast.simulator.data`)."""
from __future__ import annotations

import datetime as _dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import PACKAGE_PARENT
from dlmsfast.bulk.engine import EngineSettings, run_bulk
from dlmsfast.bulk.inputs import KeyRing, PlanObject, ReadPlan, read_meters
from dlmsfast.errors import ConfigurationError, UsageError
from dlmsfast.simulator import data as d

SRC = PACKAGE_PARENT  # the dlmsfast under test (src/ or site-packages)
FIXED = "2026-03-04T12:07:00+00:00"
AT = _dt.datetime.fromisoformat(FIXED)
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}


class Fleet:
    """``dlmsfast simulate`` serving on free ports until stopped."""

    def __init__(self, folder: Path, meters: int, *options: str, env=None) -> None:
        self.meters_csv = folder / "meters.csv"
        self.keys = folder / "keys.toml"
        ready = folder / "ready"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "dlmsfast", "simulate", "--meters", str(meters),
             "--base-port", "0", "--fixed-time", FIXED, "--write-meters", str(self.meters_csv),
             "--write-keys", str(self.keys), "--ready-file", str(ready), *options],
            env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, "the simulator did not get ready"
            time.sleep(0.02)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def fleet_factory(tmp_path):
    fleets = []

    def make(meters: int, *options: str, name: str = "fleet", env=None) -> Fleet:
        folder = tmp_path / name
        folder.mkdir()
        fleet = Fleet(folder, meters, *options, env=env)
        fleets.append(fleet)
        return fleet

    yield make
    for fleet in fleets:
        fleet.stop()


def bulk(fleet: Fleet, store: Path, *options: str, timeout: float = 120, env=None):
    process = subprocess.run(
        [sys.executable, "-m", "dlmsfast", "bulk", str(fleet.meters_csv), "--keys",
         str(fleet.keys), "--store", str(store), "--json", *options],
        env=env or ENV, capture_output=True, text=True, timeout=timeout)
    assert process.stdout, process.stderr
    return process.returncode, json.loads(process.stdout), process.stderr


def index_of(meter_id: str) -> int:
    return int(meter_id.split("-")[1])


def expected_rows(k: int, rows: int = 96) -> set[tuple]:
    """(object, attribute, capture_time, value) of everything the default plan stores."""
    out = {("0.0.1.0.0.255", 2, AT.isoformat(), AT.isoformat())}
    for obis in ("1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.32.7.0.255"):
        reading = d.expected_register(k, obis, AT)
        out.add((obis, 2, AT.isoformat(), reading.value))
    for when, status, plus, minus in d.expected_profile(k, AT, rows):
        t = when.isoformat()
        out |= {("0.0.96.10.1.255", 2, t, status), ("1.0.1.8.0.255", 2, t, plus),
                ("1.0.2.8.0.255", 2, t, minus)}
    return out


def stored(store: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(store)
    out: dict[str, list[tuple]] = {}
    for meter, obj, attribute, when, value in db.execute(
            "SELECT meter_id, object, attribute, capture_time, value FROM readings"):
        out.setdefault(meter, []).append((obj, attribute, when, value))
    db.close()
    return out


def test_500_mixed_meters_read_completely_each_reading_once(fleet_factory, tmp_path):
    fleet = fleet_factory(500, "--framing", "mixed", "--auth", "mixed", "--security", "mixed",
                          "--referencing", "mixed")
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store)
    assert status == 0
    assert summary["meters"] == summary["succeeded"] == 500 and summary["failed"] == 0
    meters = read_meters(fleet.meters_csv)
    assert {m.framing for m in meters} == {"wrapper", "hdlc"}
    # half the fleet speaks only short names (Association SN), read the same way
    assert {m.referencing for m in meters} == {"ln", "sn"}
    assert {(m.auth, m.security) for m in meters} >= {("none", "none"), ("lls", "auth"),
                                                      ("hls-gmac", "authenc"), ("none", "enc")}
    got = stored(store)
    assert set(got) == {m.id for m in meters}
    for meter in meters:
        rows = got[meter.id]
        # UNIQUE keeps the key once; the values must be the simulator's, each once
        assert len(rows) == len(set(rows)) == 4 + 96 * 3
        assert set(rows) == expected_rows(index_of(meter.id)), meter
    assert summary["readings"] == 500 * (4 + 96 * 3)
    db = sqlite3.connect(store)
    scaled, unit, status_ = db.execute(
        "SELECT scaled, unit, status FROM readings WHERE meter_id = ? AND object = "
        "'1.0.32.7.0.255'", (meters[9].id,)).fetchone()
    assert unit == "V" and Decimal(str(scaled)) == d.expected_register(9, "1.0.32.7.0.255", AT).scaled
    assert status_ == ("authenticated" if meters[9].security in ("auth", "authenc")
                       else "unauthenticated")
    assert db.execute("SELECT count(*), sum(result = 'ok') FROM sessions").fetchone() == (500, 500)


def test_a_fleet_on_udp_reads_completely(fleet_factory, tmp_path):
    fleet = fleet_factory(24, "--transport", "udp", "--auth", "mixed", "--security", "mixed")
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store)
    assert status == 0 and summary["succeeded"] == 24
    got = stored(store)
    for meter in read_meters(fleet.meters_csv):
        assert meter.url.startswith("udp://")
        assert set(got[meter.id]) == expected_rows(index_of(meter.id)), meter


@pytest.mark.parametrize("auth, referencing", [("hls-md5", "sn"), ("hls-sha1", "ln"),
                                               ("hls-sha256", "sn")])
def test_meters_with_an_hls_secret_read_completely(fleet_factory, tmp_path, auth, referencing):
    # the secret comes from the keys file's password; SHA-256 also needs the titles
    fleet = fleet_factory(8, "--auth", auth, "--security", "mixed", "--referencing", referencing)
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store)
    assert status == 0 and summary["succeeded"] == 8
    got = stored(store)
    for meter in read_meters(fleet.meters_csv):
        assert (meter.auth, meter.client, meter.referencing) == (auth, 1, referencing)
        assert set(got[meter.id]) == expected_rows(index_of(meter.id)), meter


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_simulator_and_reader_on_either_event_loop(fleet_factory, tmp_path, loop):
    # both programs on the loop DLMSFAST_LOOP names (uvloop is what they pick
    # by default, asyncio's own the fallback): the same readings either way,
    # over wrapper and HDLC, ciphered, with a block transfer per session
    env = {**ENV, "DLMSFAST_LOOP": loop}
    store = tmp_path / "readings.db"
    for framing in ("wrapper", "hdlc"):
        fleet = fleet_factory(6, "--framing", framing, "--auth", "hls-gmac", "--security",
                              "authenc", name=framing, env=env)
        status, summary, errors = bulk(fleet, store, "--workers", "1", env=env)
        assert status == 0, errors
        assert summary["succeeded"] == 6
    got = stored(store)
    assert len(got) == 6  # both fleets use the same meter ids: stored once each
    for meter, rows in got.items():
        assert len(rows) == len(set(rows))
        assert set(rows) == expected_rows(index_of(meter))


def test_faulty_meters_fail_with_their_reason_the_others_succeed(fleet_factory, tmp_path):
    fleet = fleet_factory(
        40, "--auth", "hls-gmac", "--security", "authenc",
        "--faults", "silent@3,wrong-tag@5,refuse-association@7,exception-response@11,"
                    "drop-mid-block@13")
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store, "--timeout", "1", "--retries", "1")
    assert status == 1
    assert summary["succeeded"] == 35 and summary["failed"] == 5
    assert summary["failures"] == {"TimeoutError": 1, "TagError": 1,
                                   "AssociationRejected": 1, "ServiceError": 1,
                                   "ConnectionLost": 1}
    db = sqlite3.connect(store)
    last = dict(db.execute(
        "SELECT meter_id, error_class FROM sessions WHERE session_id IN "
        "(SELECT max(session_id) FROM sessions GROUP BY meter_id)"))
    assert last["sim-00003"] == "TimeoutError"
    assert last["sim-00005"] == "TagError"  # the AARE's ciphered InitiateResponse
    assert last["sim-00007"] == "AssociationRejected"
    assert last["sim-00011"] == "ServiceError"
    assert last["sim-00013"] == "ConnectionLost"
    # transport failures were tried again; refusals were not
    attempts = dict(db.execute("SELECT meter_id, count(*) FROM sessions GROUP BY meter_id"))
    assert attempts["sim-00003"] == attempts["sim-00013"] == 2
    assert attempts["sim-00007"] == attempts["sim-00005"] == 1
    got = stored(store)
    assert set(got) == {f"sim-{k:05d}" for k in range(40)} - {
        "sim-00003", "sim-00005", "sim-00007", "sim-00011"}
    for k in range(40):
        if k not in (3, 5, 7, 11, 13):
            assert set(got[f"sim-{k:05d}"]) == expected_rows(k)
    # what drop-mid-block let through before the drop is kept, marked by a failed session
    assert len(got["sim-00013"]) == 4


def test_an_answer_timeout_and_a_session_timeout_are_stored_as_what_they_were(
        fleet_factory, tmp_path):
    # meter 0 never answers: the client's per-answer timeout (1 s), its own
    # message; meter 1 answers every request 700 ms late: no answer is late,
    # the whole session (1.5 s) is
    fleet = fleet_factory(3, "--auth", "hls-gmac", "--security", "authenc",
                          "--faults", "silent@0,latency:700ms@1")
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store, "--timeout", "1", "--session-timeout", "1.5",
                              "--retries", "0", "--workers", "1")
    assert status == 1 and summary["failures"] == {"TimeoutError": 2}, summary
    db = sqlite3.connect(store)
    errors = {m: (e, _dt.datetime.fromisoformat(b) - _dt.datetime.fromisoformat(a))
              for m, e, a, b in db.execute("SELECT meter_id, error, started, ended "
                                           "FROM sessions WHERE result = 'failed'")}
    db.close()
    message, took = errors["sim-00000"]
    assert "did not answer the association request (AARQ) within 1 s" in message, message
    assert "session took longer" not in message
    assert 0.9 < took.total_seconds() < 1.45
    message, took = errors["sim-00001"]
    assert message == "the session took longer than 1.5 s"
    assert 1.4 < took.total_seconds() < 2.5


def test_sigkill_mid_run_then_resume_completes_without_duplicates(fleet_factory, tmp_path):
    fleet = fleet_factory(300, "--auth", "hls-gmac", "--security", "authenc",
                          "--latency", "40")
    store = tmp_path / "readings.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "bulk", str(fleet.meters_csv), "--keys",
         str(fleet.keys), "--store", str(store), "--concurrency", "20", "--workers", "2"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    done = 0
    while done < 40:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.1)
        try:
            db = sqlite3.connect(store)
            done = db.execute("SELECT count(*) FROM sessions WHERE result = 'ok'").fetchone()[0]
            db.close()
        except sqlite3.OperationalError:
            done = 0
    process.send_signal(signal.SIGKILL)
    process.wait()
    time.sleep(0.6)  # the orphaned workers see their parent gone and end
    before = stored(store)
    assert 40 <= len(before) < 300
    status, summary, _ = bulk(fleet, store, "--resume")
    assert status == 0, summary
    assert summary["succeeded"] == 300 and summary["skipped"] >= 40
    got = stored(store)
    assert len(got) == 300
    for meter_id, rows in got.items():
        assert len(rows) == len(set(rows)) == 4 + 96 * 3
        assert set(rows) == expected_rows(index_of(meter_id))
    db = sqlite3.connect(store)
    assert db.execute("SELECT count(DISTINCT run_id) FROM sessions").fetchone() == (1,)


def test_invocation_counters_survive_a_restart_of_the_reader(fleet_factory, tmp_path):
    fleet = fleet_factory(20, "--auth", "hls-gmac", "--security", "authenc")
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store, "--workers", "1")
    assert status == 0 and summary["succeeded"] == 20
    db = sqlite3.connect(store)
    first = dict(db.execute("SELECT meter_id, reserved_until FROM counters"))
    db.close()
    assert len(first) == 20 and all(v > 1 for v in first.values())
    # a new reader process, the same meters (which refuse any IC not above the
    # last they accepted): the stored counters carry on
    status, again, _ = bulk(fleet, store, "--workers", "2")
    assert status == 0 and again["succeeded"] == 20, again
    # the profile was asked since the last stored row: nothing new (the clock
    # stands still), and far fewer octets than the first, whole read
    assert again["readings"] == 0 and again["bytes"] < summary["bytes"] / 2
    db = sqlite3.connect(store)
    second = dict(db.execute("SELECT meter_id, reserved_until FROM counters"))
    assert all(second[m] > first[m] for m in first)
    # without them (a new store) the meters refuse the reused counters: the
    # check above is a real one (an AARE authentication-failure: AuthenticationFailed,
    # an AssociationRejected)
    status, summary, _ = bulk(fleet, tmp_path / "other.db", "--workers", "1")
    assert status == 1 and summary["failures"] == {"AuthenticationFailed": 20}


def test_a_new_store_for_a_used_ciphered_fleet_takes_the_counters_from_keys_or_meter(
        fleet_factory, tmp_path):
    fleet = fleet_factory(6, "--auth", "hls-gmac", "--security", "authenc")
    quick = ("--workers", "1", "--no-clock", "--profile", "none")
    status, summary, _ = bulk(fleet, tmp_path / "first.db", *quick)
    assert status == 0 and summary["succeeded"] == 6
    # a new store: every meter refuses the counters it has seen, and the store says why
    # (an AARE authentication-failure: AuthenticationFailed, an AssociationRejected)
    status, summary, _ = bulk(fleet, tmp_path / "fresh.db", *quick)
    assert status == 1 and summary["failures"] == {"AuthenticationFailed": 6}
    db = sqlite3.connect(tmp_path / "fresh.db")
    errors = [e for (e,) in db.execute("SELECT error FROM sessions")]
    db.close()
    assert len(errors) == 6
    for error in errors:
        assert error.startswith("association rejected-permanent")
        assert "the store held no invocation counter for this meter, so the first was 1" in error
        assert "invocation_counter in the keys file" in error
        assert "--invocation-counter meter" in error
        # said once: the store's account of the counter in place of the
        # client's general advice, not after it
        assert error.count("--invocation-counter meter") == 1, error
        assert error.count("invocation counter already (a replay)") == 1, error
        assert "invocation_counter='meter'" not in error and "seen" not in error.replace(
            "may have seen this invocation counter", ""), error
    # (b) read from the meter, through the public client, when the store knows none
    status, summary, _ = bulk(fleet, tmp_path / "pre-read.db", "--invocation-counter", "meter",
                              *quick)
    assert status == 0 and summary["succeeded"] == 6, summary
    # next run: the store knows them; nothing is read first (fewer octets)
    status, again, _ = bulk(fleet, tmp_path / "pre-read.db", "--invocation-counter", "meter",
                            *quick)
    assert status == 0 and again["succeeded"] == 6 and again["bytes"] < summary["bytes"]
    # (a) the keys file's invocation_counter: the first IC when the store has none
    seeded = tmp_path / "seeded-keys.toml"
    seeded.write_text("".join(
        f'["{key_id}"]\n' + "".join(f'{name} = "{value}"\n' for name, value in entry.items())
        + "invocation_counter = 100000\n" for key_id, entry in KeyRing.load(fleet.keys).items()))
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "bulk", str(fleet.meters_csv),
                           "--keys", str(seeded), "--store", str(tmp_path / "seeded.db"), "--json",
                           *quick], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["succeeded"] == 6, done.stderr
    db = sqlite3.connect(tmp_path / "seeded.db")
    assert all(v > 100000 for (v,) in db.execute("SELECT reserved_until FROM counters"))
    db.close()
    # the first store is behind the meters now; meter-always reads them before each session
    status, summary, _ = bulk(fleet, tmp_path / "first.db", *quick)
    assert status == 1 and summary["failures"] == {"AuthenticationFailed": 6}
    db = sqlite3.connect(tmp_path / "first.db")
    # a store that knew a counter gives no hint about fresh stores
    assert "the store held no" not in db.execute(
        "SELECT error FROM sessions ORDER BY session_id DESC").fetchone()[0]
    db.close()
    status, summary, _ = bulk(fleet, tmp_path / "first.db", "--invocation-counter",
                              "meter-always", *quick)
    assert status == 0 and summary["succeeded"] == 6, summary


def test_a_keys_file_invocation_counter_is_a_32_bit_integer(tmp_path):
    keys = tmp_path / "keys.toml"
    for bad in ('"12"', "-1", "4294967296", "true"):
        keys.write_text(f'["k1"]\ninvocation_counter = {bad}\n')
        with pytest.raises(ConfigurationError, match="invocation_counter must be an integer"):
            KeyRing.load(keys)
    keys.write_text('["k1"]\ninvocation_counter = 0xFFFFFFFF\n')
    ring = KeyRing.load(keys)
    meter = read_meters_row("k1", tmp_path)
    assert ring.first_counter(meter) == 0xFFFFFFFF and ring.client_options(meter) == {}
    assert ring.first_counter(read_meters_row("", tmp_path)) is None


def read_meters_row(key_id: str, folder: Path):
    meters = folder / "one.csv"
    meters.write_text(f"id,url,key_id\nm1,tcp://127.0.0.1:1,{key_id}\n")
    return read_meters(meters)[0]


def test_profile_by_time_range_and_a_plan_file(fleet_factory, tmp_path):
    fleet = fleet_factory(4, "--auth", "lls", "--security", "none")
    start, end = d.quarter_time(d.quarter_of(AT) - 10), d.quarter_time(d.quarter_of(AT) - 3)
    plan = tmp_path / "plan.toml"
    plan.write_text(f'clock = false\nobjects = ["3/1.0.31.7.0.255", "1/0.0.96.1.0.255"]\n'
                    f'[profile]\nobject = "1.0.99.1.0.255"\nfrom = "{start.isoformat()}"\n'
                    f'to = "{end.isoformat()}"\n')
    store = tmp_path / "readings.db"
    status, summary, _ = bulk(fleet, store, "--plan", str(plan))
    assert status == 0 and summary["succeeded"] == 4
    for meter_id, rows in stored(store).items():
        k = index_of(meter_id)
        times = {t for obj, _, t, _ in rows if obj == "1.0.2.8.0.255"}
        assert times == {w.isoformat() for w, *_ in d.expected_profile(k, AT, 96, start, end)}
        assert len(times) == 8
        current = {v for obj, _, _, v in rows if obj == "1.0.31.7.0.255"}
        assert current == {d.expected_register(k, "1.0.31.7.0.255", AT).value}
        # octet-strings are stored as hex (the store's rule, as for pushed readings)
        assert {v for obj, _, _, v in rows if obj == "0.0.96.1.0.255"} == {
            str(d.serial_number(k)).encode().hex().upper()}


def pushed_to_listen(fleet_factory, store: Path, meters: int, *options: str) -> Fleet:
    """A fleet whose meters push (every second) to ``dlmsfast listen --store
    store``, once the listener has stored one notification and ended."""
    listener = subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "listen", "udp://127.0.0.1:0", "--store",
         str(store), "--count", "1", "--idle-timeout", "30"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = listener.stderr.readline()
        assert "listening on" in line, line
        address = line.rsplit(" ", 1)[1].strip()
        fleet = fleet_factory(meters, *options, "--push-to", address, "--push-interval", "1")
        listener.wait(timeout=30)
    finally:
        if listener.poll() is None:
            listener.kill()
        listener.wait()
    assert listener.returncode == 0, listener.stderr.read()
    return fleet


def test_a_pushed_and_a_read_octet_string_are_stored_alike(fleet_factory, tmp_path):
    # the logical device name is an octet-string whether a GET answers it or a
    # push carries it (the simulator pushes the very Data its GET gives); the
    # push decoder shows it as text, the store keeps the Blue Book type: hex
    listen_db, bulk_db = tmp_path / "listen.db", tmp_path / "bulk.db"
    fleet = pushed_to_listen(fleet_factory, listen_db, 1, "--auth", "none", "--security", "none")
    status, summary, _ = bulk(fleet, bulk_db, "--object", "1/0.0.42.0.0.255", "--no-clock",
                              "--profile", "none")
    assert status == 0 and summary["succeeded"] == 1
    ldn = "0.0.42.0.0.255"
    pushed = sqlite3.connect(listen_db).execute(
        "SELECT value FROM readings WHERE object = ?", (ldn,)).fetchall()
    read = sqlite3.connect(bulk_db).execute(
        "SELECT value FROM readings WHERE object = ?", (ldn,)).fetchall()
    assert pushed == read == [(d.logical_device_name(0).hex().upper(),)]


def naive(iso: str) -> str:
    """An ISO 8601 time as a meter without deviation writes it: the same wall clock, no offset."""
    return _dt.datetime.fromisoformat(iso).replace(tzinfo=None).isoformat()


def test_a_clock_without_deviation_is_stored_as_the_meters_local_time_by_bulk_and_listen(
        fleet_factory, tmp_path):
    # finding: for a meter whose date-times carry no deviation (0x8000, a local
    # time), bulk stored the reception time for its registers and dropped its
    # profile rows, while listen stored the meter's local time. One rule now, in
    # one store file: the meter's wall clock, ISO 8601 without an offset.
    store = tmp_path / "readings.db"
    fleet = pushed_to_listen(fleet_factory, store, 2, "--local-time", "--framing", "mixed")
    meters = [m.id for m in read_meters(fleet.meters_csv)]
    db = sqlite3.connect(store)
    pushed = db.execute("SELECT DISTINCT capture_time FROM readings").fetchall()
    db.close()
    # the push dates its readings by the clock in its list: the meter's local time
    assert pushed == [(naive(FIXED),)]
    status, summary, _ = bulk(fleet, store, "--workers", "1")
    assert status == 0 and summary["succeeded"] == 2
    got = stored(store)
    for meter in meters:
        # every row kept (the profile's too), dated by the meter's clock, not by
        # the reception; the clock's value is its local time as well
        assert set(got[meter]) == {(obj, attribute, naive(when), naive(value) if obj ==
                                    "0.0.1.0.0.255" else value)
                                   for obj, attribute, when, value in expected_rows(index_of(meter))}
    db = sqlite3.connect(store)
    assert db.execute("SELECT count(*) FROM readings WHERE capture_time LIKE '%+%'").fetchone() == (0,)
    # what "since the last reading" starts after follows the same rule
    assert db.execute("SELECT DISTINCT last_capture FROM profiles").fetchall() == [
        (naive(max(when for when, *_ in d.expected_profile(0, AT, 96)).isoformat()),)]
    db.close()
    # read again: the same rows (the key is the meter's time), the profile asked
    # after the last stored row (a range given in the meter's local time)
    status, again, _ = bulk(fleet, store, "--workers", "1")
    assert status == 0 and again["succeeded"] == 2 and again["readings"] == 0, again


def test_the_store_keeps_capture_times_by_one_rule():
    from dlmsfast.axdr import DateTime
    from dlmsfast.bulk.store import stored_time

    # an instant: in UTC, whatever deviation the meter wrote (-60: UTC+01:00)
    assert stored_time(DateTime(2026, 1, 2, hour=12, minute=0, second=0, deviation=-60)) == \
        "2026-01-02T11:00:00+00:00"
    assert stored_time(AT) == "2026-03-04T12:07:00+00:00"
    # no deviation: the meter's wall clock as written, no offset, never shifted
    assert stored_time(DateTime(2026, 1, 2, hour=12, minute=0, second=0)) == "2026-01-02T12:00:00"
    assert stored_time(AT.replace(tzinfo=None)) == "2026-03-04T12:07:00"
    # no time at all (incomplete): the writer keeps the reception time
    assert stored_time(DateTime(2026, 1, 2)) is None and stored_time(None) is None


def test_the_store_keeps_each_blue_book_type_by_one_rule():
    from dlmsfast.bulk.store import stored_scaled, stored_value
    from dlmsfast.push.reading import OctetText

    assert stored_value(b"DFS1") == "44465331"
    assert stored_value(OctetText(b"DFS1\x00", "DFS1")) == "4446533100"  # the octets as sent
    assert stored_value("DFS1") == "DFS1"  # a visible-string is text
    assert stored_value((1, b"\x01\xff", OctetText(b"AB", "AB"), "AB")) == '[1, "01FF", "4142", "AB"]'
    assert stored_value(Decimal("1.5")) == 1.5 and stored_value(7) == 7
    assert stored_value(AT) == AT.isoformat()
    assert stored_scaled(Decimal("2.25")) == 2.25 and stored_scaled(3) == 3
    assert stored_scaled(True) is None and stored_scaled("x") is None and stored_scaled(b"x") is None


def test_the_keys_never_reach_the_store_or_the_output(fleet_factory, tmp_path):
    fleet = fleet_factory(6, "--auth", "hls-gmac", "--security", "authenc",
                          "--faults", "wrong-tag@1")
    store = tmp_path / "readings.db"
    status, summary, err = bulk(fleet, store)
    keys = KeyRing.load(fleet.keys)
    secrets = [v for k in keys for name, v in keys[k].items() if name in ("ek", "ak")]
    assert secrets and repr(keys).count("key ids") == 1
    dump = "\n".join(sqlite3.connect(store).iterdump()).upper()
    for secret in secrets:
        assert secret.upper() not in dump and secret.upper() not in err.upper()
        assert secret not in repr(keys)


def test_plan_and_inputs_say_what_is_wrong(tmp_path):
    assert PlanObject.parse("3/1.0.1.8.0.255").attribute == 2
    assert str(PlanObject.parse("1/0-0:96.1.0*255:2")) == "1/0.0.96.1.0.255:2"
    with pytest.raises(UsageError, match="CLASS/OBIS"):
        PlanObject.parse("1.0.1.8.0.255")
    plan = tmp_path / "plan.toml"
    plan.write_text('objects = ["3/1.0.1.8.0.255"]\nsync_clock = 30\n'
                    '[profile]\nobject = "1.0.99.1.0.255"\nfrom = "2026-01-01T00:00Z"\n')
    loaded = ReadPlan.load(plan)
    assert loaded.sync_clock == 30 and not loaded.since_last
    assert loaded.start == _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
    with pytest.raises(UsageError, match="unknown"):
        ReadPlan.from_mapping({"object": []})
    meters = tmp_path / "meters.csv"
    meters.write_text("id,url\nm1,tcp://127.0.0.1:1\nm1,tcp://127.0.0.1:2\n")
    with pytest.raises(ConfigurationError, match="repeated"):
        read_meters(meters)
    meters.write_text("id,url,referencing\nm1,tcp://127.0.0.1:1,SN\nm2,tcp://127.0.0.1:2,\n")
    assert [m.referencing for m in read_meters(meters)] == ["sn", "ln"]
    meters.write_text("id,url,referencing\nm1,tcp://127.0.0.1:1,short\n")
    with pytest.raises(ConfigurationError, match="line 2, column referencing: referencing 'short' is ln"):
        read_meters(meters)
    keys = tmp_path / "keys.toml"
    keys.write_text('["k1"]\nek = "00112233445566778899AABBCCDDEEFF"\nak = "00" = broken\n')
    with pytest.raises(ConfigurationError) as error:
        KeyRing.load(keys)
    assert "0011223344" not in str(error.value)


def test_files_saved_with_a_byte_order_mark_read_as_without(tmp_path):
    # Excel's "CSV UTF-8" and some Windows editors start the file with EF BB BF
    bom = b"\xef\xbb\xbf"
    meters = tmp_path / "meters.csv"
    meters.write_bytes(bom + b"id,url,key_id\nm1,tcp://127.0.0.1:1,k1\n")
    assert [(m.id, m.key_id) for m in read_meters(meters)] == [("m1", "k1")]
    keys = tmp_path / "keys.toml"
    keys.write_bytes(bom + b'["k1"]\npassword = "12345678"\n')
    assert KeyRing.load(keys)["k1"] == {"password": "12345678"}
    plan = tmp_path / "plan.toml"
    plan.write_bytes(bom + b'clock = false\n[profile]\nsince = "last"\n')
    assert ReadPlan.load(plan).clock is False


def test_a_profile_range_that_ends_before_it_starts_is_a_usage_error(tmp_path):
    meters = tmp_path / "meters.csv"
    meters.write_text("id,url\nm1,tcp://127.0.0.1:1\n")
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "bulk", str(meters), "--store",
                           str(tmp_path / "r.db"), "--from", "2026-11-27T10:00Z",
                           "--to", "2026-11-27T09:00Z"],
                          env=ENV, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "ends (2026-11-27T09:00:00+00:00) before it starts" in done.stderr
    assert not (tmp_path / "r.db").exists()  # refused before any store was made
    with pytest.raises(UsageError, match="before it starts"):
        ReadPlan.from_mapping({"profile": {"from": "2026-01-02T00:00Z", "to": "2026-01-01"}})
    # a range of one instant is a range
    one = ReadPlan.from_mapping({"profile": {"from": "2026-01-01T00:00Z", "to": "2026-01-01"}})
    assert one.start == one.end


def test_export_writes_every_reading_as_csv_and_parquet(fleet_factory, tmp_path):
    import csv

    import pyarrow.parquet as pq  # the 'parquet' extra

    fleet = fleet_factory(3, "--auth", "hls-gmac", "--security", "authenc")
    store = tmp_path / "readings.db"
    assert bulk(fleet, store)[0] == 0
    for fmt in ("csv", "parquet"):
        out = tmp_path / f"readings.{fmt}"
        done = subprocess.run([sys.executable, "-m", "dlmsfast", "export", str(store),
                               "--format", fmt, str(out)], env=ENV, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        if fmt == "csv":
            with open(out, newline="") as handle:
                rows = list(csv.DictReader(handle))
            values = {(r["meter_id"], r["object"], r["capture_time"], r["value"]) for r in rows}
        else:
            table = pq.read_table(out).to_pylist()
            rows = table
            values = {(r["meter_id"], r["object"], r["capture_time"], r["value"]) for r in rows}
        assert len(rows) == 3 * (4 + 96 * 3)
        plus = d.expected_register(2, "1.0.1.8.0.255", AT)
        # the export writes every capture_time with milliseconds
        assert ("sim-00002", "1.0.1.8.0.255", AT.isoformat(timespec="milliseconds"),
                str(plus.value)) in values
    missing = subprocess.run([sys.executable, "-m", "dlmsfast", "export", str(tmp_path / "no.db"),
                              str(tmp_path / "x.csv")], env=ENV, capture_output=True, text=True,
                             timeout=60)
    assert missing.returncode == 2 and "no store" in missing.stderr


def test_the_main_job_reads_a_simulated_fleet_into_readings_db(tmp_path):
    # README's command, smaller: the simulator in its own process, files in a
    # temporary folder, readings.db in the working directory
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "bulk", "--simulate", "50", "--json"],
                          env=ENV, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["meters"] == summary["succeeded"] == 50
    assert set(summary) >= {"meters", "succeeded", "failed", "failures", "readings", "seconds",
                            "sessions_per_s", "peak_rss_bytes"}
    assert "succeeded" in done.stderr  # the summary table
    db = sqlite3.connect(tmp_path / "readings.db")
    assert db.execute("SELECT count(DISTINCT meter_id), count(*) FROM readings").fetchone() == (
        50, summary["readings"])
    assert db.execute("SELECT count(*) FROM readings WHERE status = 'authenticated'"
                      ).fetchone()[0] == summary["readings"]


@pytest.mark.parametrize("options, message", [
    ((), "give METERS.csv"),
    (("--simulate", "3", "meters.csv"), "writes its own"),
    (("missing.csv",), "cannot read the meters file"),
    (("--simulate", "0"), "at least 1"),
])
def test_bulk_usage_mistakes_end_in_one_line_and_status_2(tmp_path, options, message):
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "bulk", *options], env=ENV,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_each_invocation_counter_is_stored_before_the_meter_sees_it(fleet_factory, tmp_path):
    import asyncio

    from dlmsfast import AsyncClient
    from dlmsfast.bulk import EngineSettings, run_bulk

    fleet = fleet_factory(6, "--auth", "hls-gmac", "--security", "authenc")
    meters = read_meters(fleet.meters_csv)
    keys = KeyRing.load(fleet.keys)
    store = tmp_path / "readings.db"
    # blocks of 3 ICs: every session (7 ciphered APDUs and more) needs the
    # hook to reserve further blocks while it runs
    settings = EngineSettings(counter_block=3, timeout=5)
    for _ in range(2):
        summary = run_bulk(meters, keys, ReadPlan(), store, settings=settings, workers=1)
        assert summary.succeeded == 6, summary.failures
    reserved = dict(sqlite3.connect(store).execute("SELECT meter_id, reserved_until FROM counters"))

    async def last_accepted(meter) -> int:
        # IDIS: the public client reads the IC the meter expects next
        async with AsyncClient(meter.url, client=16, server=meter.server, timeout=5) as public:
            return (await public.read("0.0.43.1.0.255", class_id=1)).value - 1

    async def all_counters():
        return {m.id: await last_accepted(m) for m in meters}

    seen = asyncio.run(all_counters())
    for meter_id, last in seen.items():
        # two sessions of 7+ ICs each went through blocks of 3: reserved in steps
        assert last > 2 * 6
        assert last < reserved[meter_id], (meter_id, last, reserved[meter_id])


@pytest.mark.parametrize("field, value, message", [
    ("concurrency", 0, "concurrency must be a positive int"),
    ("retries", -1, "retries must be an int >= 0"),
    ("timeout", float("nan"), "timeout must be a positive number of seconds"),
    ("start_rate", 0, "start_rate must be a positive number of sessions per second"),
    ("connect_timeout", -1, "connect_timeout must be a positive number of seconds"),
    ("backoff", -0.5, "backoff must be a number of seconds >= 0"),
])
def test_engine_settings_say_what_is_wrong(field, value, message):
    with pytest.raises(ConfigurationError, match=message):
        EngineSettings(**{field: value})


def test_the_first_sessions_start_at_the_start_rate_not_all_at_once(fleet_factory, tmp_path):
    # 10 sessions at once, started 20 per second: the 10th starts at least
    # 9/20 s after the first (a sleep never ends early), where all 10 would
    # otherwise start in the same instant and stay in step to the end. Each
    # answer takes 100 ms: no session ends (and frees its place for the next
    # meter) before the last has started
    fleet = fleet_factory(10, "--latency", "100")
    store = tmp_path / "readings.db"
    meters = read_meters(fleet.meters_csv)
    settings = EngineSettings(concurrency=10, start_rate=20.0)
    summary = run_bulk(meters, KeyRing.load(fleet.keys), ReadPlan(), store,
                       settings=settings, workers=1)
    assert summary.succeeded == 10
    db = sqlite3.connect(store)
    started = sorted(_dt.datetime.fromisoformat(t) for (t,) in db.execute(
        "SELECT started FROM sessions"))
    db.close()
    # (less a margin for the first session, which records its start a moment
    # after the loop began, and for the store's milliseconds)
    assert (started[-1] - started[0]).total_seconds() >= 8 / 20
