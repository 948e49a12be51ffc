"""The translator: bytes of any layer in, a readable (or JSON) description out.

It owns no codec of its own. It recognises what a byte string is (an HDLC frame,
a wrapper frame, an APDU or an A-XDR value), asks the layer that owns it for its
``to_meaning()`` / ``describe()`` dictionary (the schemas of shared/vectors), and
descends into payloads: a frame's information field or a wrapper's payload is
decoded as an APDU, and a ciphered APDU is deciphered when keys are given.

Detection tries, in order, HDLC (flag 0x7E at both ends), wrapper (version 0x0001
and a length that matches), APDU (a known tag that parses to the end) and A-XDR.
The first reading that consumes the whole input wins; when none does, the error
of the reading that got furthest is reported, since it is the likeliest intent.
"""
from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from . import axdr, hdlc, wrapper
from .errors import DecodeError, DlmsError, UsageError

KINDS = ("hdlc", "wrapper", "apdu", "axdr")

_HEX_NOISE = re.compile(r"0x|[\s:_\-,]", re.IGNORECASE)


def parse_hex(text: str, what: str = "hex input") -> bytes:
    """Hex as people paste it: spaces, colons, dashes and 0x prefixes are ignored."""
    cleaned = _HEX_NOISE.sub("", text)
    if len(cleaned) % 2:
        raise UsageError(f"{what} has an odd number of hex digits ({len(cleaned)})")
    try:
        return binascii.unhexlify(cleaned)
    except (binascii.Error, ValueError):
        bad = next((c for c in cleaned if c not in "0123456789abcdefABCDEF"), "?")
        raise UsageError(f"{what} is not hex (character {bad!r})") from None


@dataclass(frozen=True)
class Keys:
    """Keys for deciphering. Never printed: the repr hides them."""

    encryption_key: bytes | None = field(default=None, repr=False)
    authentication_key: bytes | None = field(default=None, repr=False)
    system_title: bytes | None = None

    def __bool__(self) -> bool:
        return self.encryption_key is not None or self.authentication_key is not None


@dataclass(frozen=True)
class Decoded:
    """What the translator found: the kind of the input and its description."""

    kind: str
    meaning: dict[str, Any]
    explain: tuple[str, ...] = ()


# --- decoders per kind -----------------------------------------------------------


def _decode_axdr(data: bytes, keys: Keys) -> dict[str, Any]:
    return axdr.decode_typed(data).to_meaning()


def _decode_hdlc(data: bytes, keys: Keys) -> dict[str, Any]:
    frame = hdlc.HdlcFrame.from_bytes(data)
    meaning = frame.to_meaning()
    info = frame.information or b""
    llc = meaning.get("llc")
    if llc:
        apdu_bytes = info[3:]
        meaning["apdu"] = _describe_payload(apdu_bytes, keys, segmented=frame.segmented)
    elif info and not frame.segmented and frame.control.frame in ("I", "UI"):
        # A continuation segment carries no LLC; a lone I-frame without one is shown raw.
        meaning["apdu"] = _describe_payload(info, keys, segmented=True)
    return meaning


def _decode_wrapper(data: bytes, keys: Keys) -> dict[str, Any]:
    frame = wrapper.WrapperFrame.from_bytes(data)
    meaning = frame.to_meaning()
    if frame.payload:
        meaning["apdu"] = _describe_payload(frame.payload, keys, segmented=False)
    return meaning


def _decode_apdu(data: bytes, keys: Keys) -> dict[str, Any]:
    from .apdu import parse_apdu

    apdu = parse_apdu(data)
    return _describe_apdu(apdu, data, keys)


def _describe_apdu(apdu: Any, data: bytes, keys: Keys) -> dict[str, Any]:
    meaning = apdu.describe()
    if keys and _is_ciphered(apdu):
        from .security import explain_decipher

        steps = explain_decipher(data, keys)
        meaning["deciphered"] = steps.to_meaning()
        if steps.tag_ok is not False and steps.plaintext:
            meaning["deciphered"]["apdu"] = _decode_apdu(steps.plaintext, Keys())
    return meaning


def _is_ciphered(apdu: Any) -> bool:
    from . import security

    return isinstance(apdu, security.CIPHERED_TYPES)


