"""``dlmsfast export``: never destroys a store (arguments swapped or equal, OUT
another SQLite file), writes OUT whole or not at all, and takes the format
from OUT's name when --format is not given; writes standard output, pipes
and FIFOs as streams without ever opening them to look; CSV in UTF-8 whatever
the locale. Real SQLite stores, the real command in a subprocess, real pipes
and FIFOs (every wait bounded by a timeout)."""
from __future__ import annotations

import csv
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PACKAGE_PARENT
from dlmsfast.bulk.store import Store, StoredReading

ENV = {**os.environ, "PYTHONPATH": PACKAGE_PARENT + os.pathsep + os.environ.get("PYTHONPATH", "")}
ROWS = 300


def make_store(path: Path) -> bytes:
    """A store of ROWS readings; returns its bytes (to compare after)."""
    with Store(path, batch_size=1 << 20) as store:
        store.add_readings(
            StoredReading(f"m-{i % 3}", "1.0.1.8.0.255", 2, f"2026-01-01T00:{i // 5:02d}:0{i % 5}",
                          i * 10, "Wh", i * 10.0, "authenticated") for i in range(ROWS))
        store.flush()
    # the WAL checkpointed into the main file: its bytes are the whole store
    return path.read_bytes()


def export(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlmsfast", "export", *arguments], env=ENV,
                          cwd=cwd, capture_output=True, text=True, timeout=60)


