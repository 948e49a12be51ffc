# cython: language_level=3
"""Compiled A-XDR codec: every DLMS Data type, decode and encode.

Layout of a Data value (IEC 62056-6-2, A-XDR rules of IEC 61334-6)::

    tag (1 octet) | contents
      array 01, structure 02     count (A-XDR length) | elements, each tagged
      compact-array 13           contents-description | length | array-contents
      octet-/visible-/utf8-string  length | octets
      bit-string 04              length in BITS | ceil(bits / 8) octets
      fixed-size types           big-endian octets (1, 2, 4, 8; date-time 12)

    A-XDR length:  0x00..0x7F                 the length itself
                   0x81..0x84 | 1..4 octets   big-endian length (0x80, 0x85.. invalid)

The decoder walks a read cursor over the caller's buffer (taken through the
buffer protocol, never copied) and makes Python objects only at the leaves.
Every count and length is checked against the bytes that remain before
anything is allocated, and nesting is bounded, so hostile input costs at most
its own size. The encoder appends straight into the bytes object it returns
(grown with realloc); a type description is first compiled into a flat C array
of nodes so that encoding a list of rows touches Python only to read the values.
"""
cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer

from .._arguments cimport acquire_octets, offset_index
from cpython.bytes cimport _PyBytes_Resize, PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_FromDouble
from cpython.list cimport PyList_Append, PyList_CheckExact, PyList_GET_ITEM, PyList_New, PyList_SET_ITEM
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsUnsignedLongLong, PyLong_CheckExact, PyLong_FromLongLong, PyLong_FromUnsignedLongLong
from cpython.object cimport Py_SIZE
from cpython.version cimport PY_VERSION_HEX
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF, PyObject
from cpython.sequence cimport PySequence_Fast_GET_SIZE, PySequence_Fast_ITEMS
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE, PyTuple_New, PyTuple_SET_ITEM
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcpy

import datetime as _dt
from collections.abc import Mapping as _Mapping

from .values import DONT_CARE, BitString, DataType, Date, DateTime, Time, TypeDescription
from ..errors import DecodeError, DlmsError, EncodeError, UsageError

cdef extern from "Python.h":
    const Py_ssize_t PY_SSIZE_T_MAX
    int PyObject_GC_IsTracked(object o)
    void PyObject_GC_UnTrack(object o)
    int PyGC_Disable()
    int PyGC_Enable()
    int Py_EnterRecursiveCall(const char* where)   # nonzero (not -1) with RecursionError set
    void Py_LeaveRecursiveCall()
    object PyUnicode_DecodeLatin1(const char* s, Py_ssize_t size, const char* errors)
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)

cdef inline int _enter_recursion(const char* where) except -1:
    if Py_EnterRecursiveCall(where):
        return -1
    return 0


cdef enum:
    # Real DLMS data nests a handful of levels; anything deeper is hostile.
    MAX_DEPTH = 64
    # A value in compact-array contents may be nested MAX_DEPTH deep over one octet.
    MAX_VALUES_PER_OCTET = MAX_DEPTH
    T_NULL = 0
    T_ARRAY = 1
    T_STRUCTURE = 2
    T_BOOLEAN = 3
    T_BIT_STRING = 4
    T_OCTET_STRING = 9
    T_VISIBLE_STRING = 10
    T_UTF8_STRING = 12
    T_BCD = 13
    T_COMPACT_ARRAY = 19
    T_LONG64_UNSIGNED = 21
    T_FLOAT32 = 23
    T_FLOAT64 = 24
    T_DATE_TIME = 25
    T_DATE = 26
    T_TIME = 27
    T_DONT_CARE = 255

# Per tag: octets of an integer type (0 = not an integer) and whether signed;
# octets of any simple type (-1 = length-prefixed, -2 = not a simple type).
cdef int _INT_SIZE[256]
cdef bint _INT_SIGNED[256]
cdef Py_ssize_t _SIMPLE_SIZE[256]
cdef list _DATA_TYPES = [None] * 256
cdef list _TYPE_NAMES = ["unknown tag %d" % i for i in range(256)]
cdef double _FLOAT32_MAX = 3.4028234663852886e38
# Saturation bound for the minimum encoded size (and weight) of a described
# element. Sizes and weights are long long (64 bits on every platform), not
# Py_ssize_t (32 bits on a 32-bit build): a 2-octet array count times the cap
# (2**16 * 2**40) and the sum of two caps stay far below 2**63 everywhere.
cdef long long SIZE_CAP = (<long long>1) << 40


cdef void _init_tables():
    cdef int i
    for i in range(256):
        _INT_SIZE[i] = 0
        _INT_SIGNED[i] = False
        _SIMPLE_SIZE[i] = -2
    for member in DataType:
        _DATA_TYPES[member] = member
        _TYPE_NAMES[member] = member.blue_book_name
    for i, size, signed in (
        (5, 4, True), (6, 4, False), (13, 1, False), (15, 1, True), (16, 2, True),
        (17, 1, False), (18, 2, False), (20, 8, True), (21, 8, False), (22, 1, False),
        (28, 1, True), (29, 2, True), (30, 4, True), (31, 1, False), (32, 2, False),
        (33, 4, False),
    ):
        _INT_SIZE[i] = size
        _INT_SIGNED[i] = signed
        _SIMPLE_SIZE[i] = size
    for i, size in ((T_NULL, 0), (T_DONT_CARE, 0), (T_BOOLEAN, 1), (T_FLOAT32, 4),
                    (T_FLOAT64, 8), (T_DATE_TIME, 12), (T_DATE, 5), (T_TIME, 4),
                    (T_BIT_STRING, -1), (T_OCTET_STRING, -1), (T_VISIBLE_STRING, -1),
                    (T_UTF8_STRING, -1)):
        _SIMPLE_SIZE[i] = size


_init_tables()

cdef object _DONT_CARE = DONT_CARE
cdef object _datetime_from_bytes = DateTime.from_bytes
cdef object _date_from_bytes = Date.from_bytes
cdef object _time_from_bytes = Time.from_bytes


# ---------------------------------------------------------------- typed node

