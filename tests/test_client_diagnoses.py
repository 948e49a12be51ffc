"""The client's diagnoses, each on real parts (our simulator and server role over
loopback, pseudo-terminals for serial): a refused ciphered association says what
to check (never a key), a silent optical head is named as such, the IDIS counter
pre-read names its step, a timeout after answers does not blame the addresses,
and the address probe varies the client too."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import PACKAGE_PARENT

from dlmsfast import AsyncClient, Client, errors
from dlmsfast.apdu import AcseServiceUser
from dlmsfast.client.probe import probe_addresses
from dlmsfast.security import SecurityContext
from dlmsfast.session import AuthenticationFailed, ClientAccess, ObjectUndefined
from dlmsfast.session.settings import AuthenticationPolicy
from dlmsfast.simulator import FleetConfig, MeterSimulator
from dlmsfast.transport import streams

from ownmeter import AK, EK, OBJECTS, TITLE, Application, WrapperMeter, policy
from simfleet import SimulatorProcess


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def _hls_options(spec, **changes) -> dict:
    keys = spec.keys()
    options = dict(client=spec.client, auth="hls-gmac", security="authenc", ek=keys["ek"],
                   ak=keys["ak"], system_title=keys["system_title"], timeout=3)
    return {**options, **changes}


def _no_key_in(message: str, *keys) -> None:
    for key in keys:
        text = key if isinstance(key, str) else key.hex()
        assert text.lower() not in message.lower()


# --- 1. a refused ciphered association says what to check -----------------------


@pytest.mark.parametrize("wrong", ["ek", "ak"])
def test_a_wrong_key_is_refused_as_an_authentication_failure_naming_the_keys(wrong):
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            with pytest.raises(errors.AssociationRejected) as caught:
                async with AsyncClient(sim.url(0), **_hls_options(spec, **{wrong: "AB" * 16})):
                    pass
            return caught.value, spec.keys()

    error, keys = run(scenario())
    # ACSE authentication-failure, and the Green Book's ServiceError for the cause
    assert isinstance(error, AuthenticationFailed)
    assert error.diagnostic == AcseServiceUser.AUTHENTICATION_FAILURE
    message = str(error)
    assert "application-reference deciphering-error" in message
    assert "check ek, ak and our system title" in message
    assert "invocation" not in message  # the keys, not the counter, failed here
    _no_key_in(message, "AB" * 16, keys["ek"], keys["ak"])


def test_a_ciphered_association_refused_without_a_reason_says_so():
    # rejected-permanent, no-reason-given: the keys are the likely cause (meters
    # answer wrong keys so too), but the hint does not claim the meter said it
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc",
                         faults="refuse-association@0")

    async def scenario():
        async with MeterSimulator(config) as sim:
            with pytest.raises(errors.AssociationRejected) as caught:
                async with AsyncClient(sim.url(0), **_hls_options(sim.specs[0])):
                    pass
            return caught.value

    error = run(scenario())
    assert error.diagnostic == AcseServiceUser.NO_REASON_GIVEN
    assert "refused our ciphered AARQ without saying why" in str(error)
    assert "check the security level first (ours: authenc" in str(error)
    assert "then ek, ak, our system title" in str(error)


def test_a_replayed_invocation_counter_is_refused_and_the_hint_names_the_pre_read():
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            async with AsyncClient(sim.url(0), **_hls_options(spec)) as meter:
                await meter.read("0.0.42.0.0.255", class_id=1)
            # the default counter again: the meter has seen it
            with pytest.raises(errors.AssociationRejected) as caught:
                async with AsyncClient(sim.url(0), **_hls_options(spec)):
                    pass
            # a caller's own SecurityContext (as the bulk reader's) is told the same
            keys = spec.keys()
            context = SecurityContext(system_title=bytes.fromhex(keys["system_title"]),
                                      block_cipher_key=bytes.fromhex(keys["ek"]),
                                      authentication_key=bytes.fromhex(keys["ak"]))
            with pytest.raises(errors.AssociationRejected) as own:
                async with AsyncClient(sim.url(0), security_context=context,
                                       **_hls_options(spec)):
                    pass
            # as the hint says: the public client reads the counter first
            async with AsyncClient(sim.url(0), invocation_counter="meter",
                                   **_hls_options(spec)) as meter:
                await meter.read("0.0.42.0.0.255", class_id=1)
            return caught.value, own.value, keys

    error, own, keys = run(scenario())
    assert "give a higher one" in str(own) and "invocation_counter='meter'" in str(own)
    assert error.diagnostic == AcseServiceUser.AUTHENTICATION_FAILURE
    message = str(error)
    assert "deciphering-error" not in message
    assert "invocation_counter='meter'" in message and "--invocation-counter meter" in message
    _no_key_in(message, keys["ek"], keys["ak"])


def test_dlmsfast_read_run_twice_with_the_default_counter_says_what_to_do(tmp_path):
    sim = SimulatorProcess("--meters", "1", "--auth", "hls-gmac", "--security", "authenc")
    try:
        row = sim.meters[0]
        keys = sim.keys[row["key_id"]]
        keys_file = tmp_path / "k"
        keys_file.write_text(f"ek = {keys['ek']}\nak = {keys['ak']}\n"
                             f"system-title = {keys['system_title']}\n")
        command = [sys.executable, "-m", "dlmsfast", "read", row["url"], "--client",
                   row["client"], "--auth", "hls-gmac", "--security", "authenc",
                   "--keys-file", str(keys_file), "--timeout", "3", "0.0.42.0.0.255",
                   "--class", "1"]
        env = {**os.environ, "PYTHONPATH": str(PACKAGE_PARENT)}
        first = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
        second = subprocess.run(command, capture_output=True, text=True, timeout=30, env=env)
    finally:
        sim.stop()
    assert first.returncode == 0, first.stderr
    assert second.returncode == 2
    assert "AuthenticationFailed" in second.stderr and "authentication-failure" in second.stderr
    assert "--invocation-counter meter" in second.stderr
    _no_key_in(second.stderr, keys["ek"], keys["ak"])


def test_hls_gmac_refused_in_pass_3_names_the_keys_and_titles():
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="none")

    async def scenario():
        async with MeterSimulator(config) as sim:
            spec = sim.specs[0]
            with pytest.raises(errors.AuthenticationError) as caught:
                async with AsyncClient(sim.url(0), **_hls_options(spec, security="none",
                                                                  ak="CD" * 16)):
                    pass
            return caught.value, spec.keys()

    error, keys = run(scenario())
    message = str(error)
    assert "refused our f(StoC)" in message
    assert "check ek, ak, our system title and the meter's" in message
    _no_key_in(message, "CD" * 16, keys["ek"], keys["ak"])


# --- 2. mode E: a silent optical head, and the sign-on in the trace --------------


def test_a_silent_optical_head_is_named_not_rewritten_as_a_connect_timeout(monkeypatch):
    monkeypatch.setattr(streams, "IDENTIFICATION_TIMEOUT", 0.3)
    master, slave = os.openpty()
    frames: list = []
    try:
        started = time.monotonic()
        with pytest.raises(errors.TimeoutError) as caught:
            Client(f"serial://{os.ttyname(slave)}?mode-e=1", timeout=10,
                   trace=lambda d, f: frames.append((d, f))).open()
        elapsed = time.monotonic() - started
    finally:
        os.close(master)
        os.close(slave)
    message = str(caught.value)
    assert "no identification message from the optical head" in message
    assert "cannot connect" not in message and "within 0.3 s" in message
    assert elapsed < 3
    # the trace saw what went out, though nothing came back
    assert frames == [("out", b"/?!\r\n")]


@pytest.mark.parametrize("timeout", [0.5, 1.5])
def test_a_silent_optical_head_is_named_whatever_the_timeout(timeout):
    # finding: a timeout under the sign-on's own 3 s gave "cannot connect ...
    # (connect timed out)" instead of the optical head's diagnosis
    master, slave = os.openpty()
    try:
        started = time.monotonic()
        with pytest.raises(errors.TimeoutError) as caught:
            Client(f"serial://{os.ttyname(slave)}?mode-e=1", timeout=timeout).open()
        elapsed = time.monotonic() - started
        message = str(caught.value)
        assert "no identification message from the optical head" in message
        assert f"within {timeout:g} s" in message and "cannot connect" not in message
        assert elapsed < timeout + 1.5
    finally:
        os.close(master)
        os.close(slave)
    # the connect timeout alone bounds opening the stream: its value is said
    master, slave = os.openpty()
    try:
        with pytest.raises(errors.TimeoutError, match="optical head .* within 0.4 s"):
            run(AsyncClient(f"serial://{os.ttyname(slave)}?mode-e=1", timeout=10,
                            connect_timeout=0.4).open())
    finally:
        os.close(master)
        os.close(slave)


def test_every_failure_opening_a_serial_line_is_a_transport_error_naming_it():
    # finding: the second mode E attempt on one pseudo-terminal let termios.error
    # (EINVAL: this kernel's pty refuses 7E1 once it has been set) escape the
    # Client; whatever step fails, a TransportError names the device
    master, slave = os.openpty()
    device = os.ttyname(slave)
    try:
        for _ in range(3):
            with pytest.raises(errors.DlmsError) as caught:
                Client(f"serial://{device}?mode-e=1", timeout=0.3).open()
            assert isinstance(caught.value, errors.TransportError), repr(caught.value)
            assert f"serial://{device}" in str(caught.value)
            if not isinstance(caught.value, errors.TimeoutError):
                assert "cannot open" in str(caught.value) and "300 baud 7E1" in str(caught.value)
    finally:
        os.close(master)
        os.close(slave)
    # a line whose far end hangs up during the sign-on: a step fails (the
    # drain, the read, the acknowledgement) or the wait ends; never termios.error
    for _ in range(3):
        master, slave = os.openpty()

        def hang_up(fd=master):
            os.read(fd, 64)
            os.write(fd, b"/ABC5meter\r\n")
            os.close(fd)

        answering = threading.Thread(target=hang_up, daemon=True)
        answering.start()
        try:
            with pytest.raises(errors.TransportError, match=f"serial://{os.ttyname(slave)}"):
                Client(f"serial://{os.ttyname(slave)}?mode-e=1", timeout=1).open()
        finally:
            answering.join(5)
            os.close(slave)


def test_listen_on_a_serial_line_that_refuses_its_settings_says_so(tmp_path):
    master, slave = os.openpty()
    device = os.ttyname(slave)
    env = dict(os.environ, PYTHONPATH=PACKAGE_PARENT)
    try:
        for _ in range(2):
            done = subprocess.run([sys.executable, "-m", "dlmsfast", "listen",
                                   f"serial://{device}?baud=2400&parity=E", "--idle-timeout", "0.3"],
                                  capture_output=True, text=True, timeout=30, env=env, cwd="/")
            assert done.returncode in (0, 2), done.stderr
            assert "Traceback" not in done.stderr and "internal error" not in done.stderr
            if done.returncode == 2:
                assert f"cannot open '{device}' at 2400 baud 8E1" in done.stderr
    finally:
        os.close(master)
        os.close(slave)


def test_dlmsfast_read_on_a_silent_optical_head_suggests_no_address_probe(monkeypatch, capsys):
    from dlmsfast.cli import main

    monkeypatch.setattr(streams, "IDENTIFICATION_TIMEOUT", 0.3)
    master, slave = os.openpty()
    try:
        status = main(["read", f"serial://{os.ttyname(slave)}?mode-e=1", "0.0.1.0.0.255",
                       "--class", "8"])
    finally:
        os.close(master)
        os.close(slave)
    err = capsys.readouterr().err
    assert status == 2
    assert "no association: TimeoutError: no identification message" in err
    assert "probe-addresses" not in err


# --- 3. the invocation counter pre-read names its step ----------------------------


def test_a_refused_pre_read_names_the_public_client_step_and_keeps_its_class():
    # the management client only: the public client's AARQ is refused
    only_management = AuthenticationPolicy([ClientAccess(
        client_address=1, authentication="hls-gmac", security="authenc",
        security_context=SecurityContext(system_title=TITLE, block_cipher_key=EK,
                                         authentication_key=AK))])
    meter = WrapperMeter(Application(OBJECTS, only_management))
    try:
        with pytest.raises(errors.AssociationRejected) as caught:
            Client(meter.url, client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
                   invocation_counter="meter", timeout=3).open()
    finally:
        meter.close()
    error = caught.value
    assert error.diagnostic == AcseServiceUser.NO_REASON_GIVEN  # the meter's own reason kept
    message = str(error)
    assert "0.0.43.1.0.255 through the public client 16" in message
    assert "invocation_counter=N" in message and "--invocation-counter N" in message


def test_a_missing_counter_object_stays_object_undefined_and_names_the_step():
    meter = WrapperMeter(Application(OBJECTS, policy()))
    try:
        with pytest.raises(ObjectUndefined) as caught:
            Client(meter.url, client=1, auth="hls-gmac", security="authenc", ek=EK, ak=AK,
                   invocation_counter="meter", counter_object="0.0.43.1.7.255",
                   timeout=3).open()
    finally:
        meter.close()
    assert "reading the invocation counter 0.0.43.1.7.255" in str(caught.value)


# --- 4. the address probe varies the client, the server and the physical address --


def test_the_probe_finds_a_meter_that_only_hears_another_client_sap():
    meter = WrapperMeter(Application(OBJECTS, AuthenticationPolicy(
        [ClientAccess(client_address=32)])), only_client=32)
    try:
        found = run(probe_addresses(meter.url, client=16, server=1, timeout=0.2))
    finally:
        meter.close()
    assert found.addresses == {"client": 32, "server": 1, "server_physical": None}
    assert found.tried[0] == "client 16, server 1: TimeoutError"
    assert "client 32, server 1: associated" in found.tried
    assert found.tried[-1] == "the meter associates at client 32, server 1 (--client 32 --server 1)"


def test_probe_candidates_over_hdlc_keep_the_given_first_and_stay_bounded():
    from dlmsfast.client.probe import MAX_CANDIDATES, _candidates

    candidates = _candidates("hdlc", 16, 5, 99)
    assert candidates[0] == (16, 5, 99)
    assert len(candidates) == MAX_CANDIDATES == len(set(candidates))
    assert {c for c, _, _ in candidates} == {16, 1, 17, 32}
    assert {p for _, _, p in candidates} >= {99, None, 16, 17, 1, 256}
    assert 0 not in {s for _, s, _ in candidates}  # HDLC's no-station address
    # the usual addresses one step away come before those two steps away
    assert candidates.index((16, 1, 99)) < candidates.index((16, 1, 17))


def test_nobody_listening_ends_the_probe_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    started = time.monotonic()
    found = run(probe_addresses(f"tcp://127.0.0.1:{port}", timeout=0.5))
    assert found.addresses is None and len(found.tried) == 2
    assert found.tried[1].startswith(f"the connection itself fails at tcp://127.0.0.1:{port}")
    assert time.monotonic() - started < 2


def test_a_silent_optical_head_ends_the_probe_at_once(monkeypatch):
    monkeypatch.setattr(streams, "IDENTIFICATION_TIMEOUT", 0.3)
    master, slave = os.openpty()
    url = f"serial://{os.ttyname(slave)}?mode-e=1"
    try:
        found = run(probe_addresses(url, timeout=0.5))
    finally:
        os.close(master)
        os.close(slave)
    assert found.addresses is None
    assert found.tried[0] == "client 16, server 1: TimeoutError"
    assert found.tried[1].startswith(f"the connection itself fails at {url}: no identification")
    assert len(found.tried) == 2


# --- 5. a timeout after answers does not blame the addresses ---------------------


def test_a_timeout_after_the_association_does_not_suspect_the_addresses():
    # the simulator in its own process, as deployed (uvloop there): its slow drip
    # once dropped the connection on the third answer instead of dripping it
    sim = SimulatorProcess("--meters", "1", "--faults", "slow-drip:5ms:100%")
    try:
        with Client(sim.meters[0]["url"], timeout=1.0) as meter:
            with pytest.raises(errors.TimeoutError) as caught:
                meter.read_profile("1.0.99.1.0.255")
    finally:
        sim.stop()
    message = str(caught.value)
    assert "did not answer get 7/1.0.99.1.0.255/2" in message
    assert "client wPort 16, server wPort 1" in message
    assert "wrong client/server address" not in message
    assert "it answered before at these addresses" in message


def test_a_meter_silent_from_the_start_still_suspects_the_addresses():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        with pytest.raises(errors.TimeoutError, match="wrong client/server address"):
            Client(f"tcp://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3).open()
    finally:
        listener.close()
        for conn, _ in accepted:
            conn.close()
