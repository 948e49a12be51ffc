# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled HDLC core (IEC 62056-46): CRC-16/X.25, frame parse/build, stream scan.

Frame format type 3, as it travels on the line (no byte stuffing: the length
field, not the flags, delimits the frame, so 0x7E may appear inside)::

    +------+--------+-------------+--------+---------+-----+-------------+-----+------+
    | 7E   | format | destination | source | control | HCS | information | FCS | 7E   |
    | flag | 2      | 1, 2 or 4   | 1,2,4  | 1       | 2   | n           | 2   | flag |
    +------+--------+-------------+--------+---------+-----+-------------+-----+------+
             |<-------------- length (11 bits) counts these octets ------------->|

    format = 1010 S LLL LLLLLLLL: type 3 (0xA), S = segmentation bit, L = length
    HCS covers format..control; FCS covers format..information (or ..HCS);
    both are CRC-16/X.25, least significant octet first. Without an
    information field there is no HCS, only the FCS.

Addresses end with the octet whose low bit is 1; every octet carries 7 bits.
A 2-octet address is upper(7) lower(7); a 4-octet one upper(14) lower(14).

The public Python API is :mod:`dlmsfast.hdlc`; this module holds what runs per
byte or per frame: the CRC tables (slicing-by-16), the header/frame checks, the
splitter's scan (memchr for flags), and the frame objects, which are built
without going through ``__init__`` and share address/control objects.
"""
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_Resize
from cpython.buffer cimport PyBuffer_Release
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport uint8_t, uint16_t, uint32_t
from libc.string cimport memchr, memcpy

from .._arguments cimport acquire_octets, offset_index

cimport cython


from .._enum import BlueBookEnum
from .._util import shown
from ..errors import DecodeError, EncodeError, UsageError

# FLAG, the frame scan (_Scan, _scan_frame, SCAN_*) are declared in _hdlc.pxd:
# the push framer runs the scan over frames back to back (dlmsfast.push._push).

# Slicing-by-16: the slicing-by-8 method with 16 tables (8 KiB, still in L1 cache);
# about 1.4 times the throughput of 8 tables here.
cdef uint16_t _CRC[16][256]


cdef void _init_crc_tables() noexcept:
    cdef int i, k
    cdef uint16_t crc
    for i in range(256):
        crc = <uint16_t>i
        for k in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0x8408
            else:
                crc = crc >> 1
        _CRC[0][i] = crc
    # _CRC[k][b] is the CRC of octet b followed by k zero octets.
    for i in range(256):
        for k in range(1, 16):
            _CRC[k][i] = (_CRC[k - 1][i] >> 8) ^ _CRC[0][_CRC[k - 1][i] & 0xFF]


_init_crc_tables()


cdef inline uint16_t _crc_update(uint16_t crc, const uint8_t* p, Py_ssize_t n) noexcept nogil:
    # Sixteen independent table look-ups per 16 octets instead of 16 dependent steps.
    while n >= 16:
        crc = (_CRC[15][p[0] ^ (crc & 0xFF)] ^ _CRC[14][p[1] ^ (crc >> 8)]
               ^ _CRC[13][p[2]] ^ _CRC[12][p[3]] ^ _CRC[11][p[4]] ^ _CRC[10][p[5]]
               ^ _CRC[9][p[6]] ^ _CRC[8][p[7]] ^ _CRC[7][p[8]] ^ _CRC[6][p[9]]
               ^ _CRC[5][p[10]] ^ _CRC[4][p[11]] ^ _CRC[3][p[12]] ^ _CRC[2][p[13]]
               ^ _CRC[1][p[14]] ^ _CRC[0][p[15]])
        p += 16
        n -= 16
    while n > 0:
        crc = (crc >> 8) ^ _CRC[0][(crc ^ p[0]) & 0xFF]
        p += 1
        n -= 1
    return crc


cdef inline uint16_t _fcs(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    return _crc_update(0xFFFF, p, n) ^ 0xFFFF


cdef inline bint _fcs_ok(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Whether the 2 octets after ``p[0:n]`` are its CRC, least significant first."""
    cdef uint16_t crc = _fcs(p, n)
    return p[n] == (crc & 0xFF) and p[n + 1] == (crc >> 8)


