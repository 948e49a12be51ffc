"""dlmsfast: a fast DLMS/COSEM (IEC 62056) toolkit with a compiled core.

The compiled modules (A-XDR, HDLC, AES-GCM) are imported here on purpose: a
broken build must fail at ``import dlmsfast``, never fall back to a slow path.
"""
from __future__ import annotations

# Each layer imports its compiled module at import time: a broken build fails here.
from .axdr import _axdr  # noqa: F401
from .hdlc import _hdlc  # noqa: F401
from .security import _gcm  # noqa: F401
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
