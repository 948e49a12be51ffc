"""How a ciphered APDU is built and opened, step by step, with the bytes.

Green Book (DLMS UA 1000-2) 9.2.7.2, AES-GCM with 12-octet tags::

    glo-/ded- APDU:   tag | length | SC | IC (4) | ciphertext | T (12)
    general-glo/-ded: tag | len | system-title | length | SC | IC | ciphertext | T
    general-ciphering: tag | transaction-id | originator-ST | recipient-ST | date-time
                       | other-information | key-info | length | SC | IC | ciphertext | T

    IV  = system title of the sender (8) || IC (4)
    AAD = SC || AK                       (authenticated and encrypted, SC 0x3n)
        = SC || AK || plaintext          (authenticated only, SC 0x1n)
        (general-ciphering, suites 1 and 2: || the five header octet strings)
    key = the block cipher key (global unicast EK), the broadcast key (SC bit 6),
          or the dedicated key (ded- and general-ded- forms)
    T   = the first 12 octets of the GCM tag

:func:`decipher_walk` and :func:`encipher_walk` return a :class:`Walk`: the
steps in the order they happen, each with its name, its bytes and a sentence.
Deciphering releases the plaintext only when the tag checks (or when the caller
asked, by name, to skip the check: then the plaintext is marked
unauthenticated). Keys the user typed appear only inside the AAD step, which
says so; nothing here logs.

The bytes the user gets from ``encrypt`` come from
:class:`~dlmsfast.security.SecurityContext`; the walk recomputes them from the
rules above and the two must agree (a test holds them to the vectors, too).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from hmac import compare_digest
from typing import Any

from ..security._gcm import AesGcm
from ..security.ciphered import (
    SC_AUTHENTICATION,
    SC_ENCRYPTION,
    TAG_LENGTH,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    IdentifiedKey,
    octet_string,
)

_KEY_LENGTHS = {0: 16, 1: 16, 2: 32}


_AAD_SHOWN = " (it holds the AK you typed: shown here on request, never logged)"
_AAD_HIDDEN = " (it holds the AK you typed: its octets are shown only by --explain)"


def _hex(value: bytes) -> str:
    return value.hex().upper()


@dataclass
class Walk:
    """The steps of one ciphering or deciphering, and what came of it."""

    direction: str  # "decipher" or "encipher"
    service: str
    # the AAD step holds the AK: never in a repr
    steps: list[dict[str, Any]] = field(default_factory=list, repr=False)
    plaintext: bytes | None = None
    authenticated: bool | None = None
    tag_ok: bool | None = None
    stopped: str | None = None
    """Why the walk could not go to the end (missing key, wrong tag ...)."""
    refused: bool = False
    """The APDU has less protection than the keys given imply (a possible downgrade)."""
    suspects: list[str] = field(default_factory=list)
    """Inputs that could be wrong when the tag did not check."""
    needs: list[str] = field(default_factory=list)
    """What the user must give to go further."""
    key_misfit: bool = False
    """The key given has not the length the APDU's security suite uses (a usage mistake)."""

    def add(self, name: str, text: str, octets: bytes | None = None, **extra: Any) -> None:
        step: dict[str, Any] = {"step": len(self.steps) + 1, "name": name, "text": text,
                                "hex": None if octets is None else _hex(octets)}
        step.update(extra)
        self.steps.append(step)

    def to_meaning(self, *, show_keys: bool = False) -> dict[str, Any]:
        """The walk as JSON-able data. The AAD step holds the authentication key:
        its octets are left out (``hex`` None) unless ``show_keys``, which is what
        ``--explain`` asks for."""
        steps = [step if step["name"] != "AAD" else
                 {**step, "text": step["text"] + _AAD_SHOWN} if show_keys else
                 {**step, "hex": None, "text": step["text"] + _AAD_HIDDEN}
                 for step in self.steps]
        return {
            "direction": self.direction,
            "service": self.service,
            "steps": steps,
            "tag_ok": self.tag_ok,
            "authenticated": self.authenticated,
            "plaintext": None if self.plaintext is None else _hex(self.plaintext),
            "stopped": self.stopped,
            "refused": self.refused,
            "suspects": self.suspects,
            "needs": self.needs,
        }


