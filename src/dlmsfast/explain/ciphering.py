"""Descriptions of ciphered APDUs and of ciphering steps, for the translator.

``describe_ciphered`` needs no key: it shows the security header and the sizes,
in the schema of shared/vectors/security.json. ``describe_steps`` shows what a
:class:`~dlmsfast.security.CipheringSteps` holds (IV, AAD layout, both tags and
the verdict). Neither ever shows a key; the AAD itself (which contains the
authentication key) is shown only by ``explain_lines``, which the user asks for
explicitly with the keys in hand.
"""
from __future__ import annotations

from typing import Any

from ..security.context import CipheringSteps

def _hex(value: bytes) -> str:
    return value.hex().upper()


def describe_steps(steps: CipheringSteps) -> dict[str, Any]:
    """What deciphering found, without any key."""
    return {
        "system_title_for_iv": _hex(steps.system_title),
        "iv": _hex(steps.iv),
        "key_used": steps.key_used,
        "aad": steps.aad_layout,
        "tag_length": len(steps.received_tag),
        "computed_tag": _hex(steps.computed_tag),
        "received_tag": _hex(steps.received_tag),
        "tag_ok": steps.tag_ok,
        "plaintext": _hex(steps.plaintext),
    }


def explain_lines(steps: CipheringSteps) -> list[str]:
    """Each step of the ciphering, for a person learning where the bytes come from."""
    sc = steps.security_control
    verdict = {True: "MATCH", False: "MISMATCH (wrong key, system title or corrupted APDU)",
               None: "no tag (SC has no authentication bit)"}[steps.tag_ok]
    lines = [
        f"service            {steps.service}",
        f"security control   0x{sc.value:02X} = {sc.value:08b}",
        f"  bits 0-3 suite     {sc.security_suite}"
        + (" (AES-GCM-256)" if sc.security_suite == 2 else " (AES-GCM-128)"),
        f"  bit 4 authenticated {int(sc.authentication)}",
        f"  bit 5 encrypted     {int(sc.encryption)}",
        f"  bit 6 broadcast key {int(sc.broadcast_key)}",
        f"  bit 7 compressed    {int(sc.compression)}",
        f"invocation counter {steps.invocation_counter} (0x{steps.invocation_counter:08X})",
        f"system title       {_hex(steps.system_title)}",
        f"IV                 system title || IC = {_hex(steps.iv)}",
        f"key                {steps.key_used}",
        f"AAD                {steps.aad_layout}" + (f" = {_hex(steps.aad)}" if steps.aad else ""),
        f"ciphertext         {_hex(steps.ciphertext) if sc.encryption else '(none: not encrypted)'}",
        f"plaintext          {_hex(steps.plaintext)}",
        f"computed tag       {_hex(steps.computed_tag) or '-'}",
        f"received tag       {_hex(steps.received_tag) or '-'}",
        f"tag check          {verdict}",
    ]
    return lines
