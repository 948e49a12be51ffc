"""``dlmsfast read`` against our own simulator on loopback: what --trace hides
(exactly an LLS password's octets) and shows (ciphered APDUs deciphered), values
as readable text and plain JSON (never a Python repr), keys files with a BOM or
mixed quotes, --json when nothing could be read, environment keys used only
when ciphering is asked for, and what --help says of exit statuses and --from."""
from __future__ import annotations

import json
import re
import socket

import pytest
from simfleet import SimulatorProcess

from dlmsfast.cli import main


def run(capsys, *argv):
    status = main(["read", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def hdlc_lls():
    fleet = SimulatorProcess("--framing", "hdlc", "--auth", "lls")
    yield fleet.meters[0]
    fleet.stop()


@pytest.fixture(scope="module")
def hls():
    fleet = SimulatorProcess("--meters", "1", "--auth", "hls-gmac", "--security", "authenc")
    yield fleet
    fleet.stop()


def _hls_argv(fleet, *more):
    row = fleet.meters[0]
    return [row["url"], "--client", row["client"], "--auth", "hls-gmac", "--security",
            "authenc", "--keys-file", str(fleet.keys_file), "--invocation-counter", "meter",
            *more]


# --- finding 3: --trace hides exactly the password's octets ------------------------------

@pytest.mark.parametrize("password", [b"\x7e", b"\x00", b"\x7e\x00\x7e"])
def test_trace_hides_only_the_aarq_password_even_when_it_looks_like_framing(
        hdlc_lls, capsys, password):
    # a wrong password: the AARQ goes out, the meter refuses it
    status, out, err = run(capsys, hdlc_lls["url"], "--framing", "hdlc", "--client", "17",
                           "--auth", "lls", "--password", "hex:" + password.hex(),
                           "--timeout", "5", "--trace", "0.0.42.0.0.255")
    assert status == 2 and out == ""
    frames = [line[3:] for line in err.splitlines() if line[:3] in (">> ", "<< ")]
    assert len(frames) >= 4  # SNRM, UA, AARQ, AARE at least
    for frame in frames:  # every flag, address and FCS as sent
        assert frame.startswith("7E") and frame.endswith("7E"), frame
    (aarq,) = [f for f in frames if "*" in f]
    n = len(password)
    assert f"AC{n + 2:02X}80{n:02X}" + "**" * n in aarq
    assert err.count("*") == 2 * n


def test_trace_hides_nothing_when_the_secret_is_never_sent(hls, capsys):
    # HLS: the secret (here a password of one 00 octet) never travels; the frames
    # are full of 00 octets, none of which may be starred
    status, out, err = run(capsys, *_hls_argv(hls, "--password", "hex:00", "--trace",
                                              "--class", "3", "1.0.1.8.0.255"))
    assert status == 0, err
    assert "*" not in err and "0000" in err


# --- finding 4: ciphered APDUs deciphered in the trace ----------------------------------

def test_trace_shows_what_each_ciphered_apdu_carries(hls, capsys):
    status, out, err = run(capsys, *_hls_argv(hls, "--trace", "--class", "3",
                                              "1.0.1.8.0.255"))
    assert status == 0 and "1.0.1.8.0.255:2" in out
    lines = err.splitlines()
    shown = [i for i, line in enumerate(lines) if line.startswith("   deciphered: ")]
    # the HLS pass (action), then our get-request and its get-response
    assert len(shown) >= 4
    for i in shown:  # under the frame that carried it
        assert "general-glo-ciphering" in lines[i - 1] or "glo-" in lines[i - 1]
    assert "apdu: get-request" in err and "apdu: get-response" in err
    assert "instance_id: 1.0.1.8.0.255" in err and "attribute_id: 2" in err
    value = out.split()[1]  # the register as read, also in the deciphered answer
    assert f"double-long-unsigned: {value}" in err or f"long64-unsigned: {value}" in err \
        or value in err
    keys = hls.keys[hls.meters[0]["key_id"]]
    for name in ("ek", "ak"):
        assert keys[name].upper() not in err.upper()


def test_a_plain_trace_function_still_sees_frames_only(hls):
    from dlmsfast.client import Client

    row = hls.meters[0]
    seen = []
    options = hls.client_options(row)
    with Client(row["url"], **options, invocation_counter="meter",
                trace=lambda direction, frame: seen.append((direction, bytes(frame)))) as c:
        c.get(3, "1.0.1.8.0.255", 2)
    assert {d for d, _ in seen} == {"in", "out"}
    assert any(f[8:9] == b"\xdb" for _, f in seen)  # ciphered, as framed


# --- finding 5: readable text and plain JSON ---------------------------------------------

@pytest.fixture(scope="module")
def local_time():
    fleet = SimulatorProcess("--meters", "1", "--local-time")
    yield fleet.meters[0]
    fleet.stop()


_REPR = re.compile(r"\b[A-Za-z_]+\([A-Za-z_]+=")  # Name(field=...


def test_text_shows_values_readably(local_time, capsys):
    status, out, err = run(capsys, local_time["url"], "0.0.1.0.0.255", "0.0.1.0.0.255:5",
                           "0.0.43.0.0.255:4", "0.0.40.0.0.255:5", "0.0.40.0.0.255:2",
                           "1.0.99.1.0.255:3", "--profile", "1.0.99.1.0.255",
                           "--from", "2026-01-01T23:00", "--to", "2026-01-01T23:15")
    assert status == 0, err
    assert not _REPR.search(out), out
    assert "0.0.1.0.0.255:2  2026-01-02T00:00:00\n" in out  # a local time: no offset
    assert "0.0.1.0.0.255:5  ****-**-** **:**:** (* not specified)\n" in out
    assert "0.0.43.0.0.255:4  (empty octet-string)\n" in out
    assert re.search(r"0\.0\.40\.0\.0\.255:5  \{conformance: [01]{24}, max_receive_pdu_size: "
                     r"\d+", out)
    assert re.search(r"0\.0\.40\.0\.0\.255:2  \d+ entries\n  \{class_id: \d+, version: \d+, "
                     r"logical_name: \d+\.\d+\.\d+\.\d+\.\d+\.\d+, ", out)
    assert "{attribute_id: 2, access_mode: read-access|write-access, access_selectors: null}" \
        in out  # the clock's time, as a bit map's names
    assert "  {class_id: 8, logical_name: 0.0.1.0.0.255, attribute_index: 2, data_index: 0}" in out
    assert "\n  2026-01-01T23:00:00 | 0 | " in out and "\n  2026-01-01T23:15:00 | 0 | " in out


def test_json_keeps_local_times_and_structures_plain(local_time, capsys):
    status, out, err = run(capsys, local_time["url"], "0.0.1.0.0.255", "0.0.40.0.0.255:5",
                           "--profile", "1.0.99.1.0.255", "--from", "2026-01-01T23:00",
                           "--to", "2026-01-01T23:15", "--json")
    assert status == 0, err
    clock, context, profile = json.loads(out)["results"]
    assert clock["value"] == "2026-01-02T00:00:00"  # README: a local time, no offset
    assert re.fullmatch("[01]{24}", context["value"]["conformance"])
    assert context["value"]["cyphering_info"] == ""
    assert [row[0] for row in profile["rows"]] == ["2026-01-01T23:00:00", "2026-01-01T23:15:00"]


def test_short_name_local_time_clock_is_iso_too(capsys):
    fleet = SimulatorProcess("--meters", "1", "--local-time", "--referencing", "sn")
    try:
        row = fleet.meters[0]
        status, out, err = run(capsys, row["url"], "--referencing", "sn", "0.0.1.0.0.255")
    finally:
        fleet.stop()
    assert status == 0, err
    assert out == "0.0.1.0.0.255:2  2026-01-02T00:00:00\n"


# --- finding 7: keys files as bulk and the README take them -----------------------------

@pytest.mark.parametrize("layout", ["tables", "flat-mixed-quotes"])
def test_keys_file_with_a_bom_and_optional_quotes(hls, capsys, tmp_path, layout):
    key_id = hls.meters[0]["key_id"]
    keys = hls.keys[key_id]
    if layout == "tables":
        text = f'["{key_id}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in keys.items())
    else:
        text = (f"ek = {keys['ek']}\nak = \"{keys['ak']}\"\n"
                f"system_title = '{keys['system_title']}'\n")
    path = tmp_path / "keys.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    argv = _hls_argv(hls, "--class", "3", "1.0.1.8.0.255")
    argv[argv.index("--keys-file") + 1] = str(path)
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert "1.0.1.8.0.255:2" in out


# --- finding 9: --json when nothing could be read; --help on exit statuses ------------------

def test_json_when_no_association_names_each_object(capsys):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there: refused
    url = f"tcp://127.0.0.1:{port}"
    status, out, err = run(capsys, url, "1.0.1.8.0.255", "0.0.1.0.0.255:2", "--profile",
                           "1.0.99.1.0.255", "--objects", "--json", "--timeout", "2")
    assert status == 2
    doc = json.loads(out)
    assert doc["meter"] == url and doc["exit_status"] == 2
    assert "no association" in doc["error"] and "refused" in doc["error"]
    assert [(r["object"], r["attribute"]) for r in doc["results"]] == [
        ("0.0.40.0.0.255", 2), ("1.0.1.8.0.255", 2), ("0.0.1.0.0.255", 2),
        ("1.0.99.1.0.255", 2)]
    assert all(r["error"] == doc["error"] for r in doc["results"])
    assert err.count("\n") == 1


def test_json_names_each_object_when_the_object_list_fails(capsys):
    fleet = SimulatorProcess("--meters", "1", "--faults", "exception-response:100%")
    try:
        status, out, err = run(capsys, fleet.meters[0]["url"], "1.0.1.8.0.255",
                               "0.0.1.0.0.255", "--json")
    finally:
        fleet.stop()
    assert status == 1
    results = json.loads(out)["results"]
    assert [r["object"] for r in results] == ["1.0.1.8.0.255", "0.0.1.0.0.255"]
    assert all("exception-response" in r["error"] for r in results)


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_says_which_commands_use_which_exit_statuses(capsys):
    top = _help(capsys)
    assert "read uses only 0 all read, 1 some object failed, 2 usage or no association" in top
    assert "Statuses 3-6 are decode's" in top
    read = _help(capsys, "read")
    assert "read uses no other status" in read and "exit_status" in read


# --- finding 14: environment keys only when ciphering is asked for ---------------------------

@pytest.mark.parametrize("environment", [
    {"DLMSFAST_EK": "00" * 16},                           # a leftover half pair
    {"DLMSFAST_EK": "00" * 16, "DLMSFAST_AK": "11" * 16},  # a whole pair
    {"DLMSFAST_EK": "not hex"},                           # not even a key
])
def test_environment_keys_do_not_affect_a_plain_read(hls, capsys, monkeypatch, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    status, out, err = run(capsys, hls.meters[0]["url"], "--trace", "0.0.42.0.0.255")
    assert status == 0, err
    assert "0.0.42.0.0.255:2" in out and "glo-" not in err


def test_help_says_when_environment_keys_are_read(capsys):
    read = _help(capsys, "read")
    assert "DLMSFAST_EK, which is read only with --security auth/enc/authenc or --auth " \
           "hls-gmac, and ignored otherwise" in read


# --- the gap: --from/--to without an offset ---------------------------------------------------

def test_help_says_from_without_an_offset_is_utc(capsys):
    read = _help(capsys, "read")
    assert "without an offset or Z is taken as UTC" in read
