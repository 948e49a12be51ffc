# The read cursor of _axdr.pyx, shared with the other compiled modules (a
# cimport costs nothing): dlmsfast.push._push walks data-notification bodies
# with it and reads each simple value with _read_simple.

ctypedef struct Reader:
    const unsigned char* buf
    Py_ssize_t len
    Py_ssize_t pos

# The contents (after the tag at ``start``) of a simple type as a plain Python
# value; DecodeError when they are cut short or the tag is not a simple type.
cdef object _read_simple(Reader* r, int tag, Py_ssize_t start)
