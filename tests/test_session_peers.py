"""The server role against independent clients: gurux-dlms's GXDLMSSecureClient
(and dlms-cosem's DlmsClient) build the AARQ, the HLS pass-3 ACTION, the GETs
(with get-request-next for the 96-row profile) and the RLRQ; our ServerSession
answers; the peer parses and checks the answers (AARE, f(CtoS), GCM tags,
values). No sockets: gurux's PDU interface gives and takes bare APDUs, and
dlms-cosem's client is given an in-memory transport."""
from __future__ import annotations

import contextlib
import io

import pytest
from session_helpers import (
    AK,
    CLIENT_TITLE,
    EK,
    PASSWORD,
    SERVER_TITLE,
    Meter,
    profile_rows,
    server_context,
)

from dlmsfast.apdu import Conformance
from dlmsfast.axdr import encode
from dlmsfast.session import (
    AuthenticationPolicy,
    ClientAccess,
    ServerSession,
    ServerSettings,
    State,
)

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXByteBuffer, GXReplyData  # noqa: E402
from gurux_dlms.enums import Authentication, InterfaceType, Security  # noqa: E402
from gurux_dlms.objects import GXDLMSData, GXDLMSProfileGeneric, GXDLMSRegister  # noqa: E402
from peer_clients import GuruxDriver, gurux_client  # noqa: E402

AUTHENTICATIONS = {  # gurux's name, ours, client address (as the interop meter)
    "none": (Authentication.NONE, "none", 16),
    "lls": (Authentication.LOW, "lls", 17),
    "hls-gmac": (Authentication.HIGH_GMAC, "hls-gmac", 1),
}
SECURITIES = {
    "none": Security.NONE,
    "auth": Security.AUTHENTICATION,
    "enc": Security.ENCRYPTION,
    "authenc": Security.AUTHENTICATION_ENCRYPTION,
}


class GuruxAgainstOurServer(GuruxDriver):
    """gurux's client (PDU interface: bare APDUs) answered by our ServerSession in memory."""

    def __init__(self, authentication: str, security: str, *, general_protection: bool = True,
                 password: bytes = PASSWORD) -> None:
        gx_auth, ours, address = AUTHENTICATIONS[authentication]
        super().__init__(gurux_client(
            True, address, 1, gx_auth, password.decode() if gx_auth == Authentication.LOW else None,
            InterfaceType.PDU, SECURITIES[security], CLIENT_TITLE, EK, AK))
        conformance = ServerSettings().conformance
        if not general_protection:
            conformance &= ~Conformance.GENERAL_PROTECTION
        self.context = server_context()
        self.server = ServerSession(
            ServerSettings(system_title=SERVER_TITLE, conformance=conformance),
            AuthenticationPolicy([ClientAccess(client_address=address, authentication=ours,
                                               password=PASSWORD,
                                               security_context=self.context)]),
            client_address=address)
        self.meter = Meter()

    def serve(self, request) -> bytes:
        request = bytes(request)
        self.sent.append(request)
        replies = [r for r in (self.meter.answer(self.server, e)
                               for e in self.server.receive_apdu(request)) if r is not None]
        assert len(replies) == 1
        return replies[0]

    def _reply(self, request, reply: GXReplyData) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            self.client.getData(GXByteBuffer(self.serve(request)), reply)


@pytest.mark.parametrize("general_protection", [True, False], ids=["general-glo", "glo"])
@pytest.mark.parametrize("security", list(SECURITIES))
@pytest.mark.parametrize("authentication", list(AUTHENTICATIONS))
def test_gurux_client_reads_our_server(authentication, security, general_protection):
    peer = GuruxAgainstOurServer(authentication, security, general_protection=general_protection)
    peer.associate()
    assert peer.server.state is State.ASSOCIATED
    assert peer.get(GXDLMSRegister("1.0.1.8.0.255"), 2) == 1960
    assert bytes(peer.get(GXDLMSData("0.0.42.0.0.255"), 2)) == b"MMM0000012345678"
    rows = peer.get(GXDLMSProfileGeneric("1.0.99.1.0.255"), 2)
    assert len(rows) == 96
    assert [list(r)[1:] for r in rows[:2]] == [[0, 1000, 500], [0, 1010, 505]]
    if security != "none":
        gets = [r for r in peer.sent if r[0] in (0xC8, 0xDB)]
        # gurux ciphered what our conformance told it to
        assert {r[0] for r in gets} == {0xDB if general_protection else 0xC8}
        assert all(r[(2 if r[0] == 0xC8 else 11)] & 0x30 == {"auth": 0x10, "enc": 0x20,
                                                               "authenc": 0x30}[security]
                   for r in gets)
    (rlrq,) = peer.client.releaseRequest()
    rlre = peer.serve(rlrq)
    assert rlre[0] == 0x63 and peer.server.state is State.RELEASED
    with contextlib.redirect_stdout(io.StringIO()):
        peer.client.getData(GXByteBuffer(rlre), GXReplyData())


