"""The peers' clients as the tests drive them: gurux-dlms's GXDLMSSecureClient
(:class:`GuruxDriver`: its requests out, its parser on the answers; on a
socket to the simulator, :class:`GuruxOverSocket`, or handed to a server
session in memory by a test's own subclass) and dlms-cosem's DlmsClient, the
simulator's set up from a row of the meters.csv that ``dlmsfast simulate``
wrote and the keys.toml beside it."""
from __future__ import annotations

import abc
import contextlib
import datetime as _dt
import io
import socket

from dlmsfast.simulator import meter_index

from gurux_dlms import GXByteBuffer, GXDateTime, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType, Security
from gurux_dlms.secure import GXDLMSSecureClient
from gurux_dlms.objects import GXDLMSProfileGeneric, GXDLMSRegister

GX_AUTH = {"none": Authentication.NONE, "lls": Authentication.LOW,
           "hls-gmac": Authentication.HIGH_GMAC, "hls-md5": Authentication.HIGH_MD5,
           "hls-sha1": Authentication.HIGH_SHA1, "hls-sha256": Authentication.HIGH_SHA256}
GX_SECURITY = {"none": Security.NONE, "auth": Security.AUTHENTICATION,
               "enc": Security.ENCRYPTION, "authenc": Security.AUTHENTICATION_ENCRYPTION}


def fleet_row(fleet, framing: str, auth: str, security: str, nth: int = 0) -> dict:
    rows = [row for row in fleet.meters
            if (row["framing"], row["auth"], row["security"]) == (framing, auth, security)]
    if len(rows) > nth:
        return rows[nth]
    raise AssertionError(f"no meter {framing}/{auth}/{security} in the fleet")


def row_port(row: dict) -> int:
    return int(row["url"].rsplit(":", 1)[1])


def row_index(row: dict) -> int:
    return meter_index(row["id"])


def gurux_client(logical_names: bool, client: int, server: int, authentication: Authentication,
                 password: str | None, interface: InterfaceType, security: Security | None = None,
                 system_title: bytes = b"", ek: bytes = b"", ak: bytes = b"") -> GXDLMSSecureClient:
    """gurux's client for one association; ciphering set when ``security`` is given."""
    gurux = GXDLMSSecureClient(logical_names, client, server, authentication, password, interface)
    if security is not None:
        cipher = gurux.ciphering
        cipher.security = security
        cipher.systemTitle = system_title
        cipher.blockCipherKey = ek
        cipher.authenticationKey = ak
    return gurux


class GuruxDriver(abc.ABC):
    """gurux-dlms's client driving one server: :meth:`exchange` carries a
    request (and gurux's receiverReady for each further block) and feeds the
    answers to gurux's parser; how a request travels is the subclass's
    :meth:`_reply`. ``sent`` holds what went out, as the subclass records it."""

    def __init__(self, client: GXDLMSSecureClient) -> None:
        self.client = client
        self.sent: list[bytes] = []

    @abc.abstractmethod
    def _reply(self, request, reply: GXReplyData) -> None:
        """Send ``request`` and give gurux's parser the whole answer, into ``reply``."""

    def exchange(self, request) -> GXReplyData:
        reply = GXReplyData()
        self._reply(request, reply)
        while reply.isMoreData():
            self._reply(self.client.receiverReady(reply), reply)
        return reply

    def associate(self) -> None:
        if self.client.interfaceType == InterfaceType.HDLC:
            reply = self.exchange(self.client.snrmRequest())
            self.client.parseUAResponse(reply.data)
        (aarq,) = self.client.aarqRequest()
        reply = self.exchange(aarq)
        with contextlib.redirect_stdout(io.StringIO()):
            self.client.parseAareResponse(reply.data)
        if self.client.authentication > Authentication.LOW:
            for request in self.client.getApplicationAssociationRequest():
                reply = self.exchange(request)
                with contextlib.redirect_stdout(io.StringIO()):
                    # raises when the server's f(CtoS) (pass 4) does not check
                    self.client.parseApplicationAssociationResponse(reply.data)

    def get(self, obj, attribute: int):
        """The attribute's value as gurux parses the answer (``obj`` untouched)."""
        (request,) = self.client.read(obj, attribute)
        return self.exchange(request).value

    def read(self, obj, attribute: int):
        """:meth:`get`, the value also set into ``obj`` (a profile needs its
        capture objects read first)."""
        value = self.get(obj, attribute)
        with contextlib.redirect_stdout(io.StringIO()):
            self.client.updateValue(obj, attribute, value)
        return value


