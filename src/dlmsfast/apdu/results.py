"""What a get/set/action reports back: Data-Access-Result, Action-Result,
Get-Data-Result, and the DataBlock-G / DataBlock-SA of block transfer.

Get-Data-Result: CHOICE ``00`` + Data (data [0]) | ``01`` + enum (data-access-result [1]).

DataBlock-G / DataBlock-SA (block transfer of long GET / SET / ACTION)::

    last-block (BOOLEAN) | block-number (Unsigned32) |
        G:  00 + raw-data OCTET STRING  or  01 + data-access-result
        SA: raw-data OCTET STRING
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from .._enum import BlueBookEnum
from .._util import _check_range, octets_argument
from ..axdr import Data


class DataAccessResult(BlueBookEnum):
    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250

    def to_meaning(self) -> dict[str, Any]:
        return {"data_access_result": int(self), "name": self.blue_book_name}


class ActionResult(BlueBookEnum):
    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_ACTION_ABORTED = 15
    NO_LONG_ACTION_IN_PROGRESS = 16
    OTHER_REASON = 250


GetDataResult = Union[Data, DataAccessResult]
"""Get-Data-Result: the value read, or why it could not be read."""


def get_data_result_meaning(result: GetDataResult) -> dict[str, Any]:
    if isinstance(result, DataAccessResult):
        return result.to_meaning()
    return {"data": result.to_meaning()}


@dataclass(frozen=True, slots=True)
class DataBlockG:
    """A block of a long GET response: ``result`` is the raw-data octets, or the
    data-access-result that ended the transfer."""

    last_block: bool
    block_number: int
    result: Union[bytes, DataAccessResult]

    def __post_init__(self) -> None:
        _check_range("block_number", self.block_number, 0, 0xFFFFFFFF)
        object.__setattr__(self, "last_block", bool(self.last_block))
        if not isinstance(self.result, DataAccessResult):
            object.__setattr__(self, "result", octets_argument(self.result, "raw-data"))

    def to_meaning(self) -> dict[str, Any]:
        head = {"last_block": self.last_block, "block_number": self.block_number}
        if isinstance(self.result, DataAccessResult):
            return {**head, **self.result.to_meaning()}
        return {**head, "raw_data": self.result.hex().upper()}


@dataclass(frozen=True, slots=True)
class DataBlockSA:
    """A block of a long SET request or of a long ACTION (pblock)."""

    last_block: bool
    block_number: int
    raw_data: bytes

    def __post_init__(self) -> None:
        _check_range("block_number", self.block_number, 0, 0xFFFFFFFF)
        object.__setattr__(self, "last_block", bool(self.last_block))
        object.__setattr__(self, "raw_data", octets_argument(self.raw_data, "raw-data"))

    def to_meaning(self) -> dict[str, Any]:
        return {
            "last_block": self.last_block,
            "block_number": self.block_number,
            "raw_data": self.raw_data.hex().upper(),
        }


__all__ = [
    "ActionResult",
    "DataAccessResult",
    "DataBlockG",
    "DataBlockSA",
    "GetDataResult",
]
