"""``dlmsfast simulate`` as a subprocess for the tests: started with
``--base-port 0 --write-meters --write-keys --ready-file`` in a temporary
folder, its meters and keys read back from the files it wrote (the files
``dlmsfast bulk`` reads), stopped with SIGTERM."""
from __future__ import annotations

import csv
import datetime as _dt
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

FIXED_TIME = _dt.datetime(2026, 1, 2, 0, 0, tzinfo=_dt.timezone.utc)


class SimulatorProcess:
    """One ``dlmsfast simulate`` process; ``meters`` are the rows of its meters.csv,
    ``keys`` its keys.toml; ``stop()`` ends it and returns its final line."""

    def __init__(self, *options: str, fixed_time: _dt.datetime | None = FIXED_TIME,
                 duration: float = 300.0) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="dlmsfast-sim-")
        folder = Path(self._dir.name)
        self.ready = folder / "ready"
        self.meters_file = folder / "meters.csv"
        self.keys_file = folder / "keys.toml"
        command = [sys.executable, "-m", "dlmsfast", "simulate", "--base-port", "0",
                   "--write-meters", str(self.meters_file), "--write-keys", str(self.keys_file),
                   "--ready-file", str(self.ready), "--duration", str(duration), *options]
        if fixed_time is not None:
            command += ["--fixed-time", fixed_time.isoformat()]
        self.log = open(folder / "log", "w+b")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + 20
        while not self.ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.stop()
                raise RuntimeError(f"dlmsfast simulate {options} did not start: {output}")
            time.sleep(0.02)
        with self.meters_file.open(newline="") as handle:
            self.meters = list(csv.DictReader(handle))
        with self.keys_file.open("rb") as handle:
            self.keys = tomllib.load(handle)

    def client_options(self, row: dict) -> dict:
        """AsyncClient/Client options for a row of meters.csv (with its keys)."""
        options = {"framing": row["framing"], "client": int(row["client"]),
                   "server": int(row["server"]), "auth": row["auth"],
                   "security": row["security"], "referencing": row.get("referencing") or "ln"}
        keys = self.keys.get(row["key_id"]) if row["key_id"] else None
        if keys:
            if row["auth"] == "lls":
                options["password"] = keys["password"]
            if row["security"] != "none" or row["auth"] == "hls-gmac":
                options.update(ek=keys["ek"], ak=keys["ak"], system_title=keys["system_title"])
        return options

    def stop(self) -> str:
        """SIGTERM, then the process's stdout and stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        out = self.process.stdout.read().decode(errors="replace")
        self.process.stdout.close()
        self.log.flush()
        self.log.seek(0)
        err = self.log.read().decode(errors="replace")
        self.log.close()
        self._dir.cleanup()
        return out + err
