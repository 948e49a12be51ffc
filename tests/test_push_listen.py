"""``dlmsfast listen`` end to end: a separate listener process receives pushes
over loopback TCP and over a real pseudo-terminal pair at 2400 baud, and every
pushed reading arrives in the SQLite store exactly once."""
from __future__ import annotations

import contextlib
import json
import os
import random
import selectors
import socket
import sqlite3
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from conftest import PACKAGE_PARENT, shared_path

from push_builders import (
    AK, EK, METER_TITLE, ciphered, expected_rows, gbt_blocks, hdlc_frames, mbus_frames,
    meter_context, notification,
)

SRC = PACKAGE_PARENT  # the dlmsfast under test (src/ or site-packages)
TIMEOUT = 60


def _listener(*args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "dlmsfast", "listen", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd="/",
    )


def _ready_address(process: subprocess.Popen) -> str:
    line = process.stderr.readline().decode()
    assert "listening on" in line, line + process.stderr.read().decode()
    return line.rsplit(" ", 1)[1].strip()


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT meter_id, object, value, status, capture_time FROM readings").fetchall()


def _sent_in_pieces(send, stream: bytes, seed: int) -> None:
    rng = random.Random(seed)
    pos = 0
    while pos < len(stream):
        size = rng.randint(1, 97)
        send(stream[pos : pos + size])
        pos += size


