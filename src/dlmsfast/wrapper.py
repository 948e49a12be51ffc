"""The IEC 62056-47 wrapper: the 8-octet header that carries APDUs over TCP and UDP.

::

    +---------+--------------+-------------------+--------+-----------------+
    | version | source wPort | destination wPort | length | APDU            |
    | 2       | 2            | 2                 | 2      | length octets   |
    +---------+--------------+-------------------+--------+-----------------+
      0x0001    big-endian 16-bit unsigned fields; length counts the APDU only

The wPort numbers name the application processes: on the client side the
client SAP (16 public client, 1 management...), on the server side the
logical device (1 management logical device...). No checksum: TCP and UDP
protect the octets. Only version 1 exists; any other value is rejected.

Streams: :func:`parse_wrapper_from` returns ``(bytes_used, frame_or_None)``
with 0 meaning "need more data"; :class:`WrapperStreamSplitter` keeps the
leftovers and, after a header with a wrong version, drops octets until the
next plausible header (counting them, like the HDLC splitter).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional, Union

from ._tags import CIPHERED_APDUS, PLAIN_APDUS
from ._util import GLIMPSE_LENGTH, _check_range, as_bytes, octets_argument, shown
from .errors import DecodeError, EncodeError

Buffer = Union[bytes, bytearray, memoryview]

WRAPPER_VERSION = 1
HEADER_LENGTH = 8
MAX_PAYLOAD_LENGTH = 0xFFFF

_HEADER = struct.Struct(">HHHH")
_VERSION_OCTETS = WRAPPER_VERSION.to_bytes(2, "big")

# ded-initiateRequest/-Response (0x41/0x48) are not named: they never travel (the
# dedicated key rides inside a glo-initiateRequest), and 0x48 is also ASCII "H",
# which starts many non-DLMS payloads (wrapper.json "HelloWold!").
_CIPHERED_APDUS = {tag: name for tag, name in CIPHERED_APDUS.items() if tag not in (0x41, 0x48)}


def payload_kind(payload: Buffer, version: int = WRAPPER_VERSION) -> str:
    """What the payload's first octet says it is; ``"opaque"`` when unknown.

    A payload under an unsupported wrapper version is not interpreted.
    """
    payload = as_bytes(payload, "a wrapper payload")
    if version != WRAPPER_VERSION or not payload:
        return "opaque"
    tag = payload[0]
    if tag in PLAIN_APDUS:
        return PLAIN_APDUS[tag]
    if tag in _CIPHERED_APDUS:
        return f"{_CIPHERED_APDUS[tag]} APDU (0x{tag:02X})"
    return "opaque"


@dataclass(frozen=True, slots=True)
class WrapperFrame:
    """One wrapper frame: header fields and the APDU it carries.

    ``WrapperFrame(1, 16, 1, apdu)``: version (1, :data:`WRAPPER_VERSION`, the
    only one; :meth:`from_bytes` refuses others), the sender's wPort, the
    receiver's wPort (client SAP or logical device), the APDU. ``to_bytes()``
    writes the header with the length; ``from_bytes()`` reads exactly one frame.
    """

    version: int
    source_wport: int
    destination_wport: int
    payload: bytes

    def __post_init__(self) -> None:
        for name in ("version", "source_wport", "destination_wport"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 0xFFFF:
                raise EncodeError(f"wrapper {name} must be an int 0..65535, got {shown(value)}")
        if type(self.payload) is not bytes:
            object.__setattr__(self, "payload",
                               octets_argument(self.payload, "wrapper payload", EncodeError))
        if len(self.payload) > MAX_PAYLOAD_LENGTH:
            raise EncodeError(
                f"wrapper payload of {len(self.payload)} octets exceeds the 16-bit length field"
            )

    @property
    def length(self) -> int:
        return len(self.payload)

    def to_bytes(self) -> bytes:
        return (
            _HEADER.pack(self.version, self.source_wport, self.destination_wport, len(self.payload))
            + self.payload
        )

    __bytes__ = to_bytes

    @classmethod
    def from_bytes(cls, data: Buffer) -> "WrapperFrame":
        """Parse exactly one frame: version 1, length equal to the payload octets."""
        raw = as_bytes(data, "a wrapper frame")
        if len(raw) < HEADER_LENGTH:
            raise DecodeError(f"wrapper header needs 8 octets, got {len(raw)}", len(raw))
        version, source, destination, length = _HEADER.unpack_from(raw)
        if version != WRAPPER_VERSION:
            raise DecodeError(f"unsupported wrapper version {version} (only 1 exists)", 0)
        if length != len(raw) - HEADER_LENGTH:
            raise DecodeError(
                f"wrapper length field says {length} octets but {len(raw) - HEADER_LENGTH} follow", 6
            )
        return cls(version, source, destination, raw[HEADER_LENGTH:])

    def to_meaning(self) -> dict[str, Any]:
        """The frame as the wrapper.json meaning schema."""
        return describe_wrapper(self.to_bytes())


def describe_wrapper(data: Buffer) -> dict[str, Any]:
    """Explain wrapper octets leniently: a wrong version or length is reported, not raised."""
    raw = as_bytes(data, "a wrapper frame")
    if len(raw) < HEADER_LENGTH:
        raise DecodeError(f"wrapper header needs 8 octets, got {len(raw)}", len(raw))
    version, source, destination, length = _HEADER.unpack_from(raw)
    payload = raw[HEADER_LENGTH:]
    return {
        "version": version,
        "source_wport": source,
        "destination_wport": destination,
        "length": length,
        "payload": payload.hex().upper(),
        "length_matches_payload": length == len(payload),
        "payload_kind": payload_kind(payload, version),
    }


def _next_header(raw: bytes | bytearray, start: int) -> int:
    """Offset of the next octet pair 00 01 (a plausible version field) from ``start``."""
    found = raw.find(_VERSION_OCTETS, start)
    if found < 0:
        # A trailing 00 may be the first half of the next version field.
        return len(raw) - 1 if len(raw) > start and raw[-1] == 0 else len(raw)
    return found


def _parse_from(buf: bytes | bytearray, offset: int) -> tuple[int, Optional[WrapperFrame], Optional[DecodeError]]:
    available = len(buf) - offset
    if available >= 2 and (buf[offset] != 0 or buf[offset + 1] != WRAPPER_VERSION):
        skip_to = _next_header(buf, offset + 1)
        version = (buf[offset] << 8) | buf[offset + 1]
        error = DecodeError(f"unsupported wrapper version {version} (only 1 exists)", offset)
        return skip_to - offset, None, error
    if available < HEADER_LENGTH:
        return 0, None, None
    _, source, destination, length = _HEADER.unpack_from(buf, offset)
    end = offset + HEADER_LENGTH + length
    if end > len(buf):
        return 0, None, None
    frame = WrapperFrame(WRAPPER_VERSION, source, destination, bytes(buf[offset + HEADER_LENGTH : end]))
    return end - offset, frame, None


def _whole_frame_after(buf: bytes | bytearray, start: int) -> int:
    """Offset of the first 00 01 after ``start`` whose frame ends exactly at the end of
    ``buf``; ``start`` when there is none."""
    at = _next_header(buf, start + 1)
    while at + HEADER_LENGTH <= len(buf):
        length = buf[at + 6] << 8 | buf[at + 7]
        if length and at + HEADER_LENGTH + length == len(buf):
            return at
        at = _next_header(buf, at + 1)
    return start


def _frame_may_start_inside(buf: bytes | bytearray, start: int, end: int) -> bool:
    """Whether a whole header inside ``buf[start:end]`` starts a frame that the octets
    received so far do not complete yet (so the candidate may be a truncated one).
    A header cut by the end of the input is no evidence: it may be payload; nor is
    the candidate's own header (a wPort of 1 reads 00 01)."""
    at = _next_header(buf, start + HEADER_LENGTH)
    while at < end:
        if at + HEADER_LENGTH > len(buf):
            return False
        length = buf[at + 6] << 8 | buf[at + 7]
        if length and at + HEADER_LENGTH + length > len(buf):
            return True
        at = _next_header(buf, at + 1)
    return False


