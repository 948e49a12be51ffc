"""SET service APDUs: Set-Request [193] and Set-Response [197] (IEC 62056-5-3).

::

    C1 01 iip  descriptor access-selection?  Data                set-request-normal
    C1 02 iip  descriptor access-selection?  datablock           set-request-with-first-datablock
    C1 03 iip  datablock                                         set-request-with-datablock
    C1 04 iip  n {descriptor access-selection?}  n {Data}        set-request-with-list
    C1 05 iip  n {descriptor access-selection?}  datablock       set-request-with-list-and-first-datablock

    C5 01 iip  data-access-result                                set-response-normal
    C5 02 iip  block-number(4)                                   set-response-datablock
    C5 03 iip  data-access-result  block-number(4)               set-response-last-datablock
    C5 04 iip  n {data-access-result}  block-number(4)           set-response-last-datablock-with-list
    C5 05 iip  n {data-access-result}                            set-response-with-list

``datablock`` is DataBlock-SA: last-block (BOOLEAN), block-number (Unsigned32),
raw-data (OCTET STRING with A-XDR length). A long SET sends the A-XDR encoding of
the value(s) cut into raw-data blocks numbered from 1; the server acknowledges
each with set-response-datablock and the last with set-response-last-datablock.
"""
from __future__ import annotations

from typing import Any

from .. import _tags
from ..axdr import Data
from ..cosem.descriptors import (
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    SelectiveAccessDescriptor,
    attribute_meaning,
)
from .cursor import Reader, Writer, decoded
from .invoke import InvokeIdAndPriority
from .results import DataAccessResult, DataBlockSA
from .service import BlockNumberBody, DataBlockSABody, ServiceApdu, variant


def _read_results(r: Reader) -> tuple[DataAccessResult, ...]:
    return r.sequence_of(lambda: r.enum(DataAccessResult, "data-access-result"), "result list")


def _write_results(w: Writer, results: tuple[DataAccessResult, ...]) -> None:
    w.length(len(results))
    for result in results:
        w.u8(DataAccessResult(result), "data-access-result")


@variant(_tags.SET_REQUEST, 1, "set-request-normal")
class SetRequestNormal(ServiceApdu):
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None
    value: Data

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetRequestNormal":
        return decoded(cls, invoke_id_and_priority=iip, **r.attribute_head(), value=r.data("value"))

    def _write(self, w: Writer) -> None:
        w.attribute_with_selection(self.cosem_attribute_descriptor, self.access_selection)
        w.data(self.value)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            **attribute_meaning(self.cosem_attribute_descriptor, self.access_selection),
            "value": self.value.to_meaning(),
        }


@variant(_tags.SET_REQUEST, 2, "set-request-with-first-datablock")
class SetRequestWithFirstDatablock(ServiceApdu):
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None
    datablock: DataBlockSA

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetRequestWithFirstDatablock":
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            **r.attribute_head(),
            datablock=r.datablock_sa(),
        )

    def _write(self, w: Writer) -> None:
        w.attribute_with_selection(self.cosem_attribute_descriptor, self.access_selection)
        w.datablock_sa(self.datablock)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            **attribute_meaning(self.cosem_attribute_descriptor, self.access_selection),
            "datablock": self.datablock.to_meaning(),
        }


@variant(_tags.SET_REQUEST, 3, "set-request-with-datablock")
class SetRequestWithDatablock(DataBlockSABody, ServiceApdu):
    BLOCK_FIELD = "datablock"

    datablock: DataBlockSA


@variant(_tags.SET_REQUEST, 4, "set-request-with-list")
class SetRequestWithList(ServiceApdu):
    attribute_descriptor_list: tuple[CosemAttributeDescriptorWithSelection, ...]
    value_list: tuple[Data, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetRequestWithList":
        items = r.sequence_of(r.attribute_with_selection, "attribute-descriptor-list")
        values = r.sequence_of(lambda: r.data("value"), "value-list")
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            attribute_descriptor_list=items,
            value_list=values,
        )

    def _write(self, w: Writer) -> None:
        w.attribute_descriptor_list(self.attribute_descriptor_list)
        w.data_list(self.value_list)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            "attribute_descriptor_list": [item.to_meaning() for item in self.attribute_descriptor_list],
            "value_list": [value.to_meaning() for value in self.value_list],
        }


