"""``dlmsfast listen`` as a separate process, for the listen tests: started with
the package under test, always ended (killed if it has not ended by itself)."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from typing import Iterator

from conftest import PACKAGE_PARENT

TIMEOUT = 60


@contextlib.contextmanager
def listening(*args: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """``(process, where)``: ``dlmsfast listen ARGS`` once it says it listens
    (``where`` is the address it gives); the process is ended on leaving."""
    process = subprocess.Popen([sys.executable, "-m", "dlmsfast", "listen", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
                               env=dict(os.environ, PYTHONPATH=PACKAGE_PARENT))
    try:
        while True:
            line = process.stderr.readline().decode()
            assert line, process.stderr.read().decode()
            if "listening on" in line:
                break
        yield process, line.rsplit(" ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
