"""IEC HDLC Setup (class_id 23, version 1): the HDLC parameters of a port.

=====  ===============================  =============  =======
index  attribute                        type           kind
=====  ===============================  =============  =======
1      logical_name                     octet-string   static
2      comm_speed                       enum           static
3      window_size_transmit             unsigned       static
4      window_size_receive              unsigned       static
5      max_info_field_length_transmit   long-unsigned  static
6      max_info_field_length_receive    long-unsigned  static
7      inter_octet_time_out             long-unsigned  static (ms)
8      inactivity_time_out              long-unsigned  static (s)
9      device_address                   long-unsigned  static
=====  ===============================  =============  =======

No methods.
"""
from __future__ import annotations

from ..._enum import BlueBookEnum
from ..interface import Attribute, CosemObject
from ..types import LOGICAL_NAME, LONG_UNSIGNED, UNSIGNED, Enumerated


class CommSpeed(BlueBookEnum):
    BAUD_300 = 0
    BAUD_600 = 1
    BAUD_1200 = 2
    BAUD_2400 = 3
    BAUD_4800 = 4
    BAUD_9600 = 5
    BAUD_19200 = 6
    BAUD_38400 = 7
    BAUD_57600 = 8
    BAUD_115200 = 9

    @property
    def baud(self) -> int:
        return int(self.name.split("_")[1])


class IecHdlcSetup(CosemObject):
    class_id = 23
    blue_book_name = "IEC HDLC Setup"
    versions = (1,)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "comm_speed", Enumerated(CommSpeed)),
        Attribute(3, "window_size_transmit", UNSIGNED),
        Attribute(4, "window_size_receive", UNSIGNED),
        Attribute(5, "max_info_field_length_transmit", LONG_UNSIGNED),
        Attribute(6, "max_info_field_length_receive", LONG_UNSIGNED),
        Attribute(7, "inter_octet_time_out", LONG_UNSIGNED),
        Attribute(8, "inactivity_time_out", LONG_UNSIGNED),
        Attribute(9, "device_address", LONG_UNSIGNED),
    )


__all__ = ["CommSpeed", "IecHdlcSetup"]
