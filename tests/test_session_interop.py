"""Our ClientSession against an independent meter: ../shared/interop/gurux_meter.py
(gurux-dlms's own server classes) on loopback, over the IEC 62056-47 wrapper.

The session is sans-IO; this test supplies the least I/O there is (a blocking
socket and the wrapper header) to check, byte for byte against another
implementation, the AARQ/AARE, HLS-GMAC pass 3/4, glo- and general-glo-
ciphering, block transfer, selective access and the release. The folder
../shared/interop is not ours to ship: without it these tests skip (and fail
under CI), by tests/interop.py's rule.
"""
from __future__ import annotations

import datetime as dt
import socket

import pytest
from interop import GuruxMeter, meter_script
from session_helpers import AK, CLIENT_TITLE, EK

from dlmsfast.apdu import (
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    SelectiveAccessDescriptor,
)
from dlmsfast.axdr import Data, DataType, DateTime
from dlmsfast.session import (
    AssociationSettings,
    ClientSession,
    NeedToSend,
    ObjectUndefined,
    Released,
)
from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter

pytest.importorskip("gurux_dlms")
METER = meter_script()  # skips (fails under CI) without ../shared

CLOCK = CosemAttributeDescriptor(8, "0.0.1.0.0.255", 2)
LDN = CosemAttributeDescriptor(1, "0.0.42.0.0.255", 2)
PROFILE = CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2)
REGISTERS = {"1.0.1.8.0.255": (1960, -3, 30), "1.0.2.8.0.255": (980, -3, 30),
             "1.0.32.7.0.255": (2301, -1, 35)}
CLIENTS = {"none": 16, "lls": 17, "hls-gmac": 1}


@pytest.fixture(scope="module", params=["general-glo", "glo"])
def meter(request):
    options = ["--auth", "all", "--security", "any", "--deterministic"]
    if request.param == "glo":
        options.append("--no-general-protection")
    running = GuruxMeter(*options)
    yield request.param, running.port
    running.stop()


class WrapperLink:
    """A blocking TCP socket carrying whole APDUs in wrapper frames (test I/O only)."""

    def __init__(self, port: int, client_address: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.client_address = client_address
        self.splitter = WrapperStreamSplitter()
        self.frames: list[WrapperFrame] = []
        self.sent: list[bytes] = []

    def send(self, apdu: bytes) -> None:
        self.sent.append(apdu)
        self.sock.sendall(WrapperFrame(1, self.client_address, 1, apdu).to_bytes())

    def receive(self) -> bytes:
        while not self.frames:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("meter closed the connection")
            self.frames.extend(self.splitter.feed(data))
        return self.frames.pop(0).payload

    def request(self, session: ClientSession, apdu: bytes) -> list:
        events = []
        self.send(apdu)
        while True:
            follow_up = None
            for event in session.receive_apdu(self.receive()):
                if isinstance(event, NeedToSend):
                    follow_up = event.apdu
                else:
                    events.append(event)
            if follow_up is None:
                return events
            self.send(follow_up)

    def close(self) -> None:
        self.sock.close()


def _settings(authentication: str, security: str) -> AssociationSettings:
    keys = {}
    if security != "none" or authentication == "hls-gmac":
        keys = {"system_title": CLIENT_TITLE, "block_cipher_key": EK, "authentication_key": AK,
                "invocation_counter": 1}
    return AssociationSettings(authentication=authentication, security=security,
                               password=b"12345678" if authentication == "lls" else None, **keys)


@pytest.mark.parametrize("security", ["none", "auth", "enc", "authenc"])
@pytest.mark.parametrize("authentication", ["none", "lls", "hls-gmac"])
def test_read_the_gurux_meter(meter, authentication, security):
    form, port = meter
    session = ClientSession(_settings(authentication, security))
    link = WrapperLink(port, CLIENTS[authentication])
    try:
        (associated,) = link.request(session, session.associate())
        assert associated.max_pdu_size == 1024
        if authentication == "hls-gmac" and security != "none":
            # pass 3 in the association's form, which the meter accepts
            assert link.sent[1][0] == (0xDB if form == "general-glo" else 0xCB)
        assert associated.peer_system_title in (None, bytes.fromhex("4D4D4D0000BC614E"))
        (clock,) = link.request(session, session.get(CLOCK))
        assert DateTime.from_bytes(clock.value.value).to_datetime() == dt.datetime(
            2026, 1, 2, tzinfo=dt.timezone.utc)
        (name,) = link.request(session, session.get(LDN))
        assert name.value == Data(DataType.OCTET_STRING, b"MMM0000012345678")
        for obis, (value, scaler, unit) in REGISTERS.items():
            (read,) = link.request(session, session.get_with_list(
                [CosemAttributeDescriptor(3, obis, 2), CosemAttributeDescriptor(3, obis, 3)]))
            assert read.values[0].value == value
            assert [m.value for m in read.values[1].value] == [scaler, unit]
        (profile,) = link.request(session, session.get(PROFILE))
        rows = profile.value.value
        assert len(rows) == 96
        assert [m.value for m in rows[95].value[1:]] == [0, 1000 + 950, 500 + 475]
        clock_column = CaptureObjectDefinition(8, "0.0.1.0.0.255", 2)
        start = DateTime.from_datetime(dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone.utc))
        end = DateTime.from_datetime(dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.timezone.utc))
        (by_range,) = link.request(session, session.get(
            PROFILE, SelectiveAccessDescriptor.range_descriptor(clock_column, start, end)))
        assert [row.value[2].value for row in by_range.value.value] == [
            1000 + 10 * i for i in range(4, 9)]
        (by_entry,) = link.request(session, session.get(
            PROFILE, SelectiveAccessDescriptor.entry_descriptor(95, 0)))
        assert len(by_entry.value.value) == 2
        with pytest.raises(ObjectUndefined):
            link.request(session, session.get(CosemAttributeDescriptor(1, "0.0.99.99.0.255", 2)))
        if security != "none":
            # the form the meter's conformance implies was used for the GETs
            assert session.conformance & session.conformance.GENERAL_PROTECTION == (
                session.conformance.GENERAL_PROTECTION if form == "general-glo" else 0)
        (released,) = link.request(session, session.release())
        assert isinstance(released, Released)
    finally:
        link.close()