def test_tcp_push_of_plain_and_ciphered_meters_lands_once(tmp_path):
    db = tmp_path / "readings.db"
    plain = list(range(0, 12))
    secret = list(range(100, 112))
    process = _listener("tcp://127.0.0.1:0", "--store", str(db), "--json", "--ek", EK.hex(),
                        "--ak", AK.hex(), "--count", str(len(plain) + 1 + len(secret)),
                        "--idle-timeout", "20")
    try:
        host, port = _ready_address(process).removeprefix("tcp://").rsplit(":", 1)
        context = meter_context()

        def plain_meter():
            stream = b"".join(b"".join(hdlc_frames(notification(n), 48)) + b"\x00noise\x7e\x7e"
                              for n in plain)
            # the same notification again: stored once (the store's key)
            stream += b"".join(hdlc_frames(notification(plain[0]), 48))
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
                _sent_in_pieces(conn.sendall, stream, 1)

        def ciphered_meter():
            stream = b"".join(b"".join(hdlc_frames(block)) for n in secret
                              for block in gbt_blocks(ciphered(notification(n), context), 40))
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
                _sent_in_pieces(conn.sendall, stream, 2)

        threads = [threading.Thread(target=plain_meter), threading.Thread(target=ciphered_meter)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err.decode()
    rows = _rows(db)
    by_meter: dict[str, set] = {}
    for meter, obis, value, status, _ in rows:
        by_meter.setdefault(meter, set()).add((obis, value, status))
    assert len(rows) == 5 * (len(plain) + len(secret))  # once each: no duplicate, none lost
    assert {(o, v) for o, v, s in by_meter[METER_TITLE.hex().upper()]} == set().union(
        *(expected_rows(n) for n in secret))
    assert {s for _, _, s in by_meter[METER_TITLE.hex().upper()]} == {"authenticated"}
    plain_meters = [m for m in by_meter if m != METER_TITLE.hex().upper()]
    assert len(plain_meters) == 1 and plain_meters[0] == "tcp:127.0.0.1"
    assert {(o, v) for o, v, s in by_meter[plain_meters[0]]} == set().union(
        *(expected_rows(n) for n in plain))
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert all(set(line) == {"meter", "system_title", "source", "object", "value", "unit",
                             "scaled", "timestamp", "authenticated"} for line in lines)
    # each line names its meter as the store does
    assert {line["meter"] for line in lines} == set(by_meter)
    assert {line["system_title"] for line in lines} == {None, METER_TITLE.hex().upper()}
    assert len(lines) >= len(rows)
    with sqlite3.connect(db) as con:
        sessions = con.execute("SELECT result, bytes, exchanges FROM sessions").fetchall()
    assert sorted(s[2] for s in sessions) in ([12, 13], [13, 12])
    assert all(s[0] == "ok" and s[1] > 0 for s in sessions)


def test_serial_push_over_a_pseudo_terminal_at_2400_baud(tmp_path):
    import serial  # noqa: F401  (a run-time dependency: its absence must fail, not skip)

    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B2400
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        assert termios.tcgetattr(slave)[4] == termios.B2400
        device = os.ttyname(slave)
        db = tmp_path / "han.db"
        numbers = list(range(20))
        process = _listener(f"serial://{device}?baud=2400&parity=N", "--store", str(db),
                            "--ek", EK.hex(), "--ak", AK.hex(), "--count", str(len(numbers)),
                            "--idle-timeout", "20")
        try:
            _ready_address(process)
            context = meter_context()
            stream = b"\x13\x37garbage"
            # a frame whose FCS is wrong: recorded with the session
            broken = bytearray(hdlc_frames(notification(999))[0])
            broken[-3] ^= 0xFF
            stream += bytes(broken)
            for n in numbers:
                apdu = ciphered(notification(n), context) if n % 2 else notification(n)
                frames = mbus_frames(apdu, 70) if n % 3 == 0 else hdlc_frames(apdu, 64)
                stream += b"".join(frames) + b"\x00\xff"
            _sent_in_pieces(lambda piece: os.write(master, piece), stream, 3)
            _, err = process.communicate(timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    finally:
        os.close(master)
        os.close(slave)
    # the broken frame: a push that did not decode
    assert process.returncode == 3, err.decode()
    assert err.decode().rstrip().endswith("1 did not decode; exit status 3")
    rows = _rows(db)
    assert len(rows) == 5 * len(numbers)
    got = {(obis, value) for _, obis, value, _, _ in rows}
    assert got == set().union(*(expected_rows(n) for n in numbers))
    statuses = {meter: status for meter, _, _, status, _ in rows}
    assert statuses[METER_TITLE.hex().upper()] == "authenticated"
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT result, error_class FROM sessions").fetchall() == [
            ("rejected 1", "DecodeError")]


def test_listen_a_capture_file_and_standard_input(tmp_path):
    capture = tmp_path / "capture.txt"
    frames = hdlc_frames(notification(5), 32)
    capture.write_text("# a capture\n" + "\n".join(
        ":".join(f"{b:02x}" for b in frame) for frame in frames) + "\n")
    process = _listener(f"file:{capture}", "--json")
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert {(line["object"], line["value"]) for line in lines} == expected_rows(5)
    voltage = next(line for line in lines if line["object"] == "1.0.32.7.0.255")
    assert voltage["unit"] == "V" and voltage["scaled"] == pytest.approx(voltage["value"] / 10)
    assert voltage["timestamp"] == "2024-05-01T12:00:05+01:00"
    raw = b"".join(frames)
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", "-", "--json"], input=raw,
                          capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    assert done.returncode == 0
    from_stdin = [json.loads(l) for l in done.stdout.decode().splitlines()]
    assert {line["source"] for line in lines} == {f"file:{capture}"}
    assert {(line["meter"], line["source"]) for line in from_stdin} == {("-", "-")}
    where = ("meter", "source")
    assert [{k: v for k, v in line.items() if k not in where} for line in from_stdin] == \
        [{k: v for k, v in line.items() if k not in where} for line in lines]


def test_udp_datagrams(tmp_path):
    db = tmp_path / "udp.db"
    process = _listener("udp://127.0.0.1:0", "--store", str(db), "--count", "3", "--idle-timeout", "20")
    try:
        host, port = _ready_address(process).removeprefix("udp://").rsplit(":", 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for n in range(3):
                # a bare APDU per datagram, and a wrapper frame
                apdu = notification(n)
                datagram = apdu if n != 1 else b"\x00\x01\x00\x01\x00\x66" + len(apdu).to_bytes(2, "big") + apdu
                sock.sendto(datagram, (host, int(port)))
                time.sleep(0.05)
        _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err.decode()
    assert {(o, v) for _, o, v, _, _ in _rows(db)} == set().union(*(expected_rows(n) for n in range(3)))


@pytest.mark.parametrize("args, message", [
    (["tcp://localhost"], "HOST:PORT"),
    (["ftp://x"], "cannot listen"),
    (["-", "--ek", "00" * 16], "no-tag-check"),
    (["-", "--ak", "00" * 16], "--ak needs --ek"),
    (["serial:///dev/x?speed=9"], "unknown serial option"),
])
def test_usage_errors_exit_2(args, message):
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", *args], input=b"",
                          capture_output=True, env=dict(os.environ, PYTHONPATH=SRC), cwd="/",
                          timeout=TIMEOUT)
    assert done.returncode == 2
    assert message in done.stderr.decode()


def test_no_tag_check_is_loud_and_marks_readings(tmp_path):
    capture = tmp_path / "c.hex"
    context = meter_context()
    capture.write_text("".join(f.hex() for f in hdlc_frames(ciphered(notification(1), context))))
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", f"file:{capture}", "--json",
                           "--ek", EK.hex(), "--no-tag-check"],
                          capture_output=True, env=dict(os.environ, PYTHONPATH=SRC), cwd="/",
                          timeout=TIMEOUT)
    assert done.returncode == 0
    assert "WITHOUT checking" in done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert lines and not any(line["authenticated"] for line in lines)
    assert EK.hex() not in done.stderr.decode().lower() + done.stdout.decode().lower()


