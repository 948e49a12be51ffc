"""A connection to one meter: a byte stream plus a framing, moving whole APDUs.

::

    APDU ──> framing (wrapper header / HDLC link) ──> frames ──> stream ──> meter
    APDU <── framing <── octets <── stream (callback, in the event loop) <── meter

The framing objects are sans-IO (bytes in, frames and APDUs out); this module
is where they meet the stream, the clock and the trace hook:

- every wait has a deadline: a silent meter raises :class:`~dlmsfast.errors.TimeoutError`
  naming the peer and the addresses used, never hangs;
- the trace hook ``trace(direction, frame)`` sees every frame, ``"out"`` and ``"in"``;
- a peer that closes, or a stream that fails, raises
  :class:`~dlmsfast.errors.ConnectionLost` in whoever waits, and the stream is closed.

A blocking stream (``stream.blocking``, the blocking client's TCP) is waited on
in the stream itself (``pump``) instead of the event loop: the coroutines here
then never suspend, and the blocking client runs them with no loop at all.
"""
from __future__ import annotations

import asyncio
import struct
import time
from typing import Callable, Optional, Protocol, cast, runtime_checkable

from .._util import _check_range, glimpse, require, reworded, shown
from ..errors import (ConnectionLost, DlmsError, ProtocolError, TimeoutError, TransportError,
                      UsageError)
from ..wrapper import HEADER_LENGTH, WrapperStreamSplitter

Trace = Callable[[str, bytes], None]
MAX_UNREAD_APDUS = 1024
"""APDUs received and not yet taken by :meth:`Connection.receive` (pushed
notifications while the client asks nothing): past this many the connection
fails with a ProtocolError, instead of holding whatever a meter floods it with.
An exchange takes each answer at once; only unsolicited APDUs pile up."""
ADDRESSES_SUSPECTED = "wrong client/server address?"
"""In a timeout's message while the meter has never answered: the addresses may be wrong."""
METER_SILENT = f"meter silent, or {ADDRESSES_SUSPECTED}"
"""A timeout's message when no octet at all came (nothing answered, nothing else either)."""


NOT_DLMS = "not a DLMS meter on this port?"
"""In a timeout's message when what came is no frame of the framing used."""


def other_framing(sample: bytes, ours: str) -> str:
    """A hint when octets that are no frame of ours start like the other framing's:
    an HDLC frame's flag and frame format type 3 (7E A0..A7), or the wrapper's
    version 0x0001; "" otherwise."""
    if ours == "wrapper" and sample[:1] == b"\x7e" and sample[1:2] and sample[1] & 0xF0 == 0xA0:
        return "; they look like HDLC frames: try framing hdlc (--framing hdlc)"
    if ours == "hdlc" and sample[:2] == b"\x00\x01":
        return "; they look like DLMS wrapper frames: try framing wrapper (--framing wrapper)"
    return ""


def said_instead(*clauses: tuple[int, str]) -> str:
    """What a framing got instead of answers (``unframed()``): the clauses whose
    count is not 0, joined; "" when none."""
    return "; ".join(words for count, words in clauses if count)


@runtime_checkable
class Framing(Protocol):
    """What a connection needs from a framing (sans-IO)."""

    name: str
    trace: Optional[Trace]

    def addresses(self) -> str: ...
    def open(self) -> None: ...
    def is_open(self) -> bool: ...
    def send_apdu(self, apdu: bytes) -> None: ...
    def receive_data(self, data: bytes) -> None: ...
    def data_to_send(self) -> list[bytes]: ...
    def apdus(self) -> list[bytes]: ...
    def close(self) -> None: ...
    def is_closed(self) -> bool: ...
    def failure(self) -> Optional[DlmsError]: ...
    def timeout(self) -> bool: ...
    def unframed(self) -> str: ...


def _check_seconds(what: str, seconds: object) -> None:
    if type(seconds) not in (int, float) or not cast(float, seconds) > 0:
        raise UsageError(f"{what} is seconds > 0, got {shown(seconds)}")


_FRAMING_CLASSES: set[type] = set()  # the classes that passed the Framing check


def _check_trace(trace: object) -> None:
    if trace is not None and not callable(trace):
        raise UsageError(f"trace is a callable(direction, frame) or None, got {type(trace).__name__}")


