# cython: language_level=3
"""Compiled hot path of push decoding: the common data-notification body walked
straight from the APDU into :class:`~dlmsfast.push.Reading` objects.

The shape taken here is the one most HAN lists use (Aidon, Iskra, Landis+Gyr,
Kaifa Austria)::

    body    ::= 02|01 count element*count                 structure or array
    element ::= 02 03  09 06 <OBIS>  <value>  02 02  0F <scaler>  16 <unit>
              | 02 02  09 06 <OBIS>  <value>
    value   ::= any simple type (not an array, structure or compact-array)

Anything else (another shape, a scaler_unit sent with other integer types, a
nested value, octets after the body, a body cut short or malformed) returns
None, and the general path of :mod:`dlmsfast.push.body` decodes the whole body
and reports its errors: this walk never decides what a push means, it only
skips building the plain A-XDR tuples for the shape it recognises. Values
whose meaning needs the rules of body.py (octet-strings that are text or
date-times, strings that name the meter) are handed back to it.

Readings (and notifications) stay the frozen slotted dataclasses of reading.py;
they are made here by :class:`SlotMaker`, which allocates the instance and
fills its slots at the offsets their member descriptors give, without the
generated ``__init__`` (it sets each field through ``object.__setattr__``).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.string cimport memcmp, memcpy
from cpython.unicode cimport PyUnicode_FromFormat

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from libc.stdint cimport uint8_t, uint32_t

from ..axdr._axdr cimport Reader, _read_simple
from ..hdlc._hdlc cimport FLAG, SCAN_FRAME, _Scan, _scan_frame

import dataclasses

from ..axdr import DateTime
from ..errors import DecodeError, UsageError

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    object PyType_GenericAlloc(PyTypeObject* kind, Py_ssize_t items)
    void PyObject_GC_UnTrack(void* instance)
    int T_OBJECT_EX

cdef enum:
    T_ARRAY = 1
    T_STRUCTURE = 2
    T_OCTET_STRING = 9
    T_INTEGER = 15
    T_ENUM = 22
    T_COMPACT_ARRAY = 19
    OBIS_LENGTH = 6
    MAX_FIELDS = 16

cdef object _DateTime = DateTime
cdef object _TWO = 2


cdef Py_ssize_t _slot_offset(cls, str name) except -1:
    descriptor = cls.__dict__[name]
    if (type(descriptor).__name__ != "member_descriptor"
            or (<PyMemberDescrObject*>descriptor).d_member.type != T_OBJECT_EX):
        raise UsageError(f"{cls.__name__}.{name} is not an object slot")
    return (<PyMemberDescrObject*>descriptor).d_member.offset


cdef class Unscaled:
    """What the slot of a reading's ``scaled`` holds until it is first read:
    the ScalerUnit whose ``scale(value)`` gives it (one per scaler_unit, shared
    by the readings that have it)."""

    cdef readonly object scaler_unit

    def __init__(self, scaler_unit):
        self.scaler_unit = scaler_unit

    def __repr__(self):
        return f"Unscaled({self.scaler_unit!r})"


cdef class ScaledSlot:
    """``Reading.scaled``: the slot of the field, read through this descriptor
    so that a value left :class:`Unscaled` by the decoder is scaled on its
    first read (ScalerUnit.scale) and kept. A Decimal per scaled value was a
    sixth of the time of a push, and of its memory, for readings whose
    ``scaled`` is often never read (a store of raw values, a filter on OBIS).
    Readings are frozen: the value read is the one the reading always has."""

    cdef readonly Py_ssize_t offset
    cdef Py_ssize_t value_offset
    cdef type cls

    def __init__(self, type cls):
        self.offset = _slot_offset(cls, "scaled")
        self.value_offset = _slot_offset(cls, "value")
        self.cls = cls

    cdef inline PyObject** _at(self, object instance) except NULL:
        if not isinstance(instance, self.cls):
            raise TypeError(f"scaled of a {type(instance).__name__}, not a {self.cls.__name__}")
        return <PyObject**>((<char*><PyObject*>instance) + self.offset)

    def __get__(self, instance, owner):
        if instance is None:
            return self
        cdef PyObject** at = self._at(instance)
        cdef PyObject* value = (<PyObject**>((<char*><PyObject*>instance) + self.value_offset))[0]
        if at[0] == NULL or value == NULL:
            raise AttributeError("scaled")
        scaled = <object>at[0]
        if type(scaled) is Unscaled:
            scaled = (<Unscaled>scaled).scaler_unit.scale(<object>value)
            self._store(at, scaled)
        return scaled

    def __set__(self, instance, value):
        self._store(self._at(instance), value)

    def __delete__(self, instance):
        raise AttributeError("scaled cannot be deleted")

    cdef inline void _store(self, PyObject** at, object value):
        cdef PyObject* old = at[0]
        Py_INCREF(value)
        at[0] = <PyObject*>value
        Py_XDECREF(old)


cdef class SlotMaker:
    """``make(*values)``: an instance of the frozen slotted dataclass ``cls``
    from all its fields in order, written straight into its slots (at the
    offsets their member descriptors give). For the objects made per value
    and per push: no check is made, so the caller gives every field, of the
    right type."""

    cdef object cls
    cdef Py_ssize_t count
    cdef Py_ssize_t offsets[MAX_FIELDS]

    def __init__(self, cls):
        names = [f.name for f in dataclasses.fields(cls)]
        if len(names) > MAX_FIELDS or cls.__dict__.get("__slots__") is None:
            raise UsageError(f"{cls.__name__} is not a slotted dataclass of at most {MAX_FIELDS} fields")
        for i, name in enumerate(names):
            descriptor = cls.__dict__[name]
            if type(descriptor) is ScaledSlot:
                self.offsets[i] = (<ScaledSlot>descriptor).offset
            else:
                self.offsets[i] = _slot_offset(cls, name)
        self.count = len(names)
        self.cls = cls

    cdef inline object new(self):
        return PyType_GenericAlloc(<PyTypeObject*>self.cls, 0)

    cdef inline void put(self, object instance, Py_ssize_t field, object value):
        # the slot is empty: the instance was just allocated, zeroed
        Py_INCREF(value)
        (<PyObject**>((<char*><PyObject*>instance) + self.offsets[field]))[0] = <PyObject*>value

    def __call__(self, *values):
        cdef Py_ssize_t i
        if len(values) != self.count:
            raise UsageError(f"{self.cls.__name__} takes {self.count} fields, got {len(values)}")
        instance = self.new()
        for i in range(self.count):
            self.put(instance, i, values[i])
        return instance


cdef SlotMaker _reading = None


def bind_reading(cls):
    """The Reading class these functions make (body.py gives it, once)."""
    global _reading
    _reading = SlotMaker(cls)

# scaler_unit per (scaler, unit) octet pair, as body.py prepares it (see
# _scaler_unit there): an index of 16 bits, so a table; _prepared keeps the
# references that the table borrows.
cdef PyObject* _units[65536]
cdef list _prepared = []


# The Obis of the OBIS octets last seen at each of 256 places (a direct-mapped
# cache in front of body.py's dict: a push repeats the same codes, and the
# lookup then needs no bytes object for the key). Each slot owns its Obis.
ctypedef struct ObisSlot:
    unsigned char octets[OBIS_LENGTH]
    PyObject* obis

cdef ObisSlot _obis_slots[256]


cdef object _obis_at(const unsigned char* octets, dict obis_cache, obis_of):
    cdef ObisSlot* slot = &_obis_slots[(octets[2] * 7 + octets[3] * 3 + octets[4] + octets[0]) & 0xFF]
    if slot.obis != NULL and memcmp(slot.octets, octets, OBIS_LENGTH) == 0:
        return <object>slot.obis
    key = PyBytes_FromStringAndSize(<const char*>octets, OBIS_LENGTH)
    cached = PyDict_GetItem(obis_cache, key)
    obis = <object>cached if cached != NULL else obis_of(key)
    Py_INCREF(obis)
    Py_XDECREF(slot.obis)
    slot.obis = <PyObject*>obis
    memcpy(slot.octets, octets, OBIS_LENGTH)
    return obis


cdef inline object _scaled(object value, tuple prepared):
    """``scaled`` of a reading: the value itself for an int with scaler 0, else
    left Unscaled (prepared[4]) until it is read (see ScaledSlot)."""
    if type(value) is int and prepared[3] == 0:
        return value
    return prepared[4]


cdef object _new(object obis, object value, tuple prepared, object timestamp,
                 object authenticated, object attribute):
    reading = _reading.new()
    _reading.put(reading, 0, obis)
    _reading.put(reading, 1, value)
    if prepared is None:
        _reading.put(reading, 2, value)
        _reading.put(reading, 3, None)
        _reading.put(reading, 4, None)
        _reading.put(reading, 5, None)
    else:
        _reading.put(reading, 2, _scaled(value, prepared))
        _reading.put(reading, 3, prepared[1])
        _reading.put(reading, 4, prepared[2])
        _reading.put(reading, 5, prepared[3])
    _reading.put(reading, 6, timestamp)
    _reading.put(reading, 7, authenticated)
    _reading.put(reading, 8, attribute)
    # A reading of a leaf value cannot be part of a reference cycle (it is
    # frozen, and what it holds is atomic or holds no reading): the cyclic GC
    # would only traverse it, in every collection while a long capture's
    # readings are kept, which costs a third of the time of a whole run.
    if type(value) is not list and type(value) is not tuple:
        PyObject_GC_UnTrack(<void*>reading)
    return reading


def new_reading(obis, value, prepared, timestamp, authenticated, attribute):
    """A Reading of a value already converted; ``prepared`` the scaler_unit
    as body.prepared gives it (ScalerUnit, symbol, code, scaler, Unscaled),
    or None."""
    return _new(obis, value, prepared, timestamp, bool(authenticated), attribute)


cdef object _unit_of(int scaler, int unit, object scaler_unit):
    cdef int index = ((scaler + 128) << 8) | unit
    cdef PyObject* found = _units[index]
    if found != NULL:
        return <object>found
    prepared = scaler_unit((scaler, unit))
    _prepared.append(prepared)
    _units[index] = <PyObject*>prepared
    return prepared


def object_readings(apdu, Py_ssize_t pos, dict obis_cache, obis_of, scaler_unit,
                    timestamp, authenticated, leaf):
    """The readings of the body of objects at ``pos`` (to the end of ``apdu``),
    or None when the body is not of that shape (see the module docstring).

    ``obis_cache``/``obis_of`` give the Obis of 6 octets, ``scaler_unit`` the
    prepared scaler_unit of a (scaler, unit) pair, ``leaf(obis, raw)`` the
    value of a reading whose raw value is octets, a string or a date-time.
    """
    cdef Reader r
    cdef Py_ssize_t count, i, start
    cdef int members, tag
    cdef const unsigned char* buf
    if type(apdu) is not bytes:
        return None
    buf = <const unsigned char*>PyBytes_AS_STRING(apdu)
    r.buf = buf
    r.len = PyBytes_GET_SIZE(apdu)
    if pos < 0 or r.len - pos < 2:
        return None
    tag = buf[pos]
    if tag != T_STRUCTURE and tag != T_ARRAY:
        return None
    count = buf[pos + 1]
    r.pos = pos + 2
    if count == 0x81:
        if r.len - r.pos < 1:
            return None
        count = buf[r.pos]
        r.pos += 1
    elif count >= 0x80:
        return None
    # each element takes at least 12 octets: the list is bounded by the input
    if count == 0 or count > (r.len - r.pos) // 12:
        return None
    authenticated = bool(authenticated)
    readings = PyList_New(count)
    for i in range(count):
        Py_INCREF(None)
        PyList_SET_ITEM(readings, i, None)
    for i in range(count):
        if r.len - r.pos < 4 + OBIS_LENGTH + 1:
            return None
        members = buf[r.pos + 1]
        if (buf[r.pos] != T_STRUCTURE or (members != 2 and members != 3)
                or buf[r.pos + 2] != T_OCTET_STRING or buf[r.pos + 3] != OBIS_LENGTH):
            return None
        obis = _obis_at(buf + r.pos + 4, obis_cache, obis_of)
        r.pos += 4 + OBIS_LENGTH
        start = r.pos
        tag = buf[r.pos]
        if tag == T_ARRAY or tag == T_STRUCTURE or tag == T_COMPACT_ARRAY:
            return None
        r.pos += 1
        try:
            value = _read_simple(&r, tag, start)
        except DecodeError:
            return None
        if type(value) is bytes or type(value) is str or type(value) is _DateTime:
            value = leaf(obis, value)
        if members == 3:
            if (r.len - r.pos < 6 or buf[r.pos] != T_STRUCTURE or buf[r.pos + 1] != 2
                    or buf[r.pos + 2] != T_INTEGER or buf[r.pos + 4] != T_ENUM):
                return None
            prepared = _unit_of(<signed char>buf[r.pos + 3], buf[r.pos + 5], scaler_unit)
            r.pos += 6
        else:
            prepared = None
        readings[i] = _new(obis, value, prepared, timestamp, authenticated, _TWO)
    if r.pos != r.len:
        return None
    return readings


# ---------------------------------------------------------------- HDLC frames back to back

cdef inline long long _address_key(uint32_t raw, int size):
    # as dlmsfast.hdlc.address_key gives it for the HdlcAddress of these octets
    return (<long long>raw << 3) | size


def hdlc_run(bytearray buf, Py_ssize_t pos, list out, segment_new, segment_cls, kind):
    """PushFramer's common case in one step: from the flag at ``pos``, each
    whole, valid HDLC frame closed by its own flag, appended to ``out`` as
    ``segment_new(segment_cls, (kind, (kind, destination key, source key),
    information, last, raw, None))``; runs of flags between them are skipped.

    Returns ``(offset, flags skipped)``: the offset of the first octet it did
    not take (a closing flag, which may open the next frame), where the
    framer's own checks go on (a frame cut short, without its closing flag,
    failing a check, or anything that is not a flag).
    """
    cdef const uint8_t* p = <const uint8_t*>PyByteArray_AS_STRING(buf)
    cdef Py_ssize_t end = PyByteArray_GET_SIZE(buf)
    cdef Py_ssize_t skipped = 0, closing, length
    cdef _Scan scan
    if pos < 0 or pos > end:
        raise UsageError(f"offset {pos} outside a buffer of {end} octets")
    while pos < end and p[pos] == FLAG:
        # doubled flags and inter-frame fill: the last flag opens the frame
        while pos + 1 < end and p[pos + 1] == FLAG:
            pos += 1
            skipped += 1
        if pos + 3 > end or p[pos + 1] & 0xF0 != 0xA0:
            break
        length = ((p[pos + 1] & 0x07) << 8) | p[pos + 2]
        closing = pos + 1 + length
        if closing >= end or p[closing] != FLAG:
            break
        if _scan_frame(p, pos, end, &scan) != SCAN_FRAME or scan.end != closing:
            break
        information = PyBytes_FromStringAndSize(<const char*>p + scan.info_start, scan.info_len)
        raw = PyBytes_FromStringAndSize(<const char*>p + pos, closing + 1 - pos)
        channel = (kind, _address_key(scan.dst_raw, scan.dst_size),
                   _address_key(scan.src_raw, scan.src_size))
        out.append(segment_new(segment_cls, (kind, channel, information, not scan.segmented,
                                             raw, None)))
        # stop on the closing flag: it may open the next frame too (7E f1 7E f2 7E)
        pos = closing
    return pos, skipped
