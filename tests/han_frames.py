"""The real pushed HAN/P1 captures of ../shared/han/frames.json and how their
published values are compared, shared by the push decoder's tests
(test_push_frames.py) and ``dlmsfast decode``'s (test_decode_push.py).

The captures are others' test data under their own licences: read from
../shared/han through conftest's ``shared_path`` (skipped locally where absent,
a failure in CI), never copied here.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

from conftest import shared_path

from dlmsfast.axdr import DateTime


def load_han_frames() -> list[dict]:
    return json.loads((shared_path("han") / "frames.json").read_text(encoding="utf-8"))


FRAMES = load_han_frames()
BY_ID = {entry["id"]: entry for entry in FRAMES}
GOOD = [e for e in FRAMES if not e.get("suspect") and (e.get("keys") or not e["ciphered"])]
"""The entries that must give their published values: not suspect, and plain or
with their keys published."""
SUSPECT = [e for e in FRAMES if e.get("suspect")]

# amshan names its values instead of giving OBIS codes; the NEK lists say which
# objects they are
AMSHAN_NAMES = {
    "active power import (Kaifa list 1, positional)": "1.0.1.7.0.255",
    "active power import": "1.0.1.7.0.255",
    "meter id": "0.0.96.1.0.255",
    "meter type": "0.0.96.1.7.255",
    "clock": "0.0.1.0.0.255",
    "active energy import": "1.0.1.8.0.255",
}
# dlms_parser writes 0.0.0.0.0.0 for a value the meter sends without an OBIS code
NO_OBIS = "0.0.0.0.0.0"

# timestamps of the notifications, as the entries' notes give them
TIMESTAMPS = {
    "dp-kaifa-ma304h3e-list2": dt.datetime(2017, 9, 15, 5, 33, 40),
    "amshan-hdlc-kaifa-list1": dt.datetime(2020, 2, 15, 1, 25, 34),
    "amshan-kamstrup-no-3p": dt.datetime(2022, 1, 24, 18, 58, 50),
    "dp-salzburg-kaifa-raw": dt.datetime(2022, 11, 12, 16, 54, 0,
                                         tzinfo=dt.timezone(dt.timedelta(minutes=60))),
    "amshan-aidon-list3-llc": dt.datetime(2020, 1, 21, 16, 0, 0, tzinfo=dt.timezone.utc),
    "amshan-kaifa-list3-llc": dt.datetime(2020, 1, 25, 14, 0, 10),
}


def expected_obis(item: dict) -> str:
    """The OBIS code of one published value (amshan gives names instead)."""
    return item.get("obis") or AMSHAN_NAMES[item["name"]]


def as_datetime(value: Any) -> Any:
    """A timestamp as a datetime: a date-time sent without deviation is the
    DateTime itself (cosem.timestamps' rule), naive here."""
    return value.to_datetime() if isinstance(value, DateTime) else value


def same_value(expected: Any, value: Any, scaled: Any) -> bool:
    """Whether a reading's ``value`` (or its ``scaled`` value) is the published
    ``expected`` one: text and octets as the source writes them (octets in hex,
    date-times as YYYY-MM-DD HH:MM:SS), numbers to within float rounding."""
    if isinstance(expected, str):
        value = as_datetime(value)
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S") == expected
        if isinstance(value, bytes):
            return value.hex() == expected or (expected == "" and value == b"")
        return str(value) == expected
    for candidate in (scaled, value):
        if isinstance(candidate, (int, float, Decimal)) and not isinstance(candidate, bool):
            if math.isclose(float(candidate), float(expected), rel_tol=1e-9, abs_tol=1e-9):
                return True
    return False


def expected_unit(text: str) -> tuple[str, int | None]:
    """(Blue Book symbol, scaler or None) of a published unit ("A/100" is A, -2)."""
    symbol = text.split()[0]
    if symbol == "A/100":
        return "A", -2
    return symbol, None
