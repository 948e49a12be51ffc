"""Keys on the command line of ``decode``, ``encrypt`` and ``listen``, run as
separate processes: the authentication key is printed only where ``--help``
promises (the AAD step of ``--explain``), the encryption key never, and a key
of the wrong length stops the command when its options are read."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import PACKAGE_PARENT

from dlmsfast.explain import encrypt

EK = "000102030405060708090A0B0C0D0E0F"
AK = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
TITLE = "4D4D4D0000BC614E"
PLAIN = "C0010000080000010000FF0200"
TIMEOUT = 60


def _dlmsfast(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    return subprocess.run([sys.executable, "-m", "dlmsfast", *args], capture_output=True,
                          text=True, env=env, cwd="/", timeout=TIMEOUT, stdin=subprocess.DEVNULL)


def _ciphered() -> str:
    done = _dlmsfast("encrypt", "--ek", EK, "--ak", AK, "--system-title", TITLE, "--ic", "1",
                     PLAIN)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("command", ["encrypt", "decode"])
@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("explain", [False, True])
def test_the_ak_is_printed_only_by_explain_and_the_ek_never(command, as_json, explain):
    # finding: encrypt --json and decode --json printed the AAD step (SC || AK)
    # without --explain, although --help says keys are never printed but there
    argv = [command, "--ek", EK, "--ak", AK, "--system-title", TITLE]
    argv += ["--ic", "1", PLAIN] if command == "encrypt" else [_ciphered()]
    argv += ["--json"] * as_json + ["--explain"] * explain
    done = _dlmsfast(*argv)
    assert done.returncode == 0, done.stderr
    printed = (done.stdout + done.stderr).upper()
    assert (AK in printed) is explain
    assert EK not in printed
    if as_json:
        document = json.loads(done.stdout)
        walk = document["ciphering"] if command == "encrypt" else \
            document["nodes"][0]["deciphering"]
        aad = next(step for step in walk["steps"] if step["name"] == "AAD")
        # the step is still there, its octets only on request
        assert (aad["hex"] == "30" + AK) if explain else aad["hex"] is None
        assert "--explain" in aad["text"] or explain
        if command == "decode":
            assert walk["tag_ok"] is True and walk["plaintext"] == PLAIN


def test_a_walk_keeps_the_ak_out_of_its_repr_and_default_meaning():
    _, walk = encrypt(bytes.fromhex(PLAIN), encryption_key=bytes.fromhex(EK),
                      authentication_key=bytes.fromhex(AK), system_title=bytes.fromhex(TITLE),
                      invocation_counter=1, security_control=0x30)
    assert AK not in repr(walk).upper()
    assert AK not in json.dumps(walk.to_meaning()).upper()
    assert AK in json.dumps(walk.to_meaning(show_keys=True)).upper()


ENCRYPT = ["encrypt", "--system-title", TITLE, "--ic", "1", PLAIN]
DECODE = ["decode", "--system-title", TITLE,
          "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"]
LISTEN = ["listen", "-"]


@pytest.mark.parametrize("command", [ENCRYPT, DECODE, LISTEN], ids=lambda c: c[0])
@pytest.mark.parametrize("ek, ak, wrong", [
    ("0011", AK, "--ek"),
    (EK, "0022", "--ak"),
    (EK + "00", AK, "--ek"),  # 17 octets
    (EK, AK[:-2], "--ak"),    # 15 octets
])
def test_a_key_of_the_wrong_length_is_refused_when_the_options_are_read(command, ek, ak, wrong):
    # finding: decode --ek 0011 said "stopped: the key has 2 octets" and exited 0
    done = _dlmsfast(*command, "--ek", ek, "--ak", ak)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and f"{wrong} must be 16 octets" in lines[0], done.stderr
    assert "32 octets" in lines[0]
    for key in (ek, ak):
        assert key.upper() not in done.stderr.upper()


def test_a_wrong_key_length_under_decode_json_is_a_json_usage_error():
    done = _dlmsfast(*DECODE, "--json", "--ek", "0011", "--ak", AK)
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert document["kind"] == "error" and document["exit_status"] == 2
    assert "--ek must be 16 octets" in document["error"]["message"]
    assert AK not in done.stdout.upper() and "0011" not in done.stdout


def test_a_key_that_does_not_fit_the_apdus_suite_is_a_usage_error_too():
    done = _dlmsfast(*DECODE, "--ek", EK, "--ak", AK)
    assert done.returncode == 0, done.stderr
    # 32 octets is a suite-2 key: read, then found not to fit this suite-0 APDU
    done = _dlmsfast(*DECODE, "--ek", EK * 2, "--ak", AK * 2)
    assert done.returncode == 2, done.stderr
    assert "the key has 32 octets; security suite 0 uses 16" in done.stderr
    assert "must be" not in done.stderr and EK not in done.stderr + done.stdout
    done = _dlmsfast(*DECODE, "--json", "--ek", EK * 2, "--ak", AK * 2)
    document = json.loads(done.stdout)
    assert done.returncode == document["exit_status"] == 2
    assert document["nodes"][0]["deciphering"]["stopped"].startswith("the key has 32 octets")