# Data holds only immutable values and tuples of Data, so it can never be part of
# a reference cycle: keeping it out of the garbage collector makes typed decoding
# of large buffers an order of magnitude faster.
@cython.no_gc
cdef class Data:
    """A typed A-XDR node: the DLMS type of every value is kept.

    ``value`` is an int, bool, float, bytes, str or None for the simple types,
    a tuple of :class:`Data` for arrays, structures and compact-arrays,
    :class:`DateTime` / :class:`Date` / :class:`Time` for tags 25/26/27 and
    :class:`BitString` for bit-strings. A compact-array also carries its
    ``contents_description`` (a :class:`TypeDescription`). Nodes are immutable;
    leaf values and compact-array contents are checked when the node is made.
    """

    cdef readonly object type
    cdef readonly object value
    cdef readonly object contents_description
    cdef int tag

    def __init__(self, type, value=None, contents_description=None):
        cdef Writer scratch
        cdef int tag
        # The encoder trusts a node's tag to match its value (a structure holds a
        # tuple of Data), so a node is never re-initialised, and gets its tag only
        # once its value has been checked.
        if self.type is not None:
            raise UsageError("a Data node is immutable: __init__ cannot be called again")
        if not isinstance(type, int):
            # before the lookup, which hashes the value (a deep tree: RecursionError)
            raise UsageError(f"a DLMS data type is a DataType (an int), not {_type_name(type)}")
        try:
            kind = DataType(type)
        except ValueError:
            raise UsageError(f"unknown DLMS data type {type!r}") from None
        tag = kind
        if tag in (T_ARRAY, T_STRUCTURE, T_COMPACT_ARRAY):
            value = _node_tuple(value, kind)
        if tag == T_COMPACT_ARRAY:
            if contents_description is None:
                raise UsageError("a compact-array node needs its contents_description")
            if not isinstance(contents_description, TypeDescription):
                contents_description = TypeDescription(contents_description)
        elif contents_description is not None:
            raise UsageError("only a compact-array node has a contents_description")
        elif tag not in (T_ARRAY, T_STRUCTURE):
            value = _normalize_leaf(tag, value)
        self.value = value
        self.contents_description = contents_description
        # Leaves and compact-array contents are encoded once here, so a bad value
        # fails where it is made rather than at some later encode().
        if tag == T_COMPACT_ARRAY:
            _compact_contents(self)
        elif tag != T_ARRAY and tag != T_STRUCTURE:
            _writer_init(&scratch)
            try:
                _put_simple(&scratch, tag, value)
            finally:
                _writer_release(&scratch)
        self.tag = tag
        self.type = kind

    def __eq__(self, other):
        if not isinstance(other, Data):
            return NotImplemented
        cdef Data o = other
        return (self.tag == o.tag and self.value == o.value
                and self.contents_description == o.contents_description)

    def __hash__(self):
        return _node_hash(self, 0)

    def __repr__(self):
        return _node_repr(self, 0)

    def __reduce__(self):
        return (Data, (self.type, self.value, self.contents_description))

    def to_plain(self):
        """The value as :func:`decode` would give it (lists for arrays, tuples for
        structures, no types)."""
        try:
            return _plain(self)
        except RecursionError:
            raise UsageError(_TOO_DEEP) from None

    def to_meaning(self):
        """The node as the "A-XDR Data node" schema of the shared vectors."""
        try:
            return _meaning(self)
        except RecursionError:
            raise UsageError(_TOO_DEEP) from None

    @staticmethod
    def from_meaning(meaning):
        """Build a node from the vector schema (informational keys are ignored)."""
        try:
            return _from_meaning(meaning)
        except RecursionError:
            raise UsageError(_TOO_DEEP) from None


# The walks below recurse in C; at the interpreter's recursion limit they raise
# RecursionError, which the public method turns into a UsageError once the
# stack is unwound (no exception can be made at the limit itself).
_TOO_DEEP = "a Data tree nested too deep for the interpreter's recursion limit"


cdef object _plain(Data node):
    if node.tag != T_ARRAY and node.tag != T_STRUCTURE and node.tag != T_COMPACT_ARRAY:
        return _DONT_CARE if node.tag == T_DONT_CARE else node.value
    _enter_recursion(" in Data.to_plain")
    try:
        if node.tag == T_STRUCTURE:
            return tuple([_plain(<Data>e) for e in node.value])
        return [_plain(<Data>e) for e in node.value]
    finally:
        Py_LeaveRecursiveCall()


cdef dict _meaning(Data self):
    cdef dict meaning = {"type": self.type.blue_book_name}
    cdef int tag = self.tag
    value = self.value
    if tag == T_NULL or tag == T_DONT_CARE:
        return meaning
    if tag == T_COMPACT_ARRAY:
        meaning["contents_description"] = self.contents_description.to_meaning()
        meaning["array_contents"] = _compact_contents(self).hex().upper()
    if tag == T_ARRAY or tag == T_STRUCTURE or tag == T_COMPACT_ARRAY:
        _enter_recursion(" in Data.to_meaning")
        try:
            meaning["value"] = [_meaning(<Data>e) for e in value]
        finally:
            Py_LeaveRecursiveCall()
    elif tag == T_OCTET_STRING:
        meaning["value"] = value.hex().upper()
    elif tag == T_BCD:
        meaning["value"] = f"{value:02X}"
    elif tag == T_BIT_STRING:
        meaning["value"] = str(value)
        padding = value.padding
        if padding.strip("0"):
            # non-zero padding bits are kept, so that the meaning rebuilds the octets
            meaning["padding"] = padding
    elif tag == T_DATE_TIME or tag == T_DATE or tag == T_TIME:
        meaning["value"] = value.to_meaning()
    else:
        meaning["value"] = value
    return meaning


cdef Data _from_meaning(object meaning):
    if not isinstance(meaning, dict) or "type" not in meaning:
        raise UsageError(f"a Data meaning is a dict with a 'type', not {_short(meaning)}")
    kind = DataType.from_blue_book_name(meaning["type"])
    value = meaning.get("value")
    description = None
    try:
        if kind in (DataType.ARRAY, DataType.STRUCTURE, DataType.COMPACT_ARRAY):
            _enter_recursion(" in Data.from_meaning")
            try:
                value = tuple([_from_meaning(e) for e in value])
            finally:
                Py_LeaveRecursiveCall()
            if kind == DataType.COMPACT_ARRAY:
                description = TypeDescription.from_meaning(meaning["contents_description"])
        elif kind == DataType.OCTET_STRING:
            value = bytes.fromhex(value)
        elif kind == DataType.BCD:
            value = int(value, 16)
        elif kind == DataType.BIT_STRING:
            value = BitString.from_str(value, meaning.get("padding", ""))
        elif kind == DataType.DATE_TIME:
            value = DateTime.from_meaning(value)
        elif kind == DataType.DATE:
            value = Date.from_meaning(value)
        elif kind == DataType.TIME:
            value = Time.from_meaning(value)
    except DlmsError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError):
        # a value of the wrong form for its type (None for an octet-string...)
        raise UsageError(f"not the meaning of a {kind.blue_book_name}: "
                         f"{_short(meaning)}") from None
    return Data(kind, value, description)


