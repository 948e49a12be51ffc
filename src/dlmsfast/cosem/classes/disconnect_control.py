"""Disconnect Control (class_id 70, versions 0-1): the supply breaker.

=====  ============  ============  =======
index  attribute     type          kind
=====  ============  ============  =======
1      logical_name  octet-string  static
2      output_state  boolean       dynamic
3      control_state enum          dynamic
4      control_mode  enum          static
=====  ============  ============  =======

Methods 1 remote_disconnect, 2 remote_reconnect (integer(0)); short name offset 0x20.
"""
from __future__ import annotations

from ..._enum import BlueBookEnum
from ..interface import Attribute, CosemObject, Method
from ..types import BOOLEAN, INTEGER_ZERO, LOGICAL_NAME, Enumerated


class ControlState(BlueBookEnum):
    DISCONNECTED = 0
    CONNECTED = 1
    READY_FOR_RECONNECTION = 2


class ControlMode(BlueBookEnum):
    """The Blue Book's modes 0..6 (which transitions are allowed, remote or local)."""

    MODE_0 = 0
    MODE_1 = 1
    MODE_2 = 2
    MODE_3 = 3
    MODE_4 = 4
    MODE_5 = 5
    MODE_6 = 6


class DisconnectControl(CosemObject):
    class_id = 70
    blue_book_name = "Disconnect Control"
    versions = (0, 1)
    sn_first_method_offset = 0x20
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "output_state", BOOLEAN, static=False),
        Attribute(3, "control_state", Enumerated(ControlState), static=False),
        Attribute(4, "control_mode", Enumerated(ControlMode)),
    )
    methods = (
        Method(1, "remote_disconnect", INTEGER_ZERO),
        Method(2, "remote_reconnect", INTEGER_ZERO),
    )


__all__ = ["ControlMode", "ControlState", "DisconnectControl"]
