"""The package as a user meets it: `python -m dlmsfast`, one version, the extras."""
from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import dlmsfast

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def _run_module(*argv: str) -> subprocess.CompletedProcess:
    # cwd=/ so that the package comes from the installation (or PYTHONPATH), never
    # from a folder that happens to be the current directory
    return subprocess.run([sys.executable, "-m", "dlmsfast", *argv], capture_output=True,
                          text=True, timeout=60, cwd="/")


def test_python_m_dlmsfast_runs_the_command_line():
    done = _run_module("decode", "--json", "0600001391")
    assert done.returncode == 0, done.stderr
    assert '"double-long-unsigned"' in done.stdout and "5009" in done.stdout
    done = _run_module("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"dlmsfast {dlmsfast.__version__}")


def test_python_m_dlmsfast_reports_bad_input_in_one_line():
    done = _run_module("decode", "06000013")
    assert done.returncode == 3  # malformed input (dlmsfast.cli: 2 is a usage mistake)
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1


def test_one_version_source():
    # pyproject takes the version from __init__.py (read without importing it)
    assert re.search(r'^dynamic = \["version"\]$', PYPROJECT, re.M)
    assert re.search(r'^version = \{attr = "dlmsfast.__version__"\}$', PYPROJECT, re.M)
    assert not re.search(r'^version = "', PYPROJECT, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", dlmsfast.__version__)
    assert metadata.version("dlmsfast") == dlmsfast.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{dlmsfast.__version__}]" in changelog


def test_pyserial_is_an_extra_not_a_dependency():
    # read from pyproject (the installed metadata may be an older install's)
    dependencies = re.search(r"^dependencies = \[(.*?)\]$", PYPROJECT, re.M | re.S)
    serial = re.search(r"^serial = \[(.*?)\]$", PYPROJECT, re.M | re.S)
    assert dependencies and "pyserial" not in dependencies.group(1)
    assert serial and "pyserial" in serial.group(1)
    # and nothing imports it at import time
    done = subprocess.run([sys.executable, "-c", "import sys, dlmsfast.cli, dlmsfast.explain; "
                           "print('serial' in sys.modules)"], capture_output=True, text=True,
                          timeout=60, cwd="/")
    assert done.stdout.strip() == "False", done.stderr
