"""A small meter on dlmsfast's own server role (HdlcLink server + ServerSession),
for what the gurux meter cannot show: serial lines over a real pseudo-terminal
(with the IEC 62056-21 mode E sign-on), and the IDIS invocation-counter object.

It runs in a thread on blocking file descriptors; the objects are a dict
``{(class_id, "OBIS", attribute): Data}``.
"""
from __future__ import annotations

import os
import select
import socket
import threading
from typing import Callable, Optional

from dlmsfast.apdu import DataAccessResult
from dlmsfast.axdr import Data, DataType
from dlmsfast.cosem import make_object
from dlmsfast.cosem.access import SN_OBJECT_LIST, SnObjectListElement
from dlmsfast.cosem.obis import Obis
from dlmsfast.hdlc.link import ApduReceived, HdlcLink
from dlmsfast.security import SecurityContext
from dlmsfast.session import (
    AuthenticationPolicy,
    ClientAccess,
    ServerSession,
    ServerSettings,
)
from dlmsfast.session import events as ev
from dlmsfast.wrapper import WrapperFrame, WrapperStreamSplitter

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
TITLE = bytes.fromhex("4453460000000001")

OBJECTS = {
    (1, "0.0.42.0.0.255", 2): Data(DataType.OCTET_STRING, b"DLMSFAST-METER01"),
    (3, "1.0.1.8.0.255", 2): Data(DataType.DOUBLE_LONG_UNSIGNED, 123456),
    (3, "1.0.1.8.0.255", 3): Data(DataType.STRUCTURE, (Data(DataType.INTEGER, 0),
                                                       Data(DataType.ENUM, 30))),
    (1, "0.0.43.1.0.255", 2): Data(DataType.DOUBLE_LONG_UNSIGNED, 1000),
}


def policy() -> AuthenticationPolicy:
    server_context = SecurityContext(system_title=TITLE, block_cipher_key=EK,
                                     authentication_key=AK, invocation_counter=5000)
    return AuthenticationPolicy([
        ClientAccess(client_address=16),
        ClientAccess(client_address=1, authentication="hls-gmac", security="authenc",
                     security_context=server_context),
    ])


class Application:
    """Answers GET (or, with ``short_names``, short-name READ/WRITE) requests from
    the objects; remembers the APDUs it received."""

    def __init__(self, objects: dict, access: AuthenticationPolicy,
                 short_names: bool = False) -> None:
        self.objects = {(c, Obis.parse(o), a): v for (c, o, a), v in objects.items()}
        self.policy = access
        self.received: list[bytes] = []
        self.calls: list = []
        self.short_names = short_names
        # base names 0x0100, 0x0200, ...; Association SN (0xFA00) lists them
        bases = {}
        for c, o, _ in self.objects:
            bases.setdefault((c, o), 0x100 * (len(bases) + 1))
        self.by_name = {base + 8 * (a - 1): (c, o, a) for (c, o, a) in self.objects
                        for base in [bases[(c, o)]]}
        # a WriteRequest to a method's short name invokes it (Green Book's SN mapping)
        self.by_method = {}
        for (c, o), base in bases.items():
            model = make_object(c, o)
            for method in model.methods:
                self.by_method[model.method_short_name(base, method.index)] = (c, o, method.index)
        listing = [SnObjectListElement(b, c, 0, o) for (c, o), b in bases.items()]
        self.by_name[0xFA08] = (12, Obis.parse("0.0.40.0.0.255"), 2)
        self.objects[self.by_name[0xFA08]] = SN_OBJECT_LIST.encode(listing, "object_list")

    def session(self, client_address: int) -> ServerSession:
        settings = ServerSettings(system_title=TITLE,
                                  logical_name_referencing=not self.short_names)
        return ServerSession(settings, self.policy, client_address=client_address)

    def _value(self, descriptor):
        key = (descriptor.class_id, descriptor.instance_id, descriptor.attribute_id)
        return self.objects.get(key, DataAccessResult.OBJECT_UNDEFINED)

    def handle(self, session: ServerSession, apdu: bytes) -> list[bytes]:
        """The APDUs to send back for one received APDU."""
        self.received.append(apdu)
        out = []
        for event in session.receive_apdu(apdu):
            if isinstance(event, ev.NeedToSend):
                out.append(event.apdu)
            elif isinstance(event, ev.GetRequested):
                out.append(session.respond_get(event, self._value(event.descriptor)))
            elif isinstance(event, ev.GetListRequested):
                out.append(session.respond_get(event, [
                    self._value(item.cosem_attribute_descriptor) for item in event.items]))
            elif isinstance(event, ev.SetRequested):
                d = event.descriptor
                self.objects[(d.class_id, d.instance_id, d.attribute_id)] = event.value
                out.append(session.respond_set(event))
            elif isinstance(event, ev.ReadRequested):
                results = []
                for i, name in enumerate(event.base_names):
                    if name in self.by_method:
                        # a method that returns data: a read with parameterized access
                        parameter = event.parameters[i] if event.parameters else None
                        self.calls.append((self.by_method[name], parameter))
                        results.append(Data(DataType.UNSIGNED, 7))
                    else:
                        results.append(self.objects.get(self.by_name.get(name),
                                                        DataAccessResult.OBJECT_UNDEFINED))
                out.append(session.respond_read(event, results))
            elif isinstance(event, ev.WriteRequested):
                for name, value in zip(event.base_names, event.values):
                    if name in self.by_method:
                        self.calls.append((self.by_method[name], value))
                    else:
                        self.objects[self.by_name[name]] = value
                out.append(session.respond_write(event, [DataAccessResult.SUCCESS]
                                                 * len(event.values)))
            elif isinstance(event, ev.ActionRequested):
                self.calls.append((event.descriptor, event.parameters))
                out.append(session.respond_action(event, return_value=Data(DataType.UNSIGNED, 7)))
        return out


