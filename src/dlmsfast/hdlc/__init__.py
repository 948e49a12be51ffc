"""HDLC frames of IEC 62056-46 (frame format type 3), the LLC header and SNRM/UA parameters.

This module owns the frame level: what one frame says and whether it is intact.
The link state machine (SNRM/UA negotiation, N(S)/N(R), windows, DISC) builds
on it. The per-octet work is compiled in :mod:`dlmsfast.hdlc._hdlc`.

A frame on the line (no byte stuffing: the length field delimits the frame)::

    +------+--------+-------------+--------+---------+-----+---------------------+-----+------+
    | 7E   | format | destination | source | control | HCS | information         | FCS | 7E   |
    | flag | 2      | 1, 2 or 4   | 1,2,4  | 1       | 2   | LLC (3) + APDU ...  | 2   | flag |
    +------+--------+-------------+--------+---------+-----+---------------------+-----+------+
             |<--------------------- length (11 bits) ------------------------------->|

    format  1010 S LLL LLLLLLLL   type 3, S = more segments follow, L = length
    control I     NNN P SSS 0     N(R), P/F, N(S)
            RR    NNN P 0001      RNR NNN P 0101
            SNRM 1000 P 011   DISC 0100 P 011   UA 0110 P 011
            DM   0000 P 111   FRMR 1000 P 111   UI 0000 P 011
    HCS/FCS CRC-16/X.25, least significant octet first; no HCS without information

The information field of the first (or only) frame of an APDU starts with the
LLC header: ``E6 E6 00`` on commands (client to server), ``E6 E7 00`` on
responses. SNRM and UA may carry the negotiated parameters instead::

    81 80 LL  05 n max_info_field_length_transmit  06 n ..._receive
              07 n window_size_transmit            08 n window_size_receive

each value 1, 2 or 4 octets big-endian; absent parameters take the defaults
(128 octets, window 1).

Streams: :func:`parse_frame_from` returns ``(bytes_used, frame_or_None)`` with
0 meaning "need more data"; :class:`HdlcStreamSplitter` keeps the leftovers,
skips garbage and counts what it dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from ._hdlc import (
    FrameKind,
    HdlcAddress,
    HdlcControl,
    HdlcFrame,
    HdlcStreamSplitter,
    fcs16,
    parse_address,
    parse_frame_from,
)
from .._util import as_bytes, octets_argument, require, shown
from ..errors import DecodeError, EncodeError, UsageError

Buffer = Union[bytes, bytearray, memoryview]

FLAG = 0x7E
LLC_COMMAND = b"\xe6\xe6\x00"
LLC_RESPONSE = b"\xe6\xe7\x00"

PARAMETERS_FORMAT_IDENTIFIER = 0x81
PARAMETERS_GROUP_IDENTIFIER = 0x80
DEFAULT_MAX_INFO_FIELD_LENGTH = 128
DEFAULT_WINDOW_SIZE = 1
# What a station may propose as its maximum information field length. The frame
# length subfield has 11 bits (IEC 62056-46, frame format field): a frame is at
# most 2047 octets, the flags excluded, of which the format (2), two addresses of
# up to 4 octets each, the control (1), HCS (2) and FCS (2) take up to 15 and the
# two flags 2 more: 2047 - 17 = 2030, the upper limit DLMS implementations use,
# which fits one frame whatever the addresses. 32 is our floor, not the
# standard's: the smallest in use (the interop meter's --hdlc-max-info 32), and
# below it a ciphered APDU's header (tag, length, security control, invocation
# counter) with the LLC header would hardly fit a segment; 10, as a typo gives,
# would cut an AARQ into some 7 frames for no meter that needs it.
MIN_MAX_INFO_FIELD_LENGTH = 32
MAX_MAX_INFO_FIELD_LENGTH = 2030

# Parameter identifier -> HdlcParameters field, in the order they are written.
_PARAMETER_IDS = {
    0x05: "max_info_field_length_transmit",
    0x06: "max_info_field_length_receive",
    0x07: "window_size_transmit",
    0x08: "window_size_receive",
}
_PARAMETER_LIMITS = {
    "max_info_field_length_transmit": 0xFFFFFFFF,
    "max_info_field_length_receive": 0xFFFFFFFF,
    "window_size_transmit": 7,
    "window_size_receive": 7,
}


def check_max_info_field_length(value: object, what: str) -> None:
    """A maximum information field length we are asked to propose or grant
    (``what`` names the option): an int MIN..MAX_MAX_INFO_FIELD_LENGTH, else
    UsageError. Received parameters are not checked here: a peer's are decoded
    as sent, and the link caps what it sends at what one frame can hold."""
    require(what, str, "what")
    if type(value) is not int:  # bool too: not a length
        raise UsageError(f"{what} is an int, got {type(value).__name__}")
    if not MIN_MAX_INFO_FIELD_LENGTH <= value <= MAX_MAX_INFO_FIELD_LENGTH:
        raise UsageError(
            f"{what} is the largest HDLC information field, {MIN_MAX_INFO_FIELD_LENGTH}.."
            f"{MAX_MAX_INFO_FIELD_LENGTH} octets (IEC 62056-46: the frame length field has 11 "
            f"bits), got {shown(value)}")


# --------------------------------------------------------------------------- LLC


def with_llc(apdu: Buffer, *, response: bool = False) -> bytes:
    """Prefix an APDU with the LLC header (E6 E6 00 command, E6 E7 00 response)."""
    return (LLC_RESPONSE if response else LLC_COMMAND) + octets_argument(apdu, "an APDU", EncodeError)


def split_llc(information: Buffer) -> tuple[Optional[bytes], bytes]:
    """``(llc_header, rest)``; ``llc_header`` is None when the field has none.

    Continuation segments of a long APDU carry no LLC header, so its absence
    is not an error here.
    """
    info = as_bytes(information, "an HDLC information field")
    head = info[:3]
    if head == LLC_COMMAND or head == LLC_RESPONSE:
        return head, info[3:]
    return None, info


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True, slots=True)
class HdlcParameters:
    """SNRM/UA information field: negotiated maximum information length and window.

    ``None`` means the parameter is absent from the frame (its default, 128
    octets or window 1, applies; see :meth:`resolved`). Transmit and receive
    are from the point of view of the station that sends the frame.
    """

    max_info_field_length_transmit: Optional[int] = None
    max_info_field_length_receive: Optional[int] = None
    window_size_transmit: Optional[int] = None
    window_size_receive: Optional[int] = None

    def __post_init__(self) -> None:
        for name, limit in _PARAMETER_LIMITS.items():
            value = getattr(self, name)
            if value is not None and (type(value) is not int or not 1 <= value <= limit):
                raise EncodeError(f"{name} must be an int 1..{limit}, got {shown(value)}")

    def resolved(self) -> "HdlcParameters":
        """A copy with the defaults filled in for absent parameters."""
        length, window = DEFAULT_MAX_INFO_FIELD_LENGTH, DEFAULT_WINDOW_SIZE
        return HdlcParameters(
            length if self.max_info_field_length_transmit is None else self.max_info_field_length_transmit,
            length if self.max_info_field_length_receive is None else self.max_info_field_length_receive,
            window if self.window_size_transmit is None else self.window_size_transmit,
            window if self.window_size_receive is None else self.window_size_receive,
        )

    def to_bytes(self) -> bytes:
        """The information field ``81 80 LL ...``: lengths in 1, 2 or 4 octets, windows in 4."""
        group = bytearray()
        for identifier, name in _PARAMETER_IDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if name.startswith("window"):
                size = 4
            else:
                size = 1 if value <= 0xFF else 2 if value <= 0xFFFF else 4
            group += bytes((identifier, size)) + value.to_bytes(size, "big")
        return bytes((PARAMETERS_FORMAT_IDENTIFIER, PARAMETERS_GROUP_IDENTIFIER, len(group))) + group

    @classmethod
    def from_bytes(cls, information: Buffer, base: int = 0) -> "HdlcParameters":
        """Parse an SNRM/UA information field; ``base`` is added to error offsets."""
        require(base, int, "base")
        return cls(**_parse_parameters(as_bytes(information, "an SNRM/UA information field"), base)[1])

    def to_meaning(self) -> dict[str, Any]:
        """The ``parameters`` object of the hdlc.json schema (absent ones omitted)."""
        values = {name: getattr(self, name) for name in _PARAMETER_IDS.values()}
        present = {name: value for name, value in values.items() if value is not None}
        return _parameters_meaning(len(self.to_bytes()) - 3, present)


def _parameters_meaning(group_length: int, values: dict[str, int]) -> dict[str, Any]:
    return {
        "format_identifier": f"{PARAMETERS_FORMAT_IDENTIFIER:02X}",
        "group_identifier": f"{PARAMETERS_GROUP_IDENTIFIER:02X}",
        "group_length": group_length,
        **values,
    }


def _parse_parameters(info: bytes, base: int) -> tuple[int, dict[str, int]]:
    """``(group_length, {field: value})`` of an SNRM/UA information field."""
    if len(info) < 3:
        raise DecodeError("SNRM/UA parameters shorter than their 3-octet header", base + len(info))
    if info[0] != PARAMETERS_FORMAT_IDENTIFIER:
        raise DecodeError(f"SNRM/UA format identifier 0x{info[0]:02X} (expected 0x81)", base)
    if info[1] != PARAMETERS_GROUP_IDENTIFIER:
        raise DecodeError(f"SNRM/UA group identifier 0x{info[1]:02X} (expected 0x80)", base + 1)
    group_length = info[2]
    if 3 + group_length != len(info):
        raise DecodeError(
            f"SNRM/UA group length {group_length} but {len(info) - 3} octets follow", base + 2
        )
    values: dict[str, int] = {}
    pos = 3
    while pos < len(info):
        if pos + 2 > len(info):
            raise DecodeError("SNRM/UA parameter cut short", base + pos)
        identifier, size = info[pos], info[pos + 1]
        if size not in (1, 2, 4):
            raise DecodeError(f"SNRM/UA parameter of {size} octets (1, 2 or 4)", base + pos + 1)
        if pos + 2 + size > len(info):
            raise DecodeError("SNRM/UA parameter value cut short", base + pos + 2)
        name = _PARAMETER_IDS.get(identifier)
        # Parameters this version does not know are skipped, as HDLC negotiation allows.
        if name is not None:
            value = int.from_bytes(info[pos + 2 : pos + 2 + size], "big")
            if not 1 <= value <= _PARAMETER_LIMITS[name]:
                raise DecodeError(f"SNRM/UA {name} = {value} out of range", base + pos + 2)
            values[name] = value
        pos += 2 + size
    return group_length, values


# --------------------------------------------------------------------------- meaning


def _address_meaning(address: HdlcAddress, raw: bytes) -> dict[str, Any]:
    return {"hex": raw.hex().upper(), "octets": address.size, "upper": address.upper, "lower": address.lower}


def _control_meaning(control: HdlcControl) -> dict[str, Any]:
    meaning: dict[str, Any] = {"hex": f"{control.value:02X}", "frame": control.kind.name}
    if control.ns is not None:
        meaning["ns"] = control.ns
    if control.nr is not None:
        meaning["nr"] = control.nr
    meaning["pf"] = int(control.pf)
    return meaning


def describe_frame(data: Buffer) -> dict[str, Any]:
    """Explain one frame (flags included) in the hdlc.json meaning schema, leniently.

    Unlike :meth:`HdlcFrame.from_bytes` this reports a wrong length field, HCS or
    FCS as ``length_matches_octets`` / ``hcs_valid`` / ``fcs_valid`` = false
    (the octets between the flags are taken as the frame). Structure that
    cannot be read at all still raises DecodeError. The frame level only: the
    schema's ``apdu`` (what follows the ``llc`` header) is left to the APDU
    layer (:func:`dlmsfast.apdu.parse_apdu`, or :func:`split_llc` for its octets).
    """
    raw = as_bytes(data, "an HDLC frame")
    if not raw or raw[0] != FLAG:
        raise DecodeError("HDLC frame does not start with the flag 0x7E", 0)
    if len(raw) < 2 or raw[-1] != FLAG:
        raise DecodeError("HDLC frame does not end with the flag 0x7E", max(len(raw) - 1, 0))
    if len(raw) < 4:
        raise DecodeError("HDLC frame too short for its format field", len(raw) - 1)
    fmt = int.from_bytes(raw[1:3], "big")
    if fmt >> 12 != 0xA:
        raise DecodeError(f"HDLC frame format type {fmt >> 12} (only type 3, 0xA, is used)", 1)
    fcs_at = len(raw) - 3
    destination, pos = parse_address(raw[:fcs_at], 3)
    source, control_at = parse_address(raw[:fcs_at], pos)
    if control_at >= fcs_at:
        raise DecodeError("HDLC frame ends before its control field", control_at)
    control = HdlcControl.from_byte(raw[control_at], control_at)
    header_end = control_at + 1
    length = fmt & 0x7FF
    meaning: dict[str, Any] = {
        "format": {
            "hex": raw[1:3].hex().upper(),
            "type": fmt >> 12,
            "segmented": bool(fmt & 0x0800),
            "length": length,
        },
        "length_matches_octets": length == len(raw) - 2,
        "destination_address": _address_meaning(destination, raw[3:pos]),
        "source_address": _address_meaning(source, raw[pos:control_at]),
        "control": _control_meaning(control),
        "hcs": None,
        "fcs": raw[fcs_at : fcs_at + 2].hex().upper(),
        "information": None,
        "fcs_valid": raw[fcs_at : fcs_at + 2] == fcs16(raw[1:fcs_at]).to_bytes(2, "little"),
    }
    if header_end < fcs_at:
        if header_end + 2 > fcs_at:
            raise DecodeError("HDLC frame has one octet where an HCS is expected", header_end)
        hcs = raw[header_end : header_end + 2]
        info = raw[header_end + 2 : fcs_at]
        meaning["hcs"] = hcs.hex().upper()
        meaning["hcs_valid"] = hcs == fcs16(raw[1:header_end]).to_bytes(2, "little")
        meaning["information"] = info.hex().upper()
        if control.kind in (FrameKind.SNRM, FrameKind.UA) and info:
            try:
                group_length, values = _parse_parameters(info, header_end + 2)
            except DecodeError as exc:
                # Explaining a frame should not stop at a malformed parameter field.
                meaning["parameters_error"] = str(exc)
            else:
                meaning["parameters"] = _parameters_meaning(group_length, values)
        llc, _ = split_llc(info)
        if llc is not None:
            meaning["llc"] = llc.hex().upper()
    return meaning


def frame_parameters(frame: HdlcFrame) -> Optional[HdlcParameters]:
    """The negotiated parameters carried by an SNRM or UA frame, or None."""
    require(frame, HdlcFrame, "frame")
    if frame.control.kind not in (FrameKind.SNRM, FrameKind.UA) or not frame.information:
        return None
    return HdlcParameters.from_bytes(frame.information)


# The link builds on everything above, so it is imported last.
from .link import (  # noqa: E402
    NEED_DATA,
    ApduReceived,
    Connected,
    Disconnected,
    DisconnectedModeError,
    FrameRejectError,
    HdlcLink,
    LinkState,
    LinkTimeout,
    UnnumberedInformation,
)

__all__ = [
    "ApduReceived",
    "Connected",
    "DEFAULT_MAX_INFO_FIELD_LENGTH",
    "DEFAULT_WINDOW_SIZE",
    "Disconnected",
    "DisconnectedModeError",
    "FLAG",
    "FrameKind",
    "FrameRejectError",
    "HdlcAddress",
    "HdlcControl",
    "HdlcFrame",
    "HdlcLink",
    "HdlcParameters",
    "HdlcStreamSplitter",
    "LLC_COMMAND",
    "LLC_RESPONSE",
    "LinkState",
    "LinkTimeout",
    "MAX_MAX_INFO_FIELD_LENGTH",
    "MIN_MAX_INFO_FIELD_LENGTH",
    "NEED_DATA",
    "UnnumberedInformation",
    "check_max_info_field_length",
    "describe_frame",
    "fcs16",
    "frame_parameters",
    "parse_address",
    "parse_frame_from",
    "split_llc",
    "with_llc",
]