def test_gurux_sees_our_rejection_of_a_wrong_password():
    peer = GuruxAgainstOurServer("lls", "none", password=b"wrong!!!")
    (aarq,) = peer.client.aarqRequest()
    aare = peer.serve(aarq)
    with pytest.raises(Exception) as raised, contextlib.redirect_stdout(io.StringIO()):
        peer.client.parseAareResponse(GXByteBuffer(aare))
    # gurux's own exception type; its message names the diagnostic
    assert "authentication" in str(raised.value).lower()
    assert peer.server.state is State.IDLE


def test_gurux_with_wrong_key_is_refused_and_never_associated():
    peer = GuruxAgainstOurServer("hls-gmac", "authenc")
    peer.client.ciphering.authenticationKey = bytes(16)
    (aarq,) = peer.client.aarqRequest()
    aare = peer.serve(aarq)
    # the glo-initiateRequest's tag did not check: the AARE refuses
    assert peer.server.state is State.IDLE
    assert aare[0] == 0x61 and bytes.fromhex("A203020101") in aare


# --- dlms-cosem's client -----------------------------------------------------------


class _InMemoryTransport:
    """dlms-cosem's DlmsTransport, answered by our server session in memory."""

    def __init__(self, server: ServerSession) -> None:
        self.server = server
        self.meter = Meter()
        self.requests: list[bytes] = []

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def send_request(self, data) -> bytes:
        self.requests.append(bytes(data))
        replies = [r for r in (self.meter.answer(self.server, e)
                               for e in self.server.receive_apdu(bytes(data))) if r is not None]
        assert len(replies) == 1
        return replies[0]


@pytest.mark.parametrize("authentication", ["none", "lls", "hls-gmac"])
def test_dlms_cosem_client_reads_our_server(authentication):
    dlms_cosem = pytest.importorskip("dlms_cosem")
    from dlms_cosem import cosem, security
    from dlms_cosem.client import DlmsClient
    from dlms_cosem.enumerations import CosemInterface

    del dlms_cosem
    methods = {
        "none": security.NoSecurityAuthentication(),
        "lls": security.LowLevelSecurityAuthentication(secret=PASSWORD),
        "hls-gmac": security.HighLevelSecurityGmacAuthentication(challenge_length=32),
    }
    context = server_context()
    server = ServerSession(
        ServerSettings(system_title=SERVER_TITLE),
        AuthenticationPolicy([ClientAccess(client_address=1, authentication=authentication,
                                           password=PASSWORD, security_context=context)]),
        client_address=1)
    transport = _InMemoryTransport(server)
    keys = {}
    if authentication == "hls-gmac":  # dlms-cosem ciphers (authenc) whenever it has keys
        keys = {"encryption_key": EK, "authentication_key": AK,
                "client_system_title": CLIENT_TITLE, "client_initial_invocation_counter": 1}
    client = DlmsClient(transport=transport, authentication=methods[authentication], **keys)
    with contextlib.redirect_stdout(io.StringIO()):
        client.associate()  # dlms-cosem checks our f(CtoS) here (HLSError if wrong)
        assert server.state is State.ASSOCIATED
        energy = client.get(cosem.CosemAttribute(interface=CosemInterface.REGISTER,
                                                 instance=cosem.Obis(1, 0, 1, 8, 0), attribute=2))
        profile = client.get(cosem.CosemAttribute(interface=CosemInterface.PROFILE_GENERIC,
                                                  instance=cosem.Obis(1, 0, 99, 1, 0),
                                                  attribute=2))
        released = client.release_association()
    assert energy == bytes.fromhex("06000007A8")
    assert profile == encode(profile_rows())
    assert released is not None and server.state is State.RELEASED
    if authentication == "hls-gmac":
        assert all(r[0] in (0x60, 0x62, 0xDB, 0xC8, 0xCB) for r in transport.requests)
