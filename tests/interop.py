"""Starting ../shared/interop/gurux_meter.py (a meter driven by gurux-dlms's own
server classes) as a subprocess on loopback, for the interoperability tests and
the client benchmark. The meter is test tooling under ../shared: it is run from
there, never copied."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
LLS_PASSWORD = "12345678"
# client SAP and authentication of the meter's three associations
ASSOCIATIONS = {"none": (16, "none"), "lls": (17, "lls"), "hls-gmac": (1, "hls-gmac")}


def shared_dir() -> Optional[Path]:
    """../shared beside the project root (a worktree sits one level deeper)."""
    override = os.environ.get("DLMSFAST_SHARED")
    candidates = [Path(override)] if override else []
    candidates += [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
    for candidate in candidates:
        if (candidate / "interop" / "gurux_meter.py").is_file():
            return candidate
    return None


def meter_script() -> Path:
    """The gurux meter's path; skip (FAIL under CI) when ../shared is absent."""
    import conftest

    helper = getattr(conftest, "shared_path", None)
    if helper is not None:  # the suite's one rule for ../shared, where it exists
        return helper("interop") / "gurux_meter.py"
    shared = shared_dir()
    if shared is None:
        message = "../shared/interop/gurux_meter.py not found (clone without ../shared)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return shared / "interop" / "gurux_meter.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GuruxMeter:
    """One gurux_meter.py process on a free loopback port; ``stop()`` kills it."""

    def __init__(self, *options: str, duration: float = 300.0) -> None:
        script = meter_script()
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="gurux-meter-")
        ready = Path(self._dir.name) / "ready"
        self.options = options
        self.log = open(Path(self._dir.name) / "log", "w+b")
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--port", str(self.port), "--ready-file", str(ready),
             "--duration", str(duration), *options],
            cwd=script.parent, stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + 20
        while not (ready.exists() and ready.read_text().startswith("ready")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.stderr()  # before stop(), which closes the log
                self.stop()
                raise RuntimeError(f"gurux meter {options} did not start: {log}")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def stderr(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()
        self._dir.cleanup()


def client_options(auth: str, security: str) -> dict:
    """AsyncClient/Client options for one of the meter's associations."""
    client, mechanism = ASSOCIATIONS[auth]
    options = {"client": client, "auth": mechanism, "security": security}
    if auth == "lls":
        options["password"] = LLS_PASSWORD
    if security != "none" or auth == "hls-gmac":
        options.update(ek=EK, ak=AK, system_title=bytes.fromhex("4D4D4D0000000001"))
    return options
