"""The association, sans-IO: client and server roles of one state table
(:mod:`._state`), bytes in, bytes and events out; no sockets, clock or logging.

Client::

    session = ClientSession(AssociationSettings(authentication="hls-gmac",
        security="authenc", system_title=..., block_cipher_key=...,
        authentication_key=...))
    send(session.associate())
    for event in session.receive_apdu(receive()):
        if isinstance(event, NeedToSend): send(event.apdu)   # HLS pass 3
    ...
    send(session.get(CosemAttributeDescriptor(3, "1.0.1.8.0.255", 2)))
    events = session.receive_apdu(receive())   # GetResult, or NeedToSend (next block)

Server::

    session = ServerSession(ServerSettings(system_title=...), AuthenticationPolicy([...]),
                            client_address=1)
    for event in session.receive_apdu(apdu):
        if isinstance(event, NeedToSend): send(event.apdu)
        elif isinstance(event, GetRequested): send(session.respond_get(event, value))

The layers below deliver whole APDUs (the HDLC link or the wrapper); what the
session returns is whole APDUs too.
"""
from __future__ import annotations

from ._state import SERVICE_STATES, TRANSITIONS, Role, State, Trigger
from .client import REPLY_TO_HLS_AUTHENTICATION, ClientSession
from .errors import AccessDenied, AuthenticationFailed, ObjectAccessError, ObjectUndefined
from .events import *  # noqa: F401,F403  (the events are the package's API)
from .events import __all__ as _event_names
from .server import ServerSession
from .settings import (
    DEFAULT_CONFORMANCE,
    DEFAULT_SN_CONFORMANCE,
    AssociationSettings,
    AuthenticationPolicy,
    ClientAccess,
    ServerSettings,
)
from .sn import ReadRequest, ReadResponse, WriteRequest, WriteResponse

__all__ = [
    "ClientSession",
    "ServerSession",
    "AssociationSettings",
    "AuthenticationPolicy",
    "ClientAccess",
    "ServerSettings",
    "DEFAULT_CONFORMANCE",
    "DEFAULT_SN_CONFORMANCE",
    "REPLY_TO_HLS_AUTHENTICATION",
    "Role",
    "State",
    "Trigger",
    "TRANSITIONS",
    "SERVICE_STATES",
    "AccessDenied",
    "AuthenticationFailed",
    "ObjectAccessError",
    "ObjectUndefined",
    "ReadRequest",
    "ReadResponse",
    "WriteRequest",
    "WriteResponse",
    *_event_names,
]