def _sc_text(sc: int) -> str:
    suite = sc & 0x0F
    bits = [
        f"bits 0-3 security suite {suite}"
        + {0: " (AES-GCM-128)", 1: " (AES-GCM-128, ECDH/ECDSA)", 2: " (AES-GCM-256)"}.get(
            suite, " (not defined)"),
        f"bit 4 authentication {'on' if sc & 0x10 else 'off'}",
        f"bit 5 encryption {'on' if sc & 0x20 else 'off'}",
        f"bit 6 key set {'broadcast' if sc & 0x40 else 'unicast'}",
        f"bit 7 compression {'on' if sc & 0x80 else 'off'}",
    ]
    return f"0x{sc:02X} = {sc:08b}: " + "; ".join(bits)


def _layout(walk: Walk, apdu: Any, data: bytes) -> None:
    """The APDU cut into its fields, with the bytes of each."""
    sc = apdu.security_control.value
    tail = len(apdu.ciphertext) + len(apdu.authentication_tag)
    header_end = len(data) - tail - 5
    parts = [("tag", data[:1])]
    if isinstance(apdu, CipheredApdu):
        parts.append(("length", data[1:header_end]))
        drawing = "tag | length | security header = SC || IC | ciphertext | T"
    elif isinstance(apdu, GeneralCiphering):
        parts.append(("header fields", data[1:header_end]))
        drawing = ("tag | transaction-id, originator and recipient system titles, date-time, "
                   "other-information, key-info, length | SC || IC | ciphertext | T")
    else:
        parts.append(("length, system-title, length", data[1:header_end]))
        drawing = "tag | length | system-title | length | SC || IC | ciphertext | T"
    parts += [("SC", data[header_end:header_end + 1]),
              ("IC", data[header_end + 1:header_end + 5]),
              ("ciphertext" if sc & SC_ENCRYPTION else "plaintext APDU (not encrypted)",
               apdu.ciphertext),
              ("T (authentication tag)", apdu.authentication_tag)]
    walk.add("layout", drawing, data, parts=[{"field": n, "hex": _hex(o)} for n, o in parts])


def _general_header(apdu: GeneralCiphering) -> bytes:
    if apdu.security_control.security_suite == 0:
        return b""
    return b"".join(octet_string(v) for v in (
        apdu.transaction_id, apdu.originator_system_title, apdu.recipient_system_title,
        apdu.date_time, apdu.other_information))


def _key_choice(apdu: Any) -> tuple[str, str]:
    """(which key, the option that gives it)."""
    dedicated = (isinstance(apdu, GeneralDedCiphering)
                 or (isinstance(apdu, CipheredApdu) and apdu.dedicated))
    if dedicated:
        return "the dedicated key (from the InitiateRequest of the association)", "--ek"
    if isinstance(apdu, GeneralCiphering) and apdu.key_info is not None:
        if isinstance(apdu.key_info, IdentifiedKey) and apdu.key_info.key_id == 1:
            return "the global broadcast key (key-info identified-key 1)", "--ek"
        if not isinstance(apdu.key_info, IdentifiedKey):
            return "a wrapped or agreed key (key-info)", "--ek (the unwrapped key)"
        return "the global unicast key (key-info identified-key 0)", "--ek"
    if apdu.security_control.broadcast_key:
        return "the global broadcast key (SC bit 6)", "--ek"
    return "the block cipher key (global unicast encryption key, EK)", "--ek"


@dataclass(frozen=True)
class TitleSource:
    """The sender's system title for the IV, and where it was found."""

    title: bytes | None
    source: str


