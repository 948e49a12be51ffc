"""cosem.timestamps: a local time put in the meters' zone, where the zone makes
it ambiguous or skips it, takes its offset from clock_status's daylight-saving
bit (finding E2)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dlmsfast.axdr import DateTime
from dlmsfast.cosem.timestamps import to_timestamp, to_timestamps

OSLO = ZoneInfo("Europe/Oslo")
UTC = dt.timezone.utc


def _local(day: int, month: int, hour: int, status: int) -> bytes:
    """12 octets: 2026-month-day hour:30:00, deviation not specified, clock_status."""
    return (bytes((0x07, 0xEA, month, day, 0xFF, hour, 30, 0, 0xFF)) + b"\x80\x00"
            + bytes((status,)))


@pytest.mark.parametrize("status, utc_hour, offset", [
    (0x80, 0, 2),   # daylight saving active: the first 02:30 (CEST)
    (0x00, 1, 1),   # not active: the second 02:30 (CET)
    (0x81, 0, 2),   # other status bits do not matter
])
def test_the_repeated_autumn_hour_follows_the_daylight_saving_bit(status, utc_hour, offset):
    raw = _local(25, 10, 2, status)
    for stamp in (to_timestamp(raw, OSLO), to_timestamps([raw], OSLO)[0],
                  to_timestamp(DateTime.from_bytes(raw), OSLO)):
        assert isinstance(stamp, dt.datetime)
        assert stamp.utcoffset() == dt.timedelta(hours=offset)
        assert stamp.astimezone(UTC) == dt.datetime(2026, 10, 25, utc_hour, 30, tzinfo=UTC)


def test_an_unspecified_status_keeps_the_zone_default():
    # clock_status 0xFF: nothing said, the first occurrence (fold=0) as before
    stamp = to_timestamp(_local(25, 10, 2, 0xFF), OSLO)
    assert stamp.utcoffset() == dt.timedelta(hours=2) and stamp.fold == 0


@pytest.mark.parametrize("status, offset", [(0x80, 2), (0x00, 1), (0xFF, 1)])
def test_the_spring_gap_follows_the_daylight_saving_bit(status, offset):
    # 02:30 on 2026-03-29 does not exist in Oslo: the bit says which side's
    # offset the meter's clock was on; unspecified keeps fold=0 (the offset before)
    stamp = to_timestamp(_local(29, 3, 2, status), OSLO)
    assert stamp.utcoffset() == dt.timedelta(hours=offset)


@pytest.mark.parametrize("status", [0x00, 0x80])
def test_unambiguous_times_are_the_zone_s_whatever_the_bit(status):
    # the bit only chooses between two readings: it never moves a time the zone fixes
    assert to_timestamp(_local(1, 7, 12, status), OSLO).utcoffset() == dt.timedelta(hours=2)
    assert to_timestamp(_local(1, 1, 12, status), OSLO).utcoffset() == dt.timedelta(hours=1)


def test_a_sent_deviation_wins_over_the_bit():
    raw = bytearray(_local(25, 10, 2, 0x80))
    raw[9:11] = (-60).to_bytes(2, "big", signed=True)  # UTC+01:00 said outright
    assert to_timestamp(bytes(raw), OSLO).utcoffset() == dt.timedelta(hours=1)