def test_the_gurux_meter_refuses_wrong_secrets(meter):
    from dlmsfast.errors import AssociationRejected, AuthenticationError
    from dlmsfast.session import AuthenticationFailed

    _, port = meter
    wrong_password = AssociationSettings(authentication="lls", password=b"00000000")
    wrong_key = AssociationSettings(authentication="hls-gmac", system_title=CLIENT_TITLE,
                                    block_cipher_key=bytes(16), authentication_key=AK)
    wrong_mechanism = AssociationSettings(authentication="lls", password=b"12345678")
    cases = [(wrong_password, 17, AuthenticationFailed), (wrong_key, 1, AuthenticationError),
             (wrong_mechanism, 1, AssociationRejected)]
    for settings, address, error in cases:
        session = ClientSession(settings)
        link = WrapperLink(port, address)
        try:
            with pytest.raises(error):
                link.request(session, session.associate())
            assert session.state.value == "idle"
        finally:
            link.close()


# --- over HDLC with 32-octet information fields ----------------------------------------


@pytest.fixture(scope="module")
def hdlc_meter():
    running = GuruxMeter("--hdlc", "--hdlc-max-info", "32", "--auth", "all", "--security", "any",
                         "--deterministic")
    yield running.port
    running.stop()


class HdlcLinkOverTcp:
    """main's sans-IO HDLC link on a blocking socket (test I/O only)."""

    def __init__(self, port: int, client_address: int) -> None:
        from dlmsfast.hdlc.link import HdlcLink

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.link = HdlcLink(role="client", client_address=client_address, server_address=1)
        self.sock.sendall(self.link.connect())
        self._events()

    def _events(self) -> list:
        while True:
            events = list(self.link.events())
            answer = self.link.data_to_send()
            if answer:
                self.sock.sendall(answer)
            if events:
                return events
            data = self.sock.recv(4096)
            if not data:
                raise ConnectionError("meter closed the connection")
            self.link.receive_data(data)

    def request(self, session: ClientSession, apdu: bytes) -> list:
        from dlmsfast.hdlc.link import ApduReceived

        results = []
        while apdu is not None:
            self.sock.sendall(self.link.send_apdu(apdu))
            apdu = None
            for event in self._events():
                assert isinstance(event, ApduReceived)
                for happened in session.receive_apdu(event.apdu):
                    if isinstance(happened, NeedToSend):
                        apdu = happened.apdu
                    else:
                        results.append(happened)
        return results

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("authentication, security", [("none", "none"), ("lls", "none"),
                                                      ("hls-gmac", "authenc"),
                                                      ("hls-gmac", "auth")])
def test_read_the_gurux_meter_over_hdlc_in_32_octet_segments(hdlc_meter, authentication,
                                                              security):
    # general-glo-ciphering throughout (HLS pass 3 included): the meter answers FRMR
    # to a glo-ciphered request in several frames (shared/interop README)
    session = ClientSession(_settings(authentication, security))
    link = HdlcLinkOverTcp(hdlc_meter, CLIENTS[authentication])
    try:
        (associated,) = link.request(session, session.associate())
        assert associated.security == {"none": 0, "auth": 0x10, "authenc": 0x30}[security]
        (profile,) = link.request(session, session.get(PROFILE))
        assert len(profile.value.value) == 96
        (name,) = link.request(session, session.get(LDN))
        assert name.value == Data(DataType.OCTET_STRING, b"MMM0000012345678")
        (released,) = link.request(session, session.release())
        assert isinstance(released, Released)
    finally:
        link.close()
