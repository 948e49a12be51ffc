"""Unsolicited APDUs sent by a server: data-notification [15], event-notification-request
[194] and exception-response [216] (IEC 62056-5-3).

Data-Notification::

    0F  long-invoke-id-and-priority(4)  date-time  notification-body (Data)

``date-time`` is an OCTET STRING in the standard: ``00`` when absent, else ``0C``
and the 12 octets of a COSEM date-time (gurux-dlms writes this). dlms-cosem writes
an OPTIONAL presence flag instead, ``01`` and the 12 octets; both are accepted, and
the form read is kept (``date_time_form``) so that re-encoding is byte-exact.

Event-Notification-Request::

    C2  time?  cosem-attribute-descriptor(9)  attribute-value (Data)

``time`` is OPTIONAL OCTET STRING: ``00``, or ``01`` + length + octets.

Exception-Response::

    D8  state-error  service-error [invocation-counter(4) when service-error is 6]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import _tags
from .._enum import BlueBookEnum
from .._util import octets_argument, require
from ..axdr import Data, DateTime
from ..cosem.descriptors import CosemAttributeDescriptor
from ..errors import EncodeError, UsageError
from .cursor import Writer, open_apdu
from .invoke import LongInvokeIdAndPriority

OCTET_STRING_FORM = "octet-string"
OPTIONAL_FLAG_FORM = "optional-flag"
_DATE_TIME_LENGTH = 12


def _octets(value: Any, what: str) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, DateTime):
        return value.to_bytes()
    return octets_argument(value, what)


def _date_time_meaning(octets: bytes) -> dict[str, Any]:
    described: dict[str, Any] = {"length": len(octets), "hex": octets.hex().upper()}
    if len(octets) == _DATE_TIME_LENGTH:
        described.update(DateTime.from_bytes(octets).to_meaning())
    return described


@dataclass(frozen=True, slots=True, kw_only=True)
class DataNotification:
    """A push: ``date_time`` is the 12 octets of a COSEM date-time, or None."""

    TAG: ClassVar[int] = _tags.DATA_NOTIFICATION
    APDU: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    long_invoke_id_and_priority: LongInvokeIdAndPriority = field(default_factory=LongInvokeIdAndPriority)
    date_time: bytes | None = None
    notification_body: Data
    date_time_form: str = OCTET_STRING_FORM

    def __post_init__(self) -> None:
        # On the wire an empty date-time is the absent one (length 0).
        require(self.long_invoke_id_and_priority, LongInvokeIdAndPriority, "long_invoke_id_and_priority")
        require(self.notification_body, Data, "notification_body")
        object.__setattr__(self, "date_time", _octets(self.date_time, "date_time") or None)
        if self.date_time_form not in (OCTET_STRING_FORM, OPTIONAL_FLAG_FORM):
            raise UsageError(
                f"date_time_form must be {OCTET_STRING_FORM!r} or {OPTIONAL_FLAG_FORM!r}"
            )
        if self.date_time is None:
            # Both forms write an absent date-time as 00: there is no form to keep.
            object.__setattr__(self, "date_time_form", OCTET_STRING_FORM)

    @classmethod
    def from_bytes(cls, data: Any) -> "DataNotification":
        r = open_apdu(data, cls.TAG, cls.APDU)
        liip = LongInvokeIdAndPriority.from_int(r.u32("long-invoke-id-and-priority"))
        form = OCTET_STRING_FORM
        if r.buf[r.pos : r.pos + 1] == b"\x01":
            r.pos += 1
            date_time = r.take(_DATE_TIME_LENGTH, "date-time")
            form = OPTIONAL_FLAG_FORM
        else:
            date_time = r.octet_string("date-time")
        body = r.data("notification-body")
        r.finish(cls.APDU)
        return cls(
            long_invoke_id_and_priority=liip,
            date_time=date_time,
            notification_body=body,
            date_time_form=form,
        )

    def to_bytes(self) -> bytes:
        w = Writer(self.TAG)
        w.u32(self.long_invoke_id_and_priority.value, "long-invoke-id-and-priority")
        if self.date_time is None:
            w.u8(0, "date-time")
        elif self.date_time_form == OPTIONAL_FLAG_FORM:
            if len(self.date_time) != _DATE_TIME_LENGTH:
                raise EncodeError("the optional-flag date-time form carries exactly 12 octets")
            w.u8(1, "date-time presence")
            w.raw(self.date_time)
        elif len(self.date_time) == 1:
            raise EncodeError("a 1-octet date-time would read as dlms-cosem's presence flag 01")
        else:
            w.octet_string(self.date_time)
        w.data(self.notification_body)
        return w.bytes()

    def to_meaning(self) -> dict[str, Any]:
        described = {
            "apdu": self.APDU,
            "long_invoke_id_and_priority": self.long_invoke_id_and_priority.to_meaning(),
            "date_time": None if self.date_time is None else _date_time_meaning(self.date_time),
            "notification_body": self.notification_body.to_meaning(),
        }
        if self.date_time is not None and self.date_time_form == OPTIONAL_FLAG_FORM:
            described["date_time"]["encoding"] = "optional presence flag (dlms-cosem), not OCTET STRING"
        return described


@dataclass(frozen=True, slots=True, kw_only=True)
class EventNotificationRequest:
    """A server reports a new value of one attribute; ``time`` is optional octets."""

    TAG: ClassVar[int] = _tags.EVENT_NOTIFICATION_REQUEST
    APDU: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    time: bytes | None = None
    cosem_attribute_descriptor: CosemAttributeDescriptor
    attribute_value: Data

    def __post_init__(self) -> None:
        require(self.cosem_attribute_descriptor, CosemAttributeDescriptor, "cosem_attribute_descriptor")
        require(self.attribute_value, Data, "attribute_value")
        object.__setattr__(self, "time", _octets(self.time, "time"))

    @classmethod
    def from_bytes(cls, data: Any) -> "EventNotificationRequest":
        r = open_apdu(data, cls.TAG, cls.APDU)
        time = r.octet_string("time") if r.optional("time") else None
        descriptor = r.attribute_descriptor()
        value = r.data("attribute-value")
        r.finish(cls.APDU)
        return cls(time=time, cosem_attribute_descriptor=descriptor, attribute_value=value)

    def to_bytes(self) -> bytes:
        w = Writer(self.TAG)
        if self.time is None:
            w.u8(0, "time presence")
        else:
            w.u8(1, "time presence")
            w.octet_string(self.time)
        w.raw(self.cosem_attribute_descriptor.to_bytes())
        w.data(self.attribute_value)
        return w.bytes()

    def to_meaning(self) -> dict[str, Any]:
        return {
            "apdu": self.APDU,
            "time": None if self.time is None else {"hex": self.time.hex().upper()},
            "cosem_attribute_descriptor": self.cosem_attribute_descriptor.to_meaning(),
            "attribute_value": self.attribute_value.to_meaning(),
        }


class ExceptionStateError(BlueBookEnum):
    """state-error of exception-response."""

    SERVICE_NOT_ALLOWED = 1
    SERVICE_UNKNOWN = 2


class ExceptionServiceError(BlueBookEnum):
    """service-error of exception-response (not the ServiceError of confirmed-service-error)."""

    OPERATION_NOT_POSSIBLE = 1
    SERVICE_NOT_SUPPORTED = 2
    OTHER_REASON = 3
    PDU_TOO_LONG = 4
    DECIPHERING_ERROR = 5
    INVOCATION_COUNTER_ERROR = 6


@dataclass(frozen=True, slots=True)
class ExceptionResponse:
    """A server refuses an APDU it cannot even start to process.

    With ``invocation-counter-error`` the server tells the invocation counter it
    expects (``invocation_counter``); with every other service-error it is None.
    """

    TAG: ClassVar[int] = _tags.EXCEPTION_RESPONSE
    APDU: ClassVar[str] = _tags.PLAIN_APDUS[TAG]

    state_error: ExceptionStateError
    service_error: ExceptionServiceError
    invocation_counter: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state_error", ExceptionStateError.given(self.state_error, "state-error"))
        object.__setattr__(
            self, "service_error", ExceptionServiceError.given(self.service_error, "service-error")
        )
        carries_counter = self.service_error is ExceptionServiceError.INVOCATION_COUNTER_ERROR
        if carries_counter != (self.invocation_counter is not None):
            raise UsageError("invocation_counter is given exactly with invocation-counter-error")

    @classmethod
    def from_bytes(cls, data: Any) -> "ExceptionResponse":
        r = open_apdu(data, cls.TAG, cls.APDU)
        state = r.enum(ExceptionStateError, "state-error")
        service = r.enum(ExceptionServiceError, "service-error")
        counter = None
        if service is ExceptionServiceError.INVOCATION_COUNTER_ERROR:
            counter = r.u32("invocation-counter")
        r.finish(cls.APDU)
        return cls(state, service, counter)

    def to_bytes(self) -> bytes:
        w = Writer(self.TAG, self.state_error, self.service_error)
        if self.invocation_counter is not None:
            w.u32(self.invocation_counter, "invocation-counter")
        return w.bytes()

    def to_meaning(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "apdu": self.APDU,
            "state_error": int(self.state_error),
            "state_error_name": self.state_error.blue_book_name,
            "service_error": int(self.service_error),
            "service_error_name": self.service_error.blue_book_name,
        }
        if self.invocation_counter is not None:
            described["invocation_counter"] = self.invocation_counter
        return described


__all__ = [
    "DataNotification",
    "EventNotificationRequest",
    "ExceptionResponse",
    "OCTET_STRING_FORM",
    "OPTIONAL_FLAG_FORM",
    "ExceptionServiceError",
    "ExceptionStateError",
]
