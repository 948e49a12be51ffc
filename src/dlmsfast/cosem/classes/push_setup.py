"""Push Setup (class_id 40, versions 0-2): what a meter pushes, where, and when.

=====  ============================  ===============================  =======  =====
index  attribute                     type                             kind     since
=====  ============================  ===============================  =======  =====
1      logical_name                  octet-string                     static
2      push_object_list              array of capture_object_d.       static
3      send_destination_and_method   structure                        static
4      communication_window          array of window_element          static
5      randomisation_start_interval  long-unsigned                    static   (s)
6      number_of_retries             unsigned                         static
7      repetition_delay              long-unsigned | structure (v2)   static
8      port_reference                octet-string                     static   v1
9      push_client_SAP               integer                          static   v1
10     push_protection_parameters    array (each element as its Data) static   v1
11     push_operation_method         enum                             static   v2
12     confirmation_parameters       structure                        static   v2
13     last_confirmation_date_time   date-time                        dynamic  v2
=====  ============================  ===============================  =======  =====

Methods: 1 push (integer(0)); 2 reset (integer(0), v2). Short name offset 0x38.
The push_object_list names the values of a data-notification in order; the
push layer maps a notification to readings with it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..._enum import BlueBookEnum
from ...axdr import DateTime
from ..interface import Attribute, CosemObject, Method
from ..types import (
    ANY_DATA,
    DATE_TIME,
    DOUBLE_LONG_UNSIGNED,
    INTEGER,
    INTEGER_ZERO,
    LOGICAL_NAME,
    LONG_UNSIGNED,
    OCTET_STRING,
    UNSIGNED,
    ArrayOf,
    Enumerated,
    Record,
)
from ._common import CAPTURE_OBJECT


class TransportService(BlueBookEnum):
    TCP = 0
    UDP = 1
    FTP = 2
    SMTP = 3
    SMS = 4
    HDLC = 5
    M_BUS = 6
    ZIGBEE = 7
    DLMS_GATEWAY = 8


class MessageType(BlueBookEnum):
    A_XDR_ENCODED_XDLMS_APDU = 0
    XML_ENCODED_XDLMS_APDU = 1


class PushOperationMethod(BlueBookEnum):
    UNCONFIRMED_FAILURE = 0
    UNCONFIRMED_MISSING = 1
    CONFIRMED = 2


@dataclass(frozen=True, slots=True)
class SendDestinationAndMethod:
    transport_service: TransportService
    destination: bytes
    message: MessageType


@dataclass(frozen=True, slots=True)
class WindowElement:
    start_time: DateTime
    end_time: DateTime


@dataclass(frozen=True, slots=True)
class RepetitionDelay:
    repetition_delay_min: int
    repetition_delay_exponent: int
    repetition_delay_max: int


@dataclass(frozen=True, slots=True)
class ConfirmationParameters:
    confirmation_start_date: DateTime
    confirmation_interval: int


SEND_DESTINATION_AND_METHOD = Record(
    SendDestinationAndMethod, Enumerated(TransportService), OCTET_STRING, Enumerated(MessageType),
    name="send_destination_and_method_type")


class PushSetup(CosemObject):
    class_id = 40
    blue_book_name = "Push Setup"
    versions = (0, 1, 2)
    sn_first_method_offset = 0x38
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "push_object_list", ArrayOf(CAPTURE_OBJECT)),
        Attribute(3, "send_destination_and_method", SEND_DESTINATION_AND_METHOD),
        Attribute(4, "communication_window", ArrayOf(Record(WindowElement, DATE_TIME, DATE_TIME,
                                                            name="window_element"))),
        Attribute(5, "randomisation_start_interval", LONG_UNSIGNED),
        Attribute(6, "number_of_retries", UNSIGNED),
        Attribute(7, "repetition_delay", LONG_UNSIGNED, until=1),
        Attribute(7, "repetition_delay", Record(RepetitionDelay, LONG_UNSIGNED, LONG_UNSIGNED,
                                                LONG_UNSIGNED, name="repetition_delay_type"), since=2),
        Attribute(8, "port_reference", LOGICAL_NAME, since=1),
        Attribute(9, "push_client_SAP", INTEGER, since=1),
        Attribute(10, "push_protection_parameters", ArrayOf(ANY_DATA), since=1),
        Attribute(11, "push_operation_method", Enumerated(PushOperationMethod), since=2),
        Attribute(12, "confirmation_parameters", Record(ConfirmationParameters, DATE_TIME,
                                                        DOUBLE_LONG_UNSIGNED), since=2),
        Attribute(13, "last_confirmation_date_time", DATE_TIME, static=False, since=2),
    )
    methods = (
        Method(1, "push", INTEGER_ZERO),
        Method(2, "reset", INTEGER_ZERO, since=2),
    )


__all__ = [
    "ConfirmationParameters",
    "MessageType",
    "PushOperationMethod",
    "PushSetup",
    "RepetitionDelay",
    "SendDestinationAndMethod",
    "TransportService",
    "WindowElement",
]
