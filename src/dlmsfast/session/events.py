"""What a session hands back from ``receive_apdu``: small frozen, slotted events.

Client role: :class:`NeedToSend` (an APDU the session made by itself: HLS pass 3,
get-request-next, the next block of a long SET or ACTION, the next with-list
batch; send it as it is, in order), :class:`Associated`, :class:`GetResult`,
:class:`GetListResult`, :class:`SetResult`, :class:`SetListResult`,
:class:`ActionResult`, :class:`ActionListResult`, :class:`ReadResult`,
:class:`WriteResult`, :class:`Released`, :class:`DataNotificationReceived`,
:class:`EventNotificationReceived`.

Server role: :class:`NeedToSend` (AARE, HLS pass 4, the next block of a long
answer, an exception-response, RLRE), :class:`Associated`,
:class:`AssociationRefused`, :class:`GetRequested`, :class:`GetListRequested`,
:class:`SetRequested`, :class:`SetListRequested`, :class:`ActionRequested`,
:class:`ActionListRequested`, :class:`ReadRequested`, :class:`WriteRequested`,
:class:`ReleaseRequested`, :class:`RequestRefused`.

A failure in a single-object answer is raised from ``receive_apdu`` (a
:class:`~dlmsfast.errors.DataAccessError` subclass naming the object); in a
with-list answer each failed item is a DataAccessError *instance* in the result
tuple, so that the other items are not lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..axdr import Data
from ..cosem.descriptors import (
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    SelectiveAccessDescriptor,
)
from ..errors import DlmsError



class Event:
    """Base of every session event."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class NeedToSend(Event):
    """An APDU the session made by itself; the caller must send it now, as it is."""

    apdu: bytes


# --- association ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Associated(Event):
    """The association is established (after HLS pass 3/4 where HLS is used).

    ``max_pdu_size`` is the largest APDU this side may send; ``conformance``
    the negotiated conformance block; ``peer_system_title`` the peer's title
    (None when it sent none); ``security`` the SC bits of the association
    (0, 0x10, 0x20, 0x30); ``client_address`` is set in the server role.
    """

    conformance: Any
    max_pdu_size: int
    peer_max_receive_pdu_size: int
    mechanism: Any
    security: int
    peer_system_title: bytes | None
    vaa_name: int
    client_address: int | None = None


@dataclass(frozen=True, slots=True)
class AssociationRefused(Event):
    """Server role: the AARQ was refused (the AARE saying why is in a NeedToSend).
    An AARQ during an association is refused this way too, and that association
    goes on as it was."""

    diagnostic: Any
    reason: str
    client_address: int | None = None


@dataclass(frozen=True, slots=True)
class ReleaseRequested(Event):
    """Server role: the client sent RLRQ; the RLRE is in the NeedToSend before it."""

    reason: Any


@dataclass(frozen=True, slots=True)
class Released(Event):
    """Client role: the RLRE arrived; the association is over."""

    reason: Any


# --- client results ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GetResult(Event):
    """``value`` a Data, or plain Python for a get asked with ``plain=True``."""

    invoke_id: int
    descriptor: CosemAttributeDescriptor
    value: Any


@dataclass(frozen=True, slots=True)
class GetListResult(Event):
    """One entry per descriptor asked, in order: a Data or a DataAccessError."""

    invoke_id: int
    descriptors: tuple[CosemAttributeDescriptorWithSelection, ...]
    values: tuple[Data | DlmsError, ...]


@dataclass(frozen=True, slots=True)
class SetResult(Event):
    invoke_id: int
    descriptor: CosemAttributeDescriptor


@dataclass(frozen=True, slots=True)
class SetListResult(Event):
    """One entry per descriptor: None for success, else a DataAccessError."""

    invoke_id: int
    descriptors: tuple[CosemAttributeDescriptorWithSelection, ...]
    results: tuple[DlmsError | None, ...]


@dataclass(frozen=True, slots=True)
class ActionResult(Event):
    """``return_value`` is the Data the method returned, or None."""

    invoke_id: int
    descriptor: CosemMethodDescriptor
    return_value: Data | None


@dataclass(frozen=True, slots=True)
class ActionListResult(Event):
    """One entry per method: its returned Data (or None), or a DataAccessError."""

    invoke_id: int
    descriptors: tuple[CosemMethodDescriptor, ...]
    results: tuple[Data | DlmsError | None, ...]


@dataclass(frozen=True, slots=True)
class ReadResult(Event):
    """Short-name read: one entry per variable name, a Data or a DataAccessError."""

    base_names: tuple[int, ...]
    values: tuple[Data | DlmsError, ...]


@dataclass(frozen=True, slots=True)
class WriteResult(Event):
    """Short-name write: one entry per variable name, None or a DataAccessError."""

    base_names: tuple[int, ...]
    results: tuple[DlmsError | None, ...]


@dataclass(frozen=True, slots=True)
class DataNotificationReceived(Event):
    long_invoke_id: int
    date_time: bytes | None
    body: Data


@dataclass(frozen=True, slots=True)
class EventNotificationReceived(Event):
    time: bytes | None
    descriptor: CosemAttributeDescriptor
    value: Data


# --- server requests -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class GetRequested(Event):
    invoke_id: int
    descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None


@dataclass(frozen=True, slots=True)
class GetListRequested(Event):
    invoke_id: int
    items: tuple[CosemAttributeDescriptorWithSelection, ...]


@dataclass(frozen=True, slots=True)
class SetRequested(Event):
    """A SET (reassembled first when the client sent it in datablocks)."""

    invoke_id: int
    descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None
    value: Data


@dataclass(frozen=True, slots=True)
class SetListRequested(Event):
    invoke_id: int
    items: tuple[CosemAttributeDescriptorWithSelection, ...]
    values: tuple[Data, ...]


@dataclass(frozen=True, slots=True)
class ActionRequested(Event):
    """A method call (reassembled first when the client sent it in pblocks)."""

    invoke_id: int
    descriptor: CosemMethodDescriptor
    parameters: Data | None


@dataclass(frozen=True, slots=True)
class ActionListRequested(Event):
    invoke_id: int
    descriptors: tuple[CosemMethodDescriptor, ...]
    parameters: tuple[Data, ...]


@dataclass(frozen=True, slots=True)
class ReadRequested(Event):
    """Short-name read: the base names (with the parameter of a parameterized access)."""

    base_names: tuple[int, ...]
    parameters: tuple[tuple[int, Data] | None, ...]


@dataclass(frozen=True, slots=True)
class WriteRequested(Event):
    base_names: tuple[int, ...]
    values: tuple[Data, ...]


@dataclass(frozen=True, slots=True)
class RequestRefused(Event):
    """Server role: a request could not be processed (bad tag, replayed counter,
    wrong state, malformed); the exception-response sent is in a NeedToSend
    before it, ``error`` says why."""

    error: DlmsError


__all__ = [
    "Event",
    "NeedToSend",
    "Associated",
    "AssociationRefused",
    "ReleaseRequested",
    "Released",
    "GetResult",
    "GetListResult",
    "SetResult",
    "SetListResult",
    "ActionResult",
    "ActionListResult",
    "ReadResult",
    "WriteResult",
    "DataNotificationReceived",
    "EventNotificationReceived",
    "GetRequested",
    "GetListRequested",
    "SetRequested",
    "SetListRequested",
    "ActionRequested",
    "ActionListRequested",
    "ReadRequested",
    "WriteRequested",
    "RequestRefused",
]