cdef str _short(object value):
    """A repr for an error message, cut short: values may be large, or nested
    too deep for repr() (a list 100000 deep: RecursionError)."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<{_type_name(value)} nested too deep to show>"
    return text if len(text) <= 80 else text[:77] + "..."


cdef str _type_name(object value):
    return type(value).__name__


# A node built by hand may nest without bound. Real DLMS data nests a handful of
# levels (the decoder refuses more than MAX_DEPTH), so the hash and the repr look
# MAX_DEPTH levels down and no further: no recursion through C slots that would
# overflow the stack or end in RecursionError. Equal nodes still hash equal (the
# hash reads less than __eq__ compares, never something else).
cdef object _node_hash(Data node, int depth):
    cdef int tag = node.tag
    if tag != T_ARRAY and tag != T_STRUCTURE and tag != T_COMPACT_ARRAY:
        return hash((tag, node.value, node.contents_description))
    if depth >= MAX_DEPTH:
        return hash((tag, len(node.value)))
    return hash((tag, tuple([_node_hash(<Data>e, depth + 1) for e in node.value]),
                 node.contents_description))


cdef str _node_repr(Data node, int depth):
    cdef int tag = node.tag
    extra = ""
    if node.contents_description is not None:
        extra = f", contents_description={node.contents_description!r}"
    if tag != T_ARRAY and tag != T_STRUCTURE and tag != T_COMPACT_ARRAY:
        shown = repr(node.value)
    elif depth >= MAX_DEPTH:
        shown = "(...)"
    else:
        items = [_node_repr(<Data>e, depth + 1) for e in node.value]
        shown = "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return f"Data(DataType.{node.type.name}, {shown}{extra})"


cdef tuple _node_tuple(object value, object kind):
    if (isinstance(value, (str, bytes, bytearray, _Mapping, set, frozenset))
            or not hasattr(value, "__iter__")):
        raise EncodeError(
            f"{kind.blue_book_name} node holds a sequence of Data, not {_short(value)}")
    nodes = tuple(value)
    for node in nodes:
        if not isinstance(node, Data):
            raise EncodeError(f"{kind.blue_book_name} node holds Data nodes, not {_short(node)}")
    return nodes


cdef object _normalize_leaf(int tag, object value):
    """Give a leaf value its canonical Python type (checked by the encoder after)."""
    if tag == T_DONT_CARE and value is _DONT_CARE:
        return None
    if tag == T_OCTET_STRING:
        # decoded octet-strings are bytes, so a node made from a clock value is too
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, (DateTime, Date, Time)):
            return value.to_bytes()
        if isinstance(value, _dt.datetime):
            return DateTime.from_datetime(value).to_bytes()
        return value
    if tag == T_VISIBLE_STRING and isinstance(value, (bytes, bytearray)):
        return value.decode("latin-1")
    if tag == T_UTF8_STRING and isinstance(value, (bytes, bytearray)):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise EncodeError(f"utf8-string takes valid UTF-8, not {_short(value)}") from None
    if tag == T_BIT_STRING and isinstance(value, str):
        return BitString.from_str(value)
    if (tag == T_FLOAT32 or tag == T_FLOAT64) and type(value) is int:
        try:
            value = float(value)
        except OverflowError:
            raise EncodeError(f"{_TYPE_NAMES[tag]} cannot hold {_short(value)}") from None
    if tag == T_FLOAT32 and type(value) is float and -_FLOAT32_MAX <= value <= _FLOAT32_MAX:
        # the value the node will decode back to
        return <double><float><double>value
    if tag == T_BOOLEAN and type(value) is int and value in (0, 1):
        return bool(value)
    if tag == T_DATE_TIME and isinstance(value, _dt.datetime):
        return DateTime.from_datetime(value)
    if tag == T_DATE and isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return Date.from_date(value)
    if tag == T_TIME and isinstance(value, _dt.time):
        return Time.from_time(value)
    return value


cdef inline void _untrack_if_atomic(object items, Py_ssize_t n):
    """Take a new tuple out of the garbage collector when nothing in it is tracked
    (as the collector itself would later): most structures hold only ints and
    bytes, and a large buffer would otherwise make every collection walk them."""
    cdef Py_ssize_t i
    for i in range(n):
        if PyObject_GC_IsTracked(<object>PyTuple_GET_ITEM(items, i)):
            return
    PyObject_GC_UnTrack(items)


cdef inline Data _new_data(int tag, object value, object description):
    cdef Data node = Data.__new__(Data)
    node.tag = tag
    node.type = <object>PyList_GET_ITEM(_DATA_TYPES, tag)
    node.value = value
    node.contents_description = description
    return node


# ---------------------------------------------------------------- read cursor

# Reader (the cursor) is declared in _axdr.pxd: the push fast path walks
# notification bodies with it (cimport dlmsfast.axdr._axdr).


cdef int _fail(str message, Py_ssize_t offset) except -1:
    raise DecodeError(message, offset)


cdef inline int _need(Reader* r, Py_ssize_t n, int tag) except -1:
    if r.len - r.pos < n:
        _fail(f"{_TYPE_NAMES[tag]} needs {n} octets, {r.len - r.pos} remain", r.pos)
    return 0


cdef Py_ssize_t _read_length(Reader* r) except -1:
    """An A-XDR length; non-minimal forms are accepted, the value is not bounded."""
    cdef Py_ssize_t start = r.pos
    cdef uint64_t value = 0
    cdef int first, octets, i
    if r.pos >= r.len:
        _fail("length missing", r.pos)
    first = r.buf[r.pos]
    r.pos += 1
    if first < 0x80:
        return first
    octets = first & 0x7F
    if octets == 0 or octets > 4:
        _fail(f"invalid length form 0x{first:02X}", start)
    if r.len - r.pos < octets:
        _fail(f"length of form 0x{first:02X} needs {octets} octets, {r.len - r.pos} remain",
              r.pos)
    for i in range(octets):
        value = (value << 8) | r.buf[r.pos + i]
    r.pos += octets
    # only where Py_ssize_t has 32 bits can a 4-octet length not fit
    if value > <uint64_t>(PY_SSIZE_T_MAX - 8):
        _fail(f"length {value} too large for this platform", start)
    return <Py_ssize_t>value


cdef inline Py_ssize_t _read_bounded_length(Reader* r, str what) except -1:
    """A length (or count) that may not exceed the octets that remain."""
    cdef Py_ssize_t start = r.pos
    cdef Py_ssize_t n = _read_length(r)
    if n > r.len - r.pos:
        _fail(f"{what} {n} exceeds the {r.len - r.pos} octets that remain", start)
    return n


cdef inline uint64_t _read_be(Reader* r, int size):
    cdef uint64_t value = 0
    cdef int i
    for i in range(size):
        value = (value << 8) | r.buf[r.pos + i]
    r.pos += size
    return value


cdef object _read_utf8(Reader* r, Py_ssize_t n):
    cdef Py_ssize_t start = r.pos
    try:
        text = PyUnicode_DecodeUTF8(<const char*>r.buf + r.pos, n, "strict")
    except UnicodeDecodeError as exc:
        _fail(f"utf8-string is not valid UTF-8: {exc.reason}", start + exc.start)
    r.pos += n
    return text


cdef object _read_clock(Reader* r, int tag, Py_ssize_t size):
    raw = PyBytes_FromStringAndSize(<const char*>r.buf + r.pos, size)
    r.pos += size
    if tag == T_DATE_TIME:
        return _datetime_from_bytes(raw)
    if tag == T_DATE:
        return _date_from_bytes(raw)
    return _time_from_bytes(raw)


cdef object _read_simple(Reader* r, int tag, Py_ssize_t start):
    """The contents (after any tag) of a simple type, as a plain Python value."""
    cdef int size = _INT_SIZE[tag]
    cdef uint64_t raw
    cdef Py_ssize_t n
    cdef uint32_t bits32
    cdef float f32
    cdef double f64
    if size:
        _need(r, size, tag)
        raw = _read_be(r, size)
        if not _INT_SIGNED[tag]:
            return PyLong_FromUnsignedLongLong(raw)
        if size == 1:
            return PyLong_FromLongLong(<signed char>raw)
        if size == 2:
            return PyLong_FromLongLong(<short>raw)
        if size == 4:
            return PyLong_FromLongLong(<int>raw)
        return PyLong_FromLongLong(<int64_t>raw)
    if tag == T_OCTET_STRING:
        n = _read_bounded_length(r, "octet-string length")
        value = PyBytes_FromStringAndSize(<const char*>r.buf + r.pos, n)
        r.pos += n
        return value
    if tag == T_VISIBLE_STRING:
        n = _read_bounded_length(r, "visible-string length")
        value = PyUnicode_DecodeLatin1(<const char*>r.buf + r.pos, n, NULL)
        r.pos += n
        return value
    if tag == T_BOOLEAN:
        _need(r, 1, tag)
        r.pos += 1
        return r.buf[r.pos - 1] != 0
    if tag == T_NULL:
        return None
    if tag == T_DONT_CARE:
        return _DONT_CARE
    if tag == T_UTF8_STRING:
        n = _read_bounded_length(r, "utf8-string length")
        return _read_utf8(r, n)
    if tag == T_FLOAT32:
        _need(r, 4, tag)
        bits32 = <uint32_t>_read_be(r, 4)
        memcpy(&f32, &bits32, 4)
        return PyFloat_FromDouble(f32)
    if tag == T_FLOAT64:
        _need(r, 8, tag)
        raw = _read_be(r, 8)
        memcpy(&f64, &raw, 8)
        return PyFloat_FromDouble(f64)
    if tag == T_DATE_TIME or tag == T_DATE or tag == T_TIME:
        _need(r, _SIMPLE_SIZE[tag], tag)
        return _read_clock(r, tag, _SIMPLE_SIZE[tag])
    if tag == T_BIT_STRING:
        n = _read_length(r)
        if (n + 7) // 8 > r.len - r.pos:
            _fail(f"bit-string of {n} bits exceeds the {r.len - r.pos} octets that remain",
                  r.pos)
        value = PyBytes_FromStringAndSize(<const char*>r.buf + r.pos, (n + 7) // 8)
        r.pos += (n + 7) // 8
        return BitString(value, n)
    _fail(f"unknown data type tag 0x{tag:02X}", start)


cdef object _decode(Reader* r, int depth, bint typed):
    """One tagged Data value at the cursor: plain values, or Data nodes if typed."""
    cdef Py_ssize_t start = r.pos
    cdef Py_ssize_t n, i
    cdef int tag
    cdef object container, item
    if r.pos >= r.len:
        _fail("data tag missing", r.pos)
    tag = r.buf[r.pos]
    r.pos += 1
    if tag == T_ARRAY or tag == T_STRUCTURE:
        if depth >= MAX_DEPTH:
            _fail(f"data nested deeper than {MAX_DEPTH} levels", start)
        # Every element takes at least its tag octet, so the count is bounded by
        # the octets that remain before anything is allocated.
        n = _read_bounded_length(r, "element count")
        if tag == T_ARRAY and not typed:
            container = PyList_New(n)
            for i in range(n):
                item = _decode(r, depth + 1, False)
                Py_INCREF(item)
                PyList_SET_ITEM(container, i, item)
        else:
            container = PyTuple_New(n)
            for i in range(n):
                item = _decode(r, depth + 1, typed)
                Py_INCREF(item)
                PyTuple_SET_ITEM(container, i, item)
            _untrack_if_atomic(container, n)
        if typed:
            return _new_data(tag, container, None)
        return container
    if tag == T_COMPACT_ARRAY:
        return _decode_compact_array(r, start, typed)
    item = _read_simple(r, tag, start)
    if typed:
        if tag == T_DONT_CARE:
            item = None
        return _new_data(tag, item, None)
    return item


# ---------------------------------------------------------------- type descriptions

ctypedef struct DescNode:
    int tag
    int int_size          # octets of an integer type up to 63 bits wide, else 0
    long long low         # its range, for the encoder's fast path
    long long high
    Py_ssize_t count      # array: elements (-1 = as many as given); structure: elements
    Py_ssize_t end        # index just after this node's subtree
    long long min_size    # fewest octets one untagged value takes (saturated)
    long long weight      # Python objects one decoded value makes (saturated)


# One description node per tag, so typed nodes share the encoder's fast leaves.
cdef DescNode _LEAF_NODES[256]


cdef void _init_leaf_nodes():
    cdef int tag
    for tag in range(256):
        _LEAF_NODES[tag].tag = tag
        _LEAF_NODES[tag].int_size = 0
        if _INT_SIZE[tag] and tag != T_LONG64_UNSIGNED:
            _LEAF_NODES[tag].int_size = _INT_SIZE[tag]
            _int_range(tag, &_LEAF_NODES[tag].low, &_LEAF_NODES[tag].high)


_init_leaf_nodes()


cdef class _Program:
    """A type description flattened in prefix order (owner of the C array)."""

    cdef DescNode* nodes
    cdef Py_ssize_t n
    cdef Py_ssize_t cap

    def __dealloc__(self):
        free(self.nodes)

    cdef Py_ssize_t add(self, int tag, Py_ssize_t count) except -1:
        cdef DescNode* grown
        if self.n == self.cap:
            self.cap = self.cap * 2 if self.cap else 8
            grown = <DescNode*>realloc(self.nodes, self.cap * sizeof(DescNode))
            if grown == NULL:
                raise MemoryError()
            self.nodes = grown
        self.nodes[self.n] = _LEAF_NODES[tag]
        self.nodes[self.n].count = count
        self.nodes[self.n].end = self.n + 1
        self.nodes[self.n].min_size = 0
        self.nodes[self.n].weight = 1
        self.n += 1
        return self.n - 1


cdef inline long long _saturate(long long size):
    return SIZE_CAP if size > SIZE_CAP else size


cdef int _parse_description(Reader* r, _Program p, int depth) except -1:
    """Read a TypeDescription from the wire into ``p``."""
    cdef Py_ssize_t start = r.pos
    cdef Py_ssize_t idx = 0, count, i, child
    cdef long long size = 0, weight = 1
    cdef int tag
    if depth >= MAX_DEPTH:
        _fail(f"type description nested deeper than {MAX_DEPTH} levels", start)
    if r.pos >= r.len:
        _fail("type description missing", r.pos)
    tag = r.buf[r.pos]
    r.pos += 1
    if tag == T_ARRAY:
        _need(r, 2, tag)
        count = <Py_ssize_t>_read_be(r, 2)
        idx = p.add(tag, count)
        child = p.n
        _parse_description(r, p, depth + 1)
        # An element of no octets could not be counted and would let a few
        # description octets allocate without bound.
        if p.nodes[child].min_size == 0:
            _fail("array element of the contents description takes no octets", start)
        size = _saturate(<long long>count * p.nodes[child].min_size)
        weight = _saturate(1 + <long long>count * p.nodes[child].weight)
    elif tag == T_STRUCTURE:
        count = _read_bounded_length(r, "structure description count")
        idx = p.add(tag, count)
        for i in range(count):
            child = p.n
            _parse_description(r, p, depth + 1)
            size = _saturate(size + p.nodes[child].min_size)
            weight = _saturate(weight + p.nodes[child].weight)
    elif _SIMPLE_SIZE[tag] != -2:
        idx = p.add(tag, 0)
        size = 1 if _SIMPLE_SIZE[tag] == -1 else _SIMPLE_SIZE[tag]
    else:
        _fail(f"data type tag 0x{tag:02X} not allowed in a type description", start)
    p.nodes[idx].end = p.n
    p.nodes[idx].min_size = size
    p.nodes[idx].weight = weight
    return 0


cdef int _compile_description(object desc, _Program p, int depth) except -1:
    """Flatten a DataType / TypeDescription (already validated by its class)."""
    cdef Py_ssize_t idx
    if depth >= MAX_DEPTH:
        raise EncodeError(f"type description nested deeper than {MAX_DEPTH} levels")
    if not isinstance(desc, TypeDescription):
        desc = TypeDescription(desc)
    kind = desc.type
    if kind == DataType.STRUCTURE:
        idx = p.add(T_STRUCTURE, len(desc.elements))
        for element in desc.elements:
            _compile_description(element, p, depth + 1)
    elif kind == DataType.ARRAY or kind == DataType.COMPACT_ARRAY:
        idx = p.add(kind, -1 if desc.count is None else desc.count)
        _compile_description(desc.element, p, depth + 1)
    else:
        idx = p.add(kind, 0)
    p.nodes[idx].end = p.n
    return 0


cdef object _description_object(_Program p, Py_ssize_t i):
    cdef DescNode node = p.nodes[i]
    cdef Py_ssize_t child = i + 1
    kind = <object>PyList_GET_ITEM(_DATA_TYPES, node.tag)
    if node.tag == T_STRUCTURE:
        elements = []
        while child < node.end:
            elements.append(_description_object(p, child))
            child = p.nodes[child].end
        return TypeDescription(kind, elements=tuple(elements))
    if node.tag == T_ARRAY:
        return TypeDescription(kind, element=_description_object(p, child), count=node.count)
    return TypeDescription(kind)


cdef object _decode_described(Reader* r, _Program p, Py_ssize_t i, bint typed):
    """One untagged value (compact-array contents) laid out as node ``i`` says."""
    cdef DescNode* node = &p.nodes[i]
    cdef int tag = node.tag
    cdef Py_ssize_t k, child, n = node.count
    cdef object container, item
    if tag == T_STRUCTURE:
        container = PyTuple_New(n)
        child = i + 1
        for k in range(n):
            item = _decode_described(r, p, child, typed)
            Py_INCREF(item)
            PyTuple_SET_ITEM(container, k, item)
            child = p.nodes[child].end
        _untrack_if_atomic(container, n)
    elif tag == T_ARRAY:
        if <long long>n * p.nodes[i + 1].min_size > r.len - r.pos:
            _fail(f"array of {n} described elements exceeds the {r.len - r.pos} octets "
                  "that remain", r.pos)
        if typed:
            container = PyTuple_New(n)
            for k in range(n):
                item = _decode_described(r, p, i + 1, True)
                Py_INCREF(item)
                PyTuple_SET_ITEM(container, k, item)
            _untrack_if_atomic(container, n)
        else:
            container = PyList_New(n)
            for k in range(n):
                item = _decode_described(r, p, i + 1, False)
                Py_INCREF(item)
                PyList_SET_ITEM(container, k, item)
    else:
        container = _read_simple(r, tag, r.pos)
        if tag == T_DONT_CARE and typed:
            container = None
    if typed:
        return _new_data(tag, container, None)
    return container


cdef object _decode_compact_array(Reader* r, Py_ssize_t start, bint typed):
    cdef _Program p = _Program()
    cdef Reader contents
    cdef Py_ssize_t n
    cdef long long budget
    cdef list elements = []
    _parse_description(r, p, 1)
    if p.nodes[0].min_size == 0:
        _fail("compact-array elements of no octets cannot be counted", start + 1)
    n = _read_bounded_length(r, "array-contents length")
    # Null-data, dont-care and empty structures take no octets in the contents,
    # so a short description could make many values per octet (a few kB making
    # a billion): bound the values by the octets of the whole compact-array.
    budget = <long long>MAX_VALUES_PER_OCTET * (r.pos + n - start)
    if n // p.nodes[0].min_size > budget // p.nodes[0].weight:
        _fail(f"compact-array of {n} content octets could make more than "
              f"{MAX_VALUES_PER_OCTET} values per octet", start)
    contents.buf = r.buf
    contents.pos = r.pos
    contents.len = r.pos + n
    # The description admits no element of zero octets, so this loop ends.
    while contents.pos < contents.len:
        PyList_Append(elements, _decode_described(&contents, p, 0, typed))
    r.pos = contents.pos
    if typed:
        return _new_data(T_COMPACT_ARRAY, tuple(elements), _description_object(p, 0))
    return elements


# ---------------------------------------------------------------- write buffer

ctypedef struct Writer:
    unsigned char* buf
    Py_ssize_t len
    Py_ssize_t cap
    PyObject* out   # the bytes object being filled (owned), NULL until the first octet


# The encoder writes straight into a bytes object that it resizes (realloc), so
# the result is not copied once more at the end.

cdef inline void _writer_init(Writer* w):
    w.buf = NULL
    w.len = 0
    w.cap = 0
    w.out = NULL


cdef inline void _writer_release(Writer* w):
    Py_XDECREF(w.out)
    w.out = NULL


cdef object _writer_finish(Writer* w):
    """The bytes written; the writer no longer owns them."""
    if w.out == NULL:
        return b""
    _PyBytes_Resize(&w.out, w.len)
    result = <object>w.out
    Py_DECREF(result)
    w.out = NULL
    return result


cdef int _grow(Writer* w, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap = w.cap * 2
    if cap < w.len + extra:
        cap = w.len + extra
    if cap < 256:
        cap = 256
    if w.out == NULL:
        fresh = PyBytes_FromStringAndSize(NULL, cap)
        Py_INCREF(fresh)
        w.out = <PyObject*>fresh
    else:
        _PyBytes_Resize(&w.out, cap)
    w.buf = <unsigned char*>PyBytes_AS_STRING(<object>w.out)
    w.cap = cap
    return 0


cdef inline int _reserve(Writer* w, Py_ssize_t extra) except -1:
    if w.cap - w.len < extra:
        _grow(w, extra)
    return 0


cdef inline int _put_byte(Writer* w, int value) except -1:
    _reserve(w, 1)
    w.buf[w.len] = <unsigned char>value
    w.len += 1
    return 0


cdef inline int _put_be(Writer* w, uint64_t value, int size) except -1:
    cdef int i
    _reserve(w, size)
    for i in range(size):
        w.buf[w.len + i] = <unsigned char>(value >> (8 * (size - 1 - i)))
    w.len += size
    return 0


cdef int _put_bytes(Writer* w, const unsigned char* data, Py_ssize_t n) except -1:
    _reserve(w, n)
    memcpy(w.buf + w.len, data, n)
    w.len += n
    return 0


cdef int _put_length(Writer* w, Py_ssize_t n) except -1:
    """The minimal A-XDR length form."""
    if n < 0x80:
        return _put_byte(w, <int>n)
    if n > 0xFFFFFFFF:
        raise EncodeError(f"length {n} does not fit the 4-octet A-XDR length form")
    if n <= 0xFF:
        _put_byte(w, 0x81)
        return _put_be(w, n, 1)
    if n <= 0xFFFF:
        _put_byte(w, 0x82)
        return _put_be(w, n, 2)
    if n <= 0xFFFFFF:
        _put_byte(w, 0x83)
        return _put_be(w, n, 3)
    _put_byte(w, 0x84)
    return _put_be(w, n, 4)


cdef int _put_buffer(Writer* w, object value, bint with_length) except -1:
    cdef Py_buffer view
    if PyBytes_CheckExact(value):
        if with_length:
            _put_length(w, PyBytes_GET_SIZE(value))
        return _put_bytes(w, <const unsigned char*>PyBytes_AS_STRING(value),
                          PyBytes_GET_SIZE(value))
    if not acquire_octets(value, &view):
        raise EncodeError(f"octets to encode must be bytes-like, not {type(value).__name__}")
    try:
        if with_length:
            _put_length(w, view.len)
        _put_bytes(w, <const unsigned char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef int _encode_error(int tag, object value, str expected) except -1:
    raise EncodeError(f"{_TYPE_NAMES[tag]} takes {expected}, not {_short(value)}")


cdef void _int_range(int tag, long long* low, long long* high):
    """The range of an integer type of up to 63 bits."""
    cdef int size = _INT_SIZE[tag]
    if _INT_SIGNED[tag]:
        high[0] = (1LL << (8 * size - 1)) - 1
        low[0] = -high[0] - 1
    else:
        low[0] = 0
        high[0] = (1LL << (8 * size)) - 1


cdef int _put_int(Writer* w, int tag, object value) except -1:
    cdef int size = _INT_SIZE[tag]
    cdef int overflow = 0
    cdef long long v
    cdef long long low, high
    if tag == T_LONG64_UNSIGNED:
        return _put_uint64(w, tag, value)
    _int_range(tag, &low, &high)
    if not PyLong_CheckExact(value):
        if not isinstance(value, int) or isinstance(value, bool):
            return _encode_error(tag, value, f"an int in {low}..{high}")
        value = int(value)
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v < low or v > high:
        return _encode_error(tag, value, f"an int in {low}..{high}")
    return _put_be(w, <uint64_t>v, size)


cdef int _put_uint64(Writer* w, int tag, object value) except -1:
    if (not isinstance(value, int) or isinstance(value, bool)
            or not 0 <= value <= 0xFFFFFFFFFFFFFFFF):
        return _encode_error(tag, value, "an int in 0..18446744073709551615")
    return _put_be(w, PyLong_AsUnsignedLongLong(int(value)), 8)


cdef int _put_float(Writer* w, int tag, object value) except -1:
    cdef double f64
    cdef float f32
    cdef uint32_t bits32
    cdef uint64_t bits64
    if not isinstance(value, (float, int)) or isinstance(value, bool):
        return _encode_error(tag, value, "a float")
    try:
        f64 = float(value)
    except OverflowError:
        return _encode_error(tag, value, "a float within the float64 range")
    if tag == T_FLOAT64:
        memcpy(&bits64, &f64, 8)
        return _put_be(w, bits64, 8)
    if f64 - f64 == 0 and (f64 > _FLOAT32_MAX or f64 < -_FLOAT32_MAX):
        return _encode_error(tag, value, "a float within the float32 range")
    f32 = <float>f64
    memcpy(&bits32, &f32, 4)
    return _put_be(w, bits32, 4)


cdef int _put_text(Writer* w, int tag, object value) except -1:
    if isinstance(value, str):
        try:
            value = value.encode("utf-8" if tag == T_UTF8_STRING else "latin-1")
        except UnicodeEncodeError:
            return _encode_error(tag, value, "a str of Latin-1 characters")
    elif not isinstance(value, (bytes, bytearray)):
        return _encode_error(tag, value, "a str")
    elif tag == T_UTF8_STRING:
        # octets given for a utf8-string must be UTF-8, or the decoder refuses them
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return _encode_error(tag, value, "a str, or octets of valid UTF-8")
    return _put_buffer(w, value, True)


cdef int _put_clock(Writer* w, int tag, object value) except -1:
    cdef object cls = DateTime if tag == T_DATE_TIME else Date if tag == T_DATE else Time
    if not isinstance(value, cls):
        return _encode_error(tag, value, f"a {cls.__name__}")
    return _put_buffer(w, value.to_bytes(), False)


cdef int _put_simple(Writer* w, int tag, object value) except -1:
    """The contents (no tag) of a simple type from a plain Python value."""
    if _INT_SIZE[tag]:
        return _put_int(w, tag, value)
    if tag == T_OCTET_STRING:
        if PyBytes_CheckExact(value) or isinstance(value, (bytearray, memoryview)):
            return _put_buffer(w, value, True)
        if isinstance(value, (DateTime, Date, Time)):
            return _put_buffer(w, value.to_bytes(), True)
        if isinstance(value, _dt.datetime):
            return _put_buffer(w, DateTime.from_datetime(value).to_bytes(), True)
        if isinstance(value, bytes):
            return _put_buffer(w, value, True)
        return _encode_error(tag, value, "bytes")
    if tag == T_VISIBLE_STRING or tag == T_UTF8_STRING:
        return _put_text(w, tag, value)
    if tag == T_BOOLEAN:
        if value is True or value is False:
            return _put_byte(w, value is True)
        return _encode_error(tag, value, "a bool")
    if tag == T_NULL:
        if value is None:
            return 0
        return _encode_error(tag, value, "None")
    if tag == T_DONT_CARE:
        if value is None or value is _DONT_CARE:
            return 0
        return _encode_error(tag, value, "None or DONT_CARE")
    if tag == T_FLOAT32 or tag == T_FLOAT64:
        return _put_float(w, tag, value)
    if tag == T_DATE_TIME or tag == T_DATE or tag == T_TIME:
        return _put_clock(w, tag, value)
    if tag == T_BIT_STRING:
        if isinstance(value, str):
            value = BitString.from_str(value)
        if not isinstance(value, BitString):
            return _encode_error(tag, value, "a BitString or a str of 0/1")
        _put_length(w, value.length)
        return _put_buffer(w, value.data, False)
    raise UsageError(f"{_TYPE_NAMES[tag]} is not a simple data type")


cdef int _encode_data(Writer* w, Data node, int depth) except -1:
    """A typed node with its tag."""
    cdef int tag = node.tag
    cdef _Program p
    if _put_fast_leaf(w, node.value, &_LEAF_NODES[tag], True):
        return 0
    if depth >= MAX_DEPTH:
        raise EncodeError(f"data nested deeper than {MAX_DEPTH} levels")
    _put_byte(w, tag)
    if tag == T_ARRAY or tag == T_STRUCTURE:
        _put_length(w, PyTuple_GET_SIZE(node.value))
        for element in node.value:
            _encode_data(w, <Data>element, depth + 1)
        return 0
    if tag == T_COMPACT_ARRAY:
        p = _Program()
        _compile_description(node.contents_description, p, 0)
        _write_description(w, p, 0)
        return _put_compact_contents(w, node.value, p, 0)
    return _put_simple(w, tag, node.value)


cdef int _write_description(Writer* w, _Program p, Py_ssize_t i) except -1:
    cdef DescNode node = p.nodes[i]
    cdef Py_ssize_t child = i + 1
    if node.tag == T_COMPACT_ARRAY:
        raise EncodeError("a compact-array cannot be nested in a contents description")
    _put_byte(w, node.tag)
    if node.tag == T_ARRAY:
        if node.count < 0:
            raise EncodeError("an array in a compact-array contents description needs a count")
        _put_be(w, node.count, 2)
        return _write_description(w, p, child)
    if node.tag == T_STRUCTURE:
        _put_length(w, node.count)
        while child < node.end:
            _write_description(w, p, child)
            child = p.nodes[child].end
    return 0


cdef int _put_elements(Writer* w, object elements, _Program p, Py_ssize_t i) except -1:
    """Untagged compact-array elements laid out as node ``i`` says."""
    if isinstance(elements, (str, bytes, bytearray)) or not hasattr(elements, "__iter__"):
        return _encode_error(T_COMPACT_ARRAY, elements, "a list or tuple")
    for element in elements:
        _encode_described(w, element, p, i, False, 1)
    return 0


cdef int _put_compact_contents(Writer* w, object elements, _Program p,
                               Py_ssize_t i) except -1:
    """array-contents as an octet-string: its length, then the untagged elements."""
    cdef Writer contents
    _writer_init(&contents)
    try:
        _put_elements(&contents, elements, p, i)
        _put_length(w, contents.len)
        _put_bytes(w, contents.buf, contents.len)
    finally:
        _writer_release(&contents)
    return 0


cdef object _compact_contents(Data node):
    cdef _Program p = _Program()
    cdef Writer w
    _writer_init(&w)
    try:
        _compile_description(node.contents_description, p, 0)
        _put_elements(&w, node.value, p, 0)
        return _writer_finish(&w)
    finally:
        _writer_release(&w)


cdef inline bint _put_fast_leaf(Writer* w, object value, DescNode* node, bint tagged) except -1:
    """The common leaves (an exact int in range, exact bytes) written in one step;
    False when the value needs the general path."""
    cdef long long v
    cdef int overflow = 0, k, size = node.int_size
    cdef Py_ssize_t n
    cdef unsigned char* out
    if size and PyLong_CheckExact(value):
        if PY_VERSION_HEX < 0x030C0000:
            # Up to two 30-bit digits Cython's inlined conversion cannot overflow
            # (Py_SIZE counts the digits of an int only before Python 3.12).
            if Py_SIZE(value) > 2 or Py_SIZE(value) < -2:
                return False
            v = <long long>value
        else:
            v = PyLong_AsLongLongAndOverflow(value, &overflow)
            if overflow:
                return False
        if v < node.low or v > node.high:
            return False
        _reserve(w, 9)
        out = w.buf + w.len
        if tagged:
            out[0] = <unsigned char>node.tag
            out += 1
        for k in range(size):
            out[k] = <unsigned char>(v >> (8 * (size - 1 - k)))
        w.len = (out - w.buf) + size
        return True
    if node.tag == T_OCTET_STRING and PyBytes_CheckExact(value):
        n = PyBytes_GET_SIZE(value)
        if n >= 0x80:
            return False
        _reserve(w, n + 2)
        out = w.buf + w.len
        if tagged:
            out[0] = T_OCTET_STRING
            out += 1
        out[0] = <unsigned char>n
        memcpy(out + 1, PyBytes_AS_STRING(value), n)
        w.len = (out - w.buf) + 1 + n
        return True
    return False


cdef int _encode_described(Writer* w, object value, _Program p, Py_ssize_t i, bint tagged,
                           int depth) except -1:
    """A plain value laid out as node ``i`` says: tagged A-XDR, or untagged
    compact-array contents. A Data node given as a value is written as it is
    (tagged) or must have the described type (untagged)."""
    cdef DescNode* node = &p.nodes[i]
    cdef int tag = node.tag
    cdef Py_ssize_t n, k, child
    cdef object item
    cdef Data data
    if _put_fast_leaf(w, value, node, tagged):
        return 0
    if depth >= MAX_DEPTH:
        raise EncodeError(f"data nested deeper than {MAX_DEPTH} levels")
    if type(value) is Data:
        data = <Data>value
        if tagged:
            return _encode_data(w, data, depth)
        if data.tag != tag:
            raise EncodeError(f"compact-array contents expect {_TYPE_NAMES[tag]}, "
                              f"got a {_TYPE_NAMES[data.tag]} node")
        value = data.value
    elif tagged and tag != T_NULL and depth > 0 and (value is None or value is _DONT_CARE):
        # A missing value in a described row is sent as null-data (or dont-care);
        # a whole value of None is not a value of the described type.
        return _put_byte(w, T_NULL if value is None else T_DONT_CARE)
    if tagged:
        _put_byte(w, tag)
    if tag == T_STRUCTURE or tag == T_ARRAY:
        if not (PyList_CheckExact(value) or PyTuple_CheckExact(value)):
            if (isinstance(value, (str, bytes, bytearray, _Mapping, set, frozenset))
                    or not hasattr(value, "__iter__")):
                # a dict would give its keys, a set an arbitrary order
                return _encode_error(tag, value, "a list or tuple")
            value = tuple(value)
        n = PySequence_Fast_GET_SIZE(value)
        if node.count >= 0 and n != node.count:
            raise EncodeError(f"{_TYPE_NAMES[tag]} described with {node.count} elements, "
                              f"got {n}")
        if tagged:
            _put_length(w, n)
        child = i + 1
        for k in range(n):
            # Encoding an element may run Python code (a custom iterable, int()...)
            # that changes a list: re-read its items, and own the element.
            if PySequence_Fast_GET_SIZE(value) != n:
                raise EncodeError(f"{_TYPE_NAMES[tag]} value changed size while being encoded")
            item = <object>PySequence_Fast_ITEMS(value)[k]
            if not _put_fast_leaf(w, item, &p.nodes[child], tagged):
                _encode_described(w, item, p, child, tagged, depth + 1)
            if tag == T_STRUCTURE:
                child = p.nodes[child].end
        return 0
    if tag == T_COMPACT_ARRAY:
        if not tagged:
            raise EncodeError("a compact-array cannot be nested in compact-array contents")
        _write_description(w, p, i + 1)
        return _put_compact_contents(w, value, p, i + 1)
    return _put_simple(w, tag, value)


# ---------------------------------------------------------------- public functions

cdef int _get_buffer(object data, Py_buffer* view) except -1:
    if acquire_octets(data, view):
        return 0
    raise UsageError(f"expected a bytes-like object (bytes, bytearray, memoryview), not "
                     f"{type(data).__name__}")


cdef Py_ssize_t _offset_arg(object offset) except? -1:
    """An offset argument as a C index (one too large is outside every buffer)."""
    cdef Py_ssize_t index
    if offset_index(offset, &index):
        return index
    raise UsageError(f"an offset is an int, not {type(offset).__name__}")


cdef int _open(object data, Py_ssize_t offset, Py_buffer* view, Reader* r) except -1:
    """Take the caller's buffer (released by the caller) and put a cursor at ``offset``."""
    _get_buffer(data, view)
    if offset < 0 or offset > view.len:
        PyBuffer_Release(view)
        raise UsageError(f"offset {offset} outside a buffer of {view.len} octets")
    r.buf = <const unsigned char*>view.buf
    r.len = view.len
    r.pos = offset
    return 0


