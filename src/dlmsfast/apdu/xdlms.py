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
from .action import (
    ACTION_REQUEST,
    ACTION_RESPONSE,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResponseWithPblock,
)
from .gbt import GeneralBlockTransfer
from .get import (
    GET_REQUEST,
    GET_RESPONSE,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    get_response_normal_bytes,
    get_response_with_datablock_bytes,
    get_response_with_list_bytes,
)
from .invoke import (
    DEFAULT_INVOKE_ID_AND_PRIORITY,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    Priority,
    ProcessingOption,
    ServiceClass,
)
from .notification import (
    OCTET_STRING_FORM,
    OPTIONAL_FLAG_FORM,
    DataNotification,
    EventNotificationRequest,
    ExceptionResponse,
    ExceptionServiceError,
    ExceptionStateError,
)
from .results import (
    ActionResult,
    DataAccessResult,
    DataBlockG,
    DataBlockSA,
    GetDataResult,
)
from .service import read_choice
from .set import (
    SET_REQUEST,
    SET_RESPONSE,
    SetRequestNormal,
    SetRequestWithDatablock,
    SetRequestWithFirstDatablock,
    SetRequestWithList,
    SetRequestWithListAndFirstDatablock,
    SetResponseDatablock,
    SetResponseLastDatablock,
    SetResponseLastDatablockWithList,
    SetResponseNormal,
    SetResponseWithList,
)

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

# static, for the type checker and the reader: what the services export
__all__ = [
    "DEFAULT_INVOKE_ID_AND_PRIORITY",
    "InvokeIdAndPriority",
    "LongInvokeIdAndPriority",
    "Priority",
    "ProcessingOption",
    "ServiceClass",
    "ActionResult",
    "DataAccessResult",
    "DataBlockG",
    "DataBlockSA",
    "GetDataResult",
    "CaptureObjectDefinition",
    "CosemAttributeDescriptor",
    "CosemAttributeDescriptorWithSelection",
    "CosemMethodDescriptor",
    "EntryDescriptor",
    "RangeDescriptor",
    "SelectiveAccessDescriptor",
    "GetRequestNext",
    "GetRequestNormal",
    "GetRequestWithList",
    "GetResponseNormal",
    "GetResponseWithDatablock",
    "GetResponseWithList",
    "get_response_normal_bytes",
    "get_response_with_datablock_bytes",
    "get_response_with_list_bytes",
    "SetRequestNormal",
    "SetRequestWithDatablock",
    "SetRequestWithFirstDatablock",
    "SetRequestWithList",
    "SetRequestWithListAndFirstDatablock",
    "SetResponseDatablock",
    "SetResponseLastDatablock",
    "SetResponseLastDatablockWithList",
    "SetResponseNormal",
    "SetResponseWithList",
    "ActionRequestNextPblock",
    "ActionRequestNormal",
    "ActionRequestWithFirstPblock",
    "ActionRequestWithList",
    "ActionRequestWithListAndFirstPblock",
    "ActionRequestWithPblock",
    "ActionResponseNextPblock",
    "ActionResponseNormal",
    "ActionResponseWithList",
    "ActionResponseWithOptionalData",
    "ActionResponseWithPblock",
    "DataNotification",
    "EventNotificationRequest",
    "ExceptionResponse",
    "OCTET_STRING_FORM",
    "OPTIONAL_FLAG_FORM",
    "ExceptionServiceError",
    "ExceptionStateError",
    "GeneralBlockTransfer",
    "XDLMS_CLASSES",
    "XDLMS_DECODERS",
]
