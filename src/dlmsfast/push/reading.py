"""What a push decodes into: :class:`Reading` (one value of one object) and the
events of :class:`~dlmsfast.push.PushDecoder` (:class:`Notification`,
:class:`Rejected`)."""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional, Union

from ..axdr import DateTime
from ..cosem.jsonable import to_json
from ..cosem.obis import Obis
from ..errors import DlmsError
from ._push import ScaledSlot

Value = Union[None, bool, int, float, Decimal, str, bytes, _dt.datetime, DateTime, list, tuple]


class OctetText(str):
    """An octet-string that reads as text, as a reading's value: the text (what
    a person reads, trailing NULs dropped) with the octets as sent in
    ``octets``, for what must keep the Blue Book type (the store keeps an
    octet-string as hex, whichever job read it)."""

    octets: bytes

    def __new__(cls, octets: bytes, text: str) -> "OctetText":
        value = super().__new__(cls, text)
        value.octets = octets
        return value

    def __getnewargs__(self) -> tuple[bytes, str]:  # type: ignore[override]
        return (self.octets, str(self))


@dataclass(frozen=True, slots=True)
class Reading:
    """One value a meter pushed.

    ``object`` the OBIS code of the COSEM object, ``attribute`` the attribute
    (2, the value, unless the meter says otherwise); ``value`` as sent (an
    octet-string that is printable text becomes ``str``, a date-time a
    timestamp as :func:`dlmsfast.cosem.timestamps.to_timestamp` gives it: an
    aware datetime, or the DateTime sent when it names no single instant); ``scaler`` and ``unit`` (the Blue Book
    symbol, ``unit_code`` its number) from the meter's scaler_unit or from a
    list layout, None where neither gives them; ``scaled`` the physical value
    (``value`` times 10**scaler, exact: see
    :meth:`dlmsfast.cosem.units.ScalerUnit.scale`; computed on its first read
    and kept); ``timestamp`` the
    date-time of the notification (or of the clock object it carries), by the
    same rule;
    ``authenticated`` True only when a GCM tag over the APDU was checked.
    """

    object: Obis
    value: Value
    scaled: Value
    unit: Optional[str] = None
    unit_code: Optional[int] = None
    scaler: Optional[int] = None
    timestamp: Union[None, _dt.datetime, DateTime] = None
    authenticated: bool = False
    attribute: int = 2

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: exactly object, value, unit, scaled, timestamp, authenticated."""
        return {
            "object": str(self.object),
            "value": json_value(self.value),
            "unit": self.unit,
            "scaled": json_value(self.scaled),
            "timestamp": iso_time(self.timestamp),
            "authenticated": self.authenticated,
        }


# the decoder leaves ``scaled`` to be computed on first read (see ScaledSlot)
Reading.scaled = ScaledSlot(Reading)  # type: ignore[assignment,misc]


def iso_time(value: Any) -> Optional[str]:
    """ISO 8601 of a timestamp: an aware datetime with its offset; a date-time
    sent without a deviation as the local time it says; None when incomplete."""
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, DateTime):
        try:
            return value.to_datetime().isoformat()
        except (DlmsError, ValueError):
            return None
    return None


def json_value(value: Any) -> Any:
    """A reading's value as JSON: Decimal as a number, octets as hex, date-time as
    ISO 8601 (the fields it gives when it names no time); every other type by
    cosem's rule (:func:`dlmsfast.cosem.jsonable.to_json`: a scaler_unit as
    ``{"scaler": 0, "unit": "Wh"}``, a structure as an object of its fields, an
    Obis as dotted text...), never a Python repr."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        exponent = value.as_tuple().exponent
        whole = isinstance(exponent, int) and exponent >= 0
        return int(value) if whole else float(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex().upper()
    if isinstance(value, (_dt.datetime, DateTime)):
        return iso_time(value) or to_json(value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return to_json(value)


@dataclass(frozen=True, slots=True)
class Notification:
    """One pushed APDU decoded: its readings and where they came from.

    ``system_title`` is the sender's (ciphered pushes carry it), ``meter_id``
    the best name of the meter (the system title, else the serial number or
    logical device name in the readings, else None); ``layout`` the list
    layout used (None when the meter sent OBIS codes itself); ``frames`` the
    link-layer units as received (kept only with ``keep_raw``); ``unnamed`` the
    values of the body that neither the meter nor a layout names.
    """

    readings: tuple[Reading, ...]
    date_time: Union[None, _dt.datetime, DateTime] = None
    invocation_counter: Optional[int] = None
    system_title: Optional[bytes] = None
    meter_id: Optional[str] = None
    authenticated: bool = False
    layout: Optional[str] = None
    apdu: bytes = field(default=b"", repr=False)
    frames: tuple[bytes, ...] = field(default=(), repr=False)
    unnamed: tuple = ()

    def to_meaning(self) -> dict[str, Any]:
        """A JSON-able summary, for ``dlmsfast decode``: where the push came from
        and each reading as ``--json`` prints it."""
        return {
            "meter_id": self.meter_id,
            "system_title": None if self.system_title is None else self.system_title.hex().upper(),
            "invocation_counter": self.invocation_counter,
            "date_time": iso_time(self.date_time),
            "authenticated": self.authenticated,
            "layout": self.layout,
            "readings": [reading.to_json() for reading in self.readings],
            "unnamed": [json_value(value) for value in self.unnamed],
        }


@dataclass(frozen=True, slots=True)
class Rejected:
    """Received octets that did not give readings, and why (a :class:`DlmsError`)."""

    error: DlmsError
    frames: tuple[bytes, ...] = field(default=(), repr=False)



#: what :meth:`PushDecoder.feed` gives: a notification's readings, or why none
PushEvent = Union[Notification, Rejected]

__all__ = ["Notification", "OctetText", "PushEvent", "Reading", "Rejected", "json_value"]
