"""Rendering a translation: an indented text tree for people, one JSON document for
programs (``schemas/decode.schema.json``). Both are written piece by piece to a
stream, so a 5 MB value costs output proportional to its size, not a copy of the
whole text in memory several times over.

JSON has no NaN or Infinity: a float64/float32 that holds one is written as the
string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` (documented in the schema).
"""
from __future__ import annotations

import json
import math
from typing import IO, Any, Iterator

from ..apdu.initiate import Conformance
from ..axdr import DataType, DateTime
from ..cosem.obis import Obis
from .._util import require
from ..errors import DlmsError

SCHEMA_VERSION = 1

_DATA_TYPES = frozenset(t.blue_book_name for t in DataType)
_PLAIN_LEAVES = frozenset(
    t.blue_book_name for t in DataType
    if t.blue_book_name not in ("array", "structure", "compact-array", "date-time", "date",
                                "time", "octet-string", "null-data", "dont-care",
                                "bit-string"))


def _finite(value: Any) -> Any:
    """The value with every non-finite float turned into its JSON-safe name."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


_INDENTED_UP_TO = 1 << 16
"""Documents of an input up to this many octets are indented for reading; larger ones
are written compact by the C encoder (json's indenting encoder is pure Python)."""


def write_json(document: dict[str, Any], out: IO[str], *, size: int = 0) -> None:
    indent = 2 if size <= _INDENTED_UP_TO else None
    separators = None if indent else (",", ":")
    try:
        text = json.dumps(document, indent=indent, separators=separators,
                          ensure_ascii=False, allow_nan=False)
    except ValueError:  # a NaN or an infinity somewhere: name it, then encode again
        text = json.dumps(_finite(document), indent=indent, separators=separators,
                          ensure_ascii=False, allow_nan=False)
    out.write(text)
    out.write("\n")


# --- text ----------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if value is None:
        return "not specified"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _interpreted(kind: str, value: Any) -> str | None:
    """What an octet-string most likely holds: a date-time (12 octets), an OBIS code (6)."""
    if kind != "octet-string" or not isinstance(value, str):
        return None
    if len(value) == 24:
        try:
            fields = DateTime.from_bytes(bytes.fromhex(value)).to_meaning()
        except (DlmsError, ValueError):
            return None
        return "date-time " + _clock_text(fields)
    if len(value) == 12:
        try:
            return f"OBIS {Obis.from_bytes(bytes.fromhex(value))}"
        except (DlmsError, ValueError):
            return None
    return None


def interpret_octet_strings(meaning: Any) -> None:
    """Add, in place, what 6- and 12-octet octet-strings most likely hold to the
    data nodes of a meaning, as shared/vectors write it: ``interpreted_as``
    ``"obis 1.0.1.8.0.255"``, or ``"date-time"`` with the date-time's ``fields``.
    Informational (not part of the encoding); one pass, no copy of the tree."""
    stack = [meaning]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(child for child in item if isinstance(child, (dict, list)))
            continue
        if not isinstance(item, dict):
            continue
        if item.get("type") == "octet-string" and "interpreted_as" not in item:
            _interpret(item)
        stack.extend(child for child in item.values() if isinstance(child, (dict, list)))


def _interpret(item: dict[str, Any]) -> None:
    value = item.get("value")
    if not isinstance(value, str) or len(value) not in (12, 24):
        return
    try:
        octets = bytes.fromhex(value)
        if len(octets) == 12:
            fields = DateTime.from_bytes(octets).to_meaning()
            item["interpreted_as"] = "date-time"
            item["fields"] = fields
        else:
            item["interpreted_as"] = f"obis {Obis.from_bytes(octets)}"
    except (DlmsError, ValueError):
        return


def _clock_text(f: dict[str, Any]) -> str:
    """A DLMS date-time as people read it; "*" where the meter left a field unspecified."""

    def part(name: str, width: int) -> str:
        value = f.get(name)
        return "*" * width if value is None else f"{value:0{width}d}"

    text = (f"{part('year', 4)}-{part('month', 2)}-{part('day', 2)} "
            f"{part('hour', 2)}:{part('minute', 2)}:{part('second', 2)}")
    if f.get("hundredths") is not None:
        text += f".{f['hundredths']:02d}"
    deviation = f.get("deviation")
    if deviation is not None:
        # deviation is minutes from local time to UTC: -60 is UTC+01:00
        offset = -deviation
        text += f" UTC{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    if f.get("clock_status") is not None:
        text += f" clock status {f['clock_status']}"
    return text


def _is_data_node(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in _DATA_TYPES


def _data_lines(item: dict[str, Any], label: str, indent: str) -> Iterator[str]:
    kind = item["type"]
    value = item.get("value")
    prefix = f"{indent}{label}{kind}"
    if kind in ("array", "structure", "compact-array") and isinstance(value, list):
        yield f"{prefix} ({len(value)})"
        deeper = indent + "  "
        for i, child in enumerate(value):
            child_kind = child["type"]
            if child_kind in _PLAIN_LEAVES:
                # the common case of a long array, without a nested generator per element
                yield f"{deeper}[{i}] {child_kind}: {_scalar(child['value'])}"
            else:
                yield from _data_lines(child, f"[{i}] ", deeper)
        return
    if kind in ("date-time", "date", "time") and isinstance(value, dict):
        yield f"{prefix}: " + ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())
        return
    if "value" not in item:
        yield prefix
        return
    extra = _interpreted(kind, value) or item.get("interpreted_as")
    yield f"{prefix}: {_scalar(value)}" + (f"  ({extra})" if extra else "")


def _conformance_bit(name: str) -> str:
    """The standard's bit number of a conformance name (bit 0 is the first octet's MSB)."""
    try:
        flag = Conformance.from_blue_book_names([name])
    except DlmsError:
        return "?"
    return str(23 - int(flag).bit_length() + 1)


def tree_lines(meaning: Any, indent: str = "") -> Iterator[str]:
    """An indented, readable tree of a meaning dictionary."""
    if _is_data_node(meaning):
        yield from _data_lines(meaning, "", indent)
        return
    if isinstance(meaning, dict):
        for key, value in meaning.items():
            if _is_data_node(value):
                yield from _data_lines(value, f"{key}: ", indent)
            elif key.endswith("conformance") and isinstance(value, list):
                # a list index would read as a bit number: name the standard's bit
                yield f"{indent}{key}:"
                for name in value:
                    yield f"{indent}  bit {_conformance_bit(name):>2}: {name}"
            elif isinstance(value, (dict, list)) and value:
                yield f"{indent}{key}:"
                yield from tree_lines(value, indent + "  ")
            elif key == "ascii" and value is None:
                # the meanings give "ascii" null for octets that are not all printable
                yield f"{indent}{key}: not ASCII text"
            else:
                yield f"{indent}{key}: {_scalar(value) if value != [] else '[]'}"
    elif isinstance(meaning, list):
        for i, item in enumerate(meaning):
            if isinstance(item, (dict, list)):
                yield f"{indent}[{i}]"
                yield from tree_lines(item, indent + "  ")
            else:
                yield f"{indent}[{i}] {_scalar(item)}"
    else:
        yield f"{indent}{_scalar(meaning)}"


_TITLES = {"hdlc": "HDLC frame", "mbus": "M-Bus long frame", "wrapper": "wrapper frame", "apdu": "APDU",
           "ciphered-apdu": "ciphered APDU", "axdr": "A-XDR value",
           "segment": "segment of a longer APDU", "undecoded": "not decoded"}


def node_lines(item: dict[str, Any], indent: str = "", *, explain: bool = False) -> Iterator[str]:
    yield f"{indent}{_TITLES.get(item['kind'], item['kind'])}"
    inner = indent + "  "
    for note in item["notes"]:
        yield f"{inner}note: {note}"
    if item["error"] is not None:
        error = item["error"]
        where = "" if error["offset"] is None else f" (at byte offset {error['offset']})"
        yield f"{inner}error: {error['message']}{where}"
        yield f"{inner}hex: {item['hex']}"
    if item["meaning"] is not None:
        yield from tree_lines(item["meaning"], inner)
    walk = item["deciphering"]
    if walk is not None:
        if explain:
            yield from _walk_lines(walk, inner)
        else:
            verdict = {True: "tag check MATCH", False: "tag check MISMATCH",
                       None: "no tag checked"}[walk["tag_ok"]]
            yield f"{inner}deciphering: {verdict}" + (
                f"; stopped: {walk['stopped']}" if walk["stopped"] else "")
    if item["content"] is not None:
        yield f"{inner}content:"
        yield from node_lines(item["content"], inner + "  ", explain=explain)


def _walk_lines(walk: dict[str, Any], indent: str) -> Iterator[str]:
    head = "deciphering" if walk["direction"] == "decipher" else "ciphering"
    yield f"{indent}{head} {walk['service']}, step by step:"
    for step in walk["steps"]:
        yield f"{indent}  {step['step']:>2}. {step['name']}: {step['text']}"
        if step.get("parts"):
            yield from _layout_box(step["parts"], indent + "      ")
        elif step["hex"] is not None:
            for i in range(0, len(step["hex"]), 64):
                yield f"{indent}      {step['hex'][i:i + 64]}"
    if walk["stopped"]:
        yield f"{indent}  stopped: {walk['stopped']}"
    for suspect in walk["suspects"]:
        yield f"{indent}    could be wrong: {suspect}"
    for need in walk["needs"]:
        yield f"{indent}    to go further: {need}"


_SHORT_NAMES = {"T (authentication tag)": "T (tag)",
                "plaintext APDU (not encrypted)": "plaintext (in clear)"}


def _layout_box(parts: list[dict[str, str]], indent: str) -> Iterator[str]:
    """The APDU's fields drawn side by side, names over octets (long ones cut)."""
    cells = []
    for part in parts:
        name = _SHORT_NAMES.get(part["field"], part["field"])
        octets = part["hex"] or "-"
        if len(octets) > 32:
            octets = f"{octets[:24]}.. ({len(part['hex']) // 2} octets)"
        cells.append((name, octets, max(len(name), len(octets))))
    rule = "+" + "+".join("-" * (w + 2) for _, _, w in cells) + "+"
    yield indent + rule
    yield indent + "|" + "|".join(f" {n:<{w}} " for n, _, w in cells) + "|"
    yield indent + "|" + "|".join(f" {o:<{w}} " for _, o, w in cells) + "|"
    yield indent + rule


def walk_lines(walk: dict[str, Any]) -> Iterator[str]:
    """The steps of one walk (a :class:`~.ciphering.Walk` meaning) as text."""
    require(walk, dict, "a walk's meaning (Walk.to_meaning())")
    return _walk_lines(walk, "")


def write_text(lines: Iterator[str], out: IO[str]) -> None:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 4096:
            batch.append("")
            out.write("\n".join(batch))
            batch.clear()
    if batch:
        batch.append("")
        out.write("\n".join(batch))


def readings_lines(notification: dict[str, Any]) -> Iterator[str]:
    """The readings of one notification (its ``to_meaning()``) as a table:
    OBIS, value, scaled, unit, timestamp."""
    head = [f"data-notification: {len(notification['readings'])} reading(s)"]
    for name in ("meter_id", "layout", "invocation_counter", "date_time"):
        if notification.get(name) is not None:
            head.append(f"{name.replace('_', ' ')} {notification[name]}")
    if notification["invocation_counter"] is not None and not notification["authenticated"]:
        head.append("UNAUTHENTICATED: deciphered without checking a tag")
    yield ", ".join(head)
    rows = [("OBIS", "value", "scaled", "unit", "timestamp")]
    for reading in notification["readings"]:
        rows.append((reading["object"], _cell(reading["value"]), _cell(reading["scaled"]),
                     reading["unit"] or "", reading["timestamp"] or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(4)]
        yield "  " + "  ".join(cells + [row[4]]).rstrip()
    if notification["unnamed"]:
        yield "  values that no object names: " + ", ".join(_cell(v) for v in notification["unnamed"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(_finite(value), ensure_ascii=False)
