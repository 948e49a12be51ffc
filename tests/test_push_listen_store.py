"""``dlmsfast listen --store``: what reaches the store and what is said about
it (audit E: the daylight-saving hour, conflicting readings, stable meter ids)."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE_PARENT

TIMEOUT = 60


def _listen(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlmsfast", "listen", *args], input=stdin,
                          capture_output=True, cwd="/", timeout=TIMEOUT,
                          env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))


def _energy_push(status: int, value: int, minute: int = 30) -> str:
    """A plain data-notification of 1.0.1.8.0.255 = value, dated 2026-10-25
    02:MM local time without a deviation, with the given clock_status."""
    return ("0f00000001" "0c07ea0a19ff02" f"{minute:02x}" "00ff8000" f"{status:02x}"
            "020209060100010800ff06" f"{value:08x}")


def _stored(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT meter_id, object, capture_time, value FROM readings "
                           "ORDER BY capture_time").fetchall()


def test_the_repeated_autumn_hour_is_stored_twice_with_its_offsets(tmp_path):
    # finding E2: both 02:30 came out +02:00; the second (1100) was dropped by the store
    capture = tmp_path / "dst.hex"
    capture.write_text(_energy_push(0x80, 1000) + "\n" + _energy_push(0x00, 1100) + "\n")
    db = tmp_path / "dst.db"
    done = _listen(f"file:{capture}", "--json", "--timezone", "Europe/Oslo", "--store", str(db))
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [(line["timestamp"], line["value"]) for line in lines] == [
        ("2026-10-25T02:30:00+02:00", 1000), ("2026-10-25T02:30:00+01:00", 1100)]
    assert [(row[2][:19], row[3]) for row in _stored(db)] == [
        ("2026-10-25T00:30:00", 1000), ("2026-10-25T01:30:00", 1100)]


def test_a_reading_the_store_refuses_is_said_counted_and_in_json(tmp_path):
    # finding E3: a second value under the same key was dropped without a word
    capture = tmp_path / "stuck.hex"
    # a meter whose clock is stuck: the same time, another value
    capture.write_text(_energy_push(0x80, 1000) + "\n" + _energy_push(0x80, 1200) + "\n")
    db = tmp_path / "stuck.db"
    done = _listen(f"file:{capture}", "--json", "--store", str(db))
    assert done.returncode == 0, done.stderr.decode()
    err = done.stderr.decode()
    said = [line for line in err.splitlines() if "not stored" in line
            and f"meter file:{capture}:" in line]
    assert len(said) == 1
    # the same wording as bulk's sessions: object:attribute at time: stored X, read Y
    assert "1.0.1.8.0.255:2 at 2026-10-25T02:30:00: stored 1000, read 1200" in said[0]
    assert err.rstrip().endswith("1 reading(s) not stored: another value is stored under the "
                                 "same meter, object and time (the stored ones kept)")
    events = [json.loads(line) for line in done.stdout.decode().splitlines()]
    conflicts = [e for e in events if e.get("event") == "conflict"]
    assert conflicts == [{"event": "conflict", "meter": f"file:{capture}", "source": f"file:{capture}",
                          "object": "1.0.1.8.0.255", "attribute": 2,
                          "timestamp": "2026-10-25T02:30:00", "value": 1200, "stored": 1000}]
    assert [row[3] for row in _stored(db)] == [1000]
    # the same value again is no conflict (a list received twice is stored once)
    capture.write_text(_energy_push(0x80, 1000) + "\n")
    again = _listen(f"file:{capture}", "--json", "--store", str(db))
    assert again.returncode == 0 and "not stored" not in again.stderr.decode()
