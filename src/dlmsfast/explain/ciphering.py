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

from ..security.ciphered import (
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    IdentifiedKey,
    WrappedKey,
    _GeneralServiceCiphering,
    content_length,
)
from ..errors import UsageError
from ..security.context import CipheringSteps

_KEY_INFO_CHOICE = {IdentifiedKey: "identified-key (0)", WrappedKey: "wrapped-key (1)",
                    AgreedKey: "agreed-key (2)"}


def _hex(value: bytes) -> str:
    return value.hex().upper()


def _content(apdu: Any) -> dict[str, Any]:
    return {
        "security_control": apdu.security_control.to_meaning(),
        "invocation_counter": apdu.invocation_counter,
        "ciphertext": _hex(apdu.ciphertext),
        "authentication_tag": _hex(apdu.authentication_tag),
    }


def _key_info(key_info: Any) -> dict[str, Any] | None:
    if key_info is None:
        return None
    meaning: dict[str, Any] = {"choice": _KEY_INFO_CHOICE[type(key_info)]}
    if isinstance(key_info, IdentifiedKey):
        meaning["key_id"] = key_info.key_id
    elif isinstance(key_info, WrappedKey):
        meaning["kek_id"] = key_info.kek_id
    else:
        meaning["key_parameters"] = _hex(key_info.key_parameters)
    if not isinstance(key_info, IdentifiedKey):
        meaning["key_ciphered_data_length"] = len(key_info.key_ciphered_data)
        meaning["key_ciphered_data"] = _hex(key_info.key_ciphered_data)
    return meaning


def describe_ciphered(apdu: Any) -> dict[str, Any]:
    """The structure of any ciphered APDU, without deciphering it."""
    if isinstance(apdu, CipheredApdu):
        return {"apdu": apdu.service, "tag": f"{apdu.tag:02X}", **_content(apdu)}
    if isinstance(apdu, _GeneralServiceCiphering):
        return {
            "apdu": apdu.service,
            "tag": f"{apdu.TAG:02X}",
            "system_title": {"length": len(apdu.system_title), "hex": _hex(apdu.system_title)},
            "ciphered_content_length": content_length(apdu),
            **_content(apdu),
        }
    if isinstance(apdu, GeneralCiphering):
        return {
            "apdu": apdu.service,
            "tag": f"{apdu.TAG:02X}",
            "transaction_id": _hex(apdu.transaction_id),
            "originator_system_title": _hex(apdu.originator_system_title),
            "recipient_system_title": _hex(apdu.recipient_system_title),
            "date_time": _hex(apdu.date_time),
            "other_information": _hex(apdu.other_information),
            "key_info": _key_info(apdu.key_info),
            "ciphered_content": {
                "length": content_length(apdu),
                **_content(apdu),
                "ciphertext_length": len(apdu.ciphertext),
            },
        }
    raise UsageError(f"not a ciphered APDU: {type(apdu).__name__}")


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
