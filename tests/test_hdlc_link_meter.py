"""The client link against gurux-dlms's own server, on loopback: ../shared/interop/gurux_meter.py.

The meter runs in its own process with HDLC framing and 32-octet information
fields, so its AARE and its GET answers come back in many segments, and our
AARQ goes out in two. The test drives the link alone with a blocking socket
(the transport's job, kept to a few lines here): SNRM/UA, the AARQ of the
public client, a GET of the load profile buffer (a 1,024-octet block in 33+
segments), the logical device name, then DISC/UA. The meter's HDLC is gurux's
code, so each step checks that both implementations agree on the frames.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
from conftest import shared_path

from dlmsfast.hdlc import HdlcParameters
from dlmsfast.hdlc.link import (
    ApduReceived,
    Connected,
    Disconnected,
    HdlcLink,
    LinkState,
)


# AARQ of the public client, LN referencing without ciphering, conformance 0x00401E5D,
# max receive PDU 0xFFFF (the Green Book's example).
AARQ = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F0400401E5DFFFF")
GET_PROFILE = bytes.fromhex("C001C1000701006301 00FF0200".replace(" ", ""))
GET_NAME = bytes.fromhex("C001C20001 00002A0000FF0200".replace(" ", ""))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def meter(tmp_path_factory):
    # ../shared/interop: skips locally when absent, fails under CI=true
    meter_script = shared_path("interop") / "gurux_meter.py"
    port = _free_port()
    ready = tmp_path_factory.mktemp("meter") / "ready"
    process = subprocess.Popen(
        [sys.executable, str(meter_script), "--port", str(port), "--hdlc", "--auth", "none",
         "--hdlc-max-info", "32", "--ready-file", str(ready), "--duration", "120"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gurux meter did not start: {process.stderr.read().decode(errors='replace')}")
        time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


def _until_event(link: HdlcLink, sock: socket.socket, octets: bytes) -> list:
    """Send, then read and answer (RR for the next segment) until the link has events."""
    sock.sendall(octets)
    for _ in range(500):
        try:
            data = sock.recv(4096)
        except TimeoutError:
            data = b""
            sock.sendall(link.timeout())
        if not data and link.state is LinkState.DISCONNECTED:
            break
        link.receive_data(data)
        events = link.events()
        answer = link.data_to_send()
        if answer:
            sock.sendall(answer)
        if events:
            return events
    raise AssertionError("no event from the meter")


@pytest.mark.parametrize("window", [1, 7])
def test_link_reads_the_gurux_meter_in_32_octet_segments(meter, window):
    link = HdlcLink("client", 16, 1, 17, parameters=HdlcParameters(32, 32, window, window))
    with socket.create_connection(("127.0.0.1", meter), timeout=5) as sock:
        sock.settimeout(2)
        (connected,) = _until_event(link, sock, link.connect())
        # The meter grants 32 octets and, whatever was asked, one frame per window.
        assert connected == Connected(HdlcParameters(32, 32, 1, 1))
        sent_before = link._vs
        (aare,) = _until_event(link, sock, link.send_apdu(AARQ))
        assert link._vs - sent_before == 2  # 31 octets + LLC: two segments
        assert isinstance(aare, ApduReceived) and aare.apdu[:1] == b"\x61"
        assert bytes.fromhex("A203020100") in aare.apdu  # result: accepted
        frames_before = link._splitter.frames
        (block,) = _until_event(link, sock, link.send_apdu(GET_PROFILE))
        assert link._splitter.frames - frames_before > 30
        # get-response-with-datablock, block 1, its raw-data length as encoded.
        assert block.apdu[:3] == b"\xc4\x02\xc1" and len(block.apdu) > 900
        (name,) = _until_event(link, sock, link.send_apdu(GET_NAME))
        assert name.apdu[:6] == bytes.fromhex("C401C2000910") and name.apdu[6:] == b"MMM0000012345678"
        (closed,) = _until_event(link, sock, link.disconnect())
        assert closed == Disconnected()
    assert link.bad_frames == 0 and link.repeated_frames == 0
