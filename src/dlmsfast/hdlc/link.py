"""The HDLC link of IEC 62056-46, sans-IO: client (primary) and server (secondary) roles.

This module owns the link state: SNRM/UA parameter negotiation, I-frame
N(S)/N(R) sequencing, windows, segmentation of long APDUs and their
reassembly, RR/RNR, DISC/UA/DM, FRMR, UI frames and the retry count of
timeouts. It owns no socket and no clock: bytes go in, bytes and events
come out, and the transport says when a timer ran out.

Rules of the link (the table ``TRANSITIONS`` below states them as data):

- The client (primary) speaks first: SNRM opens the link, DISC closes it. The
  server (secondary) answers: UA with the negotiated parameters, or DM when
  it is disconnected. A new SNRM resets the link (sequence numbers to 0).
- In normal response mode the station that holds the poll/final (P/F) bit
  may send. The last frame of a window carries it; the other side answers
  only after that frame.
- An APDU longer than the negotiated maximum information field is sent in
  several I-frames; every frame but the last has the segmentation bit set.
  The receiver answers the window's last segment with RR, which asks for the
  next window. Only the first segment carries the LLC header.
- N(R) in an I, RR or RNR frame acknowledges every frame before it. When it
  acknowledges fewer frames than were sent, the sender goes back and sends
  the unacknowledged ones again (go-back-N). A frame whose N(S) is not the
  expected one is dropped (a repeat or a frame after a lost one).
- One F=1 answers one P=1. The client acts on an F only while its poll is
  due, and on a given RR answer once: a late answer and the answer to the
  poll that followed it must not both send the window again.
- A timeout (the transport calls :meth:`HdlcLink.timeout`) makes the client
  send its last unanswered command again (SNRM, DISC) or poll with RR; the
  server's answer to the poll brings back whatever was lost. After
  ``max_retries`` such tries the link is given up (``LinkTimeout``). For the
  server a timeout is the inactivity timeout: the link is dropped.
- An input the table does not list for the current state is a fault of the
  peer: the client raises :class:`ProtocolError`, the server answers FRMR and
  waits for SNRM or DISC.

API (names are stable: the transport and the session code against them)::

    link = HdlcLink(role="client", client_address=16, server_address=1,
                    server_physical=None, address_size=None,
                    parameters=HdlcParameters(...), max_retries=3,
                    max_apdu_length=1 << 20)
    transport.write(link.connect())             # SNRM           (client)
    link.receive_data(octets)                   # any chunk of the received stream
    for event in link.events(): ...             # or next_event() until NEED_DATA
    transport.write(link.data_to_send())        # RR, UA, DM, FRMR, retransmissions
    transport.write(link.send_apdu(apdu))       # I-frames of the first window (both roles)
    transport.write(link.send_ui(apdu))         # one UI frame (pushed data)
    if link.awaiting_answer: ...                # arm the response timer (client)
    transport.write(link.timeout())             # the transport's timer ran out
    transport.write(link.disconnect())          # DISC           (client)

Received frames are taken in as they are asked for: call :meth:`HdlcLink.data_to_send`
after draining the events, since processing a frame is what makes the answer.
:meth:`HdlcLink.events` delivers the events that came before a fault, then
raises it on the next call.

Events: :class:`Connected` (negotiated parameters, this station's view:
transmit = what it sends), :class:`ApduReceived`, :class:`UnnumberedInformation`
(UI frames: pushed data), :class:`Disconnected`, :class:`LinkTimeout`.
Remote faults raise from :meth:`HdlcLink.next_event`: :class:`FrameRejectError`
(FRMR), :class:`DisconnectedModeError` (DM), :class:`ProtocolError` (an
unexpected frame), :class:`DecodeError` (malformed UA parameters, an APDU
without its LLC header); after one
the client link is DISCONNECTED and may connect again. Local misuse raises
:class:`LocalProtocolError`. Frames with a bad HCS/FCS, and garbage, are
dropped and counted (``bad_frames``, ``discarded_bytes``); frames for or from
other addresses are ignored (``foreign_frames``); I-frames with an unexpected
N(S) are dropped (``repeated_frames``). ``state`` is a :class:`LinkState`,
``parameters`` the negotiated :class:`HdlcParameters` once connected.

The information field is capped at what an 11-bit length field can carry
(2,047 octets per frame, so 2,037 with a 2-octet server address) whatever
was negotiated.

An exchange as the link makes it (window 2, a request in 3 segments; frame
layout in :mod:`dlmsfast.hdlc`)::

    client                                     server
    I  N(S)=0 N(R)=0 P=0 S=1  E6 E6 00 apdu[..]  ->
    I  N(S)=1 N(R)=0 P=1 S=1  apdu[..]           ->
                                              <-  RR N(R)=2 F=1
    I  N(S)=2 N(R)=0 P=1 S=0  apdu[..]           ->
                                              <-  I N(S)=0 N(R)=3 F=1 S=0 E6 E7 00 response
"""
from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Optional, Union

