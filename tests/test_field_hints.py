"""What a field engineer is told when a reading cannot start (audit F, findings
6, 8, 11, 12), each on real parts over loopback: our simulator (in this process
or as ``dlmsfast simulate``), the server role of tests/ownmeter.py and the Gurux
meter. The address probe recommends only where an association was made; an
invocation counter with no room left is refused before anything is sent; a
refusal or a silence names the likely cause (security level, ciphering,
framing, keys); the HDLC information field length is bounded as IEC 62056-46's
11-bit frame length needs."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from conftest import PACKAGE_PARENT

from dlmsfast import AsyncClient, Client, errors
from dlmsfast.cli import main
from dlmsfast.client.probe import probe_addresses
from dlmsfast.client.requests import LAST_USABLE_COUNTER
from dlmsfast.session import ClientAccess
from dlmsfast.session.settings import AuthenticationPolicy
from dlmsfast.simulator import FleetConfig, MeterSimulator

from interop import GuruxMeter, client_options
from ownmeter import OBJECTS, Application, WrapperMeter
from simfleet import SimulatorProcess


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def read_cli(capsys, *argv):
    status = main(["read", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def keyed(spec, **options) -> dict:
    """A simulated meter's client, keys and system title, then ``options``."""
    keys = spec.keys()
    return {"client": spec.client, "timeout": 1, "ek": keys["ek"], "ak": keys["ak"],
            "system_title": keys["system_title"], **options}


def refusal(config: FleetConfig, **options) -> errors.DlmsError:
    """The error of an association our simulator does not make."""
    async def scenario():
        async with MeterSimulator(config) as sim:
            with pytest.raises(errors.DlmsError) as caught:
                async with AsyncClient(sim.url(0), **keyed(sim.specs[0], **options)) as meter:
                    await meter.read("0.0.42.0.0.255")
            return caught.value

    return run(scenario())


# --- 6. the probe recommends only an address pair where an association was made --


def test_the_probe_goes_past_a_refusal_to_the_public_client_and_the_read_works(capsys):
    sim = SimulatorProcess()
    try:
        url = sim.meters[0]["url"]
        status, out, err = read_cli(capsys, url, "--client", "5", "--server", "9",
                                    "--timeout", "0.3", "--probe-addresses", "0.0.42.0.0.255")
    finally:
        sim.stop()
    assert status == 0, err
    assert "client 5, server 1: answered, but refuses the association" in err
    assert "probe: client 16, server 1: associated" in err
    assert "the meter associates at client 16, server 1 (--client 16 --server 1)" in err
    assert "0.0.42.0.0.255" in out and "AssociationRejected" not in err


def test_with_credentials_the_probe_gives_the_server_address_and_keeps_our_client(capsys):
    # LLS client 17: the probe (no authentication) associates as the public client
    # at server 1; the read keeps client 17 and its password, at that server address
    sim = SimulatorProcess("--auth", "lls")
    try:
        row = sim.meters[0]
        password = sim.keys[row["key_id"]]["password"]
        status, out, err = read_cli(capsys, row["url"], "--client", row["client"], "--auth",
                                    "lls", "--password", password, "--server", "9",
                                    "--timeout", "0.3", "--probe-addresses", "0.0.42.0.0.255")
    finally:
        sim.stop()
    assert row["client"] == "17"
    assert status == 0, err
    assert "probe: client 16, server 1: associated" in err
    assert "probe: reading as client 17 (--auth/--security given) at server 1" in err
    assert "0.0.42.0.0.255" in out


def test_when_nothing_associates_read_json_says_so(capsys):
    meter = WrapperMeter(Application(OBJECTS, AuthenticationPolicy(
        [ClientAccess(client_address=17, authentication="lls", password="12345678")])))
    try:
        status, out, err = read_cli(capsys, meter.url, "--timeout", "0.3", "--json",
                                    "--probe-addresses", "0.0.42.0.0.255")
    finally:
        meter.close()
    assert status == 2
    assert "probe: no association without authentication; the meter answers at client 16" in err
    doc = json.loads(out)
    assert doc["error"].startswith("no usual client/server address combination associated")
    assert [r["object"] for r in doc["results"]] == ["0.0.42.0.0.255"]


