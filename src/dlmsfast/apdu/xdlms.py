"""xDLMS APDUs of logical-name referencing (IEC 62056-5-3 / Green Book ch. 9).

This module gathers the xDLMS services built in the sibling modules and maps
each APDU tag (the one table: :mod:`dlmsfast._tags`) to its decoder. The
get/set/action APDUs carry a second octet, the CHOICE of the variant::

    get-request      1 normal, 2 next, 3 with-list
    set-request      1 normal, 2 with-first-datablock, 3 with-datablock,
                     4 with-list, 5 with-list-and-first-datablock
    action-request   1 normal, 2 next-pblock, 3 with-list, 4 with-first-pblock,
                     5 with-list-and-first-pblock, 6 with-pblock
    get-response     1 normal, 2 with-datablock, 3 with-list
    set-response     1 normal, 2 datablock, 3 last-datablock,
                     4 last-datablock-with-list, 5 with-list
    action-response  1 normal, 2 with-pblock, 3 with-list, 4 next-pblock

Layouts are drawn in :mod:`.get`, :mod:`.set`, :mod:`.action`,
:mod:`.notification`, :mod:`.gbt`; the parts they share in :mod:`.invoke`,
:mod:`.results`, :mod:`.cursor` and :mod:`.service`.
"""
from __future__ import annotations

from typing import Any, Callable

from ..cosem.descriptors import (
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    EntryDescriptor,
    RangeDescriptor,
    SelectiveAccessDescriptor,
)
from .action import *  # noqa: F401,F403  (the public names of each service)
from .action import ACTION_REQUEST, ACTION_RESPONSE
from .action import __all__ as _action_names
from .gbt import GeneralBlockTransfer
from .get import *  # noqa: F401,F403
from .get import GET_REQUEST, GET_RESPONSE
from .get import __all__ as _get_names
from .invoke import *  # noqa: F401,F403
from .invoke import __all__ as _invoke_names
from .notification import *  # noqa: F401,F403
from .notification import DataNotification, EventNotificationRequest, ExceptionResponse
from .notification import __all__ as _notification_names
from .results import *  # noqa: F401,F403
from .results import __all__ as _results_names
from .service import read_choice
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
    *_invoke_names,
    *_results_names,
    # the COSEM descriptors the services carry, re-exported for callers of apdu
    "CaptureObjectDefinition",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "EntryDescriptor",
    "RangeDescriptor",
    "SelectiveAccessDescriptor",
    *_get_names,
    *_set_names,
    *_action_names,
    *_notification_names,
    "GeneralBlockTransfer",
    "XDLMS_CLASSES",
    "XDLMS_DECODERS",
]
