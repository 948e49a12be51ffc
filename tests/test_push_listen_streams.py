"""``dlmsfast listen`` on byte streams cut anywhere: the real HAN captures of
../shared/han through a capture file, standard input (hex lines and raw
octets written in pieces) and a pseudo-terminal, with line noise between
frames. Every reading arrives; noise is only "skipped N octets".
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import termios
import tty
from collections import Counter
from pathlib import Path

import pytest
from conftest import PACKAGE_PARENT
from han_frames import GOOD
from listen_process import listening

from dlmsfast.push import Notification, PushDecoder, PushKeys
from dlmsfast.push.framing import PushFramer, Segment

TIMEOUT = 60
# octets a meter's line noise holds that open an APDU or a frame: a lone one must
# never take the frame after it along (finding E1)
NOISE = bytes((0xDB, 0x0F, 0x7E, 0xE6, 0xE7, 0x00, 0xC2, 0xE0, 0x55, 0xFF))


def _title(entry: dict) -> bytes:
    data = bytes.fromhex(entry["hex"])
    at = data.index(b"\xdb\x08") + 2
    return data[at : at + 8]


CIPHERED = [e for e in GOOD if e["ciphered"]]
KEYS = {_title(e): PushKeys(ek=bytes.fromhex(e["keys"]["ek"]),
                            ak=bytes.fromhex(e["keys"]["ak"]) if e["keys"]["ak"] else None)
        for e in CIPHERED}
FRAMED = [e for e in GOOD if e["transport"] != "raw-apdu"]


def _keys_file(tmp_path: Path) -> list[str]:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({title.hex(): {"ek": k.ek.hex(), **({"ak": k.ak.hex()} if k.ak else {})}
                                for title, k in KEYS.items()}))
    # one capture (EVN) is published with its EK alone
    return ["--keys-file", str(path), "--no-tag-check"]


def _alone(entry: dict) -> list[tuple]:
    """The capture's readings, decoded by itself (the oracle for the streams)."""
    decoder = PushDecoder(keys=KEYS, verify_tag=False)
    data = bytes.fromhex(entry["hex"])
    events = (decoder.feed_apdu(data) if entry["transport"] == "raw-apdu"
              else decoder.feed(data) + decoder.finish())
    assert events and all(isinstance(e, Notification) for e in events), (entry["id"], events)
    return [(str(r.object), repr(r.value)) for e in events for r in e.readings]


def _units(entry: dict) -> list[bytes]:
    """The capture's link-layer units (frames) as sent."""
    units = PushFramer().feed(bytes.fromhex(entry["hex"]))
    assert units and all(type(u) is Segment for u in units)
    return [u.raw for u in units]


def _noisy_stream(entries: list[dict], rng: random.Random) -> bytes:
    stream = bytearray()
    for entry in entries:
        for unit in _units(entry):
            stream += bytes(rng.choice(NOISE) for _ in range(rng.randint(1, 5))) + unit
    return bytes(stream)


def _pieces(stream: bytes, rng: random.Random) -> list[bytes]:
    pieces, pos = [], 0
    while pos < len(stream):
        size = rng.randint(1, 17)
        pieces.append(stream[pos : pos + size])
        pos += size
    return pieces


def _readings(stdout: bytes) -> Counter:
    rows = [json.loads(line) for line in stdout.decode().splitlines()]
    return Counter((row["object"], json.dumps(row["value"])) for row in rows)


def _json_expected(entries: list[dict]) -> Counter:
    decoder = PushDecoder(keys=KEYS, verify_tag=False)
    rows: Counter = Counter()
    for entry in entries:
        data = bytes.fromhex(entry["hex"])
        events = (decoder.feed_apdu(data) if entry["transport"] == "raw-apdu"
                  else decoder.feed(data) + decoder.finish())
        for event in events:
            for reading in event.readings:
                rows[(str(reading.object), json.dumps(reading.to_json()["value"]))] += 1
    return rows


def _listen(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlmsfast", "listen", *args, "--json"],
                          input=stdin, capture_output=True, cwd="/", timeout=TIMEOUT,
                          env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))


@pytest.mark.parametrize("prefix", [b"\xdb", b"\x0f", b"\xe6\xe7\x00\x0f", b"\xc2", b"\xe0",
                                    b"\xdb\x08"])
def test_a_stray_apdu_tag_before_a_frame_does_not_swallow_it(prefix):
    # finding E1: a chunk starting with a push or ciphered tag went whole to
    # feed_apdu, the HDLC frame after it with it (0 readings, a false rejection)
    entry = next(e for e in GOOD if e["id"] == "amshan-kamstrup-no-3p")
    frame = bytes.fromhex(entry["hex"])
    decoder = PushDecoder()
    events = decoder.feed_chunk(prefix + frame) + decoder.finish()
    assert [type(e) for e in events] == [Notification]
    assert len(events[0].readings) == len(_alone(entry)) == 13
    assert decoder.framer.discarded_bytes == len(prefix)


@pytest.mark.parametrize("entry", [e for e in GOOD if e["transport"] == "raw-apdu"],
                         ids=lambda e: e["id"])
def test_a_chunk_that_is_exactly_one_bare_apdu_is_still_decoded(entry):
    decoder = PushDecoder()
    events = decoder.feed_chunk(bytes.fromhex(entry["hex"]))
    assert [type(e) for e in events] == [Notification]
    # the same APDU with one octet more is no longer exactly one APDU: a stream's noise
    decoder = PushDecoder()
    events = decoder.feed_chunk(bytes.fromhex(entry["hex"]) + b"\x7e") + decoder.finish()
    assert not any(isinstance(e, Notification) for e in events)


