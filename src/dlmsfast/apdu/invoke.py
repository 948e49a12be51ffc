"""Invoke-Id-And-Priority, the first octet of every get/set/action APDU, and
its four-octet long form of data-notification (IEC 62056-5-3).

Invoke-Id-And-Priority (one octet)::

      bit 7      bit 6          bits 5-4   bits 3-0
    +----------+--------------+----------+-----------+
    | priority | service-class| reserved | invoke-id |
    | 1 = high | 1 = confirmed|          | 0..15     |
    +----------+--------------+----------+-----------+

Long-Invoke-Id-And-Priority (four octets)::

    bit 31    30             29                 28               27-24     23-0
    priority  service-class  processing-option  self-descriptive reserved  invoke-id
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._enum import BlueBookEnum
from .._util import _check_range


class ServiceClass(BlueBookEnum):
    UNCONFIRMED = 0
    CONFIRMED = 1


class Priority(BlueBookEnum):
    NORMAL = 0
    HIGH = 1


class ProcessingOption(BlueBookEnum):
    CONTINUE_ON_ERROR = 0
    BREAK_ON_ERROR = 1


@dataclass(frozen=True, slots=True)
class InvokeIdAndPriority:
    """The first octet of every get/set/action APDU.

    ``reserved`` keeps bits 5-4 as received so that re-encoding is byte-exact.
    """

    invoke_id: int = 1
    service_class: ServiceClass = ServiceClass.CONFIRMED
    priority: Priority = Priority.HIGH
    reserved: int = 0
    value: int = field(init=False, repr=False, compare=False)
    """The octet as transmitted."""

    def __post_init__(self) -> None:
        _check_range("invoke_id", self.invoke_id, 0, 15)
        _check_range("reserved bits of invoke-id-and-priority", self.reserved, 0, 3)
        object.__setattr__(self, "service_class", ServiceClass.given(self.service_class, "service_class"))
        object.__setattr__(self, "priority", Priority.given(self.priority, "priority"))
        octet = self.priority << 7 | self.service_class << 6 | self.reserved << 4 | self.invoke_id
        object.__setattr__(self, "value", octet)

    @classmethod
    def from_byte(cls, value: int) -> "InvokeIdAndPriority":
        _check_range("invoke-id-and-priority", value, 0, 0xFF)
        return _INVOKE_ID_AND_PRIORITY[value]

    def to_meaning(self) -> dict[str, Any]:
        return {
            "hex": f"{self.value:02X}",
            "invoke_id": self.invoke_id,
            "service_class": self.service_class.blue_book_name,
            "priority": self.priority.blue_book_name,
        }


_INVOKE_ID_AND_PRIORITY = tuple(
    InvokeIdAndPriority(b & 0x0F, ServiceClass(b >> 6 & 1), Priority(b >> 7), b >> 4 & 3)
    for b in range(256)
)
DEFAULT_INVOKE_ID_AND_PRIORITY = _INVOKE_ID_AND_PRIORITY[0xC1]
"""Invoke id 1, confirmed, high priority: what gurux-dlms and dlms-cosem send too."""


@dataclass(frozen=True, slots=True)
class LongInvokeIdAndPriority:
    """The four-octet invoke id of data-notification (and general-block-transfer users)."""

    invoke_id: int = 0
    self_descriptive: bool = False
    processing_option: ProcessingOption = ProcessingOption.CONTINUE_ON_ERROR
    service_class: ServiceClass = ServiceClass.UNCONFIRMED
    priority: Priority = Priority.NORMAL
    reserved: int = 0

    def __post_init__(self) -> None:
        _check_range("long invoke_id", self.invoke_id, 0, 0xFFFFFF)
        _check_range("reserved bits of long-invoke-id-and-priority", self.reserved, 0, 15)
        object.__setattr__(self, "self_descriptive", bool(self.self_descriptive))
        object.__setattr__(
            self, "processing_option", ProcessingOption.given(self.processing_option, "processing_option")
        )
        object.__setattr__(self, "service_class", ServiceClass.given(self.service_class, "service_class"))
        object.__setattr__(self, "priority", Priority.given(self.priority, "priority"))

    @property
    def value(self) -> int:
        return (
            self.priority << 31
            | self.service_class << 30
            | self.processing_option << 29
            | int(self.self_descriptive) << 28
            | self.reserved << 24
            | self.invoke_id
        )

    @classmethod
    def from_int(cls, value: int) -> "LongInvokeIdAndPriority":
        _check_range("long-invoke-id-and-priority", value, 0, 0xFFFFFFFF)
        return cls(
            value & 0xFFFFFF,
            bool(value >> 28 & 1),
            ProcessingOption(value >> 29 & 1),
            ServiceClass(value >> 30 & 1),
            Priority(value >> 31 & 1),
            value >> 24 & 0x0F,
        )

    def to_meaning(self) -> dict[str, Any]:
        return {
            "hex": f"{self.value:08X}",
            "invoke_id": self.invoke_id,
            "self_descriptive": self.self_descriptive,
            "processing_option": self.processing_option.blue_book_name,
            "service_class": self.service_class.blue_book_name,
            "priority": self.priority.blue_book_name,
        }


__all__ = [
    "DEFAULT_INVOKE_ID_AND_PRIORITY",
    "InvokeIdAndPriority",
    "LongInvokeIdAndPriority",
    "Priority",
    "ProcessingOption",
    "ServiceClass",
]