def test_a_meter_that_refuses_every_usual_client_is_not_recommended():
    # only client 17 with LLS is served: every candidate answers with a refusal
    meter = WrapperMeter(Application(OBJECTS, AuthenticationPolicy(
        [ClientAccess(client_address=17, authentication="lls", password="12345678")])))
    try:
        found = run(probe_addresses(meter.url, client=5, server=9, timeout=0.3))
    finally:
        meter.close()
    assert found.addresses is None
    # the server address answered: only its other clients are tried, 16 among them
    assert [line.split(":")[0] for line in found.tried[:-1]] == [
        "client 5, server 9", "client 16, server 9", "client 1, server 9",
        "client 17, server 9", "client 32, server 9"]
    assert "client 17, server 9: answered, but refuses the association" in found.tried[3]
    assert "authentication-mechanism-name-not-recognised" in found.tried[3]
    assert found.tried[-1] == (
        "no association without authentication; the meter answers at client 5, server 9 "
        "but refuses the association (association rejected-permanent: acse-service-user "
        "no-reason-given)")


# --- 8. an invocation counter with no room for a session -----------------------


@pytest.mark.parametrize("counter", [0xFFFFFFFF, LAST_USABLE_COUNTER + 1])
def test_an_exhausted_invocation_counter_is_refused_before_anything_is_sent(counter):
    with pytest.raises(errors.UsageError) as caught:
        AsyncClient("tcp://127.0.0.1:1", client=1, auth="hls-gmac", security="authenc",
                    ek=bytes(16), ak=bytes(16), invocation_counter=counter)
    message = str(caught.value)
    assert f"invocation_counter (--invocation-counter) {counter}" in message
    assert "the keys must be renewed" in message
    # the last usable one still goes
    AsyncClient("tcp://127.0.0.1:1", client=1, auth="hls-gmac", security="authenc",
                ek=bytes(16), ak=bytes(16), invocation_counter=LAST_USABLE_COUNTER)


def test_the_cli_refuses_an_exhausted_counter_naming_the_option(capsys):
    status, _, err = read_cli(capsys, "tcp://127.0.0.1:1", "--client", "1", "--auth",
                              "hls-gmac", "--security", "authenc", "--ek", "00" * 16,
                              "--ak", "00" * 16, "--invocation-counter", "4294967295",
                              "0.0.42.0.0.255")
    assert status == 2
    assert "--invocation-counter" in err and "the keys must be renewed" in err
    assert "Connection" not in err  # refused before any connection


def test_a_meter_whose_counter_is_exhausted_says_so():
    config = FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc")

    async def scenario():
        async with MeterSimulator(config) as sim:
            options = keyed(sim.specs[0], auth="hls-gmac", security="authenc", timeout=3)
            # the meter's counter object holds the highest counter it accepted
            async with AsyncClient(sim.url(0), **options,
                                   invocation_counter=LAST_USABLE_COUNTER) as meter:
                await meter.read("0.0.42.0.0.255")
            with pytest.raises(errors.ConfigurationError) as caught:
                async with AsyncClient(sim.url(0), **options, invocation_counter="meter"):
                    pass
            return caught.value

    message = str(run(scenario()))
    assert "invocation counter 0.0.43.1.0.255 holds" in message
    assert "exhausted, the keys must be renewed" in message
    assert "not a 32-bit counter" not in message


# --- 11. hints that point the right way ------------------------------------------


def test_a_security_level_the_meter_does_not_take_is_named_first():
    error = refusal(FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc"),
                    auth="hls-gmac", security="auth")
    assert isinstance(error, errors.AssociationRejected)
    assert "check the security level first (ours: auth" in str(error)


def test_the_gurux_meter_refusing_our_security_level_gets_the_same_hint():
    meter = GuruxMeter("--wrapper", "--auth", "high-gmac", "--security", "authenc")
    try:
        with pytest.raises(errors.AssociationRejected) as caught:
            Client(meter.url, timeout=3, **{**client_options("hls-gmac", "authenc"),
                                            "security": "auth"}).open()
    finally:
        meter.stop()
    assert "no-reason-given" in str(caught.value)  # what Gurux answers: no reason
    assert "check the security level first (ours: auth" in str(caught.value)


def test_an_unciphered_aarq_refused_for_its_context_name_suggests_ciphering():
    error = refusal(FleetConfig(meters=1, base_port=0, auth="none", security="authenc"),
                    ek=None, ak=None, system_title=None)
    assert "application-context-name-not-supported" in str(error)
    assert "the meter may require ciphering" in str(error)
    assert "--security" in str(error)


