"""DSMR P1 telegrams carried by DLMS ciphering (Luxembourg's Smarty meters and
other DSMR-over-DLMS ports): the plaintext of a general-glo-ciphering APDU is
then not an xDLMS APDU but the DSMR text telegram (NEN-EN-IEC 62056-21 mode D
lines)::

    /ISK5\\2M550E-1013                      identification line
    <blank>
    0-0:1.0.0(210101120000W)               OBIS(value)(value)...
    1-0:1.8.0(001234.567*kWh)              value*unit
    0-1:24.2.1(210101120000W)(00012.785*m3)  capture time, then the value
    !ABCD                                  end, CRC-16 of the text

Each ``A-B:C.D.E(...)`` line becomes a reading (F = 255). Values with a unit
are read as exact decimals; the unit is turned into the Blue Book one (kWh is
Wh with scaler 3, so ``scaled`` is in Wh). Time stamps ``YYMMDDhhmmssX`` (X: S
summer, W winter, Central European time) become aware datetimes.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from ..errors import DecodeError
from .body import obis_of

_LINE = re.compile(rb"^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})((?:\([^()\r\n]*\))+)",
                   re.MULTILINE)
_GROUP = re.compile(rb"\(([^()\r\n]*)\)")
_TIME = re.compile(rb"^(\d{12})([SW])$")
_NUMBER = re.compile(rb"^[+-]?\d+(?:\.\d+)?$")
# DSMR unit -> (Blue Book symbol, power of ten)
_UNITS = {
    b"kWh": ("Wh", 3), b"Wh": ("Wh", 0), b"kW": ("W", 3), b"W": ("W", 0),
    b"kvarh": ("varh", 3), b"kvar": ("var", 3), b"V": ("V", 0), b"A": ("A", 0),
    b"m3": ("m³", 0), b"GJ": ("J", 9), b"s": ("s", 0),
}
_ZONES = {b"S": _dt.timezone(_dt.timedelta(hours=2)), b"W": _dt.timezone(_dt.timedelta(hours=1))}
_CLOCK = (0, 0, 1, 0, 0)


def is_telegram(plaintext: bytes) -> bool:
    return plaintext[:1] == b"/"


def _time(text: bytes) -> Optional[_dt.datetime]:
    match = _TIME.match(text)
    if match is None:
        return None
    digits = match.group(1)
    try:
        return _dt.datetime(2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]),
                            int(digits[6:8]), int(digits[8:10]), int(digits[10:12]),
                            tzinfo=_ZONES[match.group(2)])
    except ValueError:
        return None


def _value(text: bytes) -> tuple[Any, Optional[str], Optional[int]]:
    """(value, Blue Book unit symbol, power of ten) of one DSMR value."""
    number, _, unit = text.partition(b"*")
    if unit and _NUMBER.match(number):
        symbol, power = _UNITS.get(unit, (unit.decode("ascii", "replace"), 0))
        return Decimal(number.decode("ascii")), symbol, power
    if _NUMBER.match(text):
        try:
            return (int(text) if b"." not in text else Decimal(text.decode("ascii"))), None, None
        except (ValueError, InvalidOperation):
            pass
    when = _time(text)
    if when is not None:
        return when, None, None
    return text.decode("ascii", "replace"), None, None


def telegram_readings(plaintext: bytes, builder) -> Optional[_dt.datetime]:
    """Add the telegram's readings to ``builder``; return the telegram's time
    (its clock line 0-0:1.0.0), which also dates the readings."""
    if b"!" not in plaintext:
        raise DecodeError("DSMR telegram without its closing '!'", len(plaintext))
    lines = []
    stamp = None
    for match in _LINE.finditer(plaintext):
        code = tuple(int(g) for g in match.groups()[:5])
        if max(code) > 255:
            continue
        # gas and water lines give their capture time first and the value last
        value, symbol, power = _value(_GROUP.findall(match.group(6))[-1])
        if code == _CLOCK and isinstance(value, _dt.datetime):
            stamp = value
        lines.append((code, value, symbol, power))
    if not lines:
        raise DecodeError("DSMR telegram without any OBIS line", 0)
    if builder.timestamp is None:
        builder.timestamp = stamp
    for code, value, symbol, power in lines:
        builder.add_text(obis_of(bytes(code) + b"\xff"), value, symbol, power)
    return stamp


__all__ = ["is_telegram", "telegram_readings"]
