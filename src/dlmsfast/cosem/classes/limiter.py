"""Limiter (class_id 71, version 0): a threshold on a monitored value and the
scripts run when it is crossed.

=====  =============================  =====================  =======
index  attribute                      type                   kind
=====  =============================  =====================  =======
1      logical_name                   octet-string           static
2      monitored_value                value_definition       static
3      threshold_active               CHOICE                 dynamic
4      threshold_normal               CHOICE                 static
5      threshold_emergency            CHOICE                 static
6      min_over_threshold_duration    double-long-unsigned   static (s)
7      min_under_threshold_duration   double-long-unsigned   static (s)
8      emergency_profile              emergency_profile      static
9      emergency_profile_group_id_list array of long-unsigned static
10     emergency_profile_active       boolean                dynamic
11     actions                        action_type            static
=====  =============================  =====================  =======

No methods.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...axdr import DateTime
from ..interface import Attribute, CosemObject
from ..obis import Obis
from ..types import (
    BOOLEAN,
    CHOICE,
    DATE_TIME,
    DOUBLE_LONG_UNSIGNED,
    INTEGER,
    LOGICAL_NAME,
    LONG_UNSIGNED,
    ArrayOf,
    Record,
)


@dataclass(frozen=True, slots=True)
class ValueDefinition:
    class_id: int
    logical_name: Obis
    attribute_index: int


@dataclass(frozen=True, slots=True)
class EmergencyProfile:
    emergency_profile_id: int
    emergency_activation_time: DateTime
    emergency_duration: int


@dataclass(frozen=True, slots=True)
class ActionItem:
    script_logical_name: Obis
    script_selector: int


@dataclass(frozen=True, slots=True)
class LimiterActions:
    action_over_threshold: ActionItem
    action_under_threshold: ActionItem


ACTION_ITEM = Record(ActionItem, LOGICAL_NAME, LONG_UNSIGNED, name="action_item")


class Limiter(CosemObject):
    class_id = 71
    blue_book_name = "Limiter"
    versions = (0,)
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "monitored_value", Record(ValueDefinition, LONG_UNSIGNED, LOGICAL_NAME, INTEGER,
                                               name="value_definition")),
        Attribute(3, "threshold_active", CHOICE, static=False),
        Attribute(4, "threshold_normal", CHOICE),
        Attribute(5, "threshold_emergency", CHOICE),
        Attribute(6, "min_over_threshold_duration", DOUBLE_LONG_UNSIGNED),
        Attribute(7, "min_under_threshold_duration", DOUBLE_LONG_UNSIGNED),
        Attribute(8, "emergency_profile", Record(EmergencyProfile, LONG_UNSIGNED, DATE_TIME,
                                                 DOUBLE_LONG_UNSIGNED, name="emergency_profile_type")),
        Attribute(9, "emergency_profile_group_id_list", ArrayOf(LONG_UNSIGNED)),
        Attribute(10, "emergency_profile_active", BOOLEAN, static=False),
        Attribute(11, "actions", Record(LimiterActions, ACTION_ITEM, ACTION_ITEM, name="action_type")),
    )


__all__ = ["ActionItem", "EmergencyProfile", "Limiter", "LimiterActions", "ValueDefinition"]
