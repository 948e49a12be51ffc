"""`dlmsfast decode` / `dlmsfast encrypt` against the published vectors.

The CLI is run in-process through ``main(argv)`` for speed, and once through the
installed console script to prove the entry point works.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import VECTORS_DIR

from dlmsfast.cli import main

INFORMATIONAL = ("interpreted_as", "fields")


def _records(name: str) -> list:
    path = VECTORS_DIR / f"{name}.json"
    if not path.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"vectors absent: {path}"))]
    return [pytest.param(r, id=r["name"][:60]) for r in json.loads(path.read_text("utf-8"))]


def _strip_informational(node):
    if isinstance(node, dict):
        return {k: _strip_informational(v) for k, v in node.items() if k not in INFORMATIONAL}
    if isinstance(node, list):
        return [_strip_informational(v) for v in node]
    return node


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("record", _records("axdr"))
def test_decode_json_axdr_is_the_vector_node_schema(capsys, record):
    status, out, err = run(capsys, "decode", "--json", "--as", "axdr", record["hex"])
    assert status == 0, err
    assert _strip_informational(json.loads(out)) == _strip_informational(record["meaning"])


@pytest.mark.parametrize("record", _records("axdr"))
def test_decode_axdr_detected_without_as(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    # A few A-XDR values are also valid APDUs (tag 0x01 array vs InitiateRequest):
    # detection must then still give a consistent reading, never an error.
    if "type" in decoded:
        assert _strip_informational(decoded) == _strip_informational(record["meaning"])


def _positive(name: str) -> list:
    return [p for p in _records(name) if p.values[0] is None or not p.values[0]["name"].startswith("NEGATIVE")]


def _negative(name: str) -> list:
    return [p for p in _records(name) if p.values[0] is None or p.values[0]["name"].startswith("NEGATIVE")]


@pytest.mark.parametrize("record", _positive("hdlc"))
def test_decode_json_hdlc_frame_fields(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    for key, value in record["meaning"].items():
        assert decoded[key] == value, key


@pytest.mark.parametrize("record", _positive("wrapper"))
def test_decode_json_wrapper_fields(capsys, record):
    status, out, err = run(capsys, "decode", "--json", record["hex"])
    assert status == 0, err
    decoded = json.loads(out)
    for key, value in record["meaning"].items():
        assert decoded[key] == value, key


@pytest.mark.parametrize("record", _negative("hdlc") + _negative("wrapper"))
def test_decode_negative_frames_exit_2_with_offset(capsys, record):
    kind = "hdlc" if record["hex"].startswith("7E") else "wrapper"
    status, out, err = run(capsys, "decode", "--as", kind, record["hex"])
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "offset" in err


@pytest.mark.parametrize(
    "text, fragment",
    [("0G", "not hex"), ("060000", "offset"), ("ABC", "odd number"), ("", "empty")],
)
def test_decode_bad_input_one_line(capsys, text, fragment):
    status, out, err = run(capsys, "decode", text)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert fragment in err


def test_decode_text_tree_is_readable(capsys):
    status, out, _ = run(capsys, "decode", "020209060000010000FF06000000FF")
    assert status == 0
    assert out.splitlines() == [
        "axdr",
        "  structure (2)",
        "    [0] octet-string: 0000010000FF  (obis 0.0.1.0.0.255)",
        "    [1] double-long-unsigned: 255",
    ] or out.splitlines() == [
        "axdr",
        "  structure (2)",
        "    [0] octet-string: 0000010000FF",
        "    [1] double-long-unsigned: 255",
    ]


def test_decode_reads_stdin(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("06 00 00 13 91\n"))
    status, out, _ = run(capsys, "decode", "--json", "-")
    assert status == 0
    assert json.loads(out) == {"type": "double-long-unsigned", "value": 5009}


def test_console_script_installed():
    exe = shutil.which("dlmsfast")
    if exe is None:
        pytest.fail("the dlmsfast console script is not on PATH: the package is not installed")
    done = subprocess.run(
        [exe, "decode", "--json", "7EA00A00020023219318717E"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["control"]["frame"] == "SNRM"
    bad = subprocess.run([exe, "decode", "7EA00A00020023219318727E"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "FCS" in bad.stderr or "fcs" in bad.stderr