# Above this many octets, the cyclic GC is paused while decoding: the decoder
# makes only acyclic objects, so a collection that its allocations trigger can
# free nothing it made, yet in a process with a large heap those collections
# cost more than the decoding of a long profile buffer itself.
DEF GC_PAUSE_OCTETS = 4096


cdef object _decode_entry(object data, Py_ssize_t offset, bint typed, bint whole):
    cdef Py_buffer view
    cdef Reader r
    cdef int gc_was_enabled = 0
    _open(data, offset, &view, &r)
    if r.len - r.pos > GC_PAUSE_OCTETS:
        gc_was_enabled = PyGC_Disable()
    try:
        value = _decode(&r, 0, typed)
        if whole:
            if r.pos != r.len:
                _fail(f"{r.len - r.pos} octets after the end of the value", r.pos)
            return value
        return value, r.pos
    finally:
        if gc_was_enabled:
            PyGC_Enable()
        PyBuffer_Release(&view)


def decode(data):
    """Decode one whole A-XDR Data value into plain Python values."""
    return _decode_entry(data, 0, False, True)


def decode_from(data, offset=0):
    """Decode the Data value at ``offset``; return ``(value, end_offset)``."""
    return _decode_entry(data, _offset_arg(offset), False, False)


def decode_typed(data):
    """Decode one whole A-XDR Data value into :class:`Data` nodes."""
    return _decode_entry(data, 0, True, True)


