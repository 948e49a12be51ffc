"""The one table of APDU tags (the first octet of an APDU), IEC 62056-5-3 xDLMS-APDU
and ACSE-APDU.

It sits at the bottom of the package because three layers read it: the wrapper
(which names its payload), security (which maps a plaintext service to its glo-
and ded- ciphered tags) and apdu (whose classes take their ``TAG`` from here)::

    plain  name                            glo   ded
    0x01   initiateRequest                 0x21  0x41
    0x05   readRequest                     0x25  0x45
    0x06   writeRequest                    0x26  0x46
    0x08   initiateResponse                0x28  0x48
    0x0C   readResponse                    0x2C  0x4C
    0x0D   writeResponse                   0x2D  0x4D
    0x0E   confirmedServiceError           0x2E  0x4E
    0x0F   data-notification               -     -
    0x16   unconfirmedWriteRequest         0x36  0x56
    0x18   informationReportRequest        0x38  0x58
    0x60   AARQ  0x61 AARE  0x62 RLRQ  0x63 RLRE (ACSE, BER)
    0xC0   get-request                     0xC8  0xD0
    0xC1   set-request                     0xC9  0xD1
    0xC2   event-notification-request      0xCA  0xD2
    0xC3   action-request                  0xCB  0xD3
    0xC4   get-response                    0xCC  0xD4
    0xC5   set-response                    0xCD  0xD5
    0xC7   action-response                 0xCF  0xD7
    0xD8   exception-response              -     -
    0xDB   general-glo-ciphering   0xDC general-ded-ciphering
    0xDD   general-ciphering       0xDF general-signing
    0xE0   general-block-transfer          -     -

A glo tag is the plain one + 0x20 (SN and initiate services) or + 0x08 (LN); a
ded tag + 0x40 or + 0x10. The SN services keep the standard's spelling
(readRequest), the LN ones too (get-request).
"""
from __future__ import annotations

INITIATE_REQUEST = 0x01
READ_REQUEST = 0x05
WRITE_REQUEST = 0x06
INITIATE_RESPONSE = 0x08
READ_RESPONSE = 0x0C
WRITE_RESPONSE = 0x0D
CONFIRMED_SERVICE_ERROR = 0x0E
DATA_NOTIFICATION = 0x0F
UNCONFIRMED_WRITE_REQUEST = 0x16
INFORMATION_REPORT_REQUEST = 0x18
AARQ = 0x60
AARE = 0x61
RLRQ = 0x62
RLRE = 0x63
GET_REQUEST = 0xC0
SET_REQUEST = 0xC1
EVENT_NOTIFICATION_REQUEST = 0xC2
ACTION_REQUEST = 0xC3
GET_RESPONSE = 0xC4
SET_RESPONSE = 0xC5
ACTION_RESPONSE = 0xC7
EXCEPTION_RESPONSE = 0xD8
GENERAL_GLO_CIPHERING = 0xDB
GENERAL_DED_CIPHERING = 0xDC
GENERAL_CIPHERING = 0xDD
GENERAL_SIGNING = 0xDF
GENERAL_BLOCK_TRANSFER = 0xE0

PLAIN_APDUS: dict[int, str] = {
    INITIATE_REQUEST: "initiateRequest",
    READ_REQUEST: "readRequest",
    WRITE_REQUEST: "writeRequest",
    INITIATE_RESPONSE: "initiateResponse",
    READ_RESPONSE: "readResponse",
    WRITE_RESPONSE: "writeResponse",
    CONFIRMED_SERVICE_ERROR: "confirmedServiceError",
    DATA_NOTIFICATION: "data-notification",
    UNCONFIRMED_WRITE_REQUEST: "unconfirmedWriteRequest",
    INFORMATION_REPORT_REQUEST: "informationReportRequest",
    AARQ: "AARQ",
    AARE: "AARE",
    RLRQ: "RLRQ",
    RLRE: "RLRE",
    GET_REQUEST: "get-request",
    SET_REQUEST: "set-request",
    EVENT_NOTIFICATION_REQUEST: "event-notification-request",
    ACTION_REQUEST: "action-request",
    GET_RESPONSE: "get-response",
    SET_RESPONSE: "set-response",
    ACTION_RESPONSE: "action-response",
    EXCEPTION_RESPONSE: "exception-response",
    GENERAL_BLOCK_TRANSFER: "general-block-transfer",
}
"""Plaintext APDU tag -> the standard's name."""

# (plaintext tag, plaintext name, glo tag, ded tag): the services that have
# service-specific (glo-/ded-) ciphered forms.
SERVICE_TAGS: tuple[tuple[int, str, int, int], ...] = tuple(
    (plain, PLAIN_APDUS[plain], plain + (0x20 if plain < 0x60 else 0x08),
     plain + (0x40 if plain < 0x60 else 0x10))
    for plain in (INITIATE_REQUEST, READ_REQUEST, WRITE_REQUEST, INITIATE_RESPONSE,
                  READ_RESPONSE, WRITE_RESPONSE, CONFIRMED_SERVICE_ERROR,
                  UNCONFIRMED_WRITE_REQUEST, INFORMATION_REPORT_REQUEST, GET_REQUEST,
                  SET_REQUEST, EVENT_NOTIFICATION_REQUEST, ACTION_REQUEST, GET_RESPONSE,
                  SET_RESPONSE, ACTION_RESPONSE)
)

GENERAL_APDUS: dict[int, str] = {
    GENERAL_GLO_CIPHERING: "general-glo-ciphering",
    GENERAL_DED_CIPHERING: "general-ded-ciphering",
    GENERAL_CIPHERING: "general-ciphering",
    GENERAL_SIGNING: "general-signing",
}

CIPHERED_APDUS: dict[int, str] = {
    **{glo: f"glo-{name}" for _, name, glo, _ in SERVICE_TAGS},
    **{ded: f"ded-{name}" for _, name, _, ded in SERVICE_TAGS},
    **GENERAL_APDUS,
}
"""Ciphered (and signed) APDU tag -> the standard's name."""

APDU_NAME: dict[int, str] = {**PLAIN_APDUS, **CIPHERED_APDUS}
"""Every APDU tag -> the standard's name."""