class WrapperFraming:
    """IEC 62056-47 wrapper: one header per APDU; wPorts are the client SAP and
    the server's logical device. Frames for other wPorts are ignored (a push on
    the same socket is not an answer)."""

    name = "wrapper"

    def __init__(self, client: int, server: int, trace: Optional[Trace] = None) -> None:
        _check_range("client wPort", client, 0, 0xFFFF)
        _check_range("server wPort", server, 0, 0xFFFF)
        _check_trace(trace)
        self.client = client
        self.server = server
        self.trace = trace
        self._header = struct.pack(">HHH", 1, client, server)
        self._answer_header = struct.pack(">HHH", 1, server, client)
        self._splitter = WrapperStreamSplitter()
        self._out: list[bytes] = []
        self._in: list[bytes] = []
        # frames between other wPorts (a push to another client, or the meter
        # answering from another logical device): how many, and the last pair
        self._foreign = 0
        self._foreign_ports = (0, 0)

    def addresses(self) -> str:
        return f"client wPort {self.client}, server wPort {self.server}"

    def open(self) -> None:
        """Nothing to negotiate: the TCP connection is the link."""

    def is_open(self) -> bool:
        return True

    def send_apdu(self, apdu: bytes) -> None:
        if len(apdu) > 0xFFFF:
            raise ProtocolError(f"an APDU of {len(apdu)} octets does not fit one wrapper frame")
        self._out.append(self._header + struct.pack(">H", len(apdu)) + apdu)

    def receive_data(self, data: bytes) -> None:
        trace = self.trace
        splitter = self._splitter
        if (trace is None and type(data) is bytes and len(data) >= HEADER_LENGTH
                and not splitter.pending and not splitter.bad_frames
                and data[:6] == self._answer_header
                and len(data) - HEADER_LENGTH == (data[6] << 8 | data[7])):
            # the usual chunk: exactly one whole answer (no octets kept from
            # before, none dropped since the start, so not resynchronising); the
            # splitter only sees, and counts, the chunks that need cutting
            self._in.append(data[HEADER_LENGTH:])
            return
        for frame in splitter.feed(data):
            if trace is not None:
                trace("in", frame.to_bytes())
            if frame.source_wport == self.server and frame.destination_wport == self.client:
                self._in.append(frame.payload)
            else:
                self._foreign += 1
                self._foreign_ports = (frame.source_wport, frame.destination_wport)

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def apdus(self) -> list[bytes]:
        got, self._in = self._in, []
        return got

    def close(self) -> None:
        """Nothing to say goodbye with: closing the socket ends the link."""

    def is_closed(self) -> bool:
        return True

    def failure(self) -> Optional[DlmsError]:
        return None

    def timeout(self) -> bool:
        """TCP and UDP carry no retries of their own: a deadline is final."""
        return False

    def unframed(self) -> str:
        """What the peer sent that carried no answer to us: octets that are no
        wrapper frame (with their start), a frame cut short, frames between
        other wPorts; "" when nothing."""
        splitter = self._splitter
        reason = f"; {splitter.last_error.message}" if splitter.last_error else ""
        source, destination = self._foreign_ports
        return said_instead(
            (splitter.discarded_bytes, f"{splitter.discarded_bytes} octets that are no DLMS "
             f"wrapper frame, starting {glimpse(splitter.dropped_sample)}{reason}: {NOT_DLMS}"
             f"{other_framing(splitter.dropped_sample, 'wrapper')}"),
            (splitter.pending, f"{splitter.pending} octets of a wrapper frame that never "
             "completed"),
            (self._foreign, f"{self._foreign} wrapper frame(s) from wPort {source} to wPort "
             f"{destination}, not ours: {ADDRESSES_SUSPECTED}"))


