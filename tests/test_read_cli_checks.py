"""``dlmsfast read`` against our own simulator (a ``dlmsfast simulate`` process on
loopback): the password hidden in --trace however the AARQ is cut into frames,
every argument checked before a connection is opened, the keys files that
``simulate --write-keys`` and ``bulk`` use, and key errors that name the options."""
from __future__ import annotations

import json
import socket

import pytest
from simfleet import SimulatorProcess

from dlmsfast.cli import main


def run(capsys, *argv):
    status = main(["read", *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def lls_meters():
    """One LLS meter over HDLC, one over the wrapper (client 17)."""
    hdlc = SimulatorProcess("--framing", "hdlc", "--auth", "lls")
    try:
        wrapper = SimulatorProcess("--auth", "lls")
    except BaseException:
        hdlc.stop()
        raise
    yield {"hdlc": hdlc, "wrapper": wrapper}
    hdlc.stop()
    wrapper.stop()


# --- the password in --trace ---------------------------------------------------------

def _octets(line: str) -> list[str]:
    """A printed frame as its octets ("**" where hidden)."""
    text = line[3:].strip()
    return [text[i:i + 2] for i in range(0, len(text), 2)]


def _sent_payload(err: str) -> str:
    """What the client sent, as printed: the information fields of its HDLC I-frames
    (the LLC header included) or the payloads of its wrapper frames, joined, so that
    a password cut between two frames shows as one run of octets again."""
    joined = []
    for line in err.splitlines():
        if not line.startswith(">> "):
            continue
        octets = _octets(line)
        if octets[0] == "7E":
            length = (int(octets[1], 16) & 0x07) << 8 | int(octets[2], 16)
            at = 3
            for _ in range(2):  # destination, then source address: the last octet ends in 1
                while not int(octets[at], 16) & 1:
                    at += 1
                at += 1
            control = int(octets[at], 16)
            if control & 1 == 0 and length > at + 2:  # an I-frame with information
                joined.extend(octets[at + 3:1 + length - 2])  # after the HCS, before the FCS
        else:
            joined.extend(octets[8:])  # after the wrapper header
    return "".join(joined)


def _assert_hidden(err: str, password: bytes) -> None:
    secret = password.hex().upper()
    sent = _sent_payload(err)
    assert " AARQ" in err
    assert secret not in err.upper() and secret not in sent
    if password.isascii() and password.decode().isprintable():
        assert password.decode() not in err
    # exactly the password's octets are hidden, where the AARQ's
    # calling-authentication-value [AC] carries it as a charstring [80]
    n = len(password)
    assert f"AC{n + 2:02X}80{n:02X}" + "**" * n in sent
    assert sent.count("*") == err.count("*") == 2 * n


@pytest.mark.parametrize("max_info", range(33, 42))
def test_trace_hides_the_password_cut_between_hdlc_frames(lls_meters, capsys, max_info):
    # the AARQ's first segment holds 3 octets of LLC and the APDU's first max_info - 3
    # octets: the password (APDU octets 30-37) is cut after 0..8 of its octets
    fleet = lls_meters["hdlc"]
    row = fleet.meters[0]
    password = fleet.keys[row["key_id"]]["password"].encode()
    status, out, err = run(capsys, row["url"], "--framing", "hdlc", "--hdlc-max-info",
                           str(max_info), "--client", "17", "--auth", "lls", "--password",
                           password.decode(), "--class", "3", "--trace", "1.0.1.8.0.255")
    assert status == 0 and "1.0.1.8.0.255:2" in out
    assert "(continues the APDU)" in err
    _assert_hidden(err, password)


@pytest.mark.parametrize("password", [
    b"pw-of-twenty-octets!",                     # cut once, at another octet
    bytes(range(0xA0, 0xA0 + 44)),              # longer than an information field: 3 frames
    b"\x7e\x7e\xe6\xe6\x00\x60\xac\x0a\x80\x08",  # flags, LLC and AARQ tags inside
])
@pytest.mark.parametrize("max_info", [32, 37])
@pytest.mark.parametrize("ciphered", [False, True])
def test_trace_hides_any_password_at_any_cut(lls_meters, capsys, password, max_info, ciphered):
    # a wrong password: the meter refuses the association, the AARQ has gone out;
    # ciphered, the AARQ carries our system title first and the password further on
    row = lls_meters["hdlc"].meters[0]
    keys = ["--security", "authenc", "--ek", "00" * 16, "--ak", "11" * 16] if ciphered else []
    status, out, err = run(capsys, row["url"], "--framing", "hdlc", "--hdlc-max-info",
                           str(max_info), "--client", "17", "--auth", "lls", "--password",
                           "hex:" + password.hex(), "--timeout", "5", "--trace",
                           *keys, "1.0.1.8.0.255")
    assert ("A60A0408" + b"DLMSFAST".hex().upper() in _sent_payload(err)) == ciphered
    assert status == 2 and out == "" and "no association" in err
    _assert_hidden(err, password)


@pytest.mark.parametrize("password", [None, b"12345678", b"a much longer wrong password"])
def test_trace_hides_the_password_over_the_wrapper(lls_meters, capsys, password):
    fleet = lls_meters["wrapper"]
    row = fleet.meters[0]
    right = fleet.keys[row["key_id"]]["password"].encode()
    status, out, err = run(capsys, row["url"], "--client", "17", "--auth", "lls",
                           "--password", (password or right).decode(), "--class", "3",
                           "--trace", "1.0.1.8.0.255")
    assert status == (0 if password is None else 2)
    _assert_hidden(err, password or right)


# --- arguments checked before any connection ---------------------------------------------

@pytest.fixture
def silent_port():
    """A port that listens and never answers: a connection would wait there."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    yield listener
    listener.close()


def _assert_not_connected(listener: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        peer, _ = listener.accept()
        peer.close()


@pytest.mark.parametrize("argv, named", [
    (["1.0.1.8.0.255", "1.0.1.8.0.25x"], "1.0.1.8.0.25x"),
    (["1.0.1.8.0.255:300"], "1.0.1.8.0.255:300"),
    (["1.0.1.8.0.255:-1"], "1.0.1.8.0.255:-1"),
    (["--class", "-1", "1.0.1.8.0.255"], "--class"),
    (["--class", "70000", "1.0.1.8.0.255"], "--class"),
    (["--profile", "1.0.99.1"], "--profile"),
    (["--profile", "1.0.99.1.0.255", "--from", "2026-13-01"], "--from"),
    (["--profile", "1.0.99.1.0.255", "--from", "2026-01-02", "--to", "2026-01-01"], "--to"),
])
@pytest.mark.parametrize("where", ["silent", "closed"])
def test_a_bad_argument_is_a_usage_error_before_connecting(capsys, silent_port, argv, named,
                                                           where):
    port = silent_port.getsockname()[1]
    if where == "closed":
        with socket.socket() as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    status, out, err = run(capsys, f"tcp://127.0.0.1:{port}", "--json", "--timeout", "5",
                           *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and named in err, err
    assert "no association" not in err and "Timeout" not in err and "refused" not in err
    _assert_not_connected(silent_port)


# --- keys files ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hls_meters():
    """Two HLS-GMAC meters with authenticated encryption, each with its own keys."""
    fleet = SimulatorProcess("--meters", "2", "--auth", "hls-gmac", "--security", "authenc")
    yield fleet
    fleet.stop()


HLS = ["--client", "1", "--auth", "hls-gmac", "--security", "authenc", "--class", "3",
       "--invocation-counter", "meter",  # IDIS: each association goes on from the last
       "1.0.1.8.0.255", "--json"]


def _table(name: str, keys: dict) -> str:
    return f'["{name}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in keys.items())


def test_the_keys_file_of_simulate_is_read(hls_meters, capsys, tmp_path):
    # simulate --write-keys writes one table per key id; a file of one table needs
    # no choosing
    row = hls_meters.meters[0]
    keys = tmp_path / "one.toml"
    keys.write_text("# written by hand\n" + _table(row["key_id"], hls_meters.keys[row["key_id"]]))
    status, out, err = run(capsys, row["url"], *HLS, "--keys-file", str(keys))
    assert status == 0, err
    assert json.loads(out)["results"][0]["object"] == "1.0.1.8.0.255"


def test_a_keys_file_of_many_tables_needs_key_id(hls_meters, capsys, silent_port):
    both = str(hls_meters.keys_file)
    for n, row in enumerate(hls_meters.meters):
        status, out, err = run(capsys, row["url"], *HLS, "--keys-file", both,
                               "--key-id", row["key_id"])
        assert status == 0, err
        assert "error" not in json.loads(out)["results"][0]
    status, out, err = run(capsys, f"tcp://127.0.0.1:{silent_port.getsockname()[1]}", *HLS,
                           "--keys-file", both)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "--key-id" in err and "sim-00000" in err and "sim-00001" in err
    status, _, err = run(capsys, hls_meters.meters[0]["url"], *HLS, "--keys-file", both,
                         "--key-id", "sim-99999")
    assert status == 2 and err.count("\n") == 1 and "sim-99999" in err and "sim-00001" in err
    _assert_not_connected(silent_port)
    for text in (out, err):
        for keys in hls_meters.keys.values():
            assert keys["ek"] not in text.upper() and keys["ak"] not in text.upper()


@pytest.mark.parametrize("quote", ['"', "'", ""])
def test_flat_keys_files_quoted_or_not(hls_meters, capsys, tmp_path, quote):
    row = hls_meters.meters[1]
    keys = hls_meters.keys[row["key_id"]]
    path = tmp_path / "flat.toml"
    path.write_text("# the meter's keys\n" + "".join(
        f"{name} = {quote}{keys[name]}{quote}\n" for name in ("ek", "ak", "system_title")))
    status, out, err = run(capsys, row["url"], *HLS, "--keys-file", str(path))
    assert status == 0, err


@pytest.mark.parametrize("text", [
    '["a"]\nek = "00"\n["b"\n',         # broken TOML
    '["a"]\nek = "00"\ncolour = "red"\n',  # a field keys files do not have
    'ek = "00"\n["a"]\nak = "11"\n',     # flat lines and tables mixed
])
def test_a_bad_keys_file_is_a_usage_error(capsys, tmp_path, silent_port, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    status, out, err = run(capsys, f"tcp://127.0.0.1:{silent_port.getsockname()[1]}", *HLS,
                           "--keys-file", str(path))
    assert status == 2 and out == "" and err.count("\n") == 1 and str(path) in err
    _assert_not_connected(silent_port)


# --- missing or unusable keys, named as options -------------------------------------------

EK = "000102030405060708090A0B0C0D0E0F"
AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"


@pytest.mark.parametrize("argv, keys_file, environment, names", [
    (["--security", "enc"], None, {}, ["--ek", "--ak", "--keys-file", "DLMSFAST_EK"]),
    (["--auth", "hls-gmac", "--client", "1"], None, {}, ["--ek", "--ak", "DLMSFAST_AK"]),
    (["--security", "authenc"], f"ek = {EK}\n", {}, ["--ak", "--keys-file", "DLMSFAST_AK"]),
    (["--security", "authenc", "--ak", AK], None, {}, ["--ek", "DLMSFAST_EK"]),
    (["--security", "authenc", "--ek", "00112233"], None, {"DLMSFAST_AK": AK}, ["--ek", "16"]),
    (["--security", "authenc", "--ek", "nothex"], None, {"DLMSFAST_AK": AK}, ["--ek", "hex"]),
    (["--security", "authenc", "--ek", EK], None, {"DLMSFAST_AK": "D0D1"}, ["DLMSFAST_AK"]),
    (["--security", "authenc"], f"ek = {EK}\nak = 12\n", {}, ["ak", "--keys-file"]),
    (["--security", "authenc", "--ek", EK, "--ak", AK, "--system-title", "0102"], None, {},
     ["--system-title", "8"]),
    (["--auth", "lls", "--client", "17"], None, {}, ["--password"]),
])
def test_missing_keys_name_the_options(capsys, tmp_path, monkeypatch, silent_port, argv,
                                       keys_file, environment, names):
    monkeypatch.delenv("DLMSFAST_EK", raising=False)
    monkeypatch.delenv("DLMSFAST_AK", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    if keys_file is not None:
        path = tmp_path / "keys"
        path.write_text(keys_file)
        argv = [*argv, "--keys-file", str(path)]
    status, out, err = run(capsys, f"tcp://127.0.0.1:{silent_port.getsockname()[1]}",
                           *argv, "1.0.1.8.0.255")
    assert status == 2 and out == "" and err.count("\n") == 1
    for name in names:
        assert name in err, (name, err)
    for python_name in ("authentication_key", "block_cipher_key", "security_context",
                        "system_title ", "ConfigurationError"):
        assert python_name not in err
    assert EK not in err and AK not in err
    _assert_not_connected(silent_port)


def test_the_keys_files_invocation_counter_is_the_first_one_used(capsys, tmp_path):
    # a fresh meter; each association must use a counter above the last it saw
    fleet = SimulatorProcess("--meters", "1", "--auth", "hls-gmac", "--security", "authenc")
    try:
        row = fleet.meters[0]
        keys = fleet.keys[row["key_id"]]
        argv = [row["url"], *[a for a in HLS if a not in ("--invocation-counter", "meter")]]

        def read_with(file_text: str, *more: str) -> int:
            path = tmp_path / "keys.toml"
            path.write_text(file_text)
            status, _, err = run(capsys, *argv, "--keys-file", str(path), *more)
            return status

        table = _table(row["key_id"], keys)
        assert read_with(table) == 0  # counter 0: the meter saw none yet
        assert read_with(table) == 2  # 0 again: refused as a replay, no association
        assert read_with(table + "invocation_counter = 1000\n") == 0
        flat = "".join(f"{n} = {keys[n]}\n" for n in ("ek", "ak", "system_title"))
        assert read_with(flat + "invocation_counter = 2000\n") == 0
        # the option wins over the file
        assert read_with(table + "invocation_counter = 5\n") == 2
        assert read_with(table + "invocation_counter = 5\n", "--invocation-counter", "3000") == 0
        status, _, err = run(capsys, *argv, "--keys-file", str(tmp_path / "keys.toml"),
                             "--invocation-counter", "x")
        assert status == 2
    finally:
        fleet.stop()
