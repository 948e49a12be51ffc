"""The layer map of DESIGN.md holds: imports go down only, and the codec layers
are usable alone (checked in fresh interpreters, so nothing else is loaded)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contract_is_kept():
    # lint-imports reads [tool.importlinter] in pyproject.toml; a new upward
    # import (say, security importing apdu) breaks the contract and this test.
    done = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("dlmsfast.security", ("dlmsfast.apdu", "dlmsfast.cosem", "dlmsfast.explain")),
        # `import dlmsfast` loads the three compiled modules (a broken build fails
        # there), so security, axdr and hdlc are always present; nothing above them.
        ("dlmsfast.axdr", ("dlmsfast.apdu", "dlmsfast.cosem", "dlmsfast.explain")),
        ("dlmsfast.hdlc", ("dlmsfast.apdu", "dlmsfast.cosem", "dlmsfast.explain")),
        ("dlmsfast.cosem", ("dlmsfast.apdu", "dlmsfast.explain")),
    ],
)
def test_codec_layer_loads_nothing_above_it(package, forbidden):
    code = f"import sys, {package}; print(sorted(m for m in sys.modules if m.startswith('dlmsfast.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    loaded = done.stdout
    for name in forbidden:
        assert f"'{name}" not in loaded, f"import {package} loaded {name}: {loaded}"
