"""APDUs of DLMS/COSEM (IEC 62056-5-3) as small typed objects.

Every APDU class is a frozen slotted dataclass with a ``TAG`` class attribute,
``from_bytes(data)`` (the whole buffer; malformed input raises
:class:`dlmsfast.errors.DecodeError` with the absolute offset) and ``to_bytes()``.

The APDU tags (the first octet) are in one table, :mod:`dlmsfast._tags`.
Modules: :mod:`.acse` (AARQ, AARE, RLRQ, RLRE), :mod:`.initiate` (the xDLMS
initiate APDUs and confirmedServiceError), :mod:`.get`, :mod:`.set`,
:mod:`.action`, :mod:`.notification`, :mod:`.gbt` (the xDLMS services, gathered
by :mod:`.xdlms`), :mod:`.sn` (the short-name services: readRequest ...
informationReportRequest), and their parts: :mod:`.invoke` (invoke-id-and-priority),
:mod:`.results` (data-access-result, action-result, datablocks),
:mod:`.cursor` (Reader/Writer) and :mod:`.service` (ServiceApdu, variants).
Ciphered APDUs are parsed by :mod:`dlmsfast.security`, which sits below.

The get/set/action APDUs carry a second octet, the CHOICE of the service
variant (normal 1, next 2, with-list 3, ...); each variant is its own class
(see :mod:`dlmsfast.apdu.xdlms` for the choice table). :func:`parse_apdu`
decodes any of them by its first octet.
"""
from __future__ import annotations

from typing import Any, Callable

from .._util import as_bytes
from ..errors import DecodeError
from ..security.ciphered import is_ciphered_tag, parse_ciphered
# explicit, so that the type checker and the reader see every name
from .acse import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    AcseServiceProvider,
    AcseServiceUser,
    ApplicationContextName,
    AssociationResult,
    AuthenticationValue,
    MechanismName,
    ReleaseRequestReason,
    ReleaseResponseReason,
    parse_user_information,
)
from .initiate import (
    CONFORMANCE_TAG,
    DLMS_VERSION,
    ConfirmedServiceError,
    ConfirmedServiceErrorService,
    Conformance,
    InitiateRequest,
    InitiateResponse,
    ServiceError,
)
from .sn import (
    SN_CLASSES,
    DataBlockResult,
    InformationReportRequest,
    ReadRequest,
    ReadResponse,
    UnconfirmedWriteRequest,
    WriteRequest,
    WriteResponse,
)
from .xdlms import (
    DEFAULT_INVOKE_ID_AND_PRIORITY,
    OCTET_STRING_FORM,
    OPTIONAL_FLAG_FORM,
    XDLMS_CLASSES,
    XDLMS_DECODERS,
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
    ActionResult,
    CaptureObjectDefinition,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataBlockG,
    DataBlockSA,
    DataNotification,
    EntryDescriptor,
    EventNotificationRequest,
    ExceptionResponse,
    ExceptionServiceError,
    ExceptionStateError,
    GeneralBlockTransfer,
    GetDataResult,
    GetRequestNext,
    GetRequestNormal,
    GetRequestWithList,
    GetResponseNormal,
    GetResponseWithDatablock,
    GetResponseWithList,
    InvokeIdAndPriority,
    LongInvokeIdAndPriority,
    Priority,
    ProcessingOption,
    RangeDescriptor,
    SelectiveAccessDescriptor,
    ServiceClass,
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
    get_response_normal_bytes,
    get_response_with_datablock_bytes,
    get_response_with_list_bytes,
)

_DECODERS: dict[int, Callable[[bytes], Any]] = {
    **XDLMS_DECODERS,
    **{
        cls.TAG: cls.from_bytes
        for cls in (AARQ, AARE, RLRQ, RLRE, InitiateRequest, InitiateResponse, ConfirmedServiceError,
                    *SN_CLASSES)
    },
}


def parse_apdu(data: bytes | bytearray | memoryview) -> Any:
    """Decode one whole APDU of any kind, chosen by its first octet.

    Plain APDUs come back as the classes of this package; ciphered ones as the
    structural objects of :func:`dlmsfast.security.parse_ciphered` (no key needed).
    Malformed input, trailing octets or an unknown tag raise
    :class:`~dlmsfast.errors.DecodeError` with the offset in ``data``.
    """
    buf = as_bytes(data)
    if not buf:
        raise DecodeError("empty APDU", 0)
    decoder = _DECODERS.get(buf[0])
    if decoder is not None:
        return decoder(buf)
    if is_ciphered_tag(buf[0]):
        return parse_ciphered(buf)
    raise DecodeError(f"unknown APDU tag 0x{buf[0]:02X}", 0)


__all__ = [
    "AARE",
    "AARQ",
    "RLRE",
    "RLRQ",
    "AcseServiceProvider",
    "AcseServiceUser",
    "ApplicationContextName",
    "AssociationResult",
    "AuthenticationValue",
    "MechanismName",
    "ReleaseRequestReason",
    "ReleaseResponseReason",
    "parse_user_information",
    "CONFORMANCE_TAG",
    "DLMS_VERSION",
    "ConfirmedServiceError",
    "ConfirmedServiceErrorService",
    "Conformance",
    "InitiateRequest",
    "InitiateResponse",
    "ServiceError",
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
    "SN_CLASSES",
    "DataBlockResult",
    "InformationReportRequest",
    "ReadRequest",
    "ReadResponse",
    "UnconfirmedWriteRequest",
    "WriteRequest",
    "WriteResponse",
    "parse_apdu",
]