class GuruxOverSocket(GuruxDriver):
    """gurux-dlms's client on a TCP socket (or UDP, the wrapper) to a simulated meter."""

    def __init__(self, row: dict, keys: dict | None) -> None:
        framing = InterfaceType.WRAPPER if row["framing"] == "wrapper" else InterfaceType.HDLC
        password = keys.get("password") if keys else None  # LLS password or HLS secret
        ciphering = {} if keys is None else {
            "security": GX_SECURITY[row["security"]],
            "system_title": bytes.fromhex(keys["system_title"]),
            "ek": bytes.fromhex(keys["ek"]), "ak": bytes.fromhex(keys["ak"])}
        super().__init__(gurux_client(row.get("referencing", "ln") != "sn", int(row["client"]),
                                      int(row["server"]), GX_AUTH[row["auth"]], password, framing,
                                      **ciphering))
        if row["url"].startswith("udp://"):  # the wrapper over UDP: a frame a datagram
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.settimeout(5)
            self.sock.connect(("127.0.0.1", row_port(row)))
        else:
            self.sock = socket.create_connection(("127.0.0.1", row_port(row)), timeout=5)

    def request_tags(self) -> list[int]:
        """The first octet of every APDU sent (after the wrapper header or the LLC)."""
        tags = []
        for frame in self.sent:
            if self.client.interfaceType == InterfaceType.WRAPPER:
                tags.append(frame[8])
            elif b"\xe6\xe6\x00" in frame:
                tags.append(frame[frame.index(b"\xe6\xe6\x00") + 3])
        return tags

    def _reply(self, request, reply: GXReplyData) -> None:
        self.sent.append(bytes(request))
        self.sock.sendall(bytes(request))
        data = GXByteBuffer()
        with contextlib.redirect_stdout(io.StringIO()):
            while not self.client.getData(data, reply, None):
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the simulator closed the connection")
                data.set(chunk)

    def read_register(self, obis: str) -> tuple:
        """(the register object with its scaler_unit, the value read)."""
        register = GXDLMSRegister(obis)
        self.read(register, 3)
        return register, self.read(register, 2)

    def read_profile(self, obis: str) -> list:
        """The buffer's rows (capture objects read first, as gurux needs)."""
        profile = GXDLMSProfileGeneric(obis)
        self.read(profile, 3)
        return self.read(profile, 2)

    def release(self) -> None:
        for request in self.client.releaseRequest():
            self.exchange(request)
        if self.client.interfaceType == InterfaceType.HDLC:
            self.exchange(self.client.disconnectRequest())
        self.sock.close()


def gx_datetime(value) -> _dt.datetime:
    if isinstance(value, GXDateTime):
        value = value.value
    return value.astimezone(_dt.timezone.utc)


def associated_gurux(fleet, framing: str, auth: str, security: str,
                     nth: int = 0) -> tuple[int, GuruxOverSocket]:
    """The meter index of a configuration (its nth meter) and gurux's client
    associated with it."""
    row = fleet_row(fleet, framing, auth, security, nth)
    keys = fleet.keys.get(row["key_id"]) if row["key_id"] else None
    peer = GuruxOverSocket(row, keys)
    try:
        peer.associate()
    except BaseException:
        peer.sock.close()
        raise
    return row_index(row), peer


def dlms_cosem_client(fleet, row: dict):
    """dlms-cosem's DlmsClient for a meter of the fleet, over its TCP wrapper or
    HDLC transport. It ciphers (authenc) whenever it is given keys: so for a
    ciphered meter or HLS-GMAC, with the initial invocation counter 1 (a meter
    for dlms-cosem alone: the meter's counters only grow)."""
    from dlms_cosem import security
    from dlms_cosem.client import DlmsClient
    from dlms_cosem.io import BlockingTcpIO, HdlcTransport, TcpTransport

    keys = fleet.keys.get(row["key_id"]) if row["key_id"] else None
    tcp = BlockingTcpIO(host="127.0.0.1", port=row_port(row), timeout=5)
    transport_class = TcpTransport if row["framing"] == "wrapper" else HdlcTransport
    transport = transport_class(client_logical_address=int(row["client"]),
                                server_logical_address=int(row["server"]), io=tcp, timeout=5)
    methods = {
        "none": lambda: security.NoSecurityAuthentication(),
        "lls": lambda: security.LowLevelSecurityAuthentication(
            secret=keys["password"].encode()),
        "hls-gmac": lambda: security.HighLevelSecurityGmacAuthentication(challenge_length=32),
    }
    options = {}
    if row["security"] != "none" or row["auth"] == "hls-gmac":
        options = {"encryption_key": bytes.fromhex(keys["ek"]),
                   "authentication_key": bytes.fromhex(keys["ak"]),
                   "client_system_title": bytes.fromhex(keys["system_title"]),
                   "client_initial_invocation_counter": 1}
    return DlmsClient(transport=transport, authentication=methods[row["auth"]](), **options)