def test_swapped_arguments_leave_the_store_as_it_was(tmp_path):
    store = tmp_path / "readings.db"
    before = make_store(store)
    done = export("readings_out.csv", "readings.db", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no store at 'readings_out.csv'" in done.stderr
    assert store.read_bytes() == before
    # the copy of a store named as OUT: another SQLite file, never overwritten
    (tmp_path / "swap.db").write_bytes(before)
    done = export("readings.db", "swap.db", cwd=tmp_path)
    assert done.returncode == 2 and "is a SQLite database, not overwritten" in done.stderr
    assert (tmp_path / "swap.db").read_bytes() == before == store.read_bytes()


@pytest.mark.parametrize("out", ["readings.db", "./sub/../readings.db", "link.db",
                                 "{absolute}"])
def test_the_store_as_its_own_out_is_refused(tmp_path, out):
    store = tmp_path / "readings.db"
    before = make_store(store)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.db").symlink_to(store)
    done = export("readings.db", out.format(absolute=store), cwd=tmp_path)
    assert done.returncode == 2 and "is the store itself" in done.stderr, done.stderr
    assert store.read_bytes() == before


def test_a_file_that_is_no_store_is_refused_before_out_is_touched(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("what was there\n")
    (tmp_path / "notes.txt").write_text("meter_id,object\n")
    done = export("notes.txt", "out.csv", cwd=tmp_path)
    assert done.returncode == 2 and "not a dlmsfast store (not a SQLite file)" in done.stderr
    other = sqlite3.connect(tmp_path / "other.db")
    other.execute("CREATE TABLE t (a)")
    other.close()
    done = export("other.db", "out.csv", cwd=tmp_path)
    assert done.returncode == 2 and "not a dlmsfast store (no readings table)" in done.stderr
    assert out.read_text() == "what was there\n"


def test_the_format_follows_the_name_of_out_unless_given(tmp_path):
    import pyarrow.parquet as pq  # the 'parquet' extra

    make_store(tmp_path / "readings.db")
    for name in ("out.parquet", "out.PQ"):
        done = export("readings.db", name, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        table = pq.read_table(tmp_path / name).to_pylist()
        assert len(table) == ROWS and table[0]["meter_id"] == "m-0"
    done = export("readings.db", "out.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out.txt", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == ROWS
    # --format still decides when given
    done = export("readings.db", "forced.parquet", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0
    assert (tmp_path / "forced.parquet").read_text().startswith("meter_id,object,")


def test_a_failed_export_leaves_out_as_it_was_and_no_partial_file(tmp_path):
    store = tmp_path / "readings.db"
    make_store(store)
    # a row another program wrote, outside the Parquet schema (attribute is int16):
    # the export fails with the file beside OUT already open
    db = sqlite3.connect(store)
    db.execute("INSERT INTO readings VALUES ('zz', '1.0.1.8.0.255', 70000, "
               "'2026-01-01T00:00:00', 1, NULL, NULL, 'unauthenticated')")
    db.commit()
    db.close()
    out = tmp_path / "out.parquet"
    out.write_bytes(b"an earlier export")
    done = export("readings.db", "out.parquet", cwd=tmp_path)
    assert done.returncode == 2 and "does not fit the Parquet schema" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert out.read_bytes() == b"an earlier export"
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_new_out_gets_the_mode_a_plain_file_would(tmp_path):
    make_store(tmp_path / "readings.db")
    assert export("readings.db", "new.csv", cwd=tmp_path).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def rows_of(csv_text: str) -> list[dict]:
    return list(csv.DictReader(csv_text.splitlines()))


def test_standard_output_a_pipe_and_a_fifo_are_written_as_streams_never_waited_on(tmp_path):
    make_store(tmp_path / "readings.db")
    # '-': standard output (not a file named '-')
    done = export("readings.db", "-", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(rows_of(done.stdout)) == ROWS and not (tmp_path / "-").exists()
    assert "readings to standard output" in done.stderr
    # /dev/stdout as a pipe (subprocess's): never opened for reading to sniff it
    done = export("readings.db", "/dev/stdout", "--format", "csv", cwd=tmp_path)
    assert done.returncode == 0 and len(rows_of(done.stdout)) == ROWS, done.stderr
    # no name to take the format from: say so, write nothing
    for out in ("-", "/dev/stdout"):
        done = export("readings.db", out, cwd=tmp_path)
        assert done.returncode == 2 and "needs --format csv or --format parquet" in done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr
    # a FIFO, its format from its name; a reader on the other end
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    try:
        done = export("readings.db", "out.csv", cwd=tmp_path)
        received, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
    assert done.returncode == 0, done.stderr
    assert len(rows_of(received)) == ROWS and stat.S_ISFIFO(fifo.stat().st_mode)


def test_parquet_to_standard_output_reads_back(tmp_path):
    import pyarrow.parquet as pq  # the 'parquet' extra

    make_store(tmp_path / "readings.db")
    with open(tmp_path / "piped.parquet", "wb") as sink:
        done = subprocess.run([sys.executable, "-m", "dlmsfast", "export", "readings.db", "-",
                               "--format", "parquet"], env=ENV, cwd=tmp_path, stdout=sink,
                              stderr=subprocess.PIPE, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "piped.parquet").num_rows == ROWS


def test_csv_is_utf8_whatever_the_locale(tmp_path):
    store = tmp_path / "readings.db"
    with Store(store) as db:
        db.add_readings([StoredReading("zähler-€-1", "0.0.96.1.0.255", 2, "2026-01-01T00:00:00",
                                       "Ünïcødé", None, None, "unauthenticated")])
    env = {**ENV, "PYTHONUTF8": "0", "LC_ALL": "POSIX", "LANG": "POSIX"}
    for out in ("u.csv", "-"):
        done = subprocess.run([sys.executable, "-m", "dlmsfast", "export", "readings.db", out,
                               "--format", "csv"], env=env, cwd=tmp_path, capture_output=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        written = (tmp_path / "u.csv").read_bytes() if out != "-" else done.stdout
        assert "zähler-€-1".encode() in written and "Ünïcødé".encode() in written
    assert "UTF-8" in export("--help", cwd=tmp_path).stdout


def test_a_missing_output_directory_is_named_as_given(tmp_path):
    make_store(tmp_path / "readings.db")
    done = export("readings.db", "nowhere/sub/out.csv", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no directory 'nowhere/sub' to write 'nowhere/sub/out.csv' in" in done.stderr
    assert ".part" not in done.stderr


def test_csv_and_parquet_agree_and_capture_times_have_one_precision(tmp_path):
    import pyarrow.parquet as pq  # the 'parquet' extra

    store = tmp_path / "readings.db"
    # what the writers store: a meter's time to the second (or its hundredths,
    # microseconds in isoformat), a reception time to the millisecond, a local time
    times = ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01.123+00:00",
             "2026-01-01T00:00:02.120000+00:00", "2026-01-01T00:00:03"]
    values = [7, 1.5, "text", '{"scaler": 0, "unit": "Wh"}']
    with Store(store) as db:
        db.add_readings([StoredReading("m", "1.0.1.8.0.255", 2, t, v, "Wh",
                                       v if isinstance(v, (int, float)) else None, "authenticated")
                         for t, v in zip(times, values)])
    assert export("readings.db", "out.csv", cwd=tmp_path).returncode == 0
    assert export("readings.db", "out.parquet", cwd=tmp_path).returncode == 0
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        from_csv = [(r["capture_time"], r["value"]) for r in csv.DictReader(handle)]
    from_parquet = [(r["capture_time"], r["value"])
                    for r in pq.read_table(tmp_path / "out.parquet").to_pylist()]
    assert from_csv == from_parquet == [
        ("2026-01-01T00:00:00.000+00:00", "7"), ("2026-01-01T00:00:01.123+00:00", "1.5"),
        ("2026-01-01T00:00:02.120+00:00", "text"),
        ("2026-01-01T00:00:03.000", '{"scaler": 0, "unit": "Wh"}')]