def test_raw_keeps_a_capture_that_replays_to_the_same_readings(tmp_path):
    capture = tmp_path / "in.hex"
    frames = [f for n in range(3) for f in hdlc_frames(notification(n), 40)]
    capture.write_text(" ".join(f.hex() for f in frames) + " 7e a0 ff 00")
    raw = tmp_path / "raw.hex"
    env = dict(os.environ, PYTHONPATH=SRC)
    first = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", f"file:{capture}", "--json",
                            "--raw", str(raw)], capture_output=True, env=env, cwd="/",
                           timeout=TIMEOUT)
    # the cut frame at the end: rejected, so the status says some push did not decode
    assert first.returncode == 3, first.stderr.decode()
    assert "rejected" in first.stderr.decode()
    kept = raw.read_text().split()
    assert kept[: len(frames)] == [f.hex().upper() for f in frames]
    again = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", f"file:{raw}", "--json"],
                           capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    assert again.returncode == 3  # the cut frame was kept too
    # the same readings; only the source (the file read) differs
    assert again.stdout.replace(b"raw.hex", b"in.hex") == first.stdout
    assert len(first.stdout.splitlines()) == 15


def test_sigterm_ends_the_run_cleanly(tmp_path):
    db = tmp_path / "term.db"
    process = _listener("tcp://127.0.0.1:0", "--store", str(db))
    try:
        host, port = _ready_address(process).removeprefix("tcp://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
            conn.sendall(b"".join(hdlc_frames(notification(1))))
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline and not (db.exists() and _rows(db)):
                time.sleep(0.05)
            process.terminate()
            _, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err.decode()
    assert {(o, v) for _, o, v, _, _ in _rows(db)} == expected_rows(1)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM runs WHERE ended IS NOT NULL").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM sessions WHERE ended IS NOT NULL").fetchone() == (1,)


def test_timezone_for_meters_without_a_deviation(tmp_path):
    apdu = bytearray(notification(2))
    apdu[15:17] = b"\x80\x00"
    capture = tmp_path / "c.hex"
    capture.write_text(bytes(apdu).hex())
    env = dict(os.environ, PYTHONPATH=SRC)
    base = [sys.executable, "-m", "dlmsfast", "listen", f"file:{capture}", "--json"]
    naive = subprocess.run(base, capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    oslo = subprocess.run(base + ["--timezone", "Europe/Oslo"], capture_output=True, env=env,
                          cwd="/", timeout=TIMEOUT)
    bad = subprocess.run(base + ["--timezone", "Mars/Olympus"], capture_output=True, env=env,
                         cwd="/", timeout=TIMEOUT)
    assert json.loads(naive.stdout.splitlines()[0])["timestamp"] == "2024-05-01T12:00:02"
    assert json.loads(oslo.stdout.splitlines()[0])["timestamp"] == "2024-05-01T12:00:02+02:00"
    assert bad.returncode == 2 and b"unknown time zone" in bad.stderr


def test_octets_that_are_no_frame_are_skipped_and_said_once(tmp_path):
    # line noise between two pushes on standard input: both pushes decode, and
    # the listener says how many octets it passed over (once, at the end)
    frames = hdlc_frames(notification(5), 32) + hdlc_frames(notification(6), 32)
    noise = bytes(range(1, 40))  # no flag octet: nothing a frame could start with
    middle = len(hdlc_frames(notification(5), 32))
    raw = b"".join(frames[:middle]) + noise + b"".join(frames[middle:])
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", "-", "--json"], input=raw,
                          capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert {(line["object"], line["value"]) for line in lines} == expected_rows(5) | expected_rows(6)
    # the 39 octets, and the flag before them: kept to open a next frame, none followed
    assert done.stderr.decode().count("skipped 40 octet(s) that were not part of a frame") == 1
    # back-to-back frames alone (their flags shared or doubled) are no noise
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", "-", "--json"],
                          input=b"".join(frames), capture_output=True, env=env, cwd="/",
                          timeout=TIMEOUT)
    assert done.returncode == 0 and done.stderr == b""


