# The frame scan of _hdlc.pyx, shared with the other compiled modules (a
# cimport costs nothing): dlmsfast.push._push runs it over the frames a HAN
# port sends back to back.
from libc.stdint cimport uint8_t, uint32_t

cdef enum:
    FLAG = 0x7E

cdef enum:
    SCAN_FRAME = 0       # a whole, valid frame
    SCAN_NEED_MORE = 1   # the candidate is still plausible but incomplete
    SCAN_BAD = 2         # the candidate is not a valid frame

cdef struct _Scan:
    Py_ssize_t start           # offset of the opening flag
    Py_ssize_t end             # offset of the closing flag
    Py_ssize_t info_start
    Py_ssize_t info_len
    uint32_t dst_raw
    uint32_t src_raw
    int dst_size
    int src_size
    uint8_t control
    bint segmented
    int error
    Py_ssize_t error_offset
    uint32_t error_value

# Check the candidate frame whose opening flag is at ``start`` (SCAN_*; the
# _Scan says where its parts are, or what failed).
cdef int _scan_frame(const uint8_t* p, Py_ssize_t start, Py_ssize_t avail,
                     _Scan* s) noexcept nogil
