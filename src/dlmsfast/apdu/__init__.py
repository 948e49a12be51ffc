"""APDUs of DLMS/COSEM (IEC 62056-5-3) as small typed objects.

Every APDU class is a frozen slotted dataclass with a ``TAG`` class attribute,
``from_bytes(data)`` (the whole buffer; malformed input raises
:class:`dlmsfast.errors.DecodeError` with the absolute offset) and ``to_bytes()``.

The APDU tags (the first octet) are in one table, :mod:`dlmsfast._tags`.
Modules: :mod:`.acse` (AARQ, AARE, RLRQ, RLRE), :mod:`.initiate` (the xDLMS
initiate APDUs and confirmedServiceError), :mod:`.get`, :mod:`.set`,
:mod:`.action`, :mod:`.notification`, :mod:`.gbt` (the xDLMS services, gathered
by :mod:`.xdlms`), and their parts: :mod:`.invoke` (invoke-id-and-priority),
:mod:`.results` (data-access-result, action-result, datablocks),
:mod:`.cursor` (Reader/Writer) and :mod:`.service` (ServiceApdu, variants).
Ciphered APDUs are parsed by :mod:`dlmsfast.security`, which sits below.

The get/set/action APDUs carry a second octet, the CHOICE of the service
variant (normal 1, next 2, with-list 3, ...); each variant is its own class
(see :mod:`dlmsfast.apdu.xdlms` for the choice table). :func:`parse_apdu`
decodes any of them by its first octet.
"""
from __future__ import annotations

from typing import Any, Callable

from .._util import as_bytes
from ..errors import DecodeError
from ..security.ciphered import is_ciphered_tag, parse_ciphered
from .acse import *  # noqa: F401,F403  (each module's public names are the package's API)
from .acse import AARE, AARQ, RLRE, RLRQ
from .acse import __all__ as _acse_names
from .initiate import *  # noqa: F401,F403
from .initiate import ConfirmedServiceError, InitiateRequest, InitiateResponse
from .initiate import __all__ as _initiate_names
from .xdlms import *  # noqa: F401,F403
from .xdlms import XDLMS_DECODERS
from .xdlms import __all__ as _xdlms_names

_DECODERS: dict[int, Callable[[bytes], Any]] = {
    **XDLMS_DECODERS,
    **{
        cls.TAG: cls.from_bytes
        for cls in (AARQ, AARE, RLRQ, RLRE, InitiateRequest, InitiateResponse, ConfirmedServiceError)
    },
}


def parse_apdu(data: bytes | bytearray | memoryview) -> Any:
    """Decode one whole APDU of any kind, chosen by its first octet.

    Plain APDUs come back as the classes of this package; ciphered ones as the
    structural objects of :func:`dlmsfast.security.parse_ciphered` (no key needed).
    Malformed input, trailing octets or an unknown tag raise
    :class:`~dlmsfast.errors.DecodeError` with the offset in ``data``.
    """
    buf = as_bytes(data)
    if not buf:
        raise DecodeError("empty APDU", 0)
    decoder = _DECODERS.get(buf[0])
    if decoder is not None:
        return decoder(buf)
    if is_ciphered_tag(buf[0]):
        return parse_ciphered(buf)
    raise DecodeError(f"unknown APDU tag 0x{buf[0]:02X}", 0)


__all__ = [*_acse_names, *_initiate_names, *_xdlms_names, "parse_apdu"]