# --- real HAN captures (../shared/han): meter identity, standard input, exit status ----


def _han_entries() -> dict[str, dict]:
    """The captures of ../shared/han, read when a test needs them (the tests above
    run without them)."""
    frames = json.loads((shared_path("han") / "frames.json").read_text(encoding="utf-8"))
    return {entry["id"]: entry for entry in frames}


def _han(*ids: str) -> list[str]:
    """The captures' hex, one line each (as a capture file holds them)."""
    entries = _han_entries()
    return [entries[i]["hex"] for i in ids]


ISKRA, KAMSTRUP_PLAIN, KAMSTRUP = ("dp-iskra-3seg", "amshan-kamstrup-no-3p",
                                   "dp-kamstrup-omnipower-ciphered")


def _kamstrup_keys(ak_change: int = 0) -> list[str]:
    keys = _han_entries()[KAMSTRUP]["keys"]
    ak = bytearray(bytes.fromhex(keys["ak"]))
    ak[-1] ^= ak_change
    return ["--ek", keys["ek"], "--ak", ak.hex()]


def _listen_run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlmsfast", "listen", *args], input=stdin,
                          capture_output=True, env=dict(os.environ, PYTHONPATH=SRC), cwd="/",
                          timeout=TIMEOUT)


def test_json_lines_and_the_store_say_which_meter_pushed(tmp_path):
    # finding: with several meters on one port, --json lines had no meter identity
    capture = tmp_path / "three.hex"
    capture.write_text("\n".join(_han(ISKRA, KAMSTRUP_PLAIN, KAMSTRUP)) + "\n")
    db = tmp_path / "three.db"
    text = _listen_run(f"file:{capture}", *_kamstrup_keys())
    done = _listen_run(f"file:{capture}", "--json", "--store", str(db), *_kamstrup_keys())
    assert text.returncode == done.returncode == 0, done.stderr.decode()
    # the table's blocks: "── METER  TIME  (N readings, ...)"
    blocks = [(line.split()[1], int(line.split("(")[1].split()[0]))
              for line in text.stdout.decode().splitlines() if line.startswith("──")]
    assert len(blocks) == 3 and len({meter for meter, _ in blocks}) == 3
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    runs: list[list] = []
    for line in lines:
        if not runs or runs[-1][0] != line["meter"]:
            runs.append([line["meter"], 0])
        runs[-1][1] += 1
    assert [tuple(run) for run in runs] == blocks
    titles = {line["meter"]: line["system_title"] for line in lines}
    # the ciphered Kamstrup push carries its system title ("KAME" + serial) and is named by it
    ciphered_meter = blocks[2][0]
    assert titles[ciphered_meter] == ciphered_meter and bytes.fromhex(ciphered_meter)[:3] == b"KAM"
    assert titles[blocks[0][0]] is None and titles[blocks[1][0]] is None
    assert {line["source"] for line in lines} == {f"file:{capture}"}
    # what the Iskra pushed as its id (0.0.96.1.0.255) is its name
    iskra_id = next(line["value"] for line in lines if line["object"] == "0.0.96.1.0.255")
    assert blocks[0][0] == iskra_id
    # the store keeps each reading under its meter, as the JSON says
    with sqlite3.connect(db) as con:
        stored = dict(con.execute("SELECT meter_id, count(*) FROM readings GROUP BY meter_id"))
    assert stored == dict(blocks)