def fcs16(data) -> int:
    """CRC-16/X.25 of any buffer (bytes, bytearray, memoryview), as used for HCS and FCS.

    ``fcs16(b"123456789") == 0x906E``. On the line the value is sent least
    significant octet first.
    """
    cdef Py_buffer view
    cdef uint16_t crc
    _get_buffer(data, &view, "fcs16's data")
    try:
        if view.len < 65536:
            crc = _fcs(<const uint8_t*>view.buf, view.len)
        else:
            # Long inputs let other threads run; for a frame the GIL round trip costs more.
            with nogil:
                crc = _fcs(<const uint8_t*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return crc


# --------------------------------------------------------------------------- control


class FrameKind(BlueBookEnum):
    """HDLC frame kinds used by DLMS; the value is the control octet with N(S), N(R), P/F = 0.

    An int that is no frame kind is a UsageError, as for every enumeration of
    the standard (:class:`dlmsfast._enum.BlueBookEnum`)."""

    I = 0x00
    RR = 0x01
    RNR = 0x05
    SNRM = 0x83
    DISC = 0x43
    UA = 0x63
    DM = 0x0F
    FRMR = 0x87
    UI = 0x03


cdef object _KIND_I = FrameKind.I
cdef object _KIND_RR = FrameKind.RR
cdef object _KIND_RNR = FrameKind.RNR
cdef dict _U_KINDS = {int(k): k for k in (FrameKind.SNRM, FrameKind.DISC, FrameKind.UA,
                                          FrameKind.DM, FrameKind.FRMR, FrameKind.UI)}


cdef object _kind_of(uint8_t byte):
    """The FrameKind of a control octet, or None for kinds DLMS does not use."""
    if byte & 0x01 == 0:
        return _KIND_I
    if byte & 0x03 == 0x01:
        if byte & 0x0C == 0x00:
            return _KIND_RR
        if byte & 0x0C == 0x04:
            return _KIND_RNR
        return None
    return _U_KINDS.get(byte & 0xEF)


@cython.final
@cython.no_gc
cdef class HdlcControl:
    """The control field: frame kind, N(S) (I only), N(R) (I, RR, RNR), poll/final bit.

    ``HdlcControl(FrameKind.I, ns=2, nr=3)``; ``int(control)`` is the control octet.
    Sequence numbers that the kind does not carry are ``None``.
    """

    cdef readonly object kind
    cdef readonly object ns
    cdef readonly object nr
    cdef readonly bint pf
    cdef readonly uint8_t value

    def __init__(self, kind, ns=None, nr=None, pf=True):
        cdef int byte
        if not isinstance(kind, int):
            # before the lookup, which hashes the value (a deep list: RecursionError)
            raise UsageError(f"an HDLC frame kind is a FrameKind (an int), not "
                             f"{type(kind).__name__}")
        try:
            kind = FrameKind(kind)
        except ValueError:
            raise UsageError(f"not an HDLC frame kind: {kind!r}") from None
        byte = int(kind)
        if kind is _KIND_I:
            ns = 0 if ns is None else ns
        elif ns is not None:
            raise UsageError(f"{kind.name} frames carry no N(S)")
        if kind is _KIND_I or kind is _KIND_RR or kind is _KIND_RNR:
            nr = 0 if nr is None else nr
        elif nr is not None:
            raise UsageError(f"{kind.name} frames carry no N(R)")
        for name, number in (("N(S)", ns), ("N(R)", nr)):
            if number is not None and (type(number) is not int or not 0 <= number <= 7):
                raise UsageError(f"{name} must be an int 0..7, got {shown(number)}")
        if ns is not None:
            byte |= ns << 1
        if nr is not None:
            byte |= nr << 5
        if pf:
            byte |= 0x10
        self.kind = kind
        self.ns = ns
        self.nr = nr
        self.pf = bool(pf)
        self.value = byte

    @staticmethod
    def from_byte(byte, offset=None):
        """Decode a control octet; kinds DLMS does not use raise DecodeError at ``offset``."""
        if type(byte) is not int or not 0 <= byte <= 255:
            raise UsageError(f"a control field is one octet, got {shown(byte)}")
        control = _CONTROLS[byte]
        if control is None:
            raise DecodeError(f"unsupported HDLC control field 0x{byte:02X}", offset)
        return control

    def __int__(self):
        return self.value

    def __index__(self):
        return self.value

    def __eq__(self, other):
        if not isinstance(other, HdlcControl):
            return NotImplemented
        return self.value == (<HdlcControl>other).value

    def __hash__(self):
        return hash((HdlcControl, self.value))

    def __reduce__(self):
        return (HdlcControl.from_byte, (self.value,))

    def __repr__(self):
        parts = [f"FrameKind.{self.kind.name}"]
        if self.ns is not None:
            parts.append(f"ns={self.ns}")
        if self.nr is not None:
            parts.append(f"nr={self.nr}")
        parts.append(f"pf={self.pf}")
        return f"HdlcControl({', '.join(parts)})"


cdef list _CONTROLS = [None] * 256


cdef void _init_controls() except *:
    cdef int byte
    cdef HdlcControl control
    for byte in range(256):
        kind = _kind_of(<uint8_t>byte)
        if kind is None:
            continue
        control = HdlcControl.__new__(HdlcControl)
        control.kind = kind
        control.pf = (byte >> 4) & 1
        control.ns = (byte >> 1) & 7 if kind is _KIND_I else None
        control.nr = byte >> 5 if (kind is _KIND_I or kind is _KIND_RR or kind is _KIND_RNR) else None
        control.value = <uint8_t>byte
        _CONTROLS[byte] = control


_init_controls()


# --------------------------------------------------------------------------- address


@cython.final
@cython.no_gc
cdef class HdlcAddress:
    """An HDLC address of 1, 2 or 4 octets: ``upper`` and, for 2 and 4 octets, ``lower``.

    A client address is 1 octet (its SAP: 16 public client, 1 management...). A
    server address has the upper HDLC address (logical device) and the lower one
    (physical device): 7 bits each in 2 octets, 14 bits each in 4 octets; a
    1-octet server address has only the upper part.
    """

    cdef readonly int upper
    cdef readonly object lower
    cdef readonly int size
    cdef uint32_t raw

    def __init__(self, upper, lower=None, size=None):
        if type(upper) is not int or (lower is not None and type(lower) is not int):
            raise UsageError("HDLC address parts must be ints")
        if size is None:
            if lower is None:
                size = 1
            elif upper <= 0x7F and lower <= 0x7F:
                size = 2
            else:
                size = 4
        if size == 1:
            if lower is not None:
                raise UsageError("a 1-octet HDLC address has no lower part")
            limit = 0x7F
        elif size in (2, 4):
            if lower is None:
                raise UsageError(f"a {size}-octet HDLC address needs a lower part")
            limit = 0x7F if size == 2 else 0x3FFF
        else:
            raise UsageError(f"an HDLC address has 1, 2 or 4 octets, not {shown(size)}")
        if not 0 <= upper <= limit or (lower is not None and not 0 <= lower <= limit):
            raise UsageError(
                f"HDLC address parts of a {size}-octet address are 0..{limit}, "
                f"got upper={upper} lower={lower}"
            )
        self.upper = upper
        self.lower = lower
        self.size = size
        if size == 1:
            self.raw = (upper << 1) | 1
        elif size == 2:
            self.raw = (upper << 9) | (lower << 1) | 1
        else:
            self.raw = (((upper >> 7) << 25) | ((upper & 0x7F) << 17)
                        | ((lower >> 7) << 9) | ((lower & 0x7F) << 1) | 1)

    @staticmethod
    def client(sap):
        """A 1-octet client address (client SAP, e.g. 16 for the public client)."""
        return HdlcAddress(sap, None, 1)

    @staticmethod
    def server(upper, lower=None, size=None):
        """A server address: upper (logical device) and lower (physical device) parts."""
        return HdlcAddress(upper, lower, size)

    def to_bytes(self):
        cdef uint8_t out[4]
        cdef int i
        for i in range(self.size):
            out[i] = (self.raw >> (8 * (self.size - 1 - i))) & 0xFF
        return PyBytes_FromStringAndSize(<char*>out, self.size)

    def __bytes__(self):
        return self.to_bytes()

    def __eq__(self, other):
        if not isinstance(other, HdlcAddress):
            return NotImplemented
        return self.size == (<HdlcAddress>other).size and self.raw == (<HdlcAddress>other).raw

    def __hash__(self):
        return hash((HdlcAddress, self.size, self.raw))

    def __reduce__(self):
        return (HdlcAddress, (self.upper, self.lower, self.size))

    def __repr__(self):
        if self.lower is None:
            return f"HdlcAddress(upper={self.upper}, size=1)"
        return f"HdlcAddress(upper={self.upper}, lower={self.lower}, size={self.size})"


cdef inline HdlcAddress _address_from_raw(uint32_t raw, int size):
    cdef HdlcAddress address = HdlcAddress.__new__(HdlcAddress)
    address.raw = raw
    address.size = size
    if size == 1:
        address.upper = raw >> 1
        address.lower = None
    elif size == 2:
        address.upper = (raw >> 9) & 0x7F
        address.lower = (raw >> 1) & 0x7F
    else:
        address.upper = (((raw >> 25) & 0x7F) << 7) | ((raw >> 17) & 0x7F)
        address.lower = (((raw >> 9) & 0x7F) << 7) | ((raw >> 1) & 0x7F)
    return address


@cython.final
cdef class _AddressCache:
    """The last destination and source addresses made, reused while a stream keeps
    them (an HdlcAddress is immutable): one allocation saved per frame. Each
    splitter has its own, so one process reading thousands of meters, one
    splitter per link, never makes the streams evict each other's addresses."""

    cdef HdlcAddress destination
    cdef HdlcAddress source

    def __cinit__(self):
        self.destination = self.source = HdlcAddress.client(16)

    cdef inline HdlcAddress get_destination(self, uint32_t raw, int size):
        if self.destination.raw != raw or self.destination.size != size:
            self.destination = _address_from_raw(raw, size)
        return self.destination

    cdef inline HdlcAddress get_source(self, uint32_t raw, int size):
        if self.source.raw != raw or self.source.size != size:
            self.source = _address_from_raw(raw, size)
        return self.source


# for the one-frame parse functions (no stream: no meter to keep apart)
cdef _AddressCache _parse_addresses = _AddressCache()


cdef Py_ssize_t _offset_arg(object offset) except? -1:
    """An offset argument as a C index (one too large is outside every buffer)."""
    cdef Py_ssize_t index
    if offset_index(offset, &index):
        return index
    raise UsageError(f"an offset is an int, not {type(offset).__name__}")


cdef int _get_buffer(object data, Py_buffer* view, str what) except -1:
    """The octets of a bytes-like argument (the rule of _arguments.pxd)."""
    if acquire_octets(data, view):
        return 0
    raise UsageError(f"{what} must be bytes-like, got {type(data).__name__}")


def parse_address(data, offset=0):
    """Read an HDLC address at ``offset``: ``(HdlcAddress, end_offset)``.

    Raises DecodeError at the octet whose extension bit is wrong (an address of
    3 or more than 4 octets) or where the input ends.
    """
    cdef Py_buffer view
    cdef uint32_t raw = 0
    cdef int size = 0
    cdef Py_ssize_t pos = _offset_arg(offset)
    cdef const uint8_t* p
    _get_buffer(data, &view, "an HDLC address")
    try:
        p = <const uint8_t*>view.buf
        if pos < 0 or pos > view.len:
            raise UsageError(f"offset {offset} outside a buffer of {view.len} octets")
        while True:
            if pos >= view.len:
                raise DecodeError("input ends inside an HDLC address", pos)
            raw = (raw << 8) | p[pos]
            size += 1
            if p[pos] & 1:
                break
            if size == 4:
                raise DecodeError("HDLC address longer than 4 octets", pos)
            pos += 1
        if size == 3:
            raise DecodeError("HDLC address of 3 octets (1, 2 or 4 are allowed)", pos)
        return _address_from_raw(raw, size), pos + 1
    finally:
        PyBuffer_Release(&view)


# --------------------------------------------------------------------------- frame


cdef Py_ssize_t MAX_FRAME_LENGTH = 0x7FF


cdef inline Py_ssize_t _put_frame(uint8_t* p, HdlcAddress destination, HdlcAddress source,
                                  uint8_t control, const uint8_t* info, Py_ssize_t info_len,
                                  bint segmented, Py_ssize_t length) noexcept:
    """Write one frame of ``length`` (its length field) at ``p``; return the octets written."""
    cdef Py_ssize_t pos = 3
    cdef int i
    cdef uint16_t crc
    p[0] = FLAG
    p[1] = 0xA0 | (0x08 if segmented else 0) | ((length >> 8) & 0x07)
    p[2] = length & 0xFF
    for i in range(destination.size):
        p[pos] = (destination.raw >> (8 * (destination.size - 1 - i))) & 0xFF
        pos += 1
    for i in range(source.size):
        p[pos] = (source.raw >> (8 * (source.size - 1 - i))) & 0xFF
        pos += 1
    p[pos] = control
    pos += 1
    if info_len:
        crc = _fcs(p + 1, pos - 1)
        p[pos] = crc & 0xFF
        p[pos + 1] = crc >> 8
        pos += 2
        memcpy(p + pos, info, info_len)
        pos += info_len
    crc = _fcs(p + 1, pos - 1)
    p[pos] = crc & 0xFF
    p[pos + 1] = crc >> 8
    p[pos + 2] = FLAG
    return pos + 3



@cython.final
@cython.no_gc
@cython.freelist(64)
cdef class HdlcFrame:
    """One HDLC frame (format type 3): addresses, control, information, segmentation bit.

    ``HdlcFrame(destination, source, control, information=b"", segmented=False)``;
    ``control`` is an :class:`HdlcControl` or a :class:`FrameKind` (P/F set).
    An empty ``information`` means the frame has no information field (and no HCS).
    ``to_bytes()`` computes the length, HCS and FCS; ``from_bytes()`` checks them.
    """

    cdef readonly HdlcAddress destination
    cdef readonly HdlcAddress source
    cdef readonly HdlcControl control
    cdef readonly bytes information
    cdef readonly bint segmented

    def __init__(self, destination, source, control, information=b"", segmented=False):
        if type(destination) is not HdlcAddress or type(source) is not HdlcAddress:
            raise UsageError(
                f"destination and source must be HdlcAddress, not "
                f"{type(destination).__name__} and {type(source).__name__}")
        if isinstance(control, HdlcControl):
            self.control = control
        else:
            self.control = HdlcControl(control)
        if not isinstance(information, (bytes, bytearray, memoryview)):
            raise UsageError(
                f"information must be bytes-like, not {type(information).__name__}")
        self.destination = destination
        self.source = source
        self.information = bytes(information)
        self.segmented = bool(segmented)
        if self._length() > MAX_FRAME_LENGTH:
            raise EncodeError(
                f"HDLC frame of {self._length()} octets exceeds the 11-bit length field "
                f"(information field of {len(self.information)} octets)"
            )

    cdef int _check_made(self) except -1:
        # typed fields are read without a None check: a frame made with
        # __new__ alone would have them read out of None
        if self.destination is None or self.source is None or self.control is None:
            raise UsageError("HdlcFrame was made without its fields (__new__ without __init__)")
        return 0

    cdef Py_ssize_t _length(self) except -1:
        self._check_made()
        cdef Py_ssize_t n = 2 + self.destination.size + self.source.size + 1 + 2
        if len(self.information):
            n += 2 + len(self.information)
        return n

    @property
    def length(self):
        """The value of the 11-bit length field (octets between the flags)."""
        return self._length()

    def to_bytes(self):
        cdef Py_ssize_t length = self._length()
        cdef bytes out = PyBytes_FromStringAndSize(NULL, length + 2)
        _put_frame(<uint8_t*>PyBytes_AS_STRING(out), self.destination, self.source,
                   self.control.value, <const uint8_t*>PyBytes_AS_STRING(self.information),
                   len(self.information), self.segmented, length)
        return out

    def __bytes__(self):
        return self.to_bytes()

    @staticmethod
    def from_bytes(data):
        """Parse exactly one frame, both flags included; every check is strict.

        Raises DecodeError with the offset of the fault: a missing flag, a wrong
        format type or a length field that disagrees with the octets (offset 1),
        an address with wrong extension bits, an unsupported control field, a
        bad HCS (offset of the HCS) or a bad FCS (offset of the FCS).
        """
        cdef Py_buffer view
        cdef _Scan scan
        cdef const uint8_t* p
        cdef Py_ssize_t n, length
        _get_buffer(data, &view, "an HDLC frame")
        try:
            p = <const uint8_t*>view.buf
            n = view.len
            if n == 0 or p[0] != FLAG:
                raise DecodeError("HDLC frame does not start with the flag 0x7E", 0)
            if n < 3:
                raise DecodeError("HDLC frame too short for its format field", n)
            if p[n - 1] != FLAG:
                raise DecodeError("HDLC frame does not end with the flag 0x7E", n - 1)
            if p[1] & 0xF0 != 0xA0:
                raise DecodeError(
                    f"HDLC frame format type {p[1] >> 4} (only type 3, 0xA, is used)", 1)
            length = ((p[1] & 0x07) << 8) | p[2]
            if length != n - 2:
                raise DecodeError(
                    f"HDLC length field says {length} octets but {n - 2} are between the flags", 1)
            if _scan_frame(p, 0, n, &scan) != SCAN_FRAME:
                raise _scan_error(&scan, 0)
            return _make_frame(p, &scan, _parse_addresses)
        finally:
            PyBuffer_Release(&view)

    def to_meaning(self):
        """The frame as the hdlc.json meaning schema (without the ``apdu`` key)."""
        from . import describe_frame
        return describe_frame(self.to_bytes())

    def __eq__(self, other):
        if not isinstance(other, HdlcFrame):
            return NotImplemented
        cdef HdlcFrame o = <HdlcFrame>other
        self._check_made()
        o._check_made()
        return (self.destination == o.destination and self.source == o.source
                and self.control.value == o.control.value
                and self.segmented == o.segmented and self.information == o.information)

    def __hash__(self):
        self._check_made()
        return hash((self.destination, self.source, self.control.value,
                     self.segmented, self.information))

    def __reduce__(self):
        return (HdlcFrame, (self.destination, self.source, self.control,
                            self.information, self.segmented))

    def __repr__(self):
        return (f"HdlcFrame(destination={self.destination!r}, source={self.source!r}, "
                f"control={self.control!r}, information={self.information!r}, "
                f"segmented={self.segmented})")


# --------------------------------------------------------------------------- scanning

cdef enum:
    ERR_FORMAT = 1
    ERR_LENGTH_SHORT = 2
    ERR_ADDRESS_LONG = 3
    ERR_ADDRESS_THREE = 4
    ERR_CONTROL = 5
    ERR_HCS = 6
    ERR_CLOSING_FLAG = 7
    ERR_FCS = 8
    ERR_EMPTY_INFORMATION = 9


cdef inline int _scan_address(const uint8_t* p, Py_ssize_t* pos, Py_ssize_t limit,
                              Py_ssize_t avail, uint32_t* raw, int* size,
                              _Scan* s) noexcept nogil:
    cdef Py_ssize_t i = pos[0]
    raw[0] = 0
    size[0] = 0
    while True:
        if i >= limit:
            s.error = ERR_LENGTH_SHORT
            s.error_offset = s.start + 1
            return SCAN_BAD
        if i >= avail:
            return SCAN_NEED_MORE
        raw[0] = (raw[0] << 8) | p[i]
        size[0] += 1
        if p[i] & 1:
            break
        if size[0] == 4:
            s.error = ERR_ADDRESS_LONG
            s.error_offset = i
            return SCAN_BAD
        i += 1
    if size[0] == 3:
        s.error = ERR_ADDRESS_THREE
        s.error_offset = i
        return SCAN_BAD
    pos[0] = i + 1
    return SCAN_FRAME


cdef int _scan_frame(const uint8_t* p, Py_ssize_t start, Py_ssize_t avail,
                     _Scan* s) noexcept nogil:
    """Check the candidate frame whose opening flag is at ``start``.

    Each check runs as soon as its octets are there, so that garbage is
    rejected early rather than waited for (up to a 2047-octet length).
    """
    cdef Py_ssize_t length, end, fcs_at, pos
    cdef int status
    s.start = start
    s.error = 0
    if start + 3 > avail:
        return SCAN_NEED_MORE
    if p[start + 1] & 0xF0 != 0xA0:
        s.error = ERR_FORMAT
        s.error_offset = start + 1
        s.error_value = p[start + 1]
        return SCAN_BAD
    s.segmented = (p[start + 1] & 0x08) != 0
    length = ((p[start + 1] & 0x07) << 8) | p[start + 2]
    end = start + 1 + length
    fcs_at = end - 2
    s.end = end
    pos = start + 3
    status = _scan_address(p, &pos, fcs_at, avail, &s.dst_raw, &s.dst_size, s)
    if status != SCAN_FRAME:
        return status
    status = _scan_address(p, &pos, fcs_at, avail, &s.src_raw, &s.src_size, s)
    if status != SCAN_FRAME:
        return status
    if pos >= fcs_at:
        s.error = ERR_LENGTH_SHORT
        s.error_offset = start + 1
        return SCAN_BAD
    if pos >= avail:
        return SCAN_NEED_MORE
    s.control = p[pos]
    if _CONTROLS_OK[s.control] == 0:
        s.error = ERR_CONTROL
        s.error_offset = pos
        s.error_value = s.control
        return SCAN_BAD
    pos += 1
    if pos == fcs_at:
        s.info_start = pos
        s.info_len = 0
    else:
        if pos + 2 + 1 > fcs_at:
            # Room for an HCS but not for at least one octet of information.
            s.error = ERR_EMPTY_INFORMATION
            s.error_offset = start + 1
            return SCAN_BAD
        if pos + 2 > avail:
            return SCAN_NEED_MORE
        if not _fcs_ok(p + start + 1, pos - start - 1):
            s.error = ERR_HCS
            s.error_offset = pos
            return SCAN_BAD
        s.info_start = pos + 2
        s.info_len = fcs_at - s.info_start
    if end >= avail:
        return SCAN_NEED_MORE
    if p[end] != FLAG:
        s.error = ERR_CLOSING_FLAG
        s.error_offset = end
        s.error_value = p[end]
        return SCAN_BAD
    if not _fcs_ok(p + start + 1, fcs_at - start - 1):
        s.error = ERR_FCS
        s.error_offset = fcs_at
        return SCAN_BAD
    return SCAN_FRAME


cdef uint8_t _CONTROLS_OK[256]


cdef void _init_controls_ok() except *:
    cdef int byte
    for byte in range(256):
        _CONTROLS_OK[byte] = _CONTROLS[byte] is not None


_init_controls_ok()


cdef object _scan_error(_Scan* s, Py_ssize_t base):
    """The DecodeError for a failed scan; ``base`` turns offsets into stream offsets."""
    cdef int code = s.error
    cdef Py_ssize_t at = s.error_offset + base
    if code == ERR_FORMAT:
        return DecodeError(
            f"HDLC frame format type {s.error_value >> 4} (only type 3, 0xA, is used)", at)
    if code == ERR_LENGTH_SHORT:
        return DecodeError("HDLC length field too short for the frame header", at)
    if code == ERR_ADDRESS_LONG:
        return DecodeError("HDLC address longer than 4 octets", at)
    if code == ERR_ADDRESS_THREE:
        return DecodeError("HDLC address of 3 octets (1, 2 or 4 are allowed)", at)
    if code == ERR_CONTROL:
        return DecodeError(f"unsupported HDLC control field 0x{s.error_value:02X}", at)
    if code == ERR_HCS:
        return DecodeError("HDLC header check sequence (HCS) is wrong", at)
    if code == ERR_CLOSING_FLAG:
        return DecodeError(
            f"HDLC frame does not end with the flag 0x7E where its length field says "
            f"(found 0x{s.error_value:02X})", at)
    if code == ERR_FCS:
        return DecodeError("HDLC frame check sequence (FCS) is wrong", at)
    if code == ERR_EMPTY_INFORMATION:
        return DecodeError("HDLC length field leaves an HCS but no information field", at)
    return DecodeError("malformed HDLC frame", at)


cdef inline HdlcFrame _make_frame(const uint8_t* p, _Scan* s, _AddressCache addresses):
    cdef HdlcFrame frame = HdlcFrame.__new__(HdlcFrame)
    frame.destination = addresses.get_destination(s.dst_raw, s.dst_size)
    frame.source = addresses.get_source(s.src_raw, s.src_size)
    frame.control = <HdlcControl>_CONTROLS[s.control]
    frame.segmented = s.segmented
    if s.info_len:
        frame.information = PyBytes_FromStringAndSize(<const char*>p + s.info_start, s.info_len)
    else:
        frame.information = b""
    return frame


cdef enum:
    NEXT_FRAME = 0       # a frame was found; it ends at consumed
    NEXT_NEED_MORE = 1   # nothing more can be decided without more octets
    NEXT_BAD = 2         # a candidate failed: the _Scan has the error


cdef struct _Next:
    Py_ssize_t consumed     # offset up to which the input is used
    Py_ssize_t discarded    # octets thrown away as garbage in this step
    bint after_flag         # the octet before ``consumed`` was a flag used by a frame


cdef int _next_frame(const uint8_t* p, Py_ssize_t pos, Py_ssize_t avail, bint after_flag,
                     _Scan* s, _Next* out) noexcept nogil:
    """Find the next frame from ``pos``: skip garbage, try one candidate.

    ``after_flag`` says the octet before ``pos`` was a closing flag, which may
    also open the next frame (frames sharing one flag).
    """
    cdef const uint8_t* hit
    cdef Py_ssize_t start
    cdef int status
    cdef bint shared
    out.discarded = 0
    while True:
        shared = after_flag and pos < avail and p[pos] != FLAG
        if shared:
            # The previous closing flag opens this candidate: its format field is at pos.
            start = pos - 1
        else:
            if pos >= avail:
                out.consumed = avail
                out.after_flag = after_flag
                return NEXT_NEED_MORE
            hit = <const uint8_t*>memchr(p + pos, FLAG, avail - pos)
            if hit == NULL:
                out.discarded += avail - pos
                out.consumed = avail
                out.after_flag = False
                return NEXT_NEED_MORE
            start = hit - p
            out.discarded += start - pos
            # Runs of flags are inter-frame fill: the last one opens the frame.
            while start + 1 < avail and p[start + 1] == FLAG:
                start += 1
            if start + 1 >= avail:
                out.consumed = start
                out.after_flag = False
                return NEXT_NEED_MORE
        status = _scan_frame(p, start, avail, s)
        if status == SCAN_FRAME:
            out.consumed = s.end + 1
            out.after_flag = True
            return NEXT_FRAME
        if status == SCAN_NEED_MORE:
            out.consumed = start + shared
            out.after_flag = shared
            return NEXT_NEED_MORE
        after_flag = False
        if s.error == ERR_FORMAT:
            # No format field after this flag: garbage, not a frame; keep searching.
            out.discarded += not shared
            pos = start + 1
            continue
        out.consumed = start + 1 + shared
        out.discarded += 1
        out.after_flag = False
        return NEXT_BAD


def parse_frame_from(data, offset=0):
    """Find the next frame in ``data`` from ``offset``: ``(bytes_used, frame_or_None)``.

    - ``(n, frame)``: a valid frame; ``n`` octets from ``offset`` are used
      (garbage before it and its closing flag included).
    - ``(n, None)`` with n > 0: n octets were garbage or a bad frame and are
      dropped; call again from ``offset + n``.
    - ``(0, None)``: more data is needed.

    Frames that share one flag (``7E f1 7E f2 7E``) are found when the caller
    keeps the buffer and advances ``offset``; at ``offset`` 0, or right after a
    0x7E, a format field may open a frame whose flag was the previous one's
    closing flag. :class:`HdlcStreamSplitter` keeps that state for you.
    """
    cdef Py_buffer view
    cdef _Scan scan
    cdef _Next nxt
    cdef int status
    cdef const uint8_t* p
    cdef bint after_flag
    cdef Py_ssize_t at = _offset_arg(offset)
    _get_buffer(data, &view, "HDLC octets")
    try:
        if at < 0 or at > view.len:
            raise UsageError(f"offset {at} outside the buffer of {view.len} octets")
        p = <const uint8_t*>view.buf
        after_flag = at == 0 or p[at - 1] == FLAG
        status = _next_frame(p, at, view.len, after_flag, &scan, &nxt)
        if status == NEXT_FRAME:
            return nxt.consumed - at, _make_frame(p, &scan, _parse_addresses)
        return nxt.consumed - at, None
    finally:
        PyBuffer_Release(&view)


cdef class HdlcStreamSplitter:
    """Cuts a byte stream into HDLC frames: ``feed(data) -> list[HdlcFrame]``.

    Keeps a partial frame until the rest arrives, skips garbage up to the next
    flag, and drops frames that fail a check instead of raising mid-stream:
    ``discarded_bytes`` counts every octet dropped, ``bad_frames`` the
    candidates that failed a check, and ``last_error`` keeps the last
    DecodeError (offsets counted from the start of the stream).
    """

    cdef bytearray _buffer
    cdef bint _after_flag
    cdef bint _busy
    cdef readonly Py_ssize_t discarded_bytes
    cdef readonly Py_ssize_t bad_frames
    cdef readonly Py_ssize_t frames
    cdef readonly object last_error
    cdef Py_ssize_t _stream_offset
    cdef _AddressCache _addresses

    def __cinit__(self):
        # in __cinit__, so that a splitter made with __new__ alone has one too
        self._addresses = _AddressCache()

    def __init__(self):
        self._buffer = bytearray()
        self._after_flag = False
        self.discarded_bytes = 0
        self.bad_frames = 0
        self.frames = 0
        self.last_error = None
        self._stream_offset = 0

    @property
    def pending(self):
        """Octets kept for a frame that is not complete yet."""
        return len(self._buffer)

    def feed(self, data):
        """Add received octets; return the whole, valid frames they complete."""
        self._enter()
        try:
            return self._feed(data)
        finally:
            self._busy = False

    cdef int _enter(self) except -1:
        # _split reads a pointer into _buffer while it makes Python objects, which
        # may run other code (another thread, a GC callback): a feed() or clear()
        # from there would resize or free the buffer under it.
        if self._busy:
            raise UsageError("HdlcStreamSplitter is already feeding (re-entered from "
                             "another thread or a callback)")
        self._busy = True
        return 0

    cdef list _feed(self, data):
        cdef Py_buffer view
        cdef Py_ssize_t used, kept
        cdef list frames = []
        _get_buffer(data, &view, "received octets")
        try:
            kept = len(self._buffer)
            if kept:
                PyByteArray_Resize(self._buffer, kept + view.len)
                memcpy(PyByteArray_AS_STRING(self._buffer) + kept, view.buf, view.len)
                used = self._split(<const uint8_t*>PyByteArray_AS_STRING(self._buffer),
                                   len(self._buffer), frames)
                del self._buffer[:used]
                return frames
            # Nothing pending: scan the caller's buffer in place and keep only the tail.
            used = self._split(<const uint8_t*>view.buf, view.len, frames)
            if used < view.len:
                self._buffer += PyBytes_FromStringAndSize(<const char*>view.buf + used,
                                                          view.len - used)
        finally:
            PyBuffer_Release(&view)
        return frames

    cdef Py_ssize_t _split(self, const uint8_t* p, Py_ssize_t avail, list frames) except -1:
        """Append the frames found in ``p[0:avail]``; return how many octets are used."""
        cdef _Scan scan
        cdef _Next nxt
        cdef int status
        cdef Py_ssize_t pos = 0
        while True:
            status = _next_frame(p, pos, avail, self._after_flag, &scan, &nxt)
            self.discarded_bytes += nxt.discarded
            self._after_flag = nxt.after_flag
            if status == NEXT_FRAME:
                self.frames += 1
                self._emit(p, &scan, frames)
            elif status == NEXT_BAD:
                self.bad_frames += 1
                self.last_error = _scan_error(&scan, self._stream_offset)
            pos = nxt.consumed
            if status == NEXT_NEED_MORE:
                break
        self._stream_offset += pos
        return pos

    cdef int _emit(self, const uint8_t* p, _Scan* s, list frames) except -1:
        """Hand over one valid frame (a subclass may make something else of it)."""
        frames.append(_make_frame(p, s, self._addresses))
        return 0

    def clear(self):
        """Drop buffered octets (e.g. after the link was reset); counters are kept."""
        self._enter()
        try:
            self.discarded_bytes += len(self._buffer)
            self._stream_offset += len(self._buffer)
            del self._buffer[:]
            self._after_flag = False
        finally:
            self._busy = False


# --------------------------------------------------------------------------- link batch path

cdef enum:
    LLC_NONE = 0
    LLC_COMMAND = 1      # E6 E6 00, client to server
    LLC_RESPONSE = 2     # E6 E7 00, server to client


cdef HdlcAddress _address_arg(object address, str what):
    if not isinstance(address, HdlcAddress):
        raise UsageError(f"{what} must be an HdlcAddress, got {type(address).__name__}")
    return <HdlcAddress>address


def address_key(address):
    """An address as one int (its octets big-endian, then 3 bits of size) for cheap comparison."""
    cdef HdlcAddress checked = _address_arg(address, "address")
    return (<long long>checked.raw << 3) | checked.size


cdef class HdlcLinkSplitter(HdlcStreamSplitter):
    """The link's batch path: one ``feed(data)`` cuts a chunk into frames for one
    station, checks HCS/FCS and strips the LLC header, making no frame objects.

    ``HdlcLinkSplitter(destination)`` keeps only frames addressed to
    ``destination`` (the others count in ``foreign_frames``) and returns, per
    frame, a tuple::

        (control, segmented, source_key, information, llc)

    ``control`` is the control octet, ``source_key`` is :func:`address_key`
    of the source address, and for I and UI frames whose information field
    starts with ``E6 E6 00`` (``llc`` = 1) or ``E6 E7 00`` (``llc`` = 2) those
    three octets are not part of ``information``. The scan cannot know
    whether a frame continues a segmented APDU (continuations carry no LLC),
    so the link puts the three octets back where it finds ``llc`` set on a
    continuation. Garbage and bad frames are dropped and counted as in
    :class:`HdlcStreamSplitter`.
    """

    cdef uint32_t _dst_raw
    cdef int _dst_size
    cdef readonly Py_ssize_t foreign_frames

    def __init__(self, destination):
        cdef HdlcAddress checked = _address_arg(destination, "destination")
        HdlcStreamSplitter.__init__(self)
        self._dst_raw = checked.raw
        self._dst_size = checked.size
        self.foreign_frames = 0

    cdef int _emit(self, const uint8_t* p, _Scan* s, list frames) except -1:
        cdef Py_ssize_t info_start = s.info_start
        cdef Py_ssize_t info_len = s.info_len
        cdef int llc = LLC_NONE
        if s.dst_raw != self._dst_raw or s.dst_size != self._dst_size:
            self.foreign_frames += 1
            return 0
        # I frames (low bit 0) and UI frames (0x03, P/F aside) may start with the LLC header.
        if ((s.control & 0x01) == 0 or (s.control & 0xEF) == 0x03) and info_len >= 3 \
                and p[info_start] == 0xE6 and p[info_start + 2] == 0x00 \
                and (p[info_start + 1] == 0xE6 or p[info_start + 1] == 0xE7):
            llc = LLC_COMMAND if p[info_start + 1] == 0xE6 else LLC_RESPONSE
            info_start += 3
            info_len -= 3
        frames.append((
            s.control,
            s.segmented,
            (<long long>s.src_raw << 3) | s.src_size,
            PyBytes_FromStringAndSize(<const char*>p + info_start, info_len) if info_len else b"",
            llc,
        ))
        return 0


def build_frames(destination_address, source_address, frames):
    """The octets of several frames between the same two stations, in one call.

    ``frames`` is a sequence of ``(control, information, segmented)``:
    the control octet, a bytes-like information field (empty: none, no HCS)
    and the segmentation bit. This is the link's send path: one window of
    I-frames becomes one ``bytes`` without a frame object per frame.
    """
    cdef HdlcAddress destination = _address_arg(destination_address, "destination")
    cdef HdlcAddress source = _address_arg(source_address, "source")
    cdef Py_ssize_t header = 2 + destination.size + source.size + 1 + 2
    cdef Py_ssize_t total = 0, length, n, i, pos = 0
    cdef list items
    try:
        items = list(frames)
    except TypeError:
        raise UsageError(f"frames must be a sequence of tuples, not {type(frames).__name__}") from None
    cdef Py_buffer* buffers
    cdef bytes out
    cdef uint8_t* p
    n = len(items)
    buffers = <Py_buffer*>PyMem_Malloc(max(n, 1) * sizeof(Py_buffer))
    if buffers == NULL:
        raise MemoryError()
    cdef Py_ssize_t taken = 0
    try:
        for i in range(n):
            item = items[i]
            if type(item) is not tuple or len(<tuple>item) != 3:
                raise UsageError("build_frames takes (control, information, segmented) tuples")
            if type(item[0]) is not int or not 0 <= item[0] <= 255 or _CONTROLS[item[0]] is None:
                raise UsageError(f"not an HDLC control octet DLMS uses: {shown(item[0])}")
            if not isinstance(item[1], (bytes, bytearray, memoryview)):
                raise UsageError(f"information must be bytes-like, not {type(item[1]).__name__}")
            _get_buffer(item[1], &buffers[i], "information")
            taken += 1
            length = header + (2 + buffers[i].len if buffers[i].len else 0)
            if length > MAX_FRAME_LENGTH:
                raise EncodeError(
                    f"HDLC frame of {length} octets exceeds the 11-bit length field "
                    f"(information field of {buffers[i].len} octets)")
            total += length + 2
        out = PyBytes_FromStringAndSize(NULL, total)
        p = <uint8_t*>PyBytes_AS_STRING(out)
        for i in range(n):
            length = header + (2 + buffers[i].len if buffers[i].len else 0)
            pos += _put_frame(p + pos, destination, source, <uint8_t>(<int>items[i][0]),
                              <const uint8_t*>buffers[i].buf, buffers[i].len,
                              bool(items[i][2]), length)
        return out
    finally:
        for i in range(taken):
            PyBuffer_Release(&buffers[i])
        PyMem_Free(buffers)
