"""Meanings and explanations that span layers: the one home of "explain".

Every object says what it means with its own ``to_meaning()`` (A-XDR values,
frames, APDUs, descriptors, ciphered APDUs); this package puts them together:

- :mod:`.translator`: bytes of any layer -> a tree of nodes with one schema
  (``translate``), descending through frames, payloads and deciphering;
- :mod:`.ciphering`: how a ciphered APDU is built and opened, step by step with
  the bytes (``decipher_walk``, ``encipher_walk``), and :func:`encrypt`;
- :mod:`.render`: the text tree and the JSON document
  (``schemas/decode.schema.json``, :func:`schema`).

Python equivalent of ``dlmsfast encrypt --explain`` then ``decode --explain``::

    from dlmsfast.explain import Keys, encrypt, translate, walk_lines
    data, walk = encrypt(bytes.fromhex("C0010000080000010000FF0200"),
                         encryption_key=EK, authentication_key=AK,
                         system_title=bytes.fromhex("4D4D4D0000BC614E"),
                         invocation_counter=0x01234567, security_control=0x30)
    print("\\n".join(walk_lines(walk.to_meaning(show_keys=True))))
    decoded = translate(data, keys=Keys(EK, AK, bytes.fromhex("4D4D4D0000BC614E")),
                        explain=True)
    print("\\n".join(walk_lines(decoded.walks[0].to_meaning(show_keys=True))))
"""
from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .._util import _check_range, as_bytes, octets_argument, shown
from ..apdu import parse_apdu
from ..errors import ConfigurationError, UsageError
from ..security import SecurityContext
from ..security.ciphered import parse_ciphered
from ..security.context import FORMS
from .ciphering import _KEY_LENGTHS, Walk, encipher_walk
from .render import SCHEMA_VERSION, interpret_octet_strings, walk_lines
from .translator import KINDS, Decoded, Keys, _error, parse_hex, translate, walk_nodes


def schema() -> dict[str, Any]:
    """The JSON Schema of ``dlmsfast decode --json`` / ``encrypt --json`` output."""
    text = resources.files(__package__).joinpath("schemas/decode.schema.json").read_text(
        encoding="utf-8")
    return json.loads(text)


def _key(value: bytes | None, what: str, length: int) -> bytes:
    if value is None:
        raise ConfigurationError(f"{what} is needed")
    if len(value) != length:
        raise ConfigurationError(f"{what} must be {length} octets for this security suite, "
                                 f"got {len(value)}")
    return value


def encrypt(plaintext: bytes, *, encryption_key: bytes | None,
            authentication_key: bytes | None, system_title: bytes | None,
            invocation_counter: int, security_control: int = 0x30,
            form: str = "glo") -> tuple[bytes, Walk]:
    """Cipher a plaintext APDU as ``dlmsfast encrypt`` does: (ciphered bytes, the walk).

    The bytes come from a throw-away :class:`~dlmsfast.security.SecurityContext`
    whose next invocation counter is ``invocation_counter``; no live context's
    counter is touched.
    """
    plaintext = as_bytes(plaintext, "the plaintext APDU")
    encryption_key, authentication_key, system_title = (
        None if value is None else octets_argument(value, what)
        for value, what in ((encryption_key, "the encryption key"),
                            (authentication_key, "the authentication key"),
                            (system_title, "the system title")))
    if not isinstance(form, str) or form not in FORMS:
        raise UsageError(f"the form must be one of {', '.join(FORMS)}, got {shown(form)}")
    _check_range("the security control", security_control, 0, 0xFF)
    _check_range("the invocation counter", invocation_counter, 0, 0xFFFFFFFF)
    parse_apdu(plaintext)  # a malformed plaintext is refused before anything is ciphered
    if system_title is None or len(system_title) != 8:
        raise ConfigurationError(
            "the sender's system title (--system-title) must be 8 octets, got "
            + ("none" if system_title is None else str(len(system_title))))
    suite = security_control & 0x0F
    if suite not in _KEY_LENGTHS:
        raise UsageError(f"security suite {suite} (SC bits 0-3) is not AES-GCM: 0, 1 or 2")
    length = _KEY_LENGTHS[suite]
    ek = _key(encryption_key, "the encryption key (--ek)", length)
    if security_control & 0x10 or authentication_key is not None:
        ak = _key(authentication_key, "the authentication key (--ak)", length)
    else:
        ak = bytes(length)  # unused: SC has no authentication bit
    dedicated = form in ("ded", "general-ded")
    context = SecurityContext(
        system_title=system_title, peer_system_title=system_title, block_cipher_key=ek,
        authentication_key=ak, dedicated_key=ek if dedicated else None,
        security_suite=suite, invocation_counter=invocation_counter,
    )
    data = context.encrypt(plaintext, security_control=security_control, form=form)
    walk = encipher_walk(plaintext, data, parse_ciphered(data), encryption_key=ek,
                         authentication_key=ak if security_control & 0x10 else None,
                         system_title=system_title)
    return data, walk


def document(decoded: Decoded, exit_status: int) -> dict[str, Any]:
    """The top-level JSON document of ``decode --json``."""
    for item in walk_nodes(decoded.nodes):
        interpret_octet_strings(item["meaning"])
    error = decoded.notification_error
    return {"kind": decoded.kind, "schema_version": SCHEMA_VERSION,
            "nodes": decoded.nodes,
            "notifications": [n.to_meaning() for n in decoded.notifications],
            "notification_error": None if error is None else _error(error),
            "error": None, "exit_status": exit_status}


def error_document(kind: str, error: BaseException, exit_status: int) -> dict[str, Any]:
    """The JSON document of a failed command: ``kind`` "error"."""
    return {"kind": "error", "schema_version": SCHEMA_VERSION, "nodes": [],
            "notifications": [], "notification_error": None,
            "error": {"type": type(error).__name__,
                      "message": getattr(error, "message", None) or str(error),
                      "offset": getattr(error, "offset", None), "command": kind},
            "exit_status": exit_status}


__all__ = [
    "FORMS",
    "KINDS",
    "SCHEMA_VERSION",
    "Decoded",
    "Keys",
    "encrypt",
    "parse_hex",
    "schema",
    "translate",
    "walk_lines",
]
