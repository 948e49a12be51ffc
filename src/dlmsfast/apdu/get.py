"""GET service APDUs: Get-Request [192] and Get-Response [196] (IEC 62056-5-3).

::

    C0 01 iip  cosem-attribute-descriptor  access-selection?        get-request-normal
    C0 02 iip  block-number(4)                                      get-request-next
    C0 03 iip  n  { cosem-attribute-descriptor access-selection? }  get-request-with-list

    C4 01 iip  get-data-result                                      get-response-normal
    C4 02 iip  last-block block-number(4) 00 raw-data | 01 dar      get-response-with-datablock
    C4 03 iip  n  { get-data-result }                               get-response-with-list

``iip`` is the Invoke-Id-And-Priority octet; ``n`` an A-XDR length; get-data-result
is ``00`` + Data or ``01`` + Data-Access-Result. A long GET arrives as
get-response-with-datablock blocks numbered from 1; the client acknowledges each
one with get-request-next carrying the number of the block received, until the
block with last-block set.

A server that keeps its values already A-XDR encoded (the simulator) writes the
get-responses from those octets with :func:`get_response_normal_bytes`,
:func:`get_response_with_list_bytes` and :func:`get_response_with_datablock_bytes`:
the same octets as ``to_bytes()`` of the classes, without building them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import _tags
from ..axdr import encode_length
from ..cosem.descriptors import (
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    SelectiveAccessDescriptor,
    attribute_meaning,
)
from ..errors import EncodeError
from .cursor import Reader, Writer, decoded
from .invoke import InvokeIdAndPriority
from .results import DataBlockG, GetDataResult, get_data_result_meaning
from .service import BlockNumberBody, ServiceApdu, variant


@variant(_tags.GET_REQUEST, 1, "get-request-normal")
class GetRequestNormal(ServiceApdu):
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "GetRequestNormal":
        return decoded(cls, invoke_id_and_priority=iip, **r.attribute_head())

    def _write(self, w: Writer) -> None:
        w.attribute_with_selection(self.cosem_attribute_descriptor, self.access_selection)

    def _body_meaning(self) -> dict[str, Any]:
        return attribute_meaning(self.cosem_attribute_descriptor, self.access_selection)


@variant(_tags.GET_REQUEST, 2, "get-request-next")
class GetRequestNext(BlockNumberBody, ServiceApdu):
    """Asks for the block after ``block_number`` (the number of the last block received)."""

    block_number: int


@variant(_tags.GET_REQUEST, 3, "get-request-with-list")
class GetRequestWithList(ServiceApdu):
    attribute_descriptor_list: tuple[CosemAttributeDescriptorWithSelection, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "GetRequestWithList":
        items = r.sequence_of(r.attribute_with_selection, "attribute-descriptor-list")
        return decoded(cls, invoke_id_and_priority=iip, attribute_descriptor_list=items)

    def _write(self, w: Writer) -> None:
        w.attribute_descriptor_list(self.attribute_descriptor_list)

    def _body_meaning(self) -> dict[str, Any]:
        return {"attribute_descriptor_list": [item.to_meaning() for item in self.attribute_descriptor_list]}


@variant(_tags.GET_RESPONSE, 1, "get-response-normal")
class GetResponseNormal(ServiceApdu):
    """``result`` is the value read (a Data) or a DataAccessResult."""

    result: GetDataResult

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "GetResponseNormal":
        return decoded(cls, invoke_id_and_priority=iip, result=r.get_data_result())

    def _write(self, w: Writer) -> None:
        w.get_data_result(self.result)

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": get_data_result_meaning(self.result)}


@variant(_tags.GET_RESPONSE, 2, "get-response-with-datablock")
class GetResponseWithDatablock(ServiceApdu):
    result: DataBlockG

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "GetResponseWithDatablock":
        return decoded(cls, invoke_id_and_priority=iip, result=r.datablock_g())

    def _write(self, w: Writer) -> None:
        w.datablock_g(self.result)

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": self.result.to_meaning()}


@variant(_tags.GET_RESPONSE, 3, "get-response-with-list")
class GetResponseWithList(ServiceApdu):
    result: tuple[GetDataResult, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "GetResponseWithList":
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            result=r.sequence_of(r.get_data_result, "result list"),
        )

    def _write(self, w: Writer) -> None:
        w.length(len(self.result))
        for item in self.result:
            w.get_data_result(item)

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": [get_data_result_meaning(item) for item in self.result]}


# Writers from octets already encoded, for a server's hot path: one join each and
# no object built. The encoded values are taken as they are (not checked); a wrong
# argument fails in the join and becomes an EncodeError there (a try costs next to
# nothing until it raises).
_WRONG_ARGUMENT = (TypeError, ValueError, OverflowError, AttributeError)


def get_response_normal_bytes(iip: int, data: bytes | bytearray) -> bytes:
    """A get-response-normal carrying one value, ``data`` (an encoded Data)::

        C4 01 iip 00 data
    """
    try:
        return bytes((_tags.GET_RESPONSE, GetResponseNormal.CHOICE, iip, 0)) + data
    except _WRONG_ARGUMENT as exc:
        raise EncodeError(f"get-response-normal: {exc}") from None


def get_response_with_list_bytes(iip: int, data: Sequence[bytes]) -> bytes:
    """A get-response-with-list whose results are all values, each of ``data``
    an encoded Data::

        C4 03 iip n { 00 data }
    """
    try:
        head = (_tags.GET_RESPONSE, GetResponseWithList.CHOICE, iip)
        # 00 before the first value, then 00 between: each value after its choice octet
        return b"".join((bytes(head), encode_length(len(data)), b"\x00" if data else b"",
                         b"\x00".join(data)))
    except _WRONG_ARGUMENT as exc:
        raise EncodeError(f"get-response-with-list: {exc}") from None


def get_response_with_datablock_bytes(iip: int, last_block: bool, block_number: int,
                                      raw_data: bytes) -> bytes:
    """A get-response-with-datablock carrying ``raw_data`` (one block of a long answer)::

        C4 02 iip last-block block-number(4) 00 length raw-data
    """
    try:
        head = (_tags.GET_RESPONSE, GetResponseWithDatablock.CHOICE, iip, 1 if last_block else 0)
        return b"".join((bytes(head), block_number.to_bytes(4, "big"), b"\x00",
                         encode_length(len(raw_data)), raw_data))
    except _WRONG_ARGUMENT as exc:
        raise EncodeError(f"get-response-with-datablock: {exc}") from None


GET_REQUEST = {c.CHOICE: c for c in (GetRequestNormal, GetRequestNext, GetRequestWithList)}
GET_RESPONSE = {
    c.CHOICE: c for c in (GetResponseNormal, GetResponseWithDatablock, GetResponseWithList)
}


__all__ = [
    "GetRequestNext",
    "GetRequestNormal",
    "GetRequestWithList",
    "GetResponseNormal",
    "GetResponseWithDatablock",
    "GetResponseWithList",
    "get_response_normal_bytes",
    "get_response_with_datablock_bytes",
    "get_response_with_list_bytes",
]