def test_a_capture_file_and_hex_lines_on_standard_input(tmp_path):
    rng = random.Random(7)
    capture = tmp_path / "all.hex"
    lines = []
    for entry in GOOD:
        lines.append(bytes(rng.choice(NOISE) for _ in range(rng.randint(1, 3))).hex())
        lines.append(entry["hex"])
    capture.write_text("\n".join(lines) + "\n")
    expected = _json_expected(GOOD)
    for done in (_listen(f"file:{capture}", *_keys_file(tmp_path)),
                 _listen("-", *_keys_file(tmp_path), stdin=capture.read_bytes())):
        assert done.returncode == 0, done.stderr.decode()
        assert _readings(done.stdout) == expected
        assert "rejected" not in done.stderr.decode()
        assert "skipped" in done.stderr.decode()


def test_raw_octets_in_pieces_with_noise_on_standard_input(tmp_path):
    rng = random.Random(11)
    stream = _noisy_stream(FRAMED, rng)
    script = ("import os, sys, time\n"
              "pieces = [bytes.fromhex(p) for p in sys.argv[1:]]\n"
              "for piece in pieces:\n"
              "    os.write(1, piece)\n"
              "    time.sleep(0.0005)\n")
    pieces = _pieces(stream, rng)
    writer = subprocess.Popen([sys.executable, "-c", script, *(p.hex() for p in pieces)],
                              stdout=subprocess.PIPE)
    try:
        done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", "-", "--json",
                               *_keys_file(tmp_path)], stdin=writer.stdout, capture_output=True,
                              cwd="/", timeout=TIMEOUT, env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))
    finally:
        writer.stdout.close()
        writer.wait(TIMEOUT)
    assert done.returncode == 0, done.stderr.decode()
    assert _readings(done.stdout) == _json_expected(FRAMED)
    assert "rejected" not in done.stderr.decode()


def test_a_pseudo_terminal_written_in_pieces_with_noise(tmp_path):
    import serial  # noqa: F401  (a run-time dependency: its absence must fail, not skip)

    rng = random.Random(5)
    stream = _noisy_stream(FRAMED, rng)
    master, slave = os.openpty()
    try:
        attrs = termios.tcgetattr(slave)
        attrs[4] = attrs[5] = termios.B2400
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        with listening(f"serial://{os.ttyname(slave)}?baud=2400", "--json", "--idle-timeout",
                       "2", *_keys_file(tmp_path)) as (process, _):
            for piece in _pieces(stream, rng):
                os.write(master, piece)
            out, err = process.communicate(timeout=TIMEOUT)
    finally:
        os.close(master)
        os.close(slave)
    assert process.returncode == 0, err.decode()
    assert _readings(out) == _json_expected(FRAMED)
    assert "rejected" not in err.decode() and "skipped" in err.decode()


def _raw_pty() -> tuple[int, int]:
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave


def test_reconnect_opens_a_serial_device_again_after_it_disappears(tmp_path):
    # finding E8: an unplugged adapter ended listen with exit 6; a HAN integration
    # expects the listener to outlive it. The device's stable name is a link, as
    # udev's /dev/serial/by-id names are; the adapter comes back as another pty.
    import serial  # noqa: F401  (a run-time dependency: its absence must fail, not skip)

    push = bytes.fromhex(next(e for e in GOOD if e["id"] == "amshan-kamstrup-no-3p")["hex"])
    link = tmp_path / "ttyHAN"
    first = _raw_pty()
    os.symlink(os.ttyname(first[1]), link)
    second = None
    try:
        with listening(f"serial://{link}?baud=2400", "--json", "--reconnect", "--count", "2",
                       "--idle-timeout", "20") as (process, _):
            os.write(first[0], push)
            assert json.loads(process.stdout.readline())["object"]
            for fd in first:
                os.close(fd)  # unplugged
            first = None
            said = process.stderr.readline().decode()
            assert "ConnectionLost" in said and "opening it again in 1 s" in said, said
            second = _raw_pty()
            os.symlink(os.ttyname(second[1]), tmp_path / "new")
            os.replace(tmp_path / "new", link)  # plugged in again
            while b"listening on" not in (line := process.stderr.readline()):
                assert line, "the listener ended instead of opening the device again"
            os.write(second[0], push)
            # not communicate(): with a timeout it reads the pipes' descriptors and
            # misses what readline() above already took into their buffers
            process.wait(timeout=TIMEOUT)
            out, err = process.stdout.read(), process.stderr.read()
    finally:
        for fds in (first, second):
            for fd in fds or ():
                os.close(fd)
    assert process.returncode == 0, err.decode()
    # both pushes' readings: the first line was read above, the rest came after
    readings = len(_alone(next(e for e in GOOD if e["id"] == "amshan-kamstrup-no-3p")))
    assert 1 + len(out.decode().splitlines()) == 2 * readings


def test_without_reconnect_a_lost_device_ends_with_exit_6():
    master, slave = _raw_pty()
    try:
        with listening(f"serial://{os.ttyname(slave)}?baud=2400", "--idle-timeout", "20") \
                as (process, _):
            os.close(master)
            master = -1
            _, err = process.communicate(timeout=TIMEOUT)
    finally:
        for fd in (master, slave):
            if fd >= 0:
                os.close(fd)
    assert process.returncode == 6 and b"ConnectionLost" in err


def test_reconnect_is_for_serial_ports():
    done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen", "-", "--reconnect"],
                          input=b"", capture_output=True, cwd="/", timeout=TIMEOUT,
                          env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))
    assert done.returncode == 2 and b"reconnecting is for serial ports" in done.stderr