from .._util import octets_argument, shown
from ..errors import (
    DecodeError,
    EncodeError,
    LocalProtocolError,
    ProtocolError,
    RemoteError,
    UsageError,
)
from . import LLC_COMMAND, LLC_RESPONSE, HdlcParameters
from ._hdlc import FrameKind, HdlcAddress, HdlcLinkSplitter, address_key, build_frames

Buffer = Union[bytes, bytearray, memoryview]

DEFAULT_MAX_RETRIES = 3
MAX_FRAME_LENGTH = 0x7FF
# A reassembled APDU larger than this is refused: the peer could otherwise
# make the link hold any amount of memory with endless segments.
DEFAULT_MAX_APDU_LENGTH = 1 << 20

# FRMR information field (ISO/IEC 13239): rejected control, V(R)/V(S), W X Y Z flags.
FRMR_W_INVALID_CONTROL = 0x01
FRMR_X_INFORMATION_NOT_PERMITTED = 0x02
FRMR_Y_INFORMATION_TOO_LONG = 0x04
FRMR_Z_INVALID_NR = 0x08


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Connected:
    """The link is up; ``parameters`` as this station uses them (transmit = what it sends)."""

    parameters: HdlcParameters


@dataclass(frozen=True, slots=True)
class ApduReceived:
    """A whole APDU (LLC header removed, segments joined)."""

    apdu: bytes


@dataclass(frozen=True, slots=True)
class UnnumberedInformation:
    """An APDU that came in UI frames (pushed data), LLC header removed where present."""

    apdu: bytes


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The link is down: DISC answered (client), or DISC received (server)."""


@dataclass(frozen=True, slots=True)
class LinkTimeout:
    """The peer stayed silent through ``retries`` timeouts; the link is given up."""

    retries: int


Event = Union[Connected, ApduReceived, UnnumberedInformation, Disconnected, LinkTimeout]


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()
"""Returned by :meth:`HdlcLink.next_event` when no event can be made without more octets."""


# --------------------------------------------------------------------------- errors


class FrameRejectError(ProtocolError):
    """The peer answered FRMR: it rejected a frame; ``information`` is the FRMR field."""

    def __init__(self, message: str, information: bytes = b"") -> None:
        super().__init__(message)
        self.information = information

    def __reduce__(self):
        return (type(self), (self.args[0], self.information))


class DisconnectedModeError(ProtocolError):
    """The server answered DM: it is in disconnected mode (refused SNRM or dropped the link)."""


# --------------------------------------------------------------------------- the state table


class LinkState(enum.Enum):
    """The state of an :class:`HdlcLink` (``link.state``), from one station's view."""

    # Members are singletons compared by identity: the identity hash keeps the
    # table look-ups per frame off enum's Python-level __hash__.
    __hash__ = object.__hash__

    DISCONNECTED = "disconnected"      # no link (NDM)
    CONNECTING = "connecting"          # client: SNRM sent, UA awaited
    IDLE = "idle"                      # linked; the client may send, the server waits
    SENDING = "sending"                # segments of our APDU wait for the peer's RR
    AWAITING_RESPONSE = "awaiting"     # client: request sent, response (segments) awaited
    RECEIVING = "receiving"            # server: segments of a request arriving
    RESPONDING = "responding"          # server: request delivered, the response is owed
    DISCONNECTING = "disconnecting"    # client: DISC sent, UA or DM awaited
    FRAME_REJECT = "frame-reject"      # server: FRMR sent, only SNRM or DISC clear it


class LinkInput(enum.Enum):
    __hash__ = object.__hash__

    CONNECT = "connect"
    DISCONNECT = "disconnect"
    SEND_PART = "send-part"        # a window went out, segments remain
    SEND_LAST = "send-last"        # the window held the APDU's last segment
    TIMEOUT = "timeout"
    SNRM = "SNRM"
    DISC = "DISC"
    UA = "UA"
    DM = "DM"
    FRMR = "FRMR"
    UI = "UI"
    RR = "RR"
    RNR = "RNR"
    I_SEGMENT = "I-segment"        # I-frame with the segmentation bit
    I_LAST = "I-last"              # I-frame ending an APDU


IGNORE = "ignore"
"""Table value: the input is dropped in this state (a late or repeated frame)."""

_S, _I = LinkState, LinkInput


def _stay(state: LinkState, *inputs: LinkInput) -> dict:
    return {symbol: state for symbol in inputs}


def _ignore(*inputs: LinkInput) -> dict:
    return {symbol: IGNORE for symbol in inputs}


