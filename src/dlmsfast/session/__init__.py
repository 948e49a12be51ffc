"""The association, sans-IO: client and server roles of one state table
(:mod:`._state`), whole APDUs in, whole APDUs and events out; no sockets, clock
or logging. The link below (HDLC or the wrapper) delivers and carries whole APDUs.

Client role, :class:`ClientSession` (``AssociationSettings`` says how)::

    session = ClientSession(AssociationSettings(
        authentication="hls-gmac", security="authenc", system_title=...,
        block_cipher_key=..., authentication_key=..., invocation_counter=ic))
    send(session.associate())                      # AARQ
    events = session.receive_apdu(receive())       # AARE -> [NeedToSend(pass 3)] for HLS
    ...                                            #      -> [Associated(...)]
    send(session.get(CosemAttributeDescriptor(3, "1.0.1.8.0.255", 2)))
    events = session.receive_apdu(receive())       # [GetResult] or [NeedToSend(next block)]
    send(session.release())                        # RLRQ -> [Released]

Requests return the APDU to send: ``associate()``, ``get(descriptor,
selection=None)``, ``get_with_list(items)``, ``set(descriptor, value,
selection=None)``, ``set_with_list(items, values)``, ``action(descriptor,
parameters=None)``, ``action_with_list(descriptors, parameters)``,
``read(base_names, parameters=None)``, ``write(base_names, values)``,
``release()``; ``abort()`` forgets the association. ``receive_apdu(apdu)``
returns a list of events: every :class:`NeedToSend` in it must be sent, in
order, before anything else. A failed request raises from ``receive_apdu``
(ObjectUndefined / AccessDenied / ObjectAccessError for a data-access-result,
ServiceError for exception-response and confirmed-service-error,
AssociationRejected / AuthenticationFailed for the AARE, AuthenticationError
for HLS pass 4, SecurityError subclasses for protection, DecodeError and
ProtocolError for bad or unexpected bytes) and the session stays usable.

Server role, :class:`ServerSession`::

    session = ServerSession(ServerSettings(system_title=...), AuthenticationPolicy([
        ClientAccess(client_address=16),
        ClientAccess(client_address=1, authentication="hls-gmac", security_context=ctx)]),
        client_address=1)
    for event in session.receive_apdu(apdu):
        if isinstance(event, NeedToSend): send(event.apdu)    # AARE, pass 4, next block...
        elif isinstance(event, GetRequested): send(session.respond_get(event, value))

``respond_get(request, value_or_result)``, ``respond_set(request, result)``,
``respond_action(request, result, return_value)``, ``respond_read(request,
results)``, ``respond_write(request, results)`` return the answer, ciphered as
the request came, cut into blocks (or GBT blocks where granted) when longer than
the client accepts; ``data_notification(body)`` and
``event_notification(descriptor, value)`` make pushes to the associated client.
"""
from __future__ import annotations

from ._state import SERVICE_STATES, TRANSITIONS, Role, State, Trigger
from .client import REPLY_TO_HLS_AUTHENTICATION, ClientSession
from .errors import (
    AccessDenied,
    AuthenticationFailed,
    ObjectAccessError,
    ObjectUndefined,
)
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
from .sn import DataBlockResult, ReadRequest, ReadResponse, WriteRequest, WriteResponse

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
    "DataBlockResult",
    "ReadRequest",
    "ReadResponse",
    "WriteRequest",
    "WriteResponse",
    *_event_names,
]