@pytest.mark.parametrize("meter_framing, ours", [("hdlc", "wrapper"), ("wrapper", "hdlc")])
def test_a_silent_meter_on_tcp_suggests_the_other_framing(meter_framing, ours):
    error = refusal(FleetConfig(meters=1, base_port=0, framing=meter_framing), framing=ours,
                    ek=None, ak=None, system_title=None, timeout=0.3)
    assert isinstance(error, errors.TimeoutError)
    assert f"try framing {meter_framing} (--framing {meter_framing})" in str(error)


def test_the_gurux_hdlc_meter_ignores_wrapper_frames_and_the_hint_says_hdlc():
    meter = GuruxMeter("--hdlc")
    try:
        with pytest.raises(errors.TimeoutError) as caught:
            Client(meter.url, framing="wrapper", timeout=0.5).open()
    finally:
        meter.stop()
    assert "try framing hdlc (--framing hdlc)" in str(caught.value)


def test_hdlc_octets_on_a_wrapper_connection_are_named_as_hdlc():
    from dlmsfast.transport.connection import WrapperFraming

    framing = WrapperFraming(16, 1)
    # a UA from an HDLC meter: no wrapper header (version 0x0001)
    framing.receive_data(bytes.fromhex("7EA00A2103737D7D7E"))
    assert "they look like HDLC frames: try framing hdlc (--framing hdlc)" in framing.unframed()


def test_wrapper_octets_on_an_hdlc_connection_are_named_as_the_wrapper():
    from dlmsfast.transport.hdlc import HdlcFraming

    framing = HdlcFraming(16, 1)
    # an AARE in a wrapper frame: version 0x0001, wPorts 1 -> 16, length 4
    framing.receive_data(bytes.fromhex("0001000100100004" "61028000"))
    assert "they look like DLMS wrapper frames: try framing wrapper" in framing.unframed()


def test_a_wrong_tag_on_the_meters_answer_names_the_apdu_and_what_to_check():
    error = refusal(FleetConfig(meters=1, base_port=0, auth="hls-gmac", security="authenc",
                                faults="wrong-tag:100%"),
                    auth="hls-gmac", security="authenc")
    assert isinstance(error, errors.TagError)
    assert str(error).startswith("the meter's answer to ")
    assert "check ak, ek and the meter's system title" in str(error)


# --- 12. the HDLC information field length is bounded --------------------------


@pytest.mark.parametrize("length", [9999, 2031, 10, 31, 0])
def test_an_hdlc_max_info_out_of_range_is_a_usage_error(length):
    with pytest.raises(errors.UsageError, match=r"--hdlc-max-info.*32\.\.2030"):
        AsyncClient("tcp://127.0.0.1:1", framing="hdlc", hdlc_max_info=length)
    with pytest.raises(errors.UsageError, match=r"--hdlc-max-info.*32\.\.2030"):
        FleetConfig(framing="hdlc", hdlc_max_info=length)


@pytest.mark.parametrize("length", [32, 2030])
def test_the_limits_themselves_work_against_the_simulator(length):
    async def scenario():
        config = FleetConfig(meters=1, base_port=0, framing="hdlc", hdlc_max_info=length)
        async with MeterSimulator(config) as sim:
            async with AsyncClient(sim.url(0), framing="hdlc", hdlc_max_info=length,
                                   timeout=3) as meter:
                return (await meter.read("0.0.42.0.0.255")).value

    assert run(scenario()).startswith(b"DFS")


def test_the_simulate_and_read_commands_refuse_9999(capsys):
    status, _, err = read_cli(capsys, "tcp://127.0.0.1:1", "--framing", "hdlc",
                              "--hdlc-max-info", "9999", "0.0.42.0.0.255")
    assert status == 2 and "--hdlc-max-info" in err and "32..2030" in err
    done = subprocess.run(
        [sys.executable, "-m", "dlmsfast", "simulate", "--framing", "hdlc", "--hdlc-max-info",
         "9999", "--duration", "1", "--base-port", "0"],
        capture_output=True, text=True, timeout=30, env={"PYTHONPATH": PACKAGE_PARENT})
    assert done.returncode == 2, done.stderr
    assert "--hdlc-max-info" in done.stderr and "32..2030" in done.stderr
