"""HDLC framing for a connection: the sans-IO :class:`~dlmsfast.hdlc.link.HdlcLink`
in the client role, over a TCP stream or a serial line.

The link does the protocol (SNRM/UA, segmentation, RR, DISC); this adapter
turns its events into what :class:`~dlmsfast.transport.connection.Connection`
waits for, and cuts its output into single frames for the trace hook.
"""
from __future__ import annotations

from typing import Optional

from .._util import GLIMPSE_LENGTH, glimpse
from ..errors import DlmsError, TimeoutError
from ..hdlc import HdlcParameters, HdlcStreamSplitter
from ..hdlc.link import ApduReceived, Connected, Disconnected, HdlcLink, LinkTimeout
from .connection import ADDRESSES_SUSPECTED, NOT_DLMS, Trace, other_framing, said_instead

MAX_EXTENSIONS = 8
"""How many times the segments of one APDU may extend a wait by another
timeout: an answer that keeps coming in segments gets at most 9 timeouts in
all, then times out like a silent one (a meter dripping segments forever
must not hold the client forever)."""


class HdlcFraming:
    """The client side of an HDLC link (IEC 62056-46) as a connection framing."""

    name = "hdlc"

    def __init__(self, client: int, server: int, server_physical: Optional[int] = None, *,
                 parameters: Optional[HdlcParameters] = None, max_retries: int = 0,
                 trace: Optional[Trace] = None) -> None:
        self.client = client
        self.server = server
        self.server_physical = server_physical
        self.link = HdlcLink("client", client, server, server_physical,
                             parameters=parameters, max_retries=max_retries)
        self.parameters: Optional[HdlcParameters] = None
        self.trace = trace
        self._out: list[bytes] = []
        self._in: list[bytes] = []
        self._open = False
        self._closed = False
        self._failure: Optional[DlmsError] = None
        self._trace_in: Optional[HdlcStreamSplitter] = None
        self._trace_out: Optional[HdlcStreamSplitter] = None
        # the first chunk in which the link dropped octets (no frame, or a frame
        # failing its checks): said when no answer comes
        self._dropped_sample = b""
        # the link's progress when a wait last ran out, and how often the
        # APDU under way has had its wait extended
        self._progress_seen = 0
        self._extensions = 0

    def addresses(self) -> str:
        physical = "" if self.server_physical is None else f", physical {self.server_physical}"
        return f"client SAP {self.client}, server logical {self.server}{physical}"

    def _emit(self, octets: bytes) -> None:
        if not octets:
            return
        if self.trace is None:
            self._out.append(octets)
            return
        # one entry per frame, so the trace shows frames, not stream chunks
        if self._trace_out is None:
            self._trace_out = HdlcStreamSplitter()
        frames = [frame.to_bytes() for frame in self._trace_out.feed(octets)]
        self._out.extend(frames or [octets])

    def open(self) -> None:
        self._emit(self.link.connect())

    def is_open(self) -> bool:
        return self._open

    def send_apdu(self, apdu: bytes) -> None:
        self._extensions = 0
        self._progress_seen = self.link.progress
        self._emit(self.link.send_apdu(apdu))

    def receive_data(self, data: bytes) -> None:
        trace = self.trace
        if trace is not None:
            if self._trace_in is None:
                self._trace_in = HdlcStreamSplitter()
            for frame in self._trace_in.feed(data):
                trace("in", frame.to_bytes())
        link = self.link
        if self._dropped_sample:
            link.receive_data(data)
        else:
            dropped = link.discarded_bytes
            link.receive_data(data)
            if link.discarded_bytes != dropped:
                self._dropped_sample = bytes(data[:GLIMPSE_LENGTH + 1])
        for event in link.events():
            if type(event) is ApduReceived:
                self._in.append(event.apdu)
                self._extensions = 0
                self._progress_seen = link.progress
            elif type(event) is Connected:
                self._open = True
                self.parameters = event.parameters
            elif type(event) is Disconnected:
                self._closed = True
                self._open = False
            elif type(event) is LinkTimeout:
                self._timed_out(event.retries)
        self._emit(link.data_to_send())

    def _timed_out(self, retries: int) -> None:
        self._failure = TimeoutError(
            f"HDLC link given up after {retries} retries ({self.addresses()})"
        )

    def data_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def apdus(self) -> list[bytes]:
        got, self._in = self._in, []
        return got

    def close(self) -> None:
        self._emit(self.link.disconnect())

    def is_closed(self) -> bool:
        return self._closed

    def failure(self) -> Optional[DlmsError]:
        return self._failure

    def unframed(self) -> str:
        """What the peer sent that carried no answer to us: octets that are no
        valid HDLC frame (with the first chunk that held some), frames for or
        from other addresses; "" when nothing."""
        link = self.link
        bad = f", {link.bad_frames} frame(s) failing their checks" if link.bad_frames else ""
        return said_instead(
            (link.discarded_bytes, f"{link.discarded_bytes} octets that are no valid HDLC "
             f"frame{bad}, in {glimpse(self._dropped_sample)}: {NOT_DLMS}"
             f"{other_framing(self._dropped_sample, 'hdlc')}"),
            (link.foreign_frames, f"{link.foreign_frames} HDLC frame(s) for or from other "
             f"addresses: {ADDRESSES_SUSPECTED}"))

    def timeout(self) -> bool:
        """A wait ran out: wait again (True) when segments of the APDU under way
        came meanwhile (at most MAX_EXTENSIONS times per APDU), or when the link
        polls again (its retries); False: the timeout is final."""
        progress = self.link.progress
        if progress != self._progress_seen and self._extensions < MAX_EXTENSIONS:
            self._progress_seen = progress
            self._extensions += 1
            return True
        self._progress_seen = progress
        again = self.link.timeout()
        for event in self.link.events():
            if type(event) is LinkTimeout:
                return False
        if again:
            self._emit(again)
            return True
        return False


__all__ = ["HdlcFraming"]