# Rows every linked state shares: the client may close, the server may be reset or closed.
_CLIENT_LINKED = {_I.DISCONNECT: _S.DISCONNECTING, _I.DM: _S.DISCONNECTED,
                  _I.FRMR: _S.DISCONNECTED, **_ignore(_I.UA)}
_SERVER_LINKED = {_I.SNRM: _S.IDLE, _I.DISC: _S.DISCONNECTED, _I.TIMEOUT: _S.DISCONNECTED}

# TRANSITIONS[role][state][input] -> next state (or IGNORE). Not listed: a fault.
TRANSITIONS: dict[str, dict[LinkState, dict[LinkInput, object]]] = {
    "client": {
        _S.DISCONNECTED: {
            _I.CONNECT: _S.CONNECTING, **_stay(_S.DISCONNECTED, _I.UI, _I.TIMEOUT),
            **_ignore(_I.UA, _I.DM, _I.RR, _I.RNR, _I.I_SEGMENT, _I.I_LAST, _I.FRMR),
        },
        _S.CONNECTING: {
            _I.UA: _S.IDLE, _I.DM: _S.DISCONNECTED, _I.FRMR: _S.DISCONNECTED,
            _I.DISCONNECT: _S.DISCONNECTING, **_stay(_S.CONNECTING, _I.TIMEOUT, _I.UI),
            **_ignore(_I.RR, _I.RNR, _I.I_SEGMENT, _I.I_LAST),
        },
        _S.IDLE: {
            **_CLIENT_LINKED, _I.SEND_LAST: _S.AWAITING_RESPONSE, _I.SEND_PART: _S.SENDING,
            _I.CONNECT: _S.CONNECTING, **_stay(_S.IDLE, _I.RR, _I.RNR, _I.UI, _I.TIMEOUT),
        },
        _S.SENDING: {
            **_CLIENT_LINKED, _I.SEND_LAST: _S.AWAITING_RESPONSE,
            **_stay(_S.SENDING, _I.SEND_PART, _I.RR, _I.RNR, _I.UI, _I.TIMEOUT),
        },
        _S.AWAITING_RESPONSE: {
            **_CLIENT_LINKED, _I.I_LAST: _S.IDLE,
            **_stay(_S.AWAITING_RESPONSE, _I.I_SEGMENT, _I.RR, _I.RNR, _I.UI, _I.TIMEOUT),
        },
        _S.DISCONNECTING: {
            _I.UA: _S.DISCONNECTED, _I.DM: _S.DISCONNECTED,
            **_stay(_S.DISCONNECTING, _I.TIMEOUT, _I.UI),
            **_ignore(_I.RR, _I.RNR, _I.I_SEGMENT, _I.I_LAST, _I.FRMR),
        },
    },
    "server": {
        _S.DISCONNECTED: {
            _I.SNRM: _S.IDLE,
            # DISC, I, RR, RNR in disconnected mode are answered DM (see _process).
            **_stay(_S.DISCONNECTED, _I.DISC, _I.UI, _I.TIMEOUT,
                    _I.I_SEGMENT, _I.I_LAST, _I.RR, _I.RNR),
        },
        _S.IDLE: {
            **_SERVER_LINKED, _I.I_SEGMENT: _S.RECEIVING, _I.I_LAST: _S.RESPONDING,
            **_stay(_S.IDLE, _I.RR, _I.RNR, _I.UI),
        },
        _S.RECEIVING: {
            **_SERVER_LINKED, _I.I_LAST: _S.RESPONDING,
            **_stay(_S.RECEIVING, _I.I_SEGMENT, _I.RR, _I.RNR, _I.UI),
        },
        _S.RESPONDING: {
            **_SERVER_LINKED, _I.SEND_LAST: _S.IDLE, _I.SEND_PART: _S.SENDING,
            **_stay(_S.RESPONDING, _I.RR, _I.RNR, _I.UI),
        },
        _S.SENDING: {
            **_SERVER_LINKED, _I.SEND_LAST: _S.IDLE,
            **_stay(_S.SENDING, _I.SEND_PART, _I.RR, _I.RNR, _I.UI),
        },
        _S.FRAME_REJECT: {
            # Anything but SNRM or DISC is answered with the FRMR again (see _process).
            **_SERVER_LINKED,
            **_stay(_S.FRAME_REJECT, _I.I_SEGMENT, _I.I_LAST, _I.RR, _I.RNR, _I.UI),
        },
    },
}
del _S, _I

_INPUT_OF_U = {
    FrameKind.SNRM: LinkInput.SNRM,
    FrameKind.DISC: LinkInput.DISC,
    FrameKind.UA: LinkInput.UA,
    FrameKind.DM: LinkInput.DM,
    FrameKind.FRMR: LinkInput.FRMR,
    FrameKind.UI: LinkInput.UI,
}