class Connection:
    """A stream and a framing on the running event loop, with deadlines and a trace.

    ``await open()``, then ``await request(apdu)`` (or ``send`` + ``receive``),
    then ``await close()``; or ``async with``.
    """

    def __init__(self, stream, framing: Framing, *, timeout: float = 10.0,
                 connect_timeout: Optional[float] = None,
                 trace: Optional[Trace] = None) -> None:
        if not callable(getattr(stream, "write", None)) or not callable(getattr(stream, "close", None)):
            raise UsageError(f"stream must be a transport stream (TcpStream...), got "
                             f"{type(stream).__name__}")
        if type(framing) not in _FRAMING_CLASSES:
            # a runtime Protocol check walks the protocol's members (about 15 us,
            # once per session): done once per framing class
            require(framing, Framing, "framing")
            _FRAMING_CLASSES.add(type(framing))
        _check_seconds("timeout", timeout)
        if connect_timeout is not None:
            _check_seconds("connect_timeout", connect_timeout)
        _check_trace(trace)
        self.stream = stream
        self.framing = framing
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.trace = trace
        framing.trace = trace
        self._waiter: Optional[asyncio.Future] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        # one armed timer per connection, kept from wait to wait (see _wait)
        self._timer: Optional[asyncio.TimerHandle] = None
        self._lost: Optional[BaseException] = None
        self._open = False
        # the stream (socket, serial line and its sign-on) opened: a failure before
        # it is the line's, never the addresses'
        self.stream_open = False
        self._link_wait = False
        # the meter answered at these addresses once (an APDU, or HDLC's UA): a
        # later silence is not a wrong address
        self._answered = False
        self._queue: list[bytes] = []
        # a blocking stream (the blocking client's TCP): every wait sleeps in
        # the socket, and the coroutines below never suspend
        self._blocking = getattr(stream, "blocking", False)

    @property
    def peer(self) -> str:
        return self.stream.peer

    # -- callbacks from the stream (inside the event loop) -----------------------

    def _on_data(self, data: bytes) -> None:
        framing = self.framing
        try:
            framing.receive_data(data)
            self._flush()  # what the link answers by itself (RR for the next segment...)
        except DlmsError as exc:
            self._fail(exc)
            return
        apdus = framing.apdus()
        waiter = self._waiter
        if apdus:
            queue = self._queue
            queue += apdus
            self._answered = True
            if len(queue) > MAX_UNREAD_APDUS:
                queue.clear()
                self._fail(ProtocolError(
                    f"{self.peer} sent more than {MAX_UNREAD_APDUS} APDUs nobody asked for "
                    "(notifications while no request waited)"))
                return
        elif self._link_wait and framing.is_open():
            self._answered = True  # HDLC: a UA from the address we called
        elif not self._link_wait:
            return  # part of a frame, or a link frame: only a link set-up or release waits
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_lost(self, exc: Optional[BaseException]) -> None:
        reason = f": {exc}" if exc is not None else ""
        unframed = self.framing.unframed()
        before = f"; before, it sent {unframed}" if unframed else ""
        self._fail(ConnectionLost(f"{self.peer} closed the connection{reason}{before}"))

    def _fail(self, error: BaseException) -> None:
        if self._lost is None:
            self._lost = error
        self._open = False
        self.stream.close()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _flush(self) -> None:
        frames = self.framing.data_to_send()
        if frames:
            trace = self.trace
            write = self.stream.write
            for frame in frames:
                if trace is not None:
                    trace("out", frame)
                write(frame)

    def _raise_if_lost(self) -> None:
        if self._lost is not None:
            raise self._lost

    async def _wait(self, ready: Callable[[], object], timeout: Optional[float], what: str) -> None:
        """Wait until ``ready()``; a deadline or a lost stream raises."""
        if ready():
            return
        seconds = self.timeout if timeout is None else timeout
        if self._blocking:
            return self._wait_blocking(ready, seconds, what)
        # the loop the stream was opened on (get_running_loop is a getpid
        # syscall each time)
        loop = self._loop or asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not ready():
            self._raise_if_lost()
            failure = self.framing.failure()
            if failure is not None:
                raise self._with_unframed(failure)
            if loop.time() >= deadline:
                self._on_deadline(seconds, what)
                deadline = loop.time() + seconds
                continue
            # The timer may outlive this wait: a later wait's deadline is later, so
            # the timer armed for an earlier one only wakes it early, to re-check
            # and re-arm. One timer per session instead of one per exchange: no
            # call_at and cancel (and heap entries) for every request.
            timer = self._timer
            if timer is None or timer.when() > deadline:
                if timer is not None:
                    timer.cancel()
                self._timer = loop.call_at(deadline, self._on_timer)
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        self._raise_if_lost()

    def _on_timer(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wait_blocking(self, ready: Callable[[], object], seconds: float, what: str) -> None:
        """:meth:`_wait` on a blocking stream: the stream's ``pump`` sleeps in the
        socket until octets come or the deadline passes; no event loop."""
        deadline = time.monotonic() + seconds
        pump = self.stream.pump
        while not ready():
            if self._lost is not None:
                raise self._lost
            failure = self.framing.failure()
            if failure is not None:
                raise self._with_unframed(failure)
            left = deadline - time.monotonic()
            if left <= 0:
                self._on_deadline(seconds, what)
                deadline = time.monotonic() + seconds
                continue
            pump(left)
        self._raise_if_lost()

    def _with_unframed(self, failure: DlmsError) -> DlmsError:
        """The framing's failure (HDLC: the link given up), saying what the peer
        sent instead of answers, if anything."""
        unframed = self.framing.unframed()
        if not unframed or unframed in str(failure):
            return failure
        return reworded(failure, f"{failure}: the peer sent {unframed}")

    def _on_deadline(self, seconds: float, what: str) -> None:
        """A wait ran out: the link may try again (then wait anew), else it is final."""
        if self.framing.timeout():
            # the link tried again (HDLC: SNRM, DISC or an RR poll): a new deadline
            self._flush()
            return
        unframed = self.framing.unframed()
        if unframed:
            # octets came, but no answer to us: say what instead of "silent"
            suspect = (f"it answered before at these addresses, then sent {unframed}"
                       if self._answered else f"it sent {unframed}")
        else:
            suspect = ("it answered before at these addresses, then went silent."
                       if self._answered else METER_SILENT)
        raise TimeoutError(
            f"{self.peer} did not answer {what} within {seconds:g} s "
            f"({self.framing.name}, {self.framing.addresses()}): {suspect}"
        )

    # -- the public face ------------------------------------------------------------

    async def open(self, timeout: Optional[float] = None) -> None:
        """Open the stream within ``connect_timeout`` (default: the timeout), then
        the link (HDLC: SNRM/UA) within the timeout."""
        seconds = self.timeout if timeout is None else timeout
        connect = seconds if self.connect_timeout is None else self.connect_timeout
        try:
            if self._blocking:
                self.stream.open_now(self._on_data, self._on_lost, seconds, connect)
            else:
                self._loop = asyncio.get_running_loop()
                await asyncio.wait_for(self.stream.open(self._on_data, self._on_lost), connect)
        except DlmsError:
            # the stream's own, more precise error (dlmsfast's TimeoutError is an
            # asyncio.TimeoutError too: the mode E sign-on's, naming the optical head)
            self.stream.close()
            raise
        except asyncio.TimeoutError:
            # a stream in the middle of a step with its own diagnosis says it (a
            # serial line's optical head that has not answered the sign-on)
            timed_out = getattr(self.stream, "timed_out", None)
            error = timed_out(connect) if timed_out is not None else None
            self.stream.close()
            raise error or TimeoutError(f"cannot connect to {self.peer} within {connect:g} s "
                                        "(connect timed out)") from None
        except BaseException:
            self.stream.close()
            raise
        self.stream_open = True
        try:
            self.framing.open()
            self._flush()
            self._link_wait = True
            await self._wait(self.framing.is_open, timeout, "the link set-up")
        except BaseException:
            self.abort()
            raise
        finally:
            self._link_wait = False
        self._open = True

    def send(self, apdu: bytes) -> None:
        self._raise_if_lost()
        self.framing.send_apdu(apdu)
        self._flush()

    async def receive(self, timeout: Optional[float] = None, what: str = "the request") -> bytes:
        """The next APDU from the meter."""
        queue = self._queue
        if not queue:
            if self._blocking:  # no coroutine to suspend: straight to the socket
                self._wait_blocking(queue.__len__, self.timeout if timeout is None else timeout,
                                    what)
            else:
                await self._wait(queue.__len__, timeout, what)
        return queue.pop(0)

    async def request(self, apdu: bytes, timeout: Optional[float] = None) -> bytes:
        self.send(apdu)
        return await self.receive(timeout)

    async def close(self, timeout: Optional[float] = None) -> None:
        """Say goodbye on the link (HDLC: DISC/UA) when it is up, then close the stream.
        Never raises for a peer that has gone already."""
        try:
            if self._open and self._lost is None:
                self.framing.close()
                self._flush()
                self._link_wait = True
                await self._wait(self.framing.is_closed, timeout, "the link release")
        except (TransportError, ProtocolError):
            pass
        finally:
            self._link_wait = False
            self.abort()

    def abort(self) -> None:
        """Close the stream at once."""
        self._open = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.stream.close()
        if self._lost is None:
            self._lost = ConnectionLost(f"the connection to {self.peer} is closed")

    async def __aenter__(self) -> "Connection":
        await self.open()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()


__all__ = ["Connection", "Framing", "WrapperFraming", "Trace", "ADDRESSES_SUSPECTED", "MAX_UNREAD_APDUS",
           "METER_SILENT", "NOT_DLMS", "other_framing", "said_instead"]
