"""BER (ITU-T X.690) as the ACSE APDUs use it: tags, definite lengths, and the
few universal types inside them (OBJECT IDENTIFIER, INTEGER, BIT STRING).

A BER element is a TLV::

    +-----------------+----------+--------------------+
    | tag             | length   | contents           |
    +-----------------+----------+--------------------+
    tag:    cc f ttttt            one octet, tag number 0..30
            cc f 11111 1nnnnnnn.. 0nnnnnnn   high tag number (e.g. 5F 1F)
    length: 0nnnnnnn              short form, 0..127
            1000 0kkk + k octets  long form, k = 1..4, big-endian
            0x80 (indefinite) is refused: DLMS uses definite lengths only

Tags are handled as the integer of their octets (0x5F1F, 0xBE) so that tables
can name them as they appear on the wire. Readers take the caller's buffer with
explicit bounds, never read past ``end``, bound every length by the octets that
remain, and raise :class:`~dlmsfast.errors.DecodeError` with the absolute offset.
The conformance block of the xDLMS initiate APDUs is a BER element, so
:mod:`dlmsfast.apdu.initiate` reads it with these readers (the rest of those
APDUs is A-XDR, read with the cursor of :mod:`dlmsfast.apdu.cursor`).
"""
from __future__ import annotations

from ..axdr import decode_length_from, encode_length
from ..errors import DecodeError, EncodeError
from .._util import shown

# Universal tags used inside ACSE.
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
OBJECT_IDENTIFIER = 0x06

_MAX_TAG_OCTETS = 4


def read_tag(buf: bytes, offset: int, end: int) -> tuple[int, int]:
    """The tag at ``offset`` as the integer of its octets, and the offset after it."""
    if offset >= end:
        raise DecodeError("tag missing", offset)
    tag = buf[offset]
    pos = offset + 1
    if tag & 0x1F != 0x1F:
        return tag, pos
    while pos < end and pos - offset < _MAX_TAG_OCTETS:
        octet = buf[pos]
        tag = (tag << 8) | octet
        pos += 1
        if not octet & 0x80:
            return tag, pos
    if pos >= end:
        raise DecodeError("tag truncated", offset)
    raise DecodeError(f"tag longer than {_MAX_TAG_OCTETS} octets", offset)


def read_length(buf: bytes, offset: int, end: int) -> tuple[int, int]:
    """The definite length at ``offset`` and the offset of the contents.

    BER definite lengths are A-XDR lengths (read by the A-XDR core); only the
    indefinite form 0x80 is BER's own, and DLMS never uses it. Non-minimal long
    forms (``82 00 7B``) are accepted; a length larger than the octets left
    before ``end`` is a DecodeError at the length octet.
    """
    if offset < end and buf[offset] == 0x80:
        raise DecodeError("indefinite length is not used by DLMS", offset)
    if offset >= end:
        raise DecodeError("length missing", offset)
    length, pos = decode_length_from(buf, offset)
    if length > end - pos:
        raise DecodeError(
            f"length {length} exceeds the {end - pos} octets that remain", offset
        )
    return length, pos


def read_tlv(buf: bytes, offset: int, end: int) -> tuple[int, int, int]:
    """``(tag, contents_start, contents_end)`` of the element at ``offset``."""
    if offset + 2 <= end:
        tag, first = buf[offset], buf[offset + 1]
        # The common case, a one-octet tag and a short length, without calls.
        if tag & 0x1F != 0x1F and first < 0x80 and first <= end - offset - 2:
            return tag, offset + 2, offset + 2 + first
    tag, pos = read_tag(buf, offset, end)
    length, start = read_length(buf, pos, end)
    return tag, start, start + length


def read_inner(buf: bytes, start: int, end: int, tag: int, what: str) -> tuple[int, int]:
    """The contents of the single element of an EXPLICIT wrapper ``buf[start:end]``.

    The inner element must have ``tag`` and fill the wrapper exactly.
    """
    inner, cstart, cend = read_tlv(buf, start, end)
    if inner != tag:
        raise DecodeError(f"{what}: expected tag 0x{tag:02X}, got 0x{inner:02X}", start)
    if cend != end:
        raise DecodeError(f"{what}: {end - cend} octets after the value", cend)
    return cstart, cend


def tlv(tag: int, contents: bytes) -> bytes:
    """One element: tag octets (as named by the integer), length, contents."""
    if tag < 0x100 and len(contents) < 0x80:
        return bytes((tag, len(contents))) + contents
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big") + encode_length(
        len(contents)
    ) + contents


# --- OBJECT IDENTIFIER --------------------------------------------------------

def decode_oid(buf: bytes, start: int, end: int) -> tuple[int, ...]:
    """The arcs of an OBJECT IDENTIFIER's contents ``buf[start:end]``."""
    if start >= end:
        raise DecodeError("empty object identifier", start)
    subids: list[int] = []
    value = 0
    first = start
    for pos in range(start, end):
        octet = buf[pos]
        if value == 0 and octet == 0x80:
            raise DecodeError("object identifier sub-identifier has a leading 0x80", pos)
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            subids.append(value)
            value = 0
            first = pos + 1
    if first != end:
        raise DecodeError("object identifier truncated inside a sub-identifier", first)
    head = subids[0]
    if head < 80:
        arcs = [head // 40, head % 40]
    else:
        arcs = [2, head - 80]
    return tuple(arcs + subids[1:])


def encode_oid(arcs: tuple[int, ...]) -> bytes:
    """The contents octets of an OBJECT IDENTIFIER (without tag and length)."""
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise EncodeError(f"not a valid object identifier: {shown(arcs)}")
    out = bytearray()
    for subid in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        if subid < 0:
            raise EncodeError(f"negative object identifier arc in {shown(arcs)}")
        chunk = [subid & 0x7F]
        subid >>= 7
        while subid:
            chunk.append(0x80 | (subid & 0x7F))
            subid >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def oid_text(arcs: tuple[int, ...]) -> str:
    return ".".join(str(arc) for arc in arcs)


# --- INTEGER and BIT STRING ---------------------------------------------------

_MAX_INTEGER_OCTETS = 8


def decode_integer(buf: bytes, start: int, end: int) -> int:
    """A two's-complement INTEGER's contents (1 to 8 octets)."""
    if start >= end:
        raise DecodeError("empty integer", start)
    if end - start > _MAX_INTEGER_OCTETS:
        raise DecodeError(f"integer longer than {_MAX_INTEGER_OCTETS} octets", start)
    return int.from_bytes(buf[start:end], "big", signed=True)


def encode_integer(value: int) -> bytes:
    """Minimal two's-complement contents octets."""
    size = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(size, "big", signed=True)


def decode_bit_string(buf: bytes, start: int, end: int) -> tuple[int, bytes]:
    """``(unused_bits, octets)`` of a BIT STRING's contents."""
    if start >= end:
        raise DecodeError("bit string without its unused-bits octet", start)
    unused = buf[start]
    if unused > 7 or (unused and end - start == 1):
        raise DecodeError(f"bit string with {unused} unused bits", start)
    return unused, buf[start + 1:end]

