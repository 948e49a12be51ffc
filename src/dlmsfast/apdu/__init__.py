"""APDUs of DLMS/COSEM (IEC 62056-5-3) as small typed objects.

Every APDU class is a frozen slotted dataclass with a ``TAG`` class attribute,
``from_bytes(data)`` (the whole buffer; malformed input raises
:class:`dlmsfast.errors.DecodeError` with the absolute offset) and ``to_bytes()``.

APDU tag map (the first octet of an APDU)::

    tag   APDU                              module
    ----  --------------------------------  ---------------------------
    0x01  initiateRequest                   dlmsfast.apdu.initiate
    0x08  initiateResponse                  dlmsfast.apdu.initiate
    0x0E  confirmedServiceError             dlmsfast.apdu.initiate
    0x0F  data-notification                 dlmsfast.apdu.xdlms
    0x60  AARQ                              dlmsfast.apdu.acse
    0x61  AARE                              dlmsfast.apdu.acse
    0x62  RLRQ                              dlmsfast.apdu.acse
    0x63  RLRE                              dlmsfast.apdu.acse
    0xC0  get-request                       dlmsfast.apdu.xdlms
    0xC1  set-request                       dlmsfast.apdu.xdlms
    0xC2  event-notification-request        dlmsfast.apdu.xdlms
    0xC3  action-request                    dlmsfast.apdu.xdlms
    0xC4  get-response                      dlmsfast.apdu.xdlms
    0xC5  set-response                      dlmsfast.apdu.xdlms
    0xC7  action-response                   dlmsfast.apdu.xdlms
    0xD8  exception-response                dlmsfast.apdu.xdlms
    0xE0  general-block-transfer            dlmsfast.apdu.xdlms
    0x21.. glo-/ded- ciphered APDUs,        dlmsfast.security
    0xDB..0xDF general-(glo-/ded-)ciphering

The get/set/action APDUs carry a second octet, the CHOICE of the service
variant (normal 1, next 2, with-list 3, ...); each variant is its own class.
"""
from __future__ import annotations
