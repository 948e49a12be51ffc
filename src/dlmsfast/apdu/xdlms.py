"""xDLMS APDUs of logical-name referencing (IEC 62056-5-3 / Green Book ch. 9).

This module gathers the xDLMS services built in the sibling modules and maps
each APDU tag to its decoder::

    tag   APDU                          choices (second octet)
    0x0F  data-notification             -
    0xC0  get-request                   1 normal, 2 next, 3 with-list
    0xC1  set-request                   1 normal, 2 with-first-datablock, 3 with-datablock,
                                        4 with-list, 5 with-list-and-first-datablock
    0xC2  event-notification-request    -
    0xC3  action-request                1 normal, 2 next-pblock, 3 with-list,
                                        4 with-first-pblock, 5 with-list-and-first-pblock,
                                        6 with-pblock
    0xC4  get-response                  1 normal, 2 with-datablock, 3 with-list
    0xC5  set-response                  1 normal, 2 datablock, 3 last-datablock,
                                        4 last-datablock-with-list, 5 with-list
    0xC7  action-response               1 normal, 2 with-pblock, 3 with-list, 4 next-pblock
    0xD8  exception-response            -
    0xE0  general-block-transfer        -

Layouts are drawn in :mod:`.get`, :mod:`.set`, :mod:`.action`,
:mod:`.notification`, :mod:`.gbt`; shared parts in :mod:`.common`.
"""
from __future__ import annotations

from typing import Any, Callable

from .action import *  # noqa: F401,F403  (the public names of each service)
from .action import ACTION_REQUEST, ACTION_RESPONSE
from .action import __all__ as _action_names
from .common import *  # noqa: F401,F403
from .common import __all__ as _common_names
from .common import read_choice
from .gbt import GeneralBlockTransfer
from .get import *  # noqa: F401,F403
from .get import GET_REQUEST, GET_RESPONSE
from .get import __all__ as _get_names
from .notification import *  # noqa: F401,F403
from .notification import DataNotification, EventNotificationRequest, ExceptionResponse
from .notification import __all__ as _notification_names
from .set import *  # noqa: F401,F403
from .set import SET_REQUEST, SET_RESPONSE
from .set import __all__ as _set_names

_CHOICE_TABLES = (GET_REQUEST, SET_REQUEST, ACTION_REQUEST, GET_RESPONSE, SET_RESPONSE,
                  ACTION_RESPONSE)


def _choice_decoder(variants: dict[int, type]) -> Callable[[bytes], Any]:
    apdu = variants[1].APDU  # the tag and the APDU name are the same in every variant
    return lambda data: read_choice(data, apdu, variants)


XDLMS_DECODERS: dict[int, Callable[[bytes], Any]] = {
    variants[1].TAG: _choice_decoder(variants) for variants in _CHOICE_TABLES
}
"""APDU tag -> function decoding a whole APDU that starts with that tag."""
for _cls in (DataNotification, EventNotificationRequest, ExceptionResponse, GeneralBlockTransfer):
    XDLMS_DECODERS[_cls.TAG] = _cls.from_bytes

XDLMS_CLASSES: tuple[type, ...] = tuple(
    cls for variants in _CHOICE_TABLES for cls in variants.values()
) + (DataNotification, EventNotificationRequest, ExceptionResponse, GeneralBlockTransfer)
"""Every xDLMS APDU class, in tag then choice order."""

__all__ = [
    *_common_names,
    *_get_names,
    *_set_names,
    *_action_names,
    *_notification_names,
    "GeneralBlockTransfer",
    "XDLMS_CLASSES",
    "XDLMS_DECODERS",
]
