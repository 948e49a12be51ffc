"""``dlmsfast export``: never destroys a store (arguments swapped or equal, OUT
another SQLite file), writes OUT whole or not at all, and takes the format
from OUT's name when --format is not given. Real SQLite stores, the real
command in a subprocess."""
from __future__ import annotations

import csv
import os
import sqlite3
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