def serve_hdlc_fd(fd: int, app: Application, stop: threading.Event,
                  before: Optional[Callable[[int], None]] = None) -> None:
    """Serve one HDLC client on a file descriptor (the pty master) until ``stop``."""
    if before is not None:
        before(fd)
    link = HdlcLink("server", None, 1)
    sessions: dict = {}
    while not stop.is_set():
        if not select.select([fd], [], [], 0.05)[0]:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return
        link.receive_data(data)
        for event in link.events():
            if isinstance(event, ApduReceived):
                address = link.client.upper if link.client is not None else 16
                session = sessions.setdefault(address, app.session(address))
                for apdu in app.handle(session, event.apdu):
                    os.write(fd, link.send_apdu(apdu))
        out = link.data_to_send()
        if out:
            os.write(fd, out)


class UdpWrapperMeter:
    """The application over UDP with the wrapper: one datagram per frame."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"udp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        sessions: dict = {}
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            frame = WrapperFrame.from_bytes(data)
            client = frame.source_wport
            session = sessions.setdefault((peer, client), self.app.session(client))
            for apdu in self.app.handle(session, frame.payload):
                self.sock.sendto(WrapperFrame(1, frame.destination_wport, client,
                                              apdu).to_bytes(), peer)

    def close(self) -> None:
        self.sock.close()


class WrapperMeter:
    """The same application over TCP with the wrapper, one thread per connection;
    with ``only_client``, frames from every other client wPort are ignored (as
    many wrapper meters do with addresses they do not serve)."""

    def __init__(self, app: Application, only_client: Optional[int] = None) -> None:
        self.app = app
        self.only_client = only_client
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        splitter = WrapperStreamSplitter()
        sessions: dict = {}
        with conn:
            while data := conn.recv(65536):
                for frame in splitter.feed(data):
                    client = frame.source_wport
                    if self.only_client is not None and client != self.only_client:
                        continue
                    session = sessions.setdefault(client, self.app.session(client))
                    for apdu in self.app.handle(session, frame.payload):
                        conn.sendall(WrapperFrame(1, frame.destination_wport, client,
                                                  apdu).to_bytes())

    def close(self) -> None:
        self.listener.close()