def decode_typed_from(data, offset=0):
    """Decode the Data value at ``offset`` into nodes; return ``(Data, end_offset)``."""
    return _decode_entry(data, _offset_arg(offset), True, False)


def encode(value, description=None):
    """Encode a :class:`Data` node, or a plain value laid out by ``description``."""
    cdef Writer w
    cdef _Program p
    _writer_init(&w)
    try:
        if description is None:
            if type(value) is not Data:
                raise UsageError("encode() takes a Data node, or a plain value and its "
                                 "type description")
            _encode_data(&w, <Data>value, 0)
        else:
            p = _Program()
            _compile_description(description, p, 0)
            _encode_described(&w, value, p, 0, True, 0)
        return _writer_finish(&w)
    finally:
        _writer_release(&w)


def encode_length(n):
    """The minimal A-XDR length form of ``n``."""
    cdef Writer w
    if not isinstance(n, int) or isinstance(n, bool):
        raise EncodeError(f"a length is an int, not {type(n).__name__}")
    if n < 0:
        raise EncodeError(f"a length is >= 0, not {n}")
    if n > 0xFFFFFFFF:
        raise EncodeError(f"length {n} does not fit the 4-octet A-XDR length form")
    _writer_init(&w)
    try:
        _put_length(&w, n)
        return _writer_finish(&w)
    finally:
        _writer_release(&w)


def decode_length_from(data, offset=0):
    """Read an A-XDR length at ``offset`` (any form up to 0x84); return
    ``(length, end_offset)``. A length beyond the octets that follow is a DecodeError."""
    cdef Py_buffer view
    cdef Reader r
    cdef Py_ssize_t n
    _open(data, _offset_arg(offset), &view, &r)
    try:
        n = _read_bounded_length(&r, "length")
        return n, r.pos
    finally:
        PyBuffer_Release(&view)


def encode_type_description(description):
    """The A-XDR encoding of a TypeDescription (as in a compact-array)."""
    cdef Writer w
    cdef _Program p = _Program()
    _writer_init(&w)
    try:
        _compile_description(description, p, 0)
        _write_description(&w, p, 0)
        return _writer_finish(&w)
    finally:
        _writer_release(&w)


def decode_type_description_from(data, offset=0):
    """Read a TypeDescription at ``offset``; return ``(TypeDescription, end_offset)``."""
    cdef Py_buffer view
    cdef Reader r
    cdef _Program p = _Program()
    _open(data, _offset_arg(offset), &view, &r)
    try:
        _parse_description(&r, p, 0)
        return _description_object(p, 0), r.pos
    finally:
        PyBuffer_Release(&view)
