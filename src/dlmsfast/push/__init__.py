"""Pushed meter data (HAN/P1 customer ports, push listeners) decoded into readings.

Sans-IO: :class:`PushDecoder` takes octets in any pieces and gives events
(:class:`Notification` with its :class:`Reading` objects, or :class:`Rejected`
with the error); the listener I/O lives in :mod:`dlmsfast.transport.listen`.
:func:`readings_of` decodes one capture (a frame, several frames or an APDU)
at once, for ``dlmsfast decode``.
"""
from __future__ import annotations


from .._util import as_bytes

from .decoder import MAX_APDU, PushDecoder, parse_notification
from .framing import PushFramer, Segment, is_framed
from .keys import PushKeys, PushKeysArgument, keys_table, load_keys_file
from .layouts import (Layout, LayoutObject, LayoutsArgument, NoLayoutError, builtin_layouts,
                      layout_from_dict, load_layouts)
from .reading import Notification, PushEvent, Reading, Rejected


def readings_of(data: bytes | bytearray | memoryview, *, keys: PushKeysArgument = None,
                layouts: LayoutsArgument = None, verify_tag: bool = True) -> list[Notification]:
    """The notifications in one capture (HDLC/M-Bus/wrapper frames, or a bare
    APDU with or without LLC); the first Rejected's error is raised."""
    decoder = PushDecoder(keys=keys, layouts=layouts, verify_tag=verify_tag)
    data = as_bytes(data)
    if is_framed(data):
        events = decoder.feed(data) + decoder.finish()
    else:
        events = decoder.feed_apdu(data)
    for event in events:
        if isinstance(event, Rejected):
            raise event.error
    return [e for e in events if isinstance(e, Notification)]


__all__ = [
    "Layout",
    "LayoutObject",
    "MAX_APDU",
    "NoLayoutError",
    "Notification",
    "PushDecoder",
    "PushFramer",
    "PushEvent",
    "PushKeys",
    "PushKeysArgument",
    "LayoutsArgument",
    "Reading",
    "Rejected",
    "Segment",
    "is_framed",
    "builtin_layouts",
    "keys_table",
    "layout_from_dict",
    "load_keys_file",
    "load_layouts",
    "parse_notification",
    "readings_of",
]
