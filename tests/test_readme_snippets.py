"""Every Python snippet of README.md runs as written (in a fresh interpreter,
on the installed package) and prints what its comments say.

The one snippet that needs a meter (``Client("tcp://10.0.0.5:4059", ...)``)
runs against ``dlmsfast simulate`` on loopback: only its address and its two
keys are replaced by the simulated meter's.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE_PARENT, mypy_environment
from simfleet import SimulatorProcess

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
README_EK = "000102030405060708090A0B0C0D0E0F"
README_AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"


def run_snippet(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, cwd="/",
                            env={**os.environ, "PYTHONPATH": PACKAGE_PARENT})
    assert result.returncode == 0, f"README snippet failed:\n{code}\n{result.stderr}"
    return result.stdout


def snippet(marker: str) -> str:
    found = [code for code in SNIPPETS if marker in code]
    assert len(found) == 1, f"README has {len(found)} Python snippets with {marker!r}"
    return found[0]


def test_every_snippet_is_checked_here():
    markers = ("PushDecoder(", "axdr.decode_typed(", "HdlcStreamSplitter()",
               "SecurityContext(", "ScalerUnit(", "walk_lines(", "Client(")
    assert len(SNIPPETS) == len(markers)
    for marker in markers:
        snippet(marker)


def test_push_snippet_gives_the_readings_it_shows():
    out = run_snippet(snippet("PushDecoder("))
    assert out.splitlines() == ["1.0.1.8.0.255 1.960 Wh 2026-01-02 12:00:00+00:00",
                                "1.0.32.7.0.255 230.1 V 2026-01-02 12:00:00+00:00"]


def test_axdr_snippet():
    out = run_snippet(snippet("axdr.decode_typed("))
    assert out.splitlines() == ["Data(DataType.DOUBLE_LONG_UNSIGNED, 5009)",
                                "1907ea0102ff0c0000ffffc4ff", "01010202090101120007"]


def test_hdlc_snippet():
    run_snippet(snippet("HdlcStreamSplitter()"))


def test_security_snippet_gives_the_green_book_vector():
    out = run_snippet(snippet("SecurityContext("))
    assert out.splitlines() == [
        "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B",
        "C0010000080000010000FF0200"]


def test_cosem_snippet():
    code = snippet("ScalerUnit(")
    lines = [line.split("#")[0].strip() for line in code.splitlines()]
    expressions = [line for line in lines[2:] if line]
    out = run_snippet(code + "".join(f"\nprint(repr({e}))" for e in expressions))
    assert out.splitlines() == ["True", "Decimal('1.960')", "'Wh'"]


def test_explain_snippet():
    out = run_snippet(snippet("walk_lines("))
    assert "7D825C3BE4A77C3FCC056B6B" in out
    assert out.splitlines()[-1] == "C0010000080000010000FF0200"


def test_client_snippet_against_a_simulated_meter():
    code = snippet("Client(")
    assert "tcp://10.0.0.5:4059" in code and README_EK in code and README_AK in code
    simulator = SimulatorProcess("--meters", "1", "--auth", "hls-gmac", "--security", "authenc")
    try:
        row = simulator.meters[0]
        keys = simulator.keys[row["key_id"]]
        code = (code.replace("tcp://10.0.0.5:4059", row["url"])
                .replace(README_EK, keys["ek"]).replace(README_AK, keys["ak"]))
        assert f"client={row['client']}," in code, "the simulated meter's client differs"
        out = run_snippet(code).splitlines()
    finally:
        simulator.stop()
    assert len(out) == 2
    value, unit = out[0].split()
    assert unit == "Wh" and float(value) >= 0
    assert re.fullmatch(r"2026-01-02 00:00:00(\.\d+)?\+00:00", out[1]), out[1]



def test_snippets_type_check_strictly_as_user_code(tmp_path):
    # the package ships py.typed: a user's mypy --strict must accept the
    # README's own code (no Any leaking into their checks, no wrong hints)
    files = []
    for index, code in enumerate(SNIPPETS):
        path = tmp_path / f"readme_snippet_{index}.py"
        path.write_text(code, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), *files],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**mypy_environment(), "PYTHONPATH": PACKAGE_PARENT})
    assert result.returncode == 0, result.stdout + result.stderr
