"""``dlmsfast listen --store``: what reaches the store and what is said about
it (audit E: the daylight-saving hour, conflicting readings, stable meter ids)."""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE_PARENT
from han_frames import GOOD
from listen_process import listening
from push_builders import expected_rows, hdlc_frames, notification

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


def _han_hex(entry_id: str) -> str:
    return next(e["hex"] for e in GOOD if e["id"] == entry_id)


def test_a_list_without_a_meter_id_takes_the_one_its_stream_pushed(tmp_path):
    # finding E4: a Kaifa's list 1 (power only, no id) was stored under the
    # source, its lists 2/3 under the serial number: one meter split in two
    list2, list1 = _han_hex("dp-kaifa-ma304h3e-list2"), _han_hex("amshan-hdlc-kaifa-list1")
    capture = tmp_path / "kaifa.hex"
    capture.write_text(f"{list1}\n{list2}\n{list1}\n")
    db = tmp_path / "kaifa.db"
    done = _listen(f"file:{capture}", "--json", "--store", str(db))
    assert done.returncode == 0, done.stderr.decode()
    meters = [json.loads(line)["meter"] for line in done.stdout.decode().splitlines()]
    # before the first id the stream's own name; after it, the id
    assert meters[0] == f"file:{capture}" and meters[-1] == "6970631401753985"
    assert set(meters) == {f"file:{capture}", "6970631401753985"}
    with sqlite3.connect(db) as con:
        power = con.execute("SELECT meter_id FROM readings WHERE object = '1.0.1.7.0.255'").fetchall()
    assert sorted(power) == sorted([(f"file:{capture}",), ("6970631401753985",),
                                    ("6970631401753985",)])


def test_tcp_pushes_of_a_meter_without_an_id_keep_one_id_across_connections(tmp_path):
    # finding E4: the fallback id held the sender's ephemeral port: four
    # connections of one meter gave four meters and the same readings four times
    db = tmp_path / "tcp.db"
    push = b"".join(hdlc_frames(notification(3), 48))
    with listening("tcp://127.0.0.1:0", "--json", "--store", str(db), "--count", "4",
                   "--idle-timeout", "20") as (process, where):
        host, port = where.removeprefix("tcp://").rsplit(":", 1)
        for _ in range(4):
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
                conn.sendall(push)
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert {line["meter"] for line in lines} == {"tcp:127.0.0.1"}
    assert len({line["source"] for line in lines}) == 4  # where it arrived keeps the port
    rows = _stored(db)
    assert {row[0] for row in rows} == {"tcp:127.0.0.1"}
    assert {(row[1], row[3]) for row in rows} == expected_rows(3) and len(rows) == 5
