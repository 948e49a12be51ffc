"""dlmsfast: a fast DLMS/COSEM (IEC 62056) toolkit with a compiled core.

The compiled modules (A-XDR, HDLC, AES-GCM) are imported here on purpose: a
broken build must fail at ``import dlmsfast``, never fall back to a slow path.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

# Each layer imports its compiled module at import time: a broken build fails here.
from .axdr import _axdr  # noqa: F401
from .hdlc import _hdlc  # noqa: F401
from .security import _gcm  # noqa: F401
from .errors import *  # noqa: F401,F403  (the one hierarchy is part of the public face)
from .errors import __all__ as _error_names

__version__ = "0.1.0"

# The client pulls in the session, transport and asyncio layers: loaded on first
# use, so that ``import dlmsfast`` for the codecs stays light.
_LAZY = {"AsyncClient": "dlmsfast.client", "Client": "dlmsfast.client"}

if TYPE_CHECKING:  # what the lazy names are, for type checkers
    from .client import AsyncClient, Client


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dlmsfast' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [*_error_names, "AsyncClient", "Client", "__version__"]
