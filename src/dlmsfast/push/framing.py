"""Cutting a pushed byte stream into link-layer units: HDLC frames, M-Bus long
frames and IEC 62056-47 wrapper frames, whatever lies between them.

A HAN/P1 port or a push socket delivers octets in arbitrary pieces, with line
noise, cut frames, doubled or missing flags. :class:`PushFramer` keeps what is
not whole yet and returns :class:`Segment` objects, each one link-layer unit's
payload with what is needed to put a long APDU back together::

    HDLC (IEC 62056-46, type 3; the length field delimits the frame, no stuffing)
      7E  A0|A8 len  dst  src  ctl  HCS  [E6 E7 00] APDU part ...  FCS  7E
               S bit (A8): more segments of this APDU follow

    M-Bus long frame (EN 13757-2), DLMS over M-Bus (EN 13757-3 / IEC 62056-7-3)
      68  L  L  68  C  A  CI  STSAP DTSAP  APDU part ...  CS  16
                          |   L counts C .. APDU part; CS = their sum mod 256
                          CI 0x00..0x1F: bit 4 (0x10) last segment, bits 3..0
                          the segment number

    wrapper (IEC 62056-47, TCP/UDP)
      00 01  source wPort(2)  destination wPort(2)  length(2)  APDU

    bare general-glo-ciphering (Luxembourg Smarty P1: no framing at all)
      DB 08 system-title(8) length SC IC ciphertext tag

The scanner looks at each octet for the opening of one of these; a
candidate that fails its checks (FCS/HCS, M-Bus checksum and stop octet, an
implausible length) costs one octet, so the next real frame is found even when
it starts inside the garbage; but a wrapper frame or a bare APDU wholly inside
an HDLC frame that failed its checks goes with that frame (what a broken frame
carries is never delivered). Nothing here raises on received octets: bad
candidates are counted (``discarded_bytes``, ``bad_frames``) and the last
reason kept in ``last_error``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .._util import as_bytes
from ..errors import DecodeError
from ..hdlc import LLC_COMMAND, LLC_RESPONSE, parse_frame_from
from ..hdlc._hdlc import address_key
from ._push import hdlc_run

HDLC = "hdlc"
MBUS = "mbus"
WRAPPER = "wrapper"
APDU = "apdu"

_FLAG = 0x7E
_MBUS_START = 0x68
_MBUS_STOP = 0x16
# M-Bus CI fields that carry a DLMS APDU segment (EN 13757-3 table: 0x00-0x1F)
_MBUS_DLMS_CI_LAST = 0x1F
_MBUS_FINAL_SEGMENT = 0x10
_MBUS_HEADER = 4  # 68 L L 68
_MBUS_TPDU_HEADER = 5  # C A CI STSAP DTSAP
# A wrapper frame longer than this is taken for garbage: pushed APDUs are a few
# kilobytes at most, and a bound keeps a junk length from holding the stream.
MAX_WRAPPER_PAYLOAD = 0x4000
_WRAPPER_HEADER = 8
_GENERAL_GLO = 0xDB
MAX_BARE_APDU = 0x1000
_APDU_FIRST_OCTETS = frozenset((0x0F, 0xC2, 0xDB, 0xDC, 0xDD, 0xE0, 0xE6))


class Segment(NamedTuple):
    """One link-layer unit's part of an APDU.

    ``channel`` names the sender at that layer (HDLC addresses, M-Bus address,
    wrapper ports) so that the parts of interleaved senders are not mixed;
    ``last`` is False while more parts of the same APDU follow; ``raw`` is the
    whole unit as received; ``number`` is the M-Bus segment number (None for
    the others). A tuple: one is made per frame.
    """

    kind: str
    channel: tuple
    data: bytes
    last: bool
    raw: bytes
    number: Optional[int] = None


# a Segment made without the generated __new__ (a Python function): one per frame
_segment = tuple.__new__


_LLC_HEADERS = (LLC_RESPONSE, LLC_COMMAND)


def starts_with_llc(data: bytes) -> bool:
    return data.startswith(_LLC_HEADERS)


def strip_llc(data: bytes) -> bytes:
    """The APDU without its LLC header (E6 E6 00 / E6 E7 00), when it has one."""
    return data[3:] if data.startswith(_LLC_HEADERS) else data


class PushFramer:
    """``feed(data) -> list[Segment | DecodeError]``: the whole link-layer units
    ``data`` completes and, in stream order among them, a DecodeError for each
    candidate frame that failed its checks (line noise between frames is only
    counted)."""

    __slots__ = ("_buffer", "_stream_offset", "_rejected_end", "discarded_bytes", "fill_flags",
                 "bad_frames", "frames", "last_error")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._stream_offset = 0
        # the stream offset where the last HDLC frame that failed its checks ends:
        # an unframed unit (wrapper, bare APDU) wholly inside it is that frame's
        # payload, rejected with it, not a unit of its own
        self._rejected_end = 0
        self.discarded_bytes = 0  # octets that were no part of a frame: noise, lost frames
        self.fill_flags = 0  # HDLC flags between frames (doubled flags, inter-frame fill)
        self.bad_frames = 0
        self.frames = 0
        self.last_error: Optional[DecodeError] = None

    @property
    def pending(self) -> int:
        """Octets kept for a unit that is not complete yet."""
        return len(self._buffer)

    def pending_frame(self) -> bool:
        """Whether the octets kept are more than flags (a frame is under way)."""
        return bool(self._buffer.strip(b"\x7e"))

    def take_pending(self) -> bytes:
        """Remove and return the octets kept (end of input: they may be a bare APDU)."""
        rest = bytes(self._buffer)
        self._stream_offset += len(rest)
        self._buffer.clear()
        return rest

    def feed(self, data) -> list:
        if type(data) is not bytes:
            data = as_bytes(data, "a chunk of received octets")
        buf = self._buffer
        buf += data
        bad_before = self.bad_frames
        out: list = []
        pos = 0
        end = len(buf)
        while pos < end:
            octet = buf[pos]
            if octet == _FLAG:
                # frames back to back (a HAN port's usual stream) in one compiled step
                run_end, skipped = hdlc_run(buf, pos, out, _segment, Segment, HDLC)
                if run_end != pos:
                    self.fill_flags += skipped
                    pos = run_end
                    if pos + 3 > end and (pos + 1 == end or buf[pos + 1] & 0xF0 == 0xA0):
                        break  # a last flag (fill skipped): the next frame has not begun
                    continue
                used = self._hdlc(buf, pos, out)
            elif octet == _MBUS_START:
                used = self._mbus(buf, pos, out)
            elif octet == 0 and pos + 1 < end and buf[pos + 1] == 1:
                used = self._wrapper(buf, pos, out)
            elif octet == _GENERAL_GLO and pos + 1 < end and buf[pos + 1] == 8:
                used = self._general_glo(buf, pos, out)
            elif octet & 0xF0 == 0xA0 and pos and buf[pos - 1] != _FLAG:
                # a frame whose opening flag was lost: try the format field as if
                # the flag were there (the FCS decides)
                used = self._hdlc_without_flag(buf, pos, out)
            else:
                used = -1
            if used == 0:
                break
            if used < 0:
                self.discarded_bytes += 1
                pos += 1
            else:
                pos += used
        if pos:
            del buf[:pos]
            self._stream_offset += pos
        self.frames += len(out) - (self.bad_frames - bad_before)
        return out

    def _reject(self, message: str, at: int, out: list) -> int:
        self._bad(DecodeError(message, self._stream_offset + at), out)
        return -1

    def _bad(self, error: DecodeError, out: list) -> None:
        self.bad_frames += 1
        self.last_error = error
        out.append(error)

    # -- HDLC ------------------------------------------------------------------

    def _hdlc(self, buf: bytearray, pos: int, out: list) -> int:
        end = len(buf)
        # doubled flags (7E 7E) and inter-frame fill: the last flag opens the frame
        skip = 0
        while pos + skip + 1 < end and buf[pos + skip + 1] == _FLAG:
            skip += 1
        if skip:
            self.fill_flags += skip
            return skip
        # the format octet decides as soon as it is there: a flag followed by
        # noise is not kept as a frame under way
        if pos + 1 < end and buf[pos + 1] & 0xF0 != 0xA0:
            return -1
        if pos + 3 > end:
            return 0
        length = ((buf[pos + 1] & 0x07) << 8) | buf[pos + 2]
        closing = pos + 1 + length
        if closing > end:
            return 0
        if closing == end or buf[closing] != _FLAG:
            # the closing flag has not arrived, or is lost: the FCS alone decides
            return self._hdlc_frame(buf, pos, length, out, with_flag=True)
        used, frame = parse_frame_from(buf, pos)
        if frame is None or used != length + 2:
            return self._hdlc_frame(buf, pos, length, out, with_flag=True)
        self._hdlc_segment(frame, bytes(buf[pos : closing + 1]), out)
        # stop on the closing flag: it may open the next frame too (7E f1 7E f2 7E)
        return length + 1

    def _hdlc_without_flag(self, buf: bytearray, pos: int, out: list) -> int:
        if pos + 2 > len(buf):
            return 0
        length = ((buf[pos] & 0x07) << 8) | buf[pos + 1]
        if length < 7 or pos + 1 + length > len(buf):
            return -1
        return self._hdlc_frame(buf, pos - 1, length, out, with_flag=False)

    def _hdlc_frame(self, buf: bytearray, flag_at: int, length: int, out: list,
                    *, with_flag: bool) -> int:
        frame_end = flag_at + 1 + length  # one past the FCS
        # parse_frame_from wants flag ... flag; hand it exactly one frame, so its
        # own garbage skipping never reaches past this candidate
        candidate = b"\x7e" + bytes(buf[flag_at + 1 : frame_end]) + b"\x7e"
        _, frame = parse_frame_from(candidate, 0)
        if frame is None:
            if with_flag:
                self._rejected_end = self._stream_offset + frame_end
                return self._reject("HDLC frame fails its checks (length, HCS or FCS)", flag_at, out)
            return -1
        self._hdlc_segment(frame, candidate, out)
        # stop on the closing flag: it may open the next frame too (7E f1 7E f2 7E)
        return frame_end - (flag_at if with_flag else flag_at + 1)

    @staticmethod
    def _hdlc_segment(frame, raw: bytes, out: list) -> None:
        channel = (HDLC, address_key(frame.destination), address_key(frame.source))
        out.append(_segment(Segment, (HDLC, channel, frame.information, not frame.segmented, raw,
                                      None)))

    # -- M-Bus -----------------------------------------------------------------

    def _mbus(self, buf: bytearray, pos: int, out: list) -> int:
        end = len(buf)
        if pos + _MBUS_HEADER > end:
            return 0
        length = buf[pos + 1]
        if buf[pos + 2] != length or buf[pos + 3] != _MBUS_START or length < 3:
            return -1
        total = length + 6
        if pos + total > end:
            return 0
        body = bytes(buf[pos + 4 : pos + 4 + length])
        if buf[pos + total - 1] != _MBUS_STOP:
            return self._reject("M-Bus long frame without its stop octet 0x16", pos + total - 1, out)
        if sum(body) & 0xFF != buf[pos + 4 + length]:
            return self._reject("M-Bus checksum mismatch", pos + 4 + length, out)
        address, ci = body[1], body[2]
        if ci > _MBUS_DLMS_CI_LAST:
            # a whole frame, checksummed: not garbage, but not DLMS either
            self._bad(DecodeError(f"M-Bus CI 0x{ci:02X} carries no DLMS APDU segment",
                                  self._stream_offset + pos + 6), out)
            return total
        if length < _MBUS_TPDU_HEADER:
            return self._reject("M-Bus DLMS frame too short for its TSAP fields", pos, out)
        out.append(Segment(
            MBUS, (MBUS, address, body[3], body[4]), body[_MBUS_TPDU_HEADER:],
            bool(ci & _MBUS_FINAL_SEGMENT), bytes(buf[pos : pos + total]), ci & 0x0F,
        ))
        return total

    def _inside_rejected(self, pos: int, total: int) -> bool:
        """Whether ``total`` octets at ``pos`` lie wholly inside the last HDLC frame
        rejected: its payload, never delivered on its own. (A unit that only
        starts inside is taken: a false flag in line noise may open a candidate
        that reaches into the next real unit.)"""
        start = self._stream_offset + pos
        return start < self._rejected_end and start + total <= self._rejected_end

    # -- bare general-glo-ciphering --------------------------------------------

    def _general_glo(self, buf: bytearray, pos: int, out: list) -> int:
        """DB 08 <system title> <length> <SC> ...: a ciphered APDU sent without
        any framing (Luxembourg's Smarty P1 port). Its tag check decides."""
        end = len(buf)
        at = pos + 10
        if at + 2 > end:
            return 0
        first = buf[at]
        if first < 0x80:
            length, at = first, at + 1
        elif first == 0x81:
            length, at = buf[at + 1], at + 2
        elif first == 0x82:
            if at + 3 > end:
                return 0
            length, at = buf[at + 1] << 8 | buf[at + 2], at + 3
        else:
            return -1
        if at >= end:
            return 0
        sc = buf[at]
        # a plausible security control (suite 0-2, some protection, no
        # compression) and length, or a stray DB 08 would hold the stream
        if not 5 <= length <= MAX_BARE_APDU or sc & 0x30 == 0 or sc & 0x8F > 2:
            return -1
        total = at - pos + length
        if self._inside_rejected(pos, total):
            return -1
        if pos + total > end:
            return 0
        raw = bytes(buf[pos : pos + total])
        out.append(Segment(APDU, (APDU, raw[2:10]), raw, True, raw))
        return total

    # -- wrapper ---------------------------------------------------------------

    def _wrapper(self, buf: bytearray, pos: int, out: list) -> int:
        end = len(buf)
        if pos + _WRAPPER_HEADER + 1 > end:
            return 0
        length = (buf[pos + 6] << 8) | buf[pos + 7]
        if not 0 < length <= MAX_WRAPPER_PAYLOAD or buf[pos + 8] not in _APDU_FIRST_OCTETS:
            return -1
        total = _WRAPPER_HEADER + length
        if self._inside_rejected(pos, total):
            return -1
        if pos + total > end:
            return 0
        source = (buf[pos + 2] << 8) | buf[pos + 3]
        destination = (buf[pos + 4] << 8) | buf[pos + 5]
        raw = bytes(buf[pos : pos + total])
        out.append(Segment(WRAPPER, (WRAPPER, source, destination), raw[_WRAPPER_HEADER:], True, raw))
        return total


def is_framed(data: bytes) -> bool:
    """Whether a capture starts with a frame (HDLC flag, M-Bus start, wrapper
    version) rather than a bare APDU."""
    head = as_bytes(data, "a capture")[:4]
    return (head[:1] == b"\x7e" or head[:2] == b"\x00\x01"
            or (len(head) == 4 and head[0] == head[3] == _MBUS_START and head[1] == head[2]))


__all__ = ["APDU", "HDLC", "MBUS", "WRAPPER", "PushFramer", "Segment", "is_framed", "starts_with_llc",
           "strip_llc"]