def decipher_walk(apdu: Any, data: bytes, *, encryption_key: bytes | None,
                  authentication_key: bytes | None, title: TitleSource,
                  check_tag: bool = True, key_source: str | None = None) -> Walk:
    """Open a ciphered APDU step by step; see the module docstring. ``key_source``
    says where the key came from when not from the command line (the dedicated key
    of an InitiateRequest deciphered earlier in the same capture)."""
    sc = apdu.security_control.value
    ic = apdu.invocation_counter
    walk = Walk("decipher", apdu.service)
    _layout(walk, apdu, data)
    walk.add("security control (SC)", _sc_text(sc), bytes((sc,)))
    walk.add("invocation counter (IC)", f"{ic} (0x{ic:08X}), the sender's counter for this "
             "APDU; a receiver accepts only a counter above the last one it accepted",
             ic.to_bytes(4, "big"))
    if isinstance(apdu, GeneralCiphering):
        system_title = TitleSource(apdu.originator_system_title,
                                   "general-ciphering's own originator-system-title field")
    elif not isinstance(apdu, CipheredApdu):
        system_title = TitleSource(apdu.system_title, f"{apdu.service}'s own system-title field")
    else:
        system_title = title
    if system_title.title is None:
        walk.add("system title", "not in this APDU: a glo-/ded- APDU takes the sender's "
                 "system title from the association (AARQ calling-AP-title for the client, "
                 "AARE responding-AP-title for the server)")
        walk.stopped = "the IV needs the sender's system title"
        walk.needs.append("--system-title (the sender's, 8 octets)")
        return walk
    walk.add("system title", f"{_hex(system_title.title)}, from {system_title.source}",
             system_title.title)
    if len(system_title.title) != 8:
        walk.stopped = f"the system title has {len(system_title.title)} octets; the IV needs 8"
        walk.suspects.append(f"the system title ({system_title.source})")
        return walk
    iv = system_title.title + ic.to_bytes(4, "big")
    walk.add("IV", "system title (8) || IC (4)", iv)
    key_name, key_option = _key_choice(apdu)
    suite = apdu.security_control.security_suite
    if suite not in _KEY_LENGTHS:
        walk.stopped = f"security suite {suite} is not an AES-GCM suite (0, 1 and 2 are)"
        return walk
    if sc & 0x80:
        walk.stopped = "compression (SC bit 7) is not supported"
        return walk
    if not sc & (SC_AUTHENTICATION | SC_ENCRYPTION):
        walk.stopped = "SC gives no protection (neither authentication nor encryption)"
        return walk
    if encryption_key is None:
        walk.add("key", f"{key_name}: not given")
        walk.stopped = "AES-GCM needs the key"
        walk.needs.append(f"{key_option} ({key_name}, {_KEY_LENGTHS[suite]} octets)")
        if sc & SC_AUTHENTICATION:
            walk.needs.append("--ak (the authentication key) to check the tag")
        return walk
    if len(encryption_key) != _KEY_LENGTHS[suite]:
        walk.key_misfit = True
        walk.stopped = (f"the key has {len(encryption_key)} octets; security suite {suite} "
                        f"uses {_KEY_LENGTHS[suite]}")
        walk.suspects.append(f"{key_option} (its length)")
        return walk
    walk.add("key", f"{key_name} ({key_source or f'given with {key_option}'}; not shown)")
    cipher = AesGcm(encryption_key)
    # authenticated only: the "ciphertext" field is the plaintext, in clear
    plaintext = None if sc & SC_ENCRYPTION else apdu.ciphertext
    aad = b""
    if sc & SC_AUTHENTICATION and authentication_key is not None:
        extra = _general_header(apdu) if isinstance(apdu, GeneralCiphering) else b""
        aad = bytes((sc,)) + authentication_key + extra + (plaintext or b"")
        layout = "SC || AK" + (" || general-ciphering header" if extra else "") + (
            "" if sc & SC_ENCRYPTION else " || plaintext")
        walk.add("AAD", layout, aad)
    if sc & SC_ENCRYPTION:
        plaintext = cipher.decrypt(iv, apdu.ciphertext)
        walk.add("AES-GCM decryption", "the ciphertext run through AES in counter mode "
                 "from the IV (the plaintext is held back until the tag checks)")
    if not sc & SC_AUTHENTICATION and authentication_key is not None and check_tag:
        # The safe default: an authentication key means the association authenticates;
        # an APDU without the bit may have had its SC changed (0x30 -> 0x20).
        walk.refused = True
        walk.stopped = (f"SC 0x{sc:02X} has no authentication, but an authentication key "
                        "was given: the APDU may have been downgraded, so its plaintext "
                        "is not shown")
        walk.suspects.append("the security control octet (changed on the way?)")
        walk.needs.append("leave out --ak if this association really uses encryption "
                          "only, or --decipher-without-checking-the-tag")
        return walk
    if not sc & SC_AUTHENTICATION:
        walk.add("tag", "none: SC has no authentication bit, so nothing proves the key, "
                 "the system title or the bytes right")
        walk.tag_ok = None
        walk.authenticated = False
        walk.plaintext = plaintext
        walk.add("plaintext APDU", "UNAUTHENTICATED (encryption only: a wrong key gives "
                 "wrong bytes without any error)", plaintext)
        return walk
    if authentication_key is None:
        walk.stopped = "the tag check needs the authentication key"
        walk.needs.append("--ak (the authentication key)")
        if not check_tag:
            _release_unchecked(walk, plaintext)
        return walk
    computed = cipher.encrypt(iv, (plaintext or b"") if sc & SC_ENCRYPTION else b"",
                              aad)[-TAG_LENGTH:]
    walk.add("computed tag", "the first 12 octets of the GCM tag over the AAD and the "
             "ciphertext, under the key and IV above", computed)
    walk.add("received tag", "the last 12 octets of the APDU", apdu.authentication_tag)
    walk.tag_ok = compare_digest(computed, apdu.authentication_tag)
    if not walk.tag_ok:
        walk.add("tag check", "MISMATCH")
        walk.stopped = "the authentication tag does not check"
        walk.suspects += [
            f"{key_option} ({key_name})", "--ak (the authentication key)",
            f"the system title ({system_title.source})",
            "the APDU bytes (a changed octet anywhere after the length)",
        ]
        if not check_tag:
            _release_unchecked(walk, plaintext)
        return walk
    walk.add("tag check", "MATCH: the key, AK, system title and bytes are right")
    walk.authenticated = True
    walk.plaintext = plaintext
    walk.add("plaintext APDU", "authenticated", plaintext)
    return walk


