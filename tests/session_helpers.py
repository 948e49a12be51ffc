"""A client session against a server session with no sockets (h11's ConnectionPair):
APDUs are handed over whole, and a tiny meter application answers the requests."""
from __future__ import annotations

from dlmsfast.apdu import ActionResult as ActionResultEnum
from dlmsfast.apdu import CosemAttributeDescriptor, DataAccessResult
from dlmsfast.axdr import Data, DataType
from dlmsfast.security import SecurityContext
from dlmsfast.session import (
    ActionListRequested,
    ActionRequested,
    AssociationSettings,
    AuthenticationPolicy,
    ClientAccess,
    ClientSession,
    GetListRequested,
    GetRequested,
    NeedToSend,
    ReadRequested,
    ServerSession,
    ServerSettings,
    SetListRequested,
    SetRequested,
    WriteRequested,
)

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
SERVER_TITLE = bytes.fromhex("4D4D4D0000BC614E")
PASSWORD = b"12345678"

ENERGY = CosemAttributeDescriptor(3, "1.0.1.8.0.255", 2)
PROFILE = CosemAttributeDescriptor(7, "1.0.99.1.0.255", 2)
UNKNOWN = CosemAttributeDescriptor(1, "0.0.99.99.99.255", 2)
DENIED = CosemAttributeDescriptor(15, "0.0.40.0.0.255", 7)


def profile_rows(n: int = 96) -> Data:
    return Data(DataType.ARRAY, tuple(
        Data(DataType.STRUCTURE, (
            Data(DataType.OCTET_STRING, bytes((0x07, 0xEA, 1, 1, 4, i // 4, 15 * (i % 4), 0,
                                               0, 0, 0, 0))),
            Data(DataType.UNSIGNED, 0),
            Data(DataType.DOUBLE_LONG_UNSIGNED, 1000 + 10 * i),
            Data(DataType.DOUBLE_LONG_UNSIGNED, 500 + 5 * i),
        )) for i in range(n)))


PROFILE_ROWS = profile_rows()


class Meter:
    """The application behind a ServerSession: a few objects, in memory."""

    def __init__(self) -> None:
        self.values = {
            ENERGY: Data(DataType.DOUBLE_LONG_UNSIGNED, 1960),
            PROFILE: PROFILE_ROWS,
            CosemAttributeDescriptor(1, "0.0.42.0.0.255", 2):
                Data(DataType.OCTET_STRING, b"MMM0000012345678"),
        }
        self.names = {0x0100: Data(DataType.LONG_UNSIGNED, 2301), 0x0200 + 8: PROFILE_ROWS}
        self.calls: list = []
        self.selections: list = []

    def get(self, descriptor, selection=None):
        self.selections.append(selection)
        if descriptor == DENIED:
            return DataAccessResult.READ_WRITE_DENIED
        return self.values.get(descriptor, DataAccessResult.OBJECT_UNDEFINED)

    def set(self, descriptor, value):
        if descriptor not in self.values:
            return DataAccessResult.OBJECT_UNDEFINED
        self.values[descriptor] = value
        return DataAccessResult.SUCCESS

    def answer(self, server: ServerSession, event) -> bytes | None:
        if isinstance(event, NeedToSend):
            return event.apdu
        if isinstance(event, GetRequested):
            return server.respond_get(event, self.get(event.descriptor, event.access_selection))
        if isinstance(event, GetListRequested):
            return server.respond_get(event, [self.get(i.cosem_attribute_descriptor)
                                              for i in event.items])
        if isinstance(event, SetRequested):
            return server.respond_set(event, self.set(event.descriptor, event.value))
        if isinstance(event, SetListRequested):
            return server.respond_set(event, [self.set(i.cosem_attribute_descriptor, v)
                                              for i, v in zip(event.items, event.values)])
        if isinstance(event, ActionRequested):
            self.calls.append((event.descriptor, event.parameters))
            if event.descriptor.method_id == 99:
                return server.respond_action(event, ActionResultEnum.OBJECT_UNDEFINED)
            return server.respond_action(event, ActionResultEnum.SUCCESS, event.parameters)
        if isinstance(event, ActionListRequested):
            self.calls.append((event.descriptors, event.parameters))
            return server.respond_action(event, [(ActionResultEnum.SUCCESS, p)
                                                 for p in event.parameters])
        if isinstance(event, ReadRequested):
            return server.respond_read(event, [self.names.get(n, DataAccessResult.OBJECT_UNDEFINED)
                                               for n in event.base_names])
        if isinstance(event, WriteRequested):
            for name, value in zip(event.base_names, event.values):
                self.names[name] = value
            return server.respond_write(event, [DataAccessResult.SUCCESS] * len(event.values))
        return None


def server_context() -> SecurityContext:
    # counters start at 1: dlms-cosem refuses a first invocation counter of 0
    return SecurityContext(system_title=SERVER_TITLE, block_cipher_key=EK, authentication_key=AK,
                           invocation_counter=1)


def client_settings(authentication="none", security="none", **kw) -> AssociationSettings:
    keys = {}
    if security != "none" or authentication in ("hls-gmac", "hls-sha256"):
        keys = {"system_title": CLIENT_TITLE, "block_cipher_key": EK, "authentication_key": AK}
    if authentication not in ("none", "hls-gmac") and "password" not in kw:
        kw["password"] = PASSWORD
    return AssociationSettings(authentication=authentication, security=security, **keys, **kw)


class Pair:
    """A ClientSession wired to a ServerSession and its Meter, APDUs handed whole."""

    def __init__(self, authentication="none", security="none", *, client=None,
                 server_pdu: int = 1024, access_security=None, server_password=PASSWORD,
                 client_address: int = 1, policy=None, server_logical_name=True,
                 server_conformance=None, **client_kw) -> None:
        self.client = ClientSession(client or client_settings(authentication, security,
                                                              **client_kw))
        self.server_context = server_context()
        policy = policy or AuthenticationPolicy([ClientAccess(
            client_address=client_address, authentication=authentication,
            password=server_password, security=access_security,
            security_context=self.server_context)])
        conformance = {} if server_conformance is None else {"conformance": server_conformance}
        self.server = ServerSession(
            ServerSettings(system_title=SERVER_TITLE, max_receive_pdu_size=server_pdu,
                           logical_name_referencing=server_logical_name, **conformance),
            policy, client_address=client_address)
        self.meter = Meter()
        self.to_server: list[bytes] = []
        self.to_client: list[bytes] = []
        self.server_events: list = []

    def serve(self, apdu: bytes) -> list[bytes]:
        """What the server sends back for one APDU."""
        self.to_server.append(apdu)
        replies = []
        for event in self.server.receive_apdu(apdu):
            self.server_events.append(event)
            reply = self.meter.answer(self.server, event)
            if reply is not None:
                replies.append(reply)
        self.to_client.extend(replies)
        return replies

    def exchange(self, apdu: bytes) -> list:
        """Send ``apdu``; run the follow-ups both ways; return the client's other events."""
        events, queue = [], [apdu]
        while queue:
            for reply in self.serve(queue.pop(0)):
                for event in self.client.receive_apdu(reply):
                    if isinstance(event, NeedToSend):
                        queue.append(event.apdu)
                    else:
                        events.append(event)
        return events

    def associate(self) -> list:
        return self.exchange(self.client.associate())
