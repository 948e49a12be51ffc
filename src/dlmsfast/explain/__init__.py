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
from typing import Any

from .. import axdr, hdlc, wrapper
from ..apdu import parse_apdu
from ..errors import DecodeError, DlmsError, SecurityError, UsageError
from ..security import CipheredApdu, SecurityContext, SecurityControl, parse_ciphered
from ..security.ciphered import is_ciphered_tag
from .ciphering import describe_steps, explain_lines

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


class _Translation:
    """One translation: the keys given, and every deciphering done on the way down."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.steps: list[Any] = []

    def axdr(self, data: bytes) -> dict[str, Any]:
        return axdr.decode_typed(data).to_meaning()

    def hdlc(self, data: bytes) -> dict[str, Any]:
        frame = hdlc.HdlcFrame.from_bytes(data)
        meaning = hdlc.describe_frame(data)
        info = frame.information or b""
        if meaning.get("llc"):
            meaning["apdu"] = info[3:].hex().upper()
            meaning["apdu_decoded"] = self.payload(info[3:], segmented=frame.segmented)
        elif info and meaning["control"]["frame"] in ("I", "UI"):
            # A continuation segment carries no LLC header: it is a part of a longer APDU.
            meaning["apdu_decoded"] = self.payload(info, segmented=True)
        return meaning

    def wrapper(self, data: bytes) -> dict[str, Any]:
        frame = wrapper.WrapperFrame.from_bytes(data)
        meaning = wrapper.describe_wrapper(data)
        if frame.payload:
            meaning["apdu_decoded"] = self.payload(frame.payload, segmented=False)
        return meaning

    def apdu(self, data: bytes) -> dict[str, Any]:

        if not data or not is_ciphered_tag(data[0]):
            apdu = parse_apdu(data)
            if self.keys and hasattr(apdu, "user_information_apdu"):
                # ACSE: the xDLMS initiate APDU inside may be ciphered, with the
                # sender's system title in the AP title of the same APDU.
                title = (getattr(apdu, "calling_ap_title", None)
                         or getattr(apdu, "responding_ap_title", None) or self.keys.system_title)
                meaning = apdu.to_meaning()
                inner = apdu.user_information
                if inner and is_ciphered_tag(inner[0]):
                    plaintext = self.decipher(inner, title)
                    meaning["user_information"]["deciphered"] = {
                        "plaintext": plaintext.hex().upper(),
                        "apdu_decoded": parse_apdu(plaintext).to_meaning(),
                    }
                return meaning
            return apdu.to_meaning()
        ciphered = parse_ciphered(data)
        meaning = ciphered.to_meaning()
        if self.keys:
            context = _context_for(ciphered.security_control, self.keys,
                                   dedicated=isinstance(ciphered, CipheredApdu))
            steps = context.explain_decrypt(data, system_title=self.keys.system_title)
            self.steps.append(steps)
            meaning["deciphered"] = describe_steps(steps)
            if steps.tag_ok is not False:
                meaning["deciphered"]["apdu_decoded"] = _Translation(Keys()).apdu(steps.plaintext)
        return meaning

    def decipher(self, data: bytes, system_title: bytes | None) -> bytes:
        """Plaintext of a ciphered APDU nested in another; a wrong tag stops the translation."""

        ciphered = parse_ciphered(data)
        context = _context_for(ciphered.security_control, self.keys,
                               dedicated=isinstance(ciphered, CipheredApdu))
        steps = context.explain_decrypt(data, system_title=system_title)
        self.steps.append(steps)
        if steps.tag_ok is False:
            raise SecurityError(f"authentication tag mismatch in the {steps.service}")
        return steps.plaintext

    def payload(self, payload: bytes, *, segmented: bool) -> Any:
        """An APDU inside a frame; a part of a longer APDU is shown as a segment."""
        try:
            return self.apdu(payload)
        except DecodeError as exc:
            if segmented:
                return {"segment": payload.hex().upper(), "note": "part of a longer APDU"}
            return {"undecoded": payload.hex().upper(), "error": str(exc)}

    def decode(self, kind: str, data: bytes) -> Decoded:

        self.steps.clear()
        meaning = getattr(self, kind)(data)
        lines: list[str] = []
        for steps in self.steps:
            lines += explain_lines(steps)
        return Decoded(kind, meaning, tuple(lines))


def _context_for(security_control: Any, keys: Keys, *, dedicated: bool,
                 system_title: bytes | None = None) -> Any:
    """A throw-away SecurityContext holding the keys the user gave."""

    if keys.encryption_key is None:
        raise UsageError("deciphering needs --ek (the block cipher or dedicated key)")
    suite = security_control.security_suite
    if suite not in (0, 1, 2):
        raise UsageError(f"security suite {suite} is not AES-GCM (suites 0, 1 and 2 are)")
    ak = keys.authentication_key
    if ak is None:
        if security_control.authentication:
            raise UsageError("an authenticated APDU (SC bit 4) needs --ak to check its tag")
        ak = bytes(len(keys.encryption_key))
    return SecurityContext(
        system_title=system_title or keys.system_title or bytes(8),
        peer_system_title=keys.system_title,
        block_cipher_key=keys.encryption_key,
        authentication_key=ak,
        dedicated_key=keys.encryption_key if dedicated else None,
        security_suite=suite,
    )


def _plausible(kind: str, data: bytes) -> bool:
    if kind == "hdlc":
        return len(data) >= 2 and data[0] == 0x7E and data[-1] == 0x7E
    if kind == "wrapper":
        return len(data) >= 8 and data[0] == 0x00 and data[1] == 0x01
    return True


def translate(data: bytes, kind: str | None = None, keys: Keys | None = None) -> Decoded:
    """Decode ``data`` as ``kind`` (or detect it) and describe it."""
    translation = _Translation(keys or Keys())
    if kind is not None:
        if kind not in KINDS:
            raise UsageError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        return translation.decode(kind, data)
    if not data:
        raise DecodeError("empty input", 0)
    best: DecodeError | None = None
    for candidate in KINDS:
        if not _plausible(candidate, data):
            continue
        try:
            return translation.decode(candidate, data)
        except DecodeError as exc:
            if best is None or (exc.offset or 0) > (best.offset or 0):
                best = exc
    assert best is not None
    raise best


def tag_failures(meaning: Any) -> int:
    """How many authentication tags in a description did not match."""
    if isinstance(meaning, dict):
        own = 1 if meaning.get("tag_ok") is False else 0
        return own + sum(tag_failures(v) for v in meaning.values())
    if isinstance(meaning, list):
        return sum(tag_failures(v) for v in meaning)
    return 0


def encrypt(plaintext: bytes, *, encryption_key: bytes | None, authentication_key: bytes | None,
            system_title: bytes | None, invocation_counter: int, security_control: int,
            form: str = "glo") -> tuple[bytes, tuple[str, ...]]:
    """Cipher a plaintext APDU as ``dlmsfast encrypt`` does: (ciphered bytes, explain lines)."""

    parse_apdu(plaintext)  # a malformed APDU is refused before anything is ciphered
    if system_title is None:
        raise UsageError("encrypt needs --system-title (the sender's, 8 octets)")
    sc = SecurityControl(security_control)
    context = _context_for(sc, Keys(encryption_key, authentication_key, None),
                           dedicated=form in ("ded", "general-ded"), system_title=system_title)
    data, steps = context.explain_encrypt(plaintext, security_control=security_control,
                                          form=form, invocation_counter=invocation_counter)
    return data, tuple(explain_lines(steps))


# --- rendering ----------------------------------------------------------------------


def to_json(decoded: Decoded) -> str:
    return json.dumps(decoded.meaning, indent=2, ensure_ascii=False)


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
