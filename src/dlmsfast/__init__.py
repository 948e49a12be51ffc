"""dlmsfast: a fast DLMS/COSEM (IEC 62056) toolkit with a compiled core.

The compiled modules (A-XDR, HDLC, AES-GCM) are imported here on purpose: a
broken build must fail at ``import dlmsfast``, never fall back to a slow path.
"""
from __future__ import annotations

# axdr first: the compiled A-XDR codec imports dlmsfast.axdr.values while it loads.
from . import axdr  # noqa: F401
from . import _axdr, _gcm, _hdlc  # noqa: F401  (fail loudly if the core is missing)
from .errors import (
    DecodeError,
    DlmsError,
    EncodeError,
    ProtocolError,
    SecurityError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "DlmsError",
    "DecodeError",
    "EncodeError",
    "ProtocolError",
    "SecurityError",
    "UsageError",
    "__version__",
]