def _release_unchecked(walk: Walk, plaintext: bytes | None) -> None:
    walk.plaintext = plaintext
    walk.authenticated = False
    walk.add("plaintext APDU", "UNAUTHENTICATED: deciphered without checking the tag, "
             "as asked (--decipher-without-checking-the-tag); it may be garbage or forged",
             plaintext)


def encipher_walk(plaintext: bytes, ciphered: bytes, apdu: Any, *, encryption_key: bytes,
                  authentication_key: bytes | None, system_title: bytes) -> Walk:
    """How ``plaintext`` became ``ciphered`` (built by SecurityContext), in order.

    Every value is recomputed from the rules; a disagreement with ``ciphered``
    raises AssertionError, which a test would catch first.
    """
    sc = apdu.security_control.value
    ic = apdu.invocation_counter
    walk = Walk("encipher", apdu.service)
    walk.add("plaintext APDU", f"{len(plaintext)} octets to protect", plaintext)
    walk.add("security control (SC)", _sc_text(sc), bytes((sc,)))
    walk.add("invocation counter (IC)", f"{ic} (0x{ic:08X}): the sender's counter, one up "
             "for every APDU, never repeated under one key", ic.to_bytes(4, "big"))
    walk.add("system title", f"{_hex(system_title)}, the sender's (--system-title; the "
             "receiver knows it from the AARQ calling-AP-title or AARE responding-AP-title, "
             "or from the general forms' own field)", system_title)
    iv = system_title + ic.to_bytes(4, "big")
    walk.add("IV", "system title (8) || IC (4)", iv)
    key_name, key_option = _key_choice(apdu)
    walk.add("key", f"{key_name} (given with {key_option}; not shown)")
    cipher = AesGcm(encryption_key)
    extra = _general_header(apdu) if isinstance(apdu, GeneralCiphering) else b""
    aad = b""
    if sc & SC_AUTHENTICATION:
        assert authentication_key is not None
        aad = bytes((sc,)) + authentication_key + extra + (b"" if sc & SC_ENCRYPTION
                                                           else plaintext)
        layout = "SC || AK" + (" || general-ciphering header" if extra else "") + (
            "" if sc & SC_ENCRYPTION else " || plaintext")
        walk.add("AAD", layout, aad)
    if sc & SC_ENCRYPTION:
        sealed = cipher.encrypt(iv, plaintext, aad, TAG_LENGTH if sc & SC_AUTHENTICATION else 0)
        body = sealed[:len(plaintext)]
        walk.add("AES-GCM encryption", "the plaintext run through AES in counter mode from "
                 "the IV: the ciphertext", body)
    else:
        sealed = cipher.encrypt(iv, b"", aad)
        body = plaintext
        walk.add("no encryption", "SC has no encryption bit: the APDU travels in clear")
    if sc & SC_AUTHENTICATION:
        tag = sealed[-TAG_LENGTH:]
        walk.add("tag", "the first 12 octets of the GCM tag over the AAD and the ciphertext",
                 tag)
    else:
        tag = b""
        walk.add("tag", "none: SC has no authentication bit")
    assert body == apdu.ciphertext and tag == apdu.authentication_tag, \
        "the walk disagrees with SecurityContext"
    _layout(walk, apdu, ciphered)
    walk.plaintext = plaintext
    walk.authenticated = bool(sc & SC_AUTHENTICATION)
    walk.tag_ok = None
    return walk
