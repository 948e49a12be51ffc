"""ACTION service APDUs: Action-Request [195] and Action-Response [199] (IEC 62056-5-3).

::

    C3 01 iip  method-descriptor  Data?                          action-request-normal
    C3 02 iip  block-number(4)                                   action-request-next-pblock
    C3 03 iip  n {method-descriptor}  n {Data}                   action-request-with-list
    C3 04 iip  method-descriptor  pblock                         action-request-with-first-pblock
    C3 05 iip  n {method-descriptor}  pblock                     action-request-with-list-and-first-pblock
    C3 06 iip  pblock                                            action-request-with-pblock

    C7 01 iip  action-result  get-data-result?                   action-response-normal
    C7 02 iip  pblock                                            action-response-with-pblock
    C7 03 iip  n {action-result get-data-result?}                action-response-with-list
    C7 04 iip  block-number(4)                                   action-response-next-pblock

``Data?`` and ``get-data-result?`` are OPTIONAL (a 00/01 presence octet first);
``pblock`` is DataBlock-SA: last-block, block-number (Unsigned32), raw-data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import _tags
from .._util import require
from ..axdr import Data
from ..cosem.descriptors import CosemMethodDescriptor
from .cursor import Reader, Writer, decoded
from .invoke import InvokeIdAndPriority
from .results import (
    ActionResult,
    DataAccessResult,
    DataBlockSA,
    GetDataResult,
    get_data_result_meaning,
)
from .service import BlockNumberBody, DataBlockSABody, ServiceApdu, variant


@dataclass(frozen=True, slots=True)
class ActionResponseWithOptionalData:
    """The outcome of one method invocation: its result and, optionally, what it returned."""

    result: ActionResult = ActionResult.SUCCESS
    return_parameters: GetDataResult | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "result", ActionResult.given(self.result, "action-result"))
        require(self.return_parameters, (Data, DataAccessResult, type(None)), "return_parameters")

    @classmethod
    def _read(cls, r: Reader) -> "ActionResponseWithOptionalData":
        result = r.enum(ActionResult, "action-result")
        returned = r.get_data_result() if r.optional("return-parameters") else None
        return cls(result, returned)

    def _write(self, w: Writer) -> None:
        w.u8(self.result, "action-result")
        if self.return_parameters is None:
            w.u8(0, "return-parameters presence")
        else:
            w.u8(1, "return-parameters presence")
            w.get_data_result(self.return_parameters)

    def to_meaning(self) -> dict[str, Any]:
        return {
            "action_result": int(self.result),
            "return_parameters": None
            if self.return_parameters is None
            else get_data_result_meaning(self.return_parameters),
        }


def _read_method_list(r: Reader) -> tuple[CosemMethodDescriptor, ...]:
    return r.sequence_of(r.method_descriptor, "cosem-method-descriptor-list")


def _write_method_list(w: Writer, methods: tuple[CosemMethodDescriptor, ...]) -> None:
    w.length(len(methods))
    for method in methods:
        w.raw(method.to_bytes())


@variant(_tags.ACTION_REQUEST, 1, "action-request-normal")
class ActionRequestNormal(ServiceApdu):
    cosem_method_descriptor: CosemMethodDescriptor
    method_invocation_parameters: Data | None = None

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionRequestNormal":
        method = r.method_descriptor()
        parameters = r.optional_data("method-invocation-parameters")
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            cosem_method_descriptor=method,
            method_invocation_parameters=parameters,
        )

    def _write(self, w: Writer) -> None:
        w.raw(self.cosem_method_descriptor.to_bytes())
        w.optional_data(self.method_invocation_parameters)

    def _body_meaning(self) -> dict[str, Any]:
        parameters = self.method_invocation_parameters
        return {
            "cosem_method_descriptor": self.cosem_method_descriptor.to_meaning(),
            "method_invocation_parameters": None if parameters is None else parameters.to_meaning(),
        }


@variant(_tags.ACTION_REQUEST, 2, "action-request-next-pblock")
class ActionRequestNextPblock(BlockNumberBody, ServiceApdu):
    """Asks the server for the next block of a long action response."""

    block_number: int


@variant(_tags.ACTION_REQUEST, 3, "action-request-with-list")
class ActionRequestWithList(ServiceApdu):
    cosem_method_descriptor_list: tuple[CosemMethodDescriptor, ...]
    method_invocation_parameters: tuple[Data, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionRequestWithList":
        methods = _read_method_list(r)
        parameters = r.sequence_of(lambda: r.data("method-invocation-parameters"), "parameter list")
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            cosem_method_descriptor_list=methods,
            method_invocation_parameters=parameters,
        )

    def _write(self, w: Writer) -> None:
        _write_method_list(w, self.cosem_method_descriptor_list)
        w.data_list(self.method_invocation_parameters)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            "cosem_method_descriptor_list": [m.to_meaning() for m in self.cosem_method_descriptor_list],
            "method_invocation_parameters": [p.to_meaning() for p in self.method_invocation_parameters],
        }


@variant(_tags.ACTION_REQUEST, 4, "action-request-with-first-pblock")
class ActionRequestWithFirstPblock(ServiceApdu):
    cosem_method_descriptor: CosemMethodDescriptor
    pblock: DataBlockSA

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionRequestWithFirstPblock":
        method = r.method_descriptor()
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            cosem_method_descriptor=method,
            pblock=r.datablock_sa(),
        )

    def _write(self, w: Writer) -> None:
        w.raw(self.cosem_method_descriptor.to_bytes())
        w.datablock_sa(self.pblock)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            "cosem_method_descriptor": self.cosem_method_descriptor.to_meaning(),
            "pblock": self.pblock.to_meaning(),
        }


@variant(_tags.ACTION_REQUEST, 5, "action-request-with-list-and-first-pblock")
class ActionRequestWithListAndFirstPblock(ServiceApdu):
    cosem_method_descriptor_list: tuple[CosemMethodDescriptor, ...]
    pblock: DataBlockSA

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionRequestWithListAndFirstPblock":
        methods = _read_method_list(r)
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            cosem_method_descriptor_list=methods,
            pblock=r.datablock_sa(),
        )

    def _write(self, w: Writer) -> None:
        _write_method_list(w, self.cosem_method_descriptor_list)
        w.datablock_sa(self.pblock)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            "cosem_method_descriptor_list": [m.to_meaning() for m in self.cosem_method_descriptor_list],
            "pblock": self.pblock.to_meaning(),
        }


@variant(_tags.ACTION_REQUEST, 6, "action-request-with-pblock")
class ActionRequestWithPblock(DataBlockSABody, ServiceApdu):
    BLOCK_FIELD = "pblock"

    pblock: DataBlockSA


@variant(_tags.ACTION_RESPONSE, 1, "action-response-normal")
class ActionResponseNormal(ServiceApdu):
    """The single-response of the standard, flattened: ``action_result`` and the
    optional ``return_parameters`` (a Data or a DataAccessResult)."""

    action_result: ActionResult = ActionResult.SUCCESS
    return_parameters: GetDataResult | None = None

    @property
    def single_response(self) -> ActionResponseWithOptionalData:
        return ActionResponseWithOptionalData(self.action_result, self.return_parameters)

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionResponseNormal":
        response = ActionResponseWithOptionalData._read(r)
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            action_result=response.result,
            return_parameters=response.return_parameters,
        )

    def _write(self, w: Writer) -> None:
        self.single_response._write(w)

    def _body_meaning(self) -> dict[str, Any]:
        return self.single_response.to_meaning()


@variant(_tags.ACTION_RESPONSE, 2, "action-response-with-pblock")
class ActionResponseWithPblock(DataBlockSABody, ServiceApdu):
    BLOCK_FIELD = "pblock"

    pblock: DataBlockSA


@variant(_tags.ACTION_RESPONSE, 3, "action-response-with-list")
class ActionResponseWithList(ServiceApdu):
    list_of_responses: tuple[ActionResponseWithOptionalData, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "ActionResponseWithList":
        responses = r.sequence_of(lambda: ActionResponseWithOptionalData._read(r), "list-of-responses")
        return decoded(cls, invoke_id_and_priority=iip, list_of_responses=responses)

    def _write(self, w: Writer) -> None:
        w.length(len(self.list_of_responses))
        for response in self.list_of_responses:
            response._write(w)

    def _body_meaning(self) -> dict[str, Any]:
        return {"list_of_responses": [response.to_meaning() for response in self.list_of_responses]}


@variant(_tags.ACTION_RESPONSE, 4, "action-response-next-pblock")
class ActionResponseNextPblock(BlockNumberBody, ServiceApdu):
    """Acknowledges the block ``block_number`` of a long action request."""

    block_number: int


ACTION_REQUEST = {
    c.CHOICE: c
    for c in (
        ActionRequestNormal,
        ActionRequestNextPblock,
        ActionRequestWithList,
        ActionRequestWithFirstPblock,
        ActionRequestWithListAndFirstPblock,
        ActionRequestWithPblock,
    )
}
ACTION_RESPONSE = {
    c.CHOICE: c
    for c in (
        ActionResponseNormal,
        ActionResponseWithPblock,
        ActionResponseWithList,
        ActionResponseNextPblock,
    )
}


__all__ = [
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
]
