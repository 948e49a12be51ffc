"""List layouts: data files that name the values of pushed lists.

Many HAN ports push a structure of bare values in an order fixed by a national
specification (Norway's NEK lists from Kaifa, for instance), or lists of OBIS
codes and values without scaler_unit. A layout says, as data, which OBIS code,
scaler and unit each value has. Layouts ship in ``dlmsfast/push/layouts/*.json``;
a user adds their own in a folder of the same files (``--layouts DIR``), and
theirs are tried first. One file holds one layout or a list of layouts::

    {
      "name": "no-kaifa-list1",                  unique; the user's replaces ours
      "description": "Kaifa (Norway, NEK HAN) list 1: active power import",
      "source": "where the order comes from",
      "match": {                                 every given test must hold
        "count": 1,                              number of values in the list
        "values": {"0": "KFM_001"},              value at a position (text or number)
        "obis": {"1": "1.0.1.8.0.255"}           an OBIS code at a position
      },
      "objects": [                               positional lists: one per value,
        {"obis": "1.0.1.7.0.255", "scaler": 0, "unit": 27}     unit: Blue Book code
      ],                                                       or symbol ("W")
      "units": {                                 lists of (OBIS, value) pairs that
        "1.1.31.7.0.255": {"scaler": -2, "unit": "A"}          carry no scaler_unit
      },
      "lead": ["1.1.0.2.129.255"],               OBIS codes of values before the
      "trail": ["0.0.96.1.0.255"]                first pair / after the last one
    }

A positional layout (``objects``) applies to lists without OBIS codes; the
others complete lists that carry OBIS codes. An object with ``"type":
"date-time"`` reads a 12-octet octet-string as a date-time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePath
from collections.abc import Iterable
from typing import Any, Mapping, NoReturn, Optional, Sequence, Union

from ..cosem.obis import Obis
from ..cosem.units import ScalerUnit, Unit
from ..errors import ConfigurationError, DlmsError, ProtocolError
from .._util import require, shown

_MATCH_KEYS = {"count", "values", "obis"}
_LAYOUT_KEYS = {"name", "description", "source", "match", "objects", "units", "lead", "trail"}
_OBJECT_KEYS = {"obis", "scaler", "unit", "type", "attribute", "name"}


class NoLayoutError(ProtocolError):
    """A pushed list of values without OBIS codes that no list layout names: the
    APDU is whole, only its values cannot be named (add a layout for them)."""


@dataclass(frozen=True, slots=True)
class LayoutObject:
    """What one value of a list is: its OBIS code and, for numbers, scaler and unit."""

    obis: Obis
    scaler_unit: Optional[ScalerUnit] = None
    date_time: bool = False
    attribute: int = 2


@dataclass(frozen=True, slots=True)
class Layout:
    """One list layout (see the module docstring for the file format)."""

    name: str
    description: str = ""
    source: str = ""
    count: Optional[int] = None
    values: tuple[tuple[int, Any], ...] = ()
    obis_at: tuple[tuple[int, Obis], ...] = ()
    objects: tuple[LayoutObject, ...] = ()
    units: Mapping[Obis, ScalerUnit] = field(default_factory=dict)
    lead: tuple[Obis, ...] = ()
    trail: tuple[Obis, ...] = ()
    origin: str = ""

    @property
    def positional(self) -> bool:
        return bool(self.objects)

    def matches(self, plain: Sequence[Any]) -> bool:
        """Whether a list, given as its plain values (OBIS codes as 6 octets), fits."""
        if self.count is not None and len(plain) != self.count:
            return False
        for index, expected in self.values:
            if index >= len(plain):
                return False
            value = plain[index]
            if isinstance(value, bytes):
                try:
                    value = value.decode("ascii")
                except UnicodeDecodeError:
                    return False
            if value != expected:
                return False
        for index, obis in self.obis_at:
            if index >= len(plain) or plain[index] != obis.to_bytes():
                return False
        # a count alone matches any list of that length: a value the layout
        # scales must at least be a number (or null-data, a value the meter
        # does not have), or an octet-string would be reported as watts
        for value, described in zip(plain, self.objects):
            if described.scaler_unit is not None and value is not None and (
                    type(value) is bool or not isinstance(value, (int, float))):
                return False
        return True


def _unit(value: Any, where: str) -> Unit:
    if isinstance(value, bool):
        raise ConfigurationError(f"{where}: unit must be a Blue Book code or symbol")
    if isinstance(value, int):
        return Unit(value) if 0 <= value <= 255 else _bad(where, f"unit code {value}")
    if isinstance(value, str):
        for unit in Unit:
            if unit.symbol == value:
                return unit
        return _bad(where, f"unknown unit symbol {shown(value)}")
    return _bad(where, "unit must be a Blue Book code or symbol")


def _bad(where: str, what: str) -> NoReturn:
    raise ConfigurationError(f"{where}: {what}")


def _obis(value: Any, where: str) -> Obis:
    try:
        return Obis.parse(value)
    except DlmsError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def _scaler_unit(entry: Mapping, where: str) -> Optional[ScalerUnit]:
    if "unit" not in entry and "scaler" not in entry:
        return None
    scaler = entry.get("scaler", 0)
    if type(scaler) is not int or not -128 <= scaler <= 127:
        _bad(where, f"scaler must be an int -128..127, got {shown(scaler)}")
    return ScalerUnit(scaler, _unit(entry.get("unit", 255), where))


def layout_from_dict(entry: Any, origin: str = "") -> Layout:
    """Check and read one layout; a mistake is a ConfigurationError naming the file."""
    where = origin if isinstance(origin, str) and origin else "layout"
    if not isinstance(entry, Mapping):
        _bad(where, "a layout is a JSON object")
    unknown = set(entry) - _LAYOUT_KEYS
    if unknown:
        _bad(where, f"unknown field(s) {sorted(unknown)}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        _bad(where, "a layout needs a name")
    where = f"{where} ({name})"
    match = entry.get("match", {})
    if not isinstance(match, Mapping) or set(match) - _MATCH_KEYS:
        _bad(where, f"match holds {sorted(_MATCH_KEYS)}")
    count = match.get("count")
    if count is not None and (type(count) is not int or count < 1):
        _bad(where, "match.count must be a positive int")
    try:
        values = tuple(sorted((int(k), v) for k, v in match.get("values", {}).items()))
        obis_at = tuple(sorted((int(k), _obis(v, where)) for k, v in match.get("obis", {}).items()))
    except (AttributeError, ValueError):
        _bad(where, "match.values and match.obis map positions (\"0\", \"1\"...) to values")
    objects = []
    for i, obj in enumerate(entry.get("objects", ())):
        at = f"{where} object {i}"
        if not isinstance(obj, Mapping) or "obis" not in obj or set(obj) - _OBJECT_KEYS:
            _bad(at, f"an object has obis and optionally {sorted(_OBJECT_KEYS - {'obis'})}")
        kind = obj.get("type")
        if kind not in (None, "date-time"):
            _bad(at, "type may only be \"date-time\"")
        attribute = obj.get("attribute", 2)
        if type(attribute) is not int or not 1 <= attribute <= 127:
            _bad(at, "attribute must be 1..127")
        objects.append(LayoutObject(_obis(obj["obis"], at), _scaler_unit(obj, at),
                                    kind == "date-time", attribute))
    if objects and count is None:
        count = len(objects)
    if objects and count != len(objects):
        _bad(where, f"match.count {count} but {len(objects)} objects")
    units_entry = entry.get("units", {})
    if not isinstance(units_entry, Mapping):
        _bad(where, "units maps OBIS codes to {scaler, unit}")
    units: dict[Obis, ScalerUnit] = {}
    for code, su in units_entry.items():
        scaler_unit = _scaler_unit(su, f"{where} units[{code}]") if isinstance(su, Mapping) else None
        if scaler_unit is None:
            _bad(where, f"units[{code}] must be {{scaler, unit}}")
        units[_obis(code, where)] = scaler_unit
    return Layout(
        name=name, description=str(entry.get("description", "")),
        source=str(entry.get("source", "")), count=count, values=values, obis_at=obis_at,
        objects=tuple(objects), units=units,
        lead=tuple(_obis(v, where) for v in entry.get("lead", ())),
        trail=tuple(_obis(v, where) for v in entry.get("trail", ())),
        origin=origin,
    )


def _read_file(text: str, origin: str) -> list[Layout]:
    try:
        content = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{origin}: not valid JSON ({exc})") from None
    entries = content if isinstance(content, list) else [content]
    return [layout_from_dict(entry, origin) for entry in entries]


def builtin_layouts() -> list[Layout]:
    """The layouts shipped with dlmsfast (``dlmsfast/push/layouts/*.json``)."""
    found = []
    folder = resources.files(__package__).joinpath("layouts")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".json"):
            found.extend(_read_file(item.read_text(encoding="utf-8"), f"layouts/{item.name}"))
    return found


def load_layouts(folder=None, *, builtin: bool = True) -> tuple[Layout, ...]:
    """The user's layouts from ``folder`` (``*.json``), then the built-in ones;
    a user layout with the name of a built-in one replaces it."""
    mine: list[Layout] = []
    if folder is not None:
        require(folder, (str, PurePath), "folder")
        path = Path(folder)
        if not path.is_dir():
            raise ConfigurationError(f"layouts folder {str(path)!r} does not exist")
        for file in sorted(path.glob("*.json")):
            mine.extend(_read_file(file.read_text(encoding="utf-8"), str(file)))
    names = {layout.name for layout in mine}
    theirs = [layout for layout in builtin_layouts() if layout.name not in names] if builtin else []
    return tuple(mine + theirs)


#: the ``layouts`` argument of :class:`PushDecoder`: None (the built-in ones),
#: a folder of the user's (tried first), or Layout objects
LayoutsArgument = Optional[Union[Iterable[Layout], str, PurePath]]


def as_layouts(layouts: LayoutsArgument) -> tuple[Layout, ...]:
    """The ``layouts`` argument of PushDecoder: None (the built-in ones), a folder, or Layouts."""
    if layouts is None:
        return load_layouts()
    if isinstance(layouts, (str, PurePath)):
        return load_layouts(layouts)
    if not isinstance(layouts, Iterable) or isinstance(layouts, (bytes, bytearray, memoryview)):
        raise ConfigurationError(f"layouts are a folder or Layout objects, got "
                                 f"{type(layouts).__name__}")
    result = tuple(layouts)
    for layout in result:
        if not isinstance(layout, Layout):
            raise ConfigurationError(f"layouts must be Layout objects, got {type(layout).__name__}")
    return result


__all__ = ["Layout", "LayoutObject", "LayoutsArgument", "NoLayoutError", "as_layouts",
           "builtin_layouts", "layout_from_dict", "load_layouts"]