def _resync_step(buf: bytes | bytearray, pos: int, used: int, frame: Optional[WrapperFrame],
                 error: Optional[DecodeError]):
    """``(used, frame, error)`` for what was found at ``pos`` while resynchronising.

    A frame is taken when it is not empty, no header inside it starts a frame that
    ends exactly at the end of the input, and it ends where another header starts,
    or at the end of the input with no header inside it that may start a longer
    frame (then it waits for more octets); otherwise such a later frame wins, and
    the candidate counts as a truncated frame. The price: after garbage, a frame
    whose payload holds a whole wrapper header may wait for the next octets.
    """
    if frame is None and used:
        return used, None, error  # not a header at all: skipped as usual
    end = pos + used
    later = _whole_frame_after(buf, pos)
    overlapped = pos < later < end  # a whole frame starts inside the candidate
    if frame is not None and frame.payload and not overlapped:
        if buf[end:end + 2] == _VERSION_OCTETS:
            return used, frame, None
        if end == len(buf) and not _frame_may_start_inside(buf, pos, end):
            return used, frame, None
    if later > pos:
        return later - pos, None, DecodeError(
            "a wrapper header found while resynchronising does not lead to the next "
            "frame (a truncated frame)", pos)
    if not used or end + 1 >= len(buf):
        return 0, None, None  # wait for more octets to tell
    return _next_header(buf, pos + 1) - pos, None, DecodeError(
        "a wrapper header found while resynchronising does not end where another begins "
        "(a truncated frame)", pos)