@contextlib.contextmanager
def _stdin_listener(*args: str) -> Iterator[subprocess.Popen]:
    """``listen - --json ARGS`` with a pipe as its standard input, left open."""
    process = subprocess.Popen([sys.executable, "-m", "dlmsfast", "listen", "-", "--json", *args],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=SRC),
                               cwd="/")
    try:
        yield process
    finally:
        process.stdin.close()
        if process.poll() is None:
            process.kill()
            process.communicate()


def _send(process: subprocess.Popen, data: bytes) -> None:
    process.stdin.write(data)
    process.stdin.flush()


def _line_within(process: subprocess.Popen, seconds: float) -> bytes:
    """The next line the process prints, failing (not hanging) when none comes in time."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        assert selector.select(seconds), f"nothing printed within {seconds} s"
    return process.stdout.readline()


def _ended_within(process: subprocess.Popen, seconds: float) -> tuple[bytes, bytes]:
    """What the process printed, once it has ended by itself (its input still open)."""
    process.wait(timeout=seconds)
    return process.stdout.read(), process.stderr.read()


def test_standard_input_is_decoded_as_it_arrives(tmp_path):
    # finding: listen - read all of standard input first: a pipe that stays open
    # (a serial reader, a socket tool) gave nothing, and --count never stopped it
    iskra, kamstrup = _han(ISKRA, KAMSTRUP_PLAIN)
    with _stdin_listener("--count", "2") as process:
        _send(process, iskra.encode() + b"\n")
        # the first push's readings come while standard input is still open
        first = json.loads(_line_within(process, 15))
        assert first["meter"] == first["value"] and first["object"] == "0.0.96.1.0.255"
        _send(process, kamstrup.encode() + b"\n")
        out, err = _ended_within(process, 15)  # --count 2
    assert process.returncode == 0, err.decode()
    meters = [json.loads(line)["meter"] for line in out.decode().splitlines()]
    # the rest of the first push, then the second meter's
    assert len(set(meters)) == 2 and meters[0] == first["meter"] != meters[-1]


def test_standard_input_stops_after_idle_timeout_and_as_raw_octets(tmp_path):
    iskra, = _han(ISKRA)
    for written in (iskra.encode() + b"\n", bytes.fromhex(iskra)):
        with _stdin_listener("--idle-timeout", "0.5") as process:
            _send(process, written)
            out, err = _ended_within(process, 15)
        assert process.returncode == 0, err.decode()
        lines = [json.loads(line) for line in out.decode().splitlines()]
        assert lines and lines[0]["object"] == "0.0.96.1.0.255"


def test_a_long_hex_line_on_standard_input_is_taken_in_bounded_pieces(monkeypatch):
    from dlmsfast.transport import listen as transport

    iskra, = _han(ISKRA)
    pushes = 3000  # ~2.3 MB of hex text on one line, more than the 1 MiB held back
    read_end, write_end = os.pipe()

    def write():
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(b" # a comment\n" + (" ".join([iskra] * pushes)).encode() + b"\n")

    writer = threading.Thread(target=write)
    writer.start()
    with os.fdopen(read_end, "rb") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        chunks = list(transport.listen("-", idle_timeout=TIMEOUT))
    writer.join(TIMEOUT)
    assert chunks[-1].ended and not chunks[-1].data
    octets = [chunk.data for chunk in chunks[:-1]]
    assert b"".join(octets) == bytes.fromhex(iskra) * pushes
    assert len(octets) > 1
    assert max(map(len, octets)) <= (transport._MAX_LINE + transport._READ_SIZE) // 2


def test_the_exit_status_says_whether_pushes_were_rejected(tmp_path):
    # finding: listen exited 0 even when every push failed its tag check
    kamstrup, iskra = _han(KAMSTRUP, ISKRA)
    once = tmp_path / "kam.hex"
    once.write_text(kamstrup + "\n")
    twice = tmp_path / "kam2.hex"
    twice.write_text(kamstrup + "\n" + kamstrup + "\n")
    cut = tmp_path / "cut.hex"
    # the second push's first frame changed inside (its FCS fails), the rest cut off
    broken = bytearray(bytes.fromhex(iskra))
    broken[20] ^= 0xFF
    cut.write_text(iskra + "\n" + bytes(broken[:40]).hex() + "7e\n")
    cases = [
        ([f"file:{once}", *_kamstrup_keys()], 0, None),
        ([f"file:{once}", *_kamstrup_keys(ak_change=1)], 4, "1 failed the tag check"),
        ([f"file:{once}"], 5, "no key"),
        ([f"file:{twice}", *_kamstrup_keys()], 5, "replayed"),
        ([f"file:{cut}"], 3, "1 did not decode"),
        # a failed tag outranks the rest, as in decode
        ([f"file:{twice}", *_kamstrup_keys(ak_change=1)], 4, "2 failed the tag check"),
    ]
    for args, status, said in cases:
        done = _listen_run(*args, "--json")
        err = done.stderr.decode()
        assert done.returncode == status, (args, err)
        if said is None:
            assert err == "" and done.stdout
        else:
            assert said in err and err.rstrip().endswith(f"exit status {status}")
    # standard input too, and the readings that did decode are still printed
    done = _listen_run("-", "--json", stdin=cut.read_bytes())
    assert done.returncode == 3 and len(done.stdout.splitlines()) == 16


def test_the_store_keeps_capture_times_in_utc_as_bulk_does(tmp_path):
    # finding: listen stored an instant with the meter's offset, bulk in UTC, so one
    # instant could be two keys; a local time without deviation stays as it was sent
    with_deviation = notification(5)  # 2024-05-01T12:00:05, deviation -60 (UTC+01:00)
    without = bytearray(notification(2))
    without[15:17] = b"\x80\x00"
    capture = tmp_path / "c.hex"
    capture.write_text(with_deviation.hex() + "\n" + bytes(without).hex() + "\n")
    env = dict(os.environ, PYTHONPATH=SRC)
    for zone, naive_stored in ((None, "2024-05-01T12:00:02"),
                               ("Europe/Oslo", "2024-05-01T10:00:02+00:00")):
        db = tmp_path / f"{zone is None}.db"
        done = subprocess.run(
            [sys.executable, "-m", "dlmsfast", "listen", f"file:{capture}", "--json", "--store",
             str(db), *(["--timezone", zone] if zone else [])],
            capture_output=True, env=env, cwd="/", timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr.decode()
        # the JSON lines keep what the meter said
        stamps = {json.loads(line)["timestamp"] for line in done.stdout.decode().splitlines()}
        assert "2024-05-01T12:00:05+01:00" in stamps
        assert {time for *_, time in _rows(db)} == {"2024-05-01T11:00:05+00:00", naive_stored}


@pytest.mark.parametrize("broken_at", [-2, 5], ids=["fcs", "hcs"])
def test_a_push_in_a_frame_that_fails_its_checks_is_rejected_not_delivered(tmp_path, broken_at):
    # finding: the general-glo APDU inside a frame with a bad FCS was found again
    # as a bare APDU (its tag checks) and its readings delivered, while the
    # summary said the push was rejected
    from dlmsfast.push import Notification, PushDecoder
    from dlmsfast.push.framing import PushFramer

    context = meter_context()
    [good_1], [bad], [good_2] = (hdlc_frames(ciphered(notification(n), context), 2048)
                                 for n in (1, 2, 3))
    bad = bytearray(bad)
    bad[broken_at] ^= 0x5A
    stream = good_1 + bytes(bad) + good_2
    framer = PushFramer()
    units = framer.feed(stream)
    assert [type(u).__name__ for u in units] == ["Segment", "DecodeError", "Segment"]
    assert framer.bad_frames == 1
    decoder = PushDecoder(keys={METER_TITLE: {"ek": EK, "ak": AK}})
    events = decoder.feed(stream)
    assert [type(e).__name__ for e in events] == ["Notification", "Rejected", "Notification"]
    assert [e.invocation_counter for e in events if type(e) is Notification] == [1, 3]
    assert decoder.rejected == 1
    capture = tmp_path / "bad.hex"
    capture.write_text(stream.hex() + "\n")
    done = _listen_run(f"file:{capture}", "--json", "--ek", EK.hex(), "--ak", AK.hex())
    err = done.stderr.decode()
    assert done.returncode == 3, err
    assert "1 push(es) rejected: 1 did not decode" in err
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert {(line["object"], line["value"]) for line in lines} == \
        expected_rows(1) | expected_rows(3)