def _input_of(control: int, segmented: bool) -> Optional[LinkInput]:
    if control & 0x01 == 0:
        return LinkInput.I_SEGMENT if segmented else LinkInput.I_LAST
    if control & 0x0F == 0x01:
        return LinkInput.RR
    if control & 0x0F == 0x05:
        return LinkInput.RNR
    return _INPUT_OF_U.get(control & 0xEF)


_INPUTS = [_input_of(c, False) for c in range(256)]
_INPUTS_SEGMENTED = [_input_of(c, True) for c in range(256)]

_LLC_BYTES = (b"", LLC_COMMAND, LLC_RESPONSE)

_AWAITING = frozenset({
    LinkState.CONNECTING, LinkState.SENDING, LinkState.AWAITING_RESPONSE, LinkState.DISCONNECTING,
})

# States in which I-frames are numbered: an unexpected N(S) there is a repeat.
_IN_SEQUENCE = frozenset({
    LinkState.IDLE, LinkState.SENDING, LinkState.AWAITING_RESPONSE,
    LinkState.RECEIVING, LinkState.RESPONDING,
})


# --------------------------------------------------------------------------- the link


class HdlcLink:
    """One HDLC link between a client and a server, in either role (see the module docstring).

    ``parameters`` are what this station proposes (client) or can do (server),
    from its own point of view; absent ones take the HDLC defaults (128
    octets, window 1). ``server_physical`` and ``address_size`` choose the
    server address form (1, 2 or 4 octets). A server made with
    ``client_address=None`` serves the client of the first SNRM it gets.
    """

    def __init__(
        self,
        role: str = "client",
        client_address: Optional[int] = 16,
        server_address: int = 1,
        server_physical: Optional[int] = None,
        address_size: Optional[int] = None,
        parameters: Optional[HdlcParameters] = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_apdu_length: int = DEFAULT_MAX_APDU_LENGTH,
    ) -> None:
        if not isinstance(role, str) or role not in TRANSITIONS:
            raise UsageError(f"role must be 'client' or 'server', got {shown(role)}")
        if parameters is None:
            parameters = HdlcParameters()
        elif not isinstance(parameters, HdlcParameters):
            raise UsageError(f"parameters must be HdlcParameters, got {type(parameters).__name__}")
        for name, value, least in (("max_retries", max_retries, 0), ("max_apdu_length", max_apdu_length, 1)):
            if type(value) is not int or value < least:
                raise UsageError(f"{name} must be an int >= {least}, got {shown(value)}")
        if client_address is None and role == "client":
            raise UsageError("a client link needs its client_address (SAP)")
        if address_size is not None and server_physical is None and address_size != 1:
            raise UsageError(f"a {shown(address_size)}-octet server address needs server_physical")
        self.role = role
        self._is_client = role == "client"
        self.server = HdlcAddress.server(server_address, server_physical, address_size)
        self.client = None if client_address is None else HdlcAddress(client_address, None, 1)
        self.proposed = parameters
        self.max_retries = max_retries
        self.max_apdu_length = max_apdu_length
        self._table = TRANSITIONS[role]
        own = self.client if role == "client" else self.server
        self._splitter = HdlcLinkSplitter(own)
        self._llc_out = LLC_COMMAND if role == "client" else LLC_RESPONSE
        self.state = LinkState.DISCONNECTED
        self.parameters: Optional[HdlcParameters] = None
        self._foreign_sources = 0
        self.repeated_frames = 0
        # frames that carried an exchange on: the transport extends a wait
        # while they come (see ``progress``)
        self._progress = 0
        self._frames: deque = deque()
        self._events: deque = deque()
        self._out = bytearray()
        self._retries = 0
        self._frmr = b""
        self._error: Optional[RemoteError] = None
        self._bind_peer()
        self._reset_sequence()
        self._any_client = client_address is None
        self._source = 0
        self._set_limits(parameters.resolved())

    # ------------------------------------------------------------------ public API

    @property
    def bad_frames(self) -> int:
        """Frames dropped for a bad HCS, FCS, flag or structure."""
        return self._splitter.bad_frames

    @property
    def discarded_bytes(self) -> int:
        """Octets dropped as garbage or as parts of bad frames."""
        return self._splitter.discarded_bytes

    @property
    def foreign_frames(self) -> int:
        """Valid frames ignored because they were for, or from, another address."""
        return self._splitter.foreign_frames + self._foreign_sources

    @property
    def progress(self) -> int:
        """A count of the frames that moved an APDU on: a segment taken in
        sequence (not the last: that one completes the APDU), an RR that asked
        for the next window of ours. Repeats, UI frames and frames of other
        addresses do not count: a transport may extend a wait while it grows."""
        return self._progress

    @property
    def awaiting_answer(self) -> bool:
        """Whether the client waits for the server (the transport's response timer runs)."""
        return self.state in _AWAITING

    def __repr__(self) -> str:
        return (f"HdlcLink(role={self.role!r}, state={self.state.value}, "
                f"client={self.client!r}, server={self.server!r})")

    def connect(self) -> bytes:
        """Client: the SNRM frame that opens (or resets) the link, with the proposed parameters."""
        self._require_role("client", "connect")
        self._local(LinkInput.CONNECT)
        self._reset_sequence()
        self._retries = 0
        return self._snrm()

    def disconnect(self) -> bytes:
        """Client: the DISC frame that closes the link."""
        self._require_role("client", "disconnect")
        self._local(LinkInput.DISCONNECT)
        self._retries = 0
        return self._u_frame(FrameKind.DISC)

    def send_apdu(self, apdu: Buffer) -> bytes:
        """The I-frames of the first window of ``apdu`` (LLC header added, segmented as needed).

        The rest of a long APDU goes out window by window as the peer's RR
        frames ask for it (:meth:`data_to_send`). The client may send when
        the link is idle, the server when it owes a response.
        """
        payload = self._llc_out + octets_argument(apdu, "apdu")
        if self._table[self.state].get(LinkInput.SEND_LAST) in (None, IGNORE):
            raise LocalProtocolError(
                f"HDLC {self.role} link cannot send an APDU in state {self.state.value}"
            )
        size = self._tx_info
        if len(payload) <= size:
            self._queue.append((payload, False))
        else:
            view = memoryview(payload)
            last = len(payload) - 1
            for start in range(0, len(payload), size):
                self._queue.append((view[start:start + size], start + size <= last))
        self._acted_nr = -1
        return self._send_window(resend=False)

    def send_ui(self, apdu: Buffer) -> bytes:
        """One UI frame carrying ``apdu`` with the LLC header (pushed data; no state changes)."""
        payload = self._llc_out + octets_argument(apdu, "apdu")
        if self._peer is None:
            raise LocalProtocolError("this server link has no client address to send UI frames to yet")
        if len(payload) > self._tx_info:
            raise EncodeError(
                f"a UI frame carries at most {self._tx_info} octets, the APDU with LLC has {len(payload)}"
            )
        return build_frames(self._peer, self._own, [(int(FrameKind.UI), payload, False)])

    def receive_data(self, data: Buffer) -> None:
        """Take received octets (any chunk of the stream); events come from :meth:`next_event`."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"received data must be bytes-like, got {type(data).__name__}")
        self._frames.extend(self._splitter.feed(data))

    def next_event(self) -> Union[Event, _NeedData]:
        """The next event, or NEED_DATA; raises on a remote fault (see the module docstring)."""
        events = self._events
        frames = self._frames
        if self._error is not None and not events:
            error, self._error = self._error, None
            raise error
        while not events:
            if not frames:
                return NEED_DATA
            self._process(frames.popleft())
        return events.popleft()

    def events(self) -> list[Event]:
        """Every event the received octets make now (a list, possibly empty)."""
        out: list = []
        while True:
            try:
                event = self.next_event()
            except RemoteError as error:
                if not out:
                    raise
                # The events before the fault are delivered first; the next call raises.
                self._error = error
                return out
            if event is NEED_DATA:
                return out
            out.append(event)

    def data_to_send(self) -> bytes:
        """Octets the link produced by itself (RR, UA, DM, FRMR, retransmissions); then cleared."""
        out = bytes(self._out)
        self._out.clear()
        return out

    def timeout(self) -> bytes:
        """The transport's response (client) or inactivity (server) timer ran out.

        Client: returns the SNRM or DISC again, or an RR poll, up to
        ``max_retries`` times; then the link is given up with a
        :class:`LinkTimeout` event and ``b""``. Server: the link is dropped
        (a :class:`LinkTimeout` event when it was up).
        """
        state = self.state
        if self.role == "server" or state in (LinkState.DISCONNECTED, LinkState.IDLE):
            if state is not LinkState.DISCONNECTED and self.role == "server":
                self._give_up(0)
            return b""
        self._retries += 1
        if self._retries > self.max_retries:
            self._give_up(self.max_retries)
            return b""
        self._local(LinkInput.TIMEOUT)
        self._acted_nr = -1
        if state is LinkState.CONNECTING:
            return self._snrm()
        if state is LinkState.DISCONNECTING:
            return self._u_frame(FrameKind.DISC)
        return self._supervisory(0x01, True)

    # ------------------------------------------------------------------ state

    def _require_role(self, role: str, what: str) -> None:
        if self.role != role:
            raise LocalProtocolError(f"{what}() is for the {role} role; this link is a {self.role}")

    def _local(self, symbol: LinkInput) -> None:
        """Apply a local input; refusing it is the caller's mistake."""
        nxt = self._table[self.state].get(symbol)
        if nxt is None or nxt is IGNORE:
            raise LocalProtocolError(
                f"HDLC {self.role} link cannot {symbol.value} in state {self.state.value}"
            )
        self.state = nxt  # type: ignore[assignment]

    def _bind_peer(self) -> None:
        if self.role == "client":
            self._own, self._peer = self.client, self.server
        else:
            self._own, self._peer = self.server, self.client
        self._peer_key = None if self._peer is None else address_key(self._peer)

    def _reset_sequence(self) -> None:
        self._vs = 0
        self._vr = 0
        self._unacked: list = []      # (ns, info, segmented) sent and not acknowledged
        self._queue: deque = deque()  # (info, segmented) not sent yet
        self._parts: list = []        # received segments of the APDU being reassembled
        self._received = 0
        self._ui_parts: list = []
        self._peer_busy = False
        self._polled = False          # client: a P=1 frame went out and its F=1 answer is due
        self._acted_nr = -1           # client: the N(R) of the last RR answer acted upon

    def _set_limits(self, own: HdlcParameters) -> None:
        # The 11-bit length field caps a frame at 2047 octets whatever was negotiated.
        # (format 2, control 1, HCS 2, FCS 2, a 1-octet client address, the server address)
        room = MAX_FRAME_LENGTH - 8 - self.server.size
        self._tx_info = min(own.max_info_field_length_transmit, room)
        self._rx_info = own.max_info_field_length_receive
        self._tx_window = own.window_size_transmit
        self._rx_window = own.window_size_receive

    def _give_up(self, retries: int) -> None:
        self.state = LinkState.DISCONNECTED
        self._reset_sequence()
        self._events.append(LinkTimeout(retries))

    # ------------------------------------------------------------------ frames out

    def _u_frame(self, kind: FrameKind, information: bytes = b"", final: bool = True) -> bytes:
        return build_frames(self._peer, self._own, [(int(kind) | (0x10 if final else 0), information, False)])

    def _supervisory(self, base: int, poll: bool) -> bytes:
        if poll and self._is_client:
            self._polled = True
        return build_frames(self._peer, self._own, [(base | (self._vr << 5) | (0x10 if poll else 0), b"", False)])

    def _snrm(self) -> bytes:
        information = self.proposed.to_bytes() if self.proposed != HdlcParameters() else b""
        return self._u_frame(FrameKind.SNRM, information)

    def _send_window(self, resend: bool) -> bytes:
        """Frames to send now: the unacknowledged ones again when ``resend``, then
        new segments while the window has room; P/F on the last one."""
        unacked, queue = self._unacked, self._queue
        window = list(unacked) if resend else []
        room = 0 if self._peer_busy else self._tx_window - len(unacked)
        if queue and room > 0:
            vs = self._vs
            while queue and room > 0:
                info, segmented = queue.popleft()
                sent = (vs, info, segmented)
                unacked.append(sent)
                window.append(sent)
                vs = (vs + 1) & 7
                room -= 1
            self._vs = vs
            self._local(LinkInput.SEND_PART if queue else LinkInput.SEND_LAST)
        if not window:
            return b""
        if self._is_client:
            self._polled = True
        vr = self._vr << 5
        frames = [(vr | (ns << 1), info, segmented) for ns, info, segmented in window]
        control, info, segmented = frames[-1]
        frames[-1] = (control | 0x10, info, segmented)  # P/F on the window's last frame
        return build_frames(self._peer, self._own, frames)

    # ------------------------------------------------------------------ frames in

    def _process(self, frame: tuple) -> None:
        control, segmented, source, information, llc = frame
        if source != self._peer_key:
            if not (self._peer_key is None and control & 0xEF == int(FrameKind.SNRM)):
                self._foreign_sources += 1
                return
        self._source = source
        if control & 0x10 and self._is_client:
            # One F=1 answers one P=1: an F beyond that (a repeat) moves nothing.
            if not self._polled:
                control &= 0xEF
            self._polled = False
        symbol = (_INPUTS_SEGMENTED if segmented else _INPUTS)[control]
        state = self.state
        numbered = symbol is LinkInput.I_SEGMENT or symbol is LinkInput.I_LAST
        if numbered and state in _IN_SEQUENCE and (control >> 1) & 7 != self._vr:
            self._on_repeated(control)
            return
        nxt = self._table[state].get(symbol)
        if nxt is IGNORE:
            return
        if nxt is None:
            self._fault(f"unexpected {symbol.value} frame in state {state.value}",
                        control, FRMR_W_INVALID_CONTROL)
            return
        self._retries = 0
        poll = bool(control & 0x10)
        if state is LinkState.FRAME_REJECT and symbol not in (LinkInput.SNRM, LinkInput.DISC):
            if poll:
                self._out += self._u_frame(FrameKind.FRMR, self._frmr)
            return
        if numbered:
            self._on_information(control, segmented, information, llc, poll, nxt)
        elif symbol is LinkInput.RR or symbol is LinkInput.RNR:
            self._on_supervisory(control, symbol is LinkInput.RNR, poll, nxt)
        elif symbol is LinkInput.UI:
            self._on_ui(segmented, information, llc)
        else:
            getattr(self, "_on_" + symbol.name.lower())(information, poll, nxt)

    def _fault(self, reason: str, control: int, flags: int, error: type = ProtocolError) -> None:
        """A frame breaks the protocol (``error``: ProtocolError, or DecodeError for a
        malformed field): the server answers FRMR, the client raises."""
        if self._is_client:
            self.state = LinkState.DISCONNECTED
            self._reset_sequence()
            raise error(f"HDLC server sent an {reason}")
        if self.state is LinkState.DISCONNECTED:
            if control & 0x10:
                self._out += self._u_frame(FrameKind.DM)
            return
        self._frmr = bytes((control, (self._vr << 5) | (self._vs << 1), flags))
        self.state = LinkState.FRAME_REJECT
        self._out += self._u_frame(FrameKind.FRMR, self._frmr)

    def _acknowledge(self, control: int) -> bool:
        """Drop the frames that N(R) acknowledges; False (after _fault) when N(R) is invalid."""
        nr = control >> 5
        outstanding = (self._vs - nr) & 7
        if outstanding > len(self._unacked):
            self._fault(f"N(R)={nr} acknowledging frames never sent (V(S)={self._vs})",
                        control, FRMR_Z_INVALID_NR)
            return False
        if outstanding < len(self._unacked):
            del self._unacked[: len(self._unacked) - outstanding]
        return True

    def _on_information(self, control, segmented, information, llc, poll, nxt) -> None:
        if self.state is LinkState.DISCONNECTED:
            if poll:
                self._out += self._u_frame(FrameKind.DM)
            return
        if not self._acknowledge(control):
            return
        first = not self._parts
        if llc and not first:
            information = _LLC_BYTES[llc] + information
        elif first and not llc:
            self._fault("I-frame starting an APDU without the LLC header (E6 E6 00 / E6 E7 00)",
                        control, FRMR_X_INFORMATION_NOT_PERMITTED, DecodeError)
            return
        if len(information) + (3 if llc and first else 0) > self._rx_info:
            self._fault(f"I-frame information field of {len(information)} octets "
                        f"(negotiated maximum {self._rx_info})", control, FRMR_Y_INFORMATION_TOO_LONG)
            return
        self._received += len(information)
        if self._received > self.max_apdu_length:
            self._fault(f"APDU longer than {self.max_apdu_length} octets in segments",
                        control, FRMR_Y_INFORMATION_TOO_LONG)
            return
        self._vr = (self._vr + 1) & 7
        self.state = nxt
        if segmented:
            self._parts.append(information)
            self._progress += 1
            if poll:
                self._out += self._supervisory(0x01, True)
            return
        parts = self._parts
        if parts:
            parts.append(information)
            information = b"".join(parts)
            self._parts = []
        self._received = 0
        self._events.append(ApduReceived(information))

    def _on_repeated(self, control: int) -> None:
        """An I-frame whose N(S) is not the expected one: a repeat, or a frame
        after a lost one. It is dropped; the answer to its poll tells the sender
        where to resume. Its N(R) may be older than what we know, so an N(R)
        that no longer fits is not a fault here."""
        self.repeated_frames += 1
        self._retries = 0
        if (self._vs - (control >> 5)) & 7 <= len(self._unacked):
            self._acknowledge(control)
        if self.role == "client" and (control >> 1) & 7 == (self._vr - 1) & 7:
            # The repeat of the frame just taken (whose F was answered then): the
            # poll that our answer made stays due.
            if control & 0x10:
                self._polled = True
            return
        if control & 0x10:
            self._answer_poll()

    def _answer_poll(self) -> None:
        """Answer a poll: go back to the first unacknowledged frame, else send
        the next window, else say where our receive sequence stands."""
        if self._unacked or (self._queue and not self._peer_busy):
            self._out += self._send_window(resend=True)
        else:
            self._out += self._supervisory(0x01, True)

    def _on_supervisory(self, control: int, busy: bool, poll: bool, nxt) -> None:
        if self.state is LinkState.DISCONNECTED:
            if poll and self.role == "server":
                self._out += self._u_frame(FrameKind.DM)
            return
        if not self._acknowledge(control):
            return
        self._peer_busy = busy
        self.state = nxt
        if self.role == "server":
            if poll:
                self._answer_poll()
        elif poll:
            # The server's final RR: it has what it acknowledged; resend the rest, or go on.
            # The same answer twice (a late one and the answer to a repeated
            # poll) is acted on once, or each would send the window again.
            nr = control >> 5
            if nr != self._acted_nr and (self._unacked or self._queue):
                self._acted_nr = nr
                self._progress += 1
                self._out += self._send_window(resend=True)

    def _on_ui(self, segmented: bool, information: bytes, llc: int) -> None:
        if llc and self._ui_parts:
            information = _LLC_BYTES[llc] + information
        self._ui_parts.append(information)
        if sum(map(len, self._ui_parts)) > self.max_apdu_length:
            self._ui_parts = []
            return
        if not segmented:
            apdu = b"".join(self._ui_parts)
            self._ui_parts = []
            self._events.append(UnnumberedInformation(apdu))

    def _on_snrm(self, information: bytes, poll: bool, nxt) -> None:
        try:
            proposal = HdlcParameters.from_bytes(information) if information else HdlcParameters()
        except DecodeError:
            self._frmr = bytes((int(FrameKind.SNRM) | 0x10, 0, FRMR_X_INFORMATION_NOT_PERMITTED))
            self.state = LinkState.FRAME_REJECT
            self._out += self._u_frame(FrameKind.FRMR, self._frmr)
            return
        if self._peer_key is None:
            self.client = _address_from_key(self._source)
            self._bind_peer()
        theirs, own = proposal.resolved(), self.proposed.resolved()
        agreed = HdlcParameters(
            min(own.max_info_field_length_transmit, theirs.max_info_field_length_receive),
            min(own.max_info_field_length_receive, theirs.max_info_field_length_transmit),
            min(own.window_size_transmit, theirs.window_size_receive),
            min(own.window_size_receive, theirs.window_size_transmit),
        )
        self._reset_sequence()
        self._set_limits(agreed)
        self.parameters = agreed
        self.state = nxt
        self._out += self._u_frame(FrameKind.UA, agreed.to_bytes())
        self._events.append(Connected(agreed))

    def _on_disc(self, information: bytes, poll: bool, nxt) -> None:
        was_up = self.state is not LinkState.DISCONNECTED
        self._reset_sequence()
        self.state = nxt
        self._out += self._u_frame(FrameKind.UA if was_up else FrameKind.DM)
        if self._any_client:
            self.client = None
            self._bind_peer()
        if was_up:
            self._events.append(Disconnected())

    def _on_ua(self, information: bytes, poll: bool, nxt) -> None:
        if self.state is LinkState.DISCONNECTING:
            self.state = nxt
            self._reset_sequence()
            self._events.append(Disconnected())
            return
        try:
            answer = HdlcParameters.from_bytes(information) if information else HdlcParameters()
        except DecodeError:
            self.state = LinkState.DISCONNECTED
            raise
        answer = answer.resolved()
        # The UA speaks from the server's side: its transmit is our receive.
        agreed = HdlcParameters(
            answer.max_info_field_length_receive,
            answer.max_info_field_length_transmit,
            answer.window_size_receive,
            answer.window_size_transmit,
        )
        self._reset_sequence()
        self._set_limits(agreed)
        self.parameters = agreed
        self.state = nxt
        self._events.append(Connected(agreed))

    def _on_dm(self, information: bytes, poll: bool, nxt) -> None:
        was = self.state
        self.state = nxt
        self._reset_sequence()
        if was is LinkState.DISCONNECTING:
            self._events.append(Disconnected())
            return
        if was is LinkState.CONNECTING:
            raise DisconnectedModeError(
                f"HDLC server {self.server!r} refused the link (DM in answer to SNRM) "
                f"for client {self.client!r}"
            )
        raise DisconnectedModeError("HDLC server is in disconnected mode (DM): the link was dropped")

    def _on_frmr(self, information: bytes, poll: bool, nxt) -> None:
        self.state = nxt
        self._reset_sequence()
        raise FrameRejectError(
            f"HDLC server rejected a frame (FRMR {information.hex(' ').upper() or 'without information'})",
            information,
        )


def _address_from_key(key: int) -> HdlcAddress:
    size = key & 7
    raw = key >> 3
    if size == 1:
        return HdlcAddress(raw >> 1, None, 1)
    if size == 2:
        return HdlcAddress((raw >> 9) & 0x7F, (raw >> 1) & 0x7F, 2)
    return HdlcAddress(
        (((raw >> 25) & 0x7F) << 7) | ((raw >> 17) & 0x7F),
        (((raw >> 9) & 0x7F) << 7) | ((raw >> 1) & 0x7F),
        4,
    )


__all__ = [
    "ApduReceived",
    "Connected",
    "DEFAULT_MAX_APDU_LENGTH",
    "DEFAULT_MAX_RETRIES",
    "Disconnected",
    "DisconnectedModeError",
    "FrameRejectError",
    "HdlcLink",
    "IGNORE",
    "LinkInput",
    "LinkState",
    "LinkTimeout",
    "NEED_DATA",
    "TRANSITIONS",
    "UnnumberedInformation",
]