def _describe_payload(payload: bytes, keys: Keys, *, segmented: bool) -> Any:
    """An APDU inside a frame; a part of a longer APDU is shown as a segment."""
    try:
        return _decode_apdu(payload, keys)
    except DecodeError as exc:
        if segmented:
            return {"segment": payload.hex().upper(), "note": "part of a longer APDU"}
        return {"undecoded": payload.hex().upper(), "error": str(exc)}


_DECODERS: dict[str, Callable[[bytes, Keys], dict[str, Any]]] = {
    "hdlc": _decode_hdlc,
    "wrapper": _decode_wrapper,
    "apdu": _decode_apdu,
    "axdr": _decode_axdr,
}


def _plausible(kind: str, data: bytes) -> bool:
    if kind == "hdlc":
        return len(data) >= 2 and data[0] == 0x7E and data[-1] == 0x7E
    if kind == "wrapper":
        return len(data) >= 8 and data[0] == 0x00 and data[1] == 0x01
    return True


def translate(data: bytes, kind: str | None = None, keys: Keys | None = None) -> Decoded:
    """Decode ``data`` as ``kind`` (or detect it) and describe it."""
    keys = keys or Keys()
    if kind is not None:
        if kind not in _DECODERS:
            raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        return Decoded(kind, _DECODERS[kind](data, keys))
    if not data:
        raise DecodeError("empty input", 0)
    best: DlmsError | None = None
    for candidate in KINDS:
        if not _plausible(candidate, data):
            continue
        try:
            return Decoded(candidate, _DECODERS[candidate](data, keys))
        except DecodeError as exc:
            if best is None or (exc.offset or 0) > (getattr(best, "offset", 0) or 0):
                best = exc
    assert best is not None
    raise best


# --- rendering ----------------------------------------------------------------------


def to_json(decoded: Decoded) -> str:
    return json.dumps({"kind": decoded.kind, **decoded.meaning}, indent=2, ensure_ascii=False)


def _is_data_node(value: Any) -> bool:
    return isinstance(value, dict) and "type" in value and _known_type(value["type"])


def _known_type(name: Any) -> bool:
    try:
        axdr.DataType.from_blue_book_name(name)
    except (DlmsError, ValueError, KeyError, TypeError):
        return False
    return True


def _scalar(value: Any) -> str:
    if value is None:
        return "not specified"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _data_node_lines(node: dict[str, Any], label: str, indent: str) -> list[str]:
    kind = node["type"]
    value = node.get("value")
    prefix = f"{indent}{label}{kind}"
    if kind in ("array", "structure", "compact-array"):
        lines = [f"{prefix} ({len(value)})"]
        for i, child in enumerate(value):
            lines += _data_node_lines(child, f"[{i}] ", indent + "  ")
        return lines
    if kind in ("date-time", "date", "time"):
        shown = ", ".join(f"{k}={_scalar(v)}" for k, v in value.items())
        return [f"{prefix}: {shown}"]
    if "value" not in node:
        return [prefix]
    text = _scalar(value)
    extra = node.get("interpreted_as")
    return [f"{prefix}: {text}" + (f"  ({extra})" if extra else "")]


def render_tree(meaning: Any, indent: str = "") -> list[str]:
    """An indented, readable tree of a meaning dictionary."""
    if _is_data_node(meaning):
        return _data_node_lines(meaning, "", indent)
    lines: list[str] = []
    if isinstance(meaning, dict):
        for key, value in meaning.items():
            if _is_data_node(value):
                lines += _data_node_lines(value, f"{key}: ", indent)
            elif isinstance(value, (dict, list)) and value:
                lines.append(f"{indent}{key}:")
                lines += render_tree(value, indent + "  ")
            else:
                lines.append(f"{indent}{key}: {_scalar(value) if value != [] else '[]'}")
    elif isinstance(meaning, list):
        for i, item in enumerate(meaning):
            if isinstance(item, (dict, list)):
                lines.append(f"{indent}[{i}]")
                lines += render_tree(item, indent + "  ")
            else:
                lines.append(f"{indent}[{i}] {_scalar(item)}")
    else:
        lines.append(f"{indent}{_scalar(meaning)}")
    return lines


def to_text(decoded: Decoded) -> str:
    return "\n".join([decoded.kind] + render_tree(decoded.meaning, "  "))
