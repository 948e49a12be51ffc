# cython: language_level=3
"""How the compiled modules take their callers' arguments (the compiled side of
``_util.as_bytes``): octets through the buffer protocol and offsets as C indexes.

Each compiled module cimports this file; its functions are compiled into each
one, so no module imports another at run time and the layers stay apart. They
raise nothing of their own: they say whether the argument is usable, and the
module raises its UsageError (a .pxd cannot import dlmsfast.errors).

The rule they keep for every layer: any bytes-like object is its octets in
order, a strided memoryview included (copied once; the view then holds the
copy); anything else (an int, which ``bytes()`` would turn into that many zero
octets, None, a str) is refused. An offset is an int; one too large for a C
index is outside every buffer.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyObject_GetBuffer

cdef extern from "Python.h":
    # the same call without Cython's exception check: the fast path reads the status
    int _try_get_buffer "PyObject_GetBuffer" (object obj, Py_buffer* view, int flags)
    void PyErr_Clear()
    const Py_ssize_t PY_SSIZE_T_MAX


cdef inline int acquire_octets(object obj, Py_buffer* view) except -1:
    """Fill ``view`` (the caller releases it) with the octets of ``obj``: 1, or 0
    with nothing set when ``obj`` is not bytes-like."""
    if _try_get_buffer(obj, view, PyBUF_SIMPLE) == 0:
        return 1
    PyErr_Clear()
    return _acquire_copy(obj, view)


cdef inline int _acquire_copy(object obj, Py_buffer* view) except -1:
    # off the fast path (a strided view, or not a buffer at all): a try/except
    # costs even when nothing is raised
    try:
        octets = bytes(memoryview(obj))
    except TypeError:
        return 0
    PyObject_GetBuffer(octets, view, PyBUF_SIMPLE)
    return 1


cdef inline int offset_index(object offset, Py_ssize_t* index) except -1:
    """Put ``offset`` in ``index``: 1, or 0 when it is not an int (bool neither).
    An int too large for a C index becomes one outside every buffer."""
    if not isinstance(offset, int) or isinstance(offset, bool):
        return 0
    if offset >= PY_SSIZE_T_MAX:
        index[0] = PY_SSIZE_T_MAX
    elif offset < 0:
        index[0] = -1
    else:
        index[0] = offset
    return 1