def parse_wrapper_from(data: Buffer, offset: int = 0) -> tuple[int, Optional[WrapperFrame]]:
    """Find the wrapper frame at ``offset``: ``(bytes_used, frame_or_None)``.

    ``(n, frame)`` a whole frame of n octets; ``(n, None)`` with n > 0: n
    octets do not start a version-1 header and are dropped, call again from
    ``offset + n``; ``(0, None)`` more data is needed.
    """
    if not isinstance(data, (bytes, bytearray)):
        data = as_bytes(data, "a wrapper stream")
    _check_range("offset", offset, 0, len(data))
    used, frame, _ = _parse_from(data, offset)
    return used, frame


class WrapperStreamSplitter:
    """Cuts a TCP byte stream into wrapper frames: ``feed(data) -> list[WrapperFrame]``.

    Keeps a partial frame until the rest arrives. Octets that do not start a
    version-1 header are dropped (``discarded_bytes``, ``bad_frames``,
    ``last_error`` with the stream offset) instead of raising mid-stream, and
    ``dropped_sample`` keeps the first octets of the latest such run (a web
    server's answer, a wrapper of another version), for the caller to say what
    came instead of frames.
    """

    __slots__ = ("_buffer", "_stream_offset", "_resync", "discarded_bytes", "bad_frames",
                 "frames", "last_error", "dropped_sample")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._stream_offset = 0
        # After garbage, a 00 01 pair may start a truncated frame whose length field
        # swallows the next real header: until a frame is confirmed, one is taken only
        # when the octets after it start another header (or the input ends with it).
        self._resync = False
        self.discarded_bytes = 0
        self.bad_frames = 0
        self.frames = 0
        self.last_error: Optional[DecodeError] = None
        self.dropped_sample = b""

    @property
    def pending(self) -> int:
        """Octets kept for a frame that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: Buffer) -> list[WrapperFrame]:
        """Add received octets; return the whole frames they complete."""
        buffer = self._buffer
        buffer += data if isinstance(data, (bytes, bytearray)) else as_bytes(data, "a wrapper stream")
        frames: list[WrapperFrame] = []
        pos = 0
        while True:
            used, frame, error = _parse_from(buffer, pos)
            if self._resync:
                used, frame, error = _resync_step(buffer, pos, used, frame, error)
            if used == 0:
                break
            if frame is not None:
                frames.append(frame)
                self._resync = False
            else:
                if not self._resync:  # a run of octets that make no frame begins
                    self.dropped_sample = bytes(buffer[pos:pos + GLIMPSE_LENGTH + 1])
                self._resync = True
                self.discarded_bytes += used
                self.bad_frames += 1
                assert error is not None
                self.last_error = DecodeError(error.message, self._stream_offset + pos)
            pos += used
        if pos:
            del buffer[:pos]
            self._stream_offset += pos
        self.frames += len(frames)
        return frames

    def clear(self) -> None:
        """Drop buffered octets (e.g. after a reconnect); counters are kept."""
        self.discarded_bytes += len(self._buffer)
        self._stream_offset += len(self._buffer)
        self._buffer.clear()


__all__ = [
    "HEADER_LENGTH",
    "WRAPPER_VERSION",
    "WrapperFrame",
    "WrapperStreamSplitter",
    "describe_wrapper",
    "parse_wrapper_from",
    "payload_kind",
]
