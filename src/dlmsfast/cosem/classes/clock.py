"""Clock (class_id 8, version 0): the meter's date and time.

=====  ==========================  ============  =======
index  attribute                   type          kind
=====  ==========================  ============  =======
1      logical_name                octet-string  static
2      time                        octet-string  dynamic (date-time)
3      time_zone                   long          static (minutes)
4      status                      unsigned      dynamic (clock_status)
5      daylight_savings_begin      octet-string  static (date-time)
6      daylight_savings_end        octet-string  static (date-time)
7      daylight_savings_deviation  integer       static (minutes)
8      daylight_savings_enabled    boolean       static
9      clock_base                  enum          static
=====  ==========================  ============  =======

Methods (short name offset 0x60): 1 adjust_to_quarter, 2 adjust_to_measuring_period,
3 adjust_to_minute, 4 adjust_to_preset_time (integer(0) each),
5 preset_adjusting_time (structure {preset_time, validity_interval_start,
validity_interval_end}, octet-strings), 6 shift_time (long, -900..900 s).

Date-times keep the fields as transmitted (:class:`~dlmsfast.axdr.DateTime`,
``None`` = not specified; daylight-savings dates use the wildcards 0xFD/0xFE
for "second last"/"last" day, kept as numbers). :meth:`Clock.datetime`
converts the time to an aware :class:`datetime.datetime`; the deviation is
minutes from local time to UTC (-60 = UTC+01:00), as in the A-XDR layer.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from dataclasses import dataclass

from ..._enum import BlueBookEnum
from ...axdr import DateTime
from ...errors import UsageError
from ..interface import Attribute, CosemObject, Method
from ..types import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    INTEGER_ZERO,
    LOGICAL_NAME,
    LONG,
    UNSIGNED,
    Enumerated,
    Record,
)


class ClockBase(BlueBookEnum):
    NOT_DEFINED = 0
    INTERNAL_CRYSTAL = 1
    MAINS_FREQUENCY_50_HZ = 2
    MAINS_FREQUENCY_60_HZ = 3
    GPS = 4
    RADIO_CONTROLLED = 5


class ClockStatus(enum.IntFlag):
    """The clock_status octet (of attribute 4 and of every date-time)."""

    INVALID_VALUE = 0x01
    DOUBTFUL_VALUE = 0x02
    DIFFERENT_CLOCK_BASE = 0x04
    INVALID_CLOCK_STATUS = 0x08
    DAYLIGHT_SAVING_ACTIVE = 0x80


@dataclass(frozen=True, slots=True)
class PresetAdjustingTime:
    preset_time: DateTime
    validity_interval_start: DateTime
    validity_interval_end: DateTime


class Clock(CosemObject):
    class_id = 8
    blue_book_name = "Clock"
    versions = (0,)
    sn_first_method_offset = 0x60
    attributes = (
        Attribute(1, "logical_name", LOGICAL_NAME),
        Attribute(2, "time", DATE_TIME, static=False),
        Attribute(3, "time_zone", LONG),
        Attribute(4, "status", UNSIGNED, static=False),
        Attribute(5, "daylight_savings_begin", DATE_TIME),
        Attribute(6, "daylight_savings_end", DATE_TIME),
        Attribute(7, "daylight_savings_deviation", INTEGER),
        Attribute(8, "daylight_savings_enabled", BOOLEAN),
        Attribute(9, "clock_base", Enumerated(ClockBase)),
    )
    methods = (
        Method(1, "adjust_to_quarter", INTEGER_ZERO),
        Method(2, "adjust_to_measuring_period", INTEGER_ZERO),
        Method(3, "adjust_to_minute", INTEGER_ZERO),
        Method(4, "adjust_to_preset_time", INTEGER_ZERO),
        Method(5, "preset_adjusting_time",
               Record(PresetAdjustingTime, DATE_TIME, DATE_TIME, DATE_TIME)),
        Method(6, "shift_time", LONG),
    )

    def datetime(self) -> _dt.datetime | None:
        """The time attribute as an aware datetime, None when not read. A time
        without deviation is placed in the zone of ``time_zone`` when that is
        known; otherwise it is a :class:`~dlmsfast.errors.UsageError`."""
        if self.time is None:
            return None
        value: DateTime = self.time
        if value.deviation is None and self.time_zone is not None and self.time_zone != -0x8000:
            value = dataclasses.replace(value, deviation=self.time_zone)
        result = value.to_datetime()
        if result.tzinfo is None:
            raise UsageError(f"{self._label()}: the time has no deviation and time_zone is unknown")
        return result

    def set_datetime(self, value: _dt.datetime, status: int = 0) -> None:
        """Set time (and status) from an aware datetime, as a server's clock does."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise UsageError("Clock.set_datetime needs an aware datetime")
        status = int(status)
        self.time = DateTime.from_datetime(value, clock_status=status)
        self.status = status

    @property
    def clock_status(self) -> ClockStatus | None:
        return None if self.status is None else ClockStatus(self.status)


__all__ = ["Clock", "ClockBase", "ClockStatus", "PresetAdjustingTime"]
