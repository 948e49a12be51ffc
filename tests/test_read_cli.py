"""``dlmsfast read`` against the gurux meter: options, --json shape, exit codes
0/1/2, one line per error and never a traceback, keys never echoed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import PACKAGE_PARENT

from dlmsfast.cli import main

from interop import AK, EK, GuruxMeter

SRC = PACKAGE_PARENT  # the dlmsfast under test (src/ or site-packages)
HLS = ["--client", "1", "--auth", "hls-gmac", "--security", "authenc"]


@pytest.fixture(scope="module")
def meter():
    m = GuruxMeter("--wrapper", "--auth", "all", "--security", "any", "--deterministic")
    yield m
    m.stop()


def run(capsys, *argv):
    status = main(["read", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_shape_and_partial_failure(meter, capsys):
    status, out, err = run(capsys, meter.url, "1.0.1.8.0.255", "--json", "0.0.1.0.0.255",
                           "0.0.42.0.0.255:2", "1-0:32.7.0*255", "9.9.9.9.9.9")
    assert status == 1
    doc = json.loads(out)
    assert doc["meter"] == meter.url
    energy, clock, name, voltage, missing = doc["results"]
    assert energy == {"object": "1.0.1.8.0.255", "attribute": 2, "class_id": 3, "value": 1960,
                      "scaler": -3, "unit": "Wh", "scaled": 1.96}
    assert clock == {"object": "0.0.1.0.0.255", "attribute": 2, "class_id": 8,
                     "value": "2026-01-02T00:00:00+00:00"}
    assert name["value"] == b"MMM0000012345678".hex().upper() and name["class_id"] == 1
    assert (voltage["object"], voltage["scaled"], voltage["unit"]) == ("1.0.32.7.0.255", 230.1, "V")
    assert missing["object"] == "9.9.9.9.9.9" and "ObjectUndefined" in missing["error"]
    assert err.count("\n") == 1 and "9.9.9.9.9.9" in err


def test_profile_range_as_json(meter, capsys):
    status, out, _ = run(capsys, meter.url, "--profile", "1.0.99.1.0.255", "--from",
                         "2026-01-01T01:00:00+00:00", "--to", "2026-01-01T01:30", "--json")
    assert status == 0
    (profile,) = json.loads(out)["results"]
    assert [(c["class_id"], c["object"], c["attribute"]) for c in profile["columns"]] == [
        (8, "0.0.1.0.0.255", 2), (1, "0.0.96.10.1.255", 2), (3, "1.0.1.8.0.255", 2),
        (3, "1.0.2.8.0.255", 2)]
    assert profile["columns"][2]["unit"] == "Wh"
    assert profile["rows"] == [["2026-01-01T01:00:00+00:00", 0, 1.04, 0.52],
                               ["2026-01-01T01:15:00+00:00", 0, 1.05, 0.525],
                               ["2026-01-01T01:30:00+00:00", 0, 1.06, 0.53]]


def test_keys_from_the_environment_never_echoed(meter, capsys, monkeypatch):
    monkeypatch.setenv("DLMSFAST_EK", EK.hex())
    monkeypatch.setenv("DLMSFAST_AK", AK.hex())
    status, out, err = run(capsys, meter.url, *HLS, "--trace", "1.0.2.8.0.255")
    assert status == 0
    assert "1.0.2.8.0.255:2  0.980 Wh" in out
    assert "glo-" in err or "general-glo" in err  # the trace decodes the frames
    for text in (out, err):
        assert EK.hex().upper() not in text.upper() and AK.hex().upper() not in text.upper()


def test_keys_file_and_object_list(meter, capsys, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# the meter's keys\nek = {EK.hex()}\nak = {AK.hex()}\n")
    status, out, _ = run(capsys, meter.url, *HLS, "--keys-file", str(keys), "--objects")
    assert status == 0
    assert "1.0.99.1.0.255  class 7" in out and "0.0.40.0.0.255  class 15" in out


@pytest.mark.parametrize("argv, message", [
    (["--client", "17", "--auth", "lls", "--password", "wrong"], "AuthenticationFailed"),
    (["--server", "7", "--timeout", "0.3"], "try --probe-addresses"),
    (HLS + ["--ek", "00" * 16, "--ak", AK.hex()], "TagError"),
])
def test_no_association_is_one_line_and_status_2(meter, capsys, argv, message):
    status, out, err = run(capsys, meter.url, *argv, "0.0.1.0.0.255")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "no association" in err


def test_probe_addresses_finds_the_server(meter, capsys):
    status, out, err = run(capsys, meter.url, "--server", "7", "--timeout", "0.3",
                           "--probe-addresses", "0.0.42.0.0.255")
    assert status == 0 and "MMM0000012345678" in out
    assert "client 16, server 7: TimeoutError" in err and "client 16, server 1: associated" in err


@pytest.mark.parametrize("argv", [
    ["tcp://127.0.0.1:1"],                                  # nothing to read
    ["http://meter:80", "1.0.1.8.0.255"],                   # not a meter URL
    ["tcp://127.0.0.1:1", "1.0.1.8.0.2555"],                # not an OBIS code
    ["tcp://127.0.0.1:1", "--security", "authenc", "1.0.1.8.0.255"],  # no keys
    ["tcp://127.0.0.1:1", "--from", "2026-01-01", "1.0.1.8.0.255"],   # --from without --profile
])
def test_usage_errors(capsys, argv, monkeypatch):
    monkeypatch.delenv("DLMSFAST_EK", raising=False)
    monkeypatch.delenv("DLMSFAST_AK", raising=False)
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1


def test_a_real_process_prints_no_traceback(meter):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-m", "dlmsfast", "read", f"tcp://127.0.0.1:{meter.port}",
         "--server", "9", "--timeout", "0.2", "1.0.1.8.0.255"],
        capture_output=True, text=True, env=env, timeout=30, cwd="/")
    assert done.returncode == 2 and done.stdout == ""
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


@pytest.mark.parametrize("frame, line", [
    ("7EA01F0223219321E081801205012006012007040000000108040000000145277E", "HDLC SNRM 16->1/17"),
    ("7EA82A022321106F85E6E600601DA109060760857405080101BE10040E01000000065F1F0400401EDFCC667E",
     "HDLC I 16->1/17 N(S)=0 N(R)=0 segmented AARQ"),
    ("000100100001000DC001C100010909090909090200", "wrapper 16->1 get-request"),
    ("7EA01F0223219321E0818012050120060120070400000001080400000001452700", "undecodable frame"),
])
def test_trace_lines(frame, line):
    from dlmsfast.cli.read import describe_frame

    assert describe_frame(bytes.fromhex(frame)).startswith(line)


def test_trace_hides_the_password_and_names_later_segments(capsys):
    # HDLC with 128-octet information fields: the object list (read for the class)
    # comes in several segments; only the first carries the LLC header and an APDU tag
    hdlc = GuruxMeter("--hdlc", "--auth", "low", "--deterministic")
    try:
        status, out, err = run(capsys, hdlc.url, "--framing", "hdlc", "--client", "17",
                               "--auth", "lls", "--password", "12345678", "--trace",
                               "1.0.2.8.0.255")
    finally:
        hdlc.stop()
    assert status == 0 and "0.980 Wh" in out
    assert b"12345678".hex().upper() not in err and "AC0A8008" + "**" * 8 in err
    inbound = [line.strip() for line in err.splitlines() if line.startswith("   HDLC I 1->17")]
    continued = [line for line in inbound if line.endswith("(continues the APDU)")]
    assert len(continued) >= 2
    previous_segmented = False
    for line in inbound:
        assert line.endswith("(continues the APDU)") == previous_segmented, line
        previous_segmented = " segmented" in line
    assert not any(kind in line for line in inbound
                   for kind in ("data-notification", "opaque", "initiateRequest"))


def test_a_short_name_meters_object_list_names_the_base_names(capsys):
    from simfleet import SimulatorProcess

    fleet = SimulatorProcess("--meters", "1", "--referencing", "sn")
    try:
        url = fleet.meters[0]["url"]
        status, out, _ = run(capsys, url, "--referencing", "sn", "--objects", "--json")
        text_status, text, _ = run(capsys, url, "--referencing", "sn", "--objects")
    finally:
        fleet.stop()
    assert status == text_status == 0
    listed = {o["object"]: o for o in json.loads(out)["objects"]}
    assert listed["0.0.40.0.0.255"]["base_name"] == 0xFA00 and listed["0.0.40.0.0.255"]["class_id"] == 12
    assert listed["0.0.1.0.0.255"]["base_name"] == 0x0100
    assert "0.0.40.0.0.255  class 12 version 2  base name 0xFA00" in text.splitlines()