@variant(_tags.SET_REQUEST, 5, "set-request-with-list-and-first-datablock")
class SetRequestWithListAndFirstDatablock(ServiceApdu):
    attribute_descriptor_list: tuple[CosemAttributeDescriptorWithSelection, ...]
    datablock: DataBlockSA

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetRequestWithListAndFirstDatablock":
        items = r.sequence_of(r.attribute_with_selection, "attribute-descriptor-list")
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            attribute_descriptor_list=items,
            datablock=r.datablock_sa(),
        )

    def _write(self, w: Writer) -> None:
        w.attribute_descriptor_list(self.attribute_descriptor_list)
        w.datablock_sa(self.datablock)

    def _body_meaning(self) -> dict[str, Any]:
        return {
            "attribute_descriptor_list": [item.to_meaning() for item in self.attribute_descriptor_list],
            "datablock": self.datablock.to_meaning(),
        }


@variant(_tags.SET_RESPONSE, 1, "set-response-normal")
class SetResponseNormal(ServiceApdu):
    result: DataAccessResult = DataAccessResult.SUCCESS

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetResponseNormal":
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            result=r.enum(DataAccessResult, "data-access-result"),
        )

    def _write(self, w: Writer) -> None:
        w.u8(self.result, "data-access-result")

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": int(self.result)}


@variant(_tags.SET_RESPONSE, 2, "set-response-datablock")
class SetResponseDatablock(BlockNumberBody, ServiceApdu):
    """Acknowledges the block ``block_number`` of a long SET."""

    block_number: int


@variant(_tags.SET_RESPONSE, 3, "set-response-last-datablock")
class SetResponseLastDatablock(ServiceApdu):
    result: DataAccessResult = DataAccessResult.SUCCESS
    block_number: int

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetResponseLastDatablock":
        result = r.enum(DataAccessResult, "data-access-result")
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            result=result,
            block_number=r.u32("block-number"),
        )

    def _write(self, w: Writer) -> None:
        w.u8(self.result, "data-access-result")
        w.u32(self.block_number, "block-number")

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": int(self.result), "block_number": self.block_number}


@variant(_tags.SET_RESPONSE, 4, "set-response-last-datablock-with-list")
class SetResponseLastDatablockWithList(ServiceApdu):
    result: tuple[DataAccessResult, ...]
    block_number: int

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetResponseLastDatablockWithList":
        results = _read_results(r)
        return decoded(
            cls,
            invoke_id_and_priority=iip,
            result=results,
            block_number=r.u32("block-number"),
        )

    def _write(self, w: Writer) -> None:
        _write_results(w, self.result)
        w.u32(self.block_number, "block-number")

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": [int(x) for x in self.result], "block_number": self.block_number}


@variant(_tags.SET_RESPONSE, 5, "set-response-with-list")
class SetResponseWithList(ServiceApdu):
    result: tuple[DataAccessResult, ...]

    @classmethod
    def _read(cls, r: Reader, iip: InvokeIdAndPriority) -> "SetResponseWithList":
        return decoded(cls, invoke_id_and_priority=iip, result=_read_results(r))

    def _write(self, w: Writer) -> None:
        _write_results(w, self.result)

    def _body_meaning(self) -> dict[str, Any]:
        return {"result": [int(x) for x in self.result]}


SET_REQUEST = {
    c.CHOICE: c
    for c in (
        SetRequestNormal,
        SetRequestWithFirstDatablock,
        SetRequestWithDatablock,
        SetRequestWithList,
        SetRequestWithListAndFirstDatablock,
    )
}
SET_RESPONSE = {
    c.CHOICE: c
    for c in (
        SetResponseNormal,
        SetResponseDatablock,
        SetResponseLastDatablock,
        SetResponseLastDatablockWithList,
        SetResponseWithList,
    )
}


__all__ = [
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
]
