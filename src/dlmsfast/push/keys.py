"""The customer keys of pushing meters, and their reading from a keys file.

A keys file is JSON: one entry per meter, named by its system title
(16 hex digits), or ``"*"`` for any meter; each entry gives ``ek`` (the block
cipher key), and optionally ``ak`` (authentication key), ``dk`` (dedicated key,
for general-ded-ciphering) and, for glo- APDUs that do not carry it, the
``system_title``::

    {"*": {"ek": "36C66639E48A8CA4D6BC8B282A793BBB"},
     "4B414D4501349083": {"ek": "0011...", "ak": "FFEE..."}}

Keys never appear in reprs or error messages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Mapping, Optional, Union

from .._util import require
from ..errors import ConfigurationError, UsageError

ANY_METER = "*"


def _hex(value: Any, name: str, lengths: tuple[int, ...]) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, str):
        text = "".join(value.split()).replace(":", "").replace("-", "")
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"{name} must be hex") from None
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"{name} must be bytes or hex, got {type(value).__name__}")
    value = bytes(value)
    if len(value) not in lengths:
        raise UsageError(f"{name} must be {' or '.join(map(str, lengths))} octets, got {len(value)}")
    return value


#: a key or system title as given: octets, or hex text (``:``, ``-`` and spaces allowed)
KeyOctets = Union[bytes, bytearray, memoryview, str]


@dataclass(frozen=True, slots=True, init=False)
class PushKeys:
    """Keys of one meter (or of every meter): ``ek`` required, ``ak``/``dk`` optional.

    Each is bytes or hex text (kept as bytes); ``system_title`` (8 octets) ties
    the keys to one meter where a mapping does not.
    """

    ek: bytes = field(repr=False)
    ak: Optional[bytes] = field(default=None, repr=False)
    dk: Optional[bytes] = field(default=None, repr=False)
    system_title: Optional[bytes] = None

    def __init__(self, ek: KeyOctets, ak: Optional[KeyOctets] = None,
                 dk: Optional[KeyOctets] = None,
                 system_title: Optional[KeyOctets] = None) -> None:
        given_ek = _hex(ek, "ek", (16, 32))
        if given_ek is None:
            raise UsageError("ek is required")
        object.__setattr__(self, "ek", given_ek)
        object.__setattr__(self, "ak", _hex(ak, "ak", (16, 32)))
        object.__setattr__(self, "dk", _hex(dk, "dk", (16, 32)))
        object.__setattr__(self, "system_title", _hex(system_title, "system_title", (8,)))

    def __repr__(self) -> str:
        given = ["ek"] + [n for n in ("ak", "dk") if getattr(self, n) is not None]
        title = None if self.system_title is None else self.system_title.hex().upper()
        return f"PushKeys(keys set: {', '.join(given)}, system_title={title})"


#: the ``keys`` argument of :class:`PushDecoder`: None (plain pushes only), one
#: PushKeys for any meter, or system title (bytes or hex; ``"*"`` or None: any
#: meter) -> PushKeys or a dict of its fields
PushKeysArgument = Union[None, "PushKeys", Mapping[Union[bytes, str, None],
                                                   Union["PushKeys", Mapping[str, Any]]]]


def keys_table(keys: PushKeysArgument) -> dict[Optional[bytes], PushKeys]:
    """Normalise the ``keys`` argument: None, one PushKeys (any meter), or a
    mapping of system title (bytes or hex, ``"*"``/None for any) to PushKeys
    or to a dict of its fields."""
    if keys is None:
        return {}
    if isinstance(keys, PushKeys):
        return {None: keys}
    if not isinstance(keys, Mapping):
        raise UsageError(f"keys must be PushKeys or a mapping, got {type(keys).__name__}")
    table: dict[Optional[bytes], PushKeys] = {}
    for title, entry in keys.items():
        name = None if title in (None, ANY_METER) else _hex(title, "system title", (8,))
        if isinstance(entry, Mapping):
            unknown = set(entry) - {"ek", "ak", "dk", "system_title"}
            if unknown:
                raise UsageError(f"unknown key field(s) {sorted(unknown)}: ek, ak, dk, system_title")
            if entry.get("ek") is None:
                raise UsageError("ek is required")
            entry = PushKeys(ek=entry["ek"], ak=entry.get("ak"), dk=entry.get("dk"),
                             system_title=entry.get("system_title"))
        if not isinstance(entry, PushKeys):
            raise UsageError("each keys entry is PushKeys or a dict of ek/ak/dk/system_title")
        table[name] = entry
    return table


def load_keys_file(path) -> dict[Optional[bytes], PushKeys]:
    """Read a keys file (JSON)."""
    require(path, (str, PurePath), "path")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the keys file {str(path)!r}: {exc.strerror}") from None
    try:
        content = json.loads(text)
    except ValueError as exc:
        # the parser's message may quote the file's text, which holds keys
        raise ConfigurationError(f"the keys file {str(path)!r} is not valid JSON "
                                 f"(line {getattr(exc, 'lineno', '?')})") from None
    if not isinstance(content, dict):
        raise ConfigurationError(f"the keys file {str(path)!r} must hold an object of meters")
    try:
        return keys_table(content)
    except UsageError as exc:
        raise ConfigurationError(f"keys file {str(path)!r}: {exc}") from None


__all__ = ["ANY_METER", "PushKeys", "PushKeysArgument", "keys_table", "load_keys_file"]
