"""Script Table (class_id 9, version 0): scripts of actions (writes and method
calls) that a meter executes on request or on an event.

=====  ============  =================  =======
index  attribute     type               kind
=====  ============  =================  =======
1      logical_name  octet-string       static
2      scripts       array of script    static
=====  ============  =================  =======

::

    script ::= structure {script_identifier long-unsigned,
                          actions array of action_specification}
    action_specification ::= structure {service_id enum (1 write attribute,
        2 execute method), class_id long-unsigned, logical_name octet-string,
        index integer, parameter CHOICE}

Method 1 execute (long-unsigned: the script identifier); short name offset 0x20.
"""
from __future__ import annotations

from dataclasses import dataclass
from ..._enum import BlueBookEnum
from ...axdr import Data, DataType
from ..interface import Attribute, CosemObject, Method
from ..obis import Obis
from ..types import (
    ANY_DATA,
    INTEGER,
    LOGICAL_NAME,
    LONG_UNSIGNED,
    ArrayOf,
    Enumerated,
    Record,
)


class ServiceId(BlueBookEnum):
    WRITE_ATTRIBUTE = 1
    EXECUTE_METHOD = 2


@dataclass(frozen=True, slots=True)
class ActionSpecification:
    service_id: ServiceId
    class_id: int
    logical_name: Obis
    index: int
    parameter: Data = Data(DataType.NULL_DATA)


@dataclass(frozen=True, slots=True)
class Script:
    script_identifier: int
    actions: tuple[ActionSpecification, ...] = ()


ACTION_SPECIFICATION = Record(
    ActionSpecification, Enumerated(ServiceId), LONG_UNSIGNED, LOGICAL_NAME, INTEGER, ANY_DATA,
    name="action_specification")
SCRIPT = Record(Script, LONG_UNSIGNED, ArrayOf(ACTION_SPECIFICATION), name="script")


class ScriptTable(CosemObject):
    class_id = 9
    blue_book_name = "Script Table"
    versions = (0,)
    sn_first_method_offset = 0x20
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "scripts", ArrayOf(SCRIPT)),
    )
    methods = (Method(1, "execute", LONG_UNSIGNED),)


__all__ = ["ActionSpecification", "Script", "ScriptTable", "ServiceId"]
